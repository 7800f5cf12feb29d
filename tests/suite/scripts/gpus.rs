//! GPU workers in the scripts: sparkup's discovery script (`templates/discover-gpus.sh`) with a
//! stand-in `nvidia-smi` and without one, and the launcher handing a worker's GPUs to the worker
//! daemon as Spark's own properties, with the script it found or a message when there is none.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use super::{fake_spark_home, listening_master, run, sh_chmod, stdout};

fn discovery_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/discover-gpus.sh")
}

/// A folder with an `nvidia-smi` that prints `listing` and exits with `code`.
fn fake_nvidia_smi(name: &str, listing: &str, code: i32) -> PathBuf {
    let dir = crate::common::scratch(&format!("fake-nvidia-smi-{name}"));
    let tool = dir.join("nvidia-smi");
    std::fs::write(
        &tool,
        format!("#!/bin/sh\nprintf '{listing}'\nexit {code}\n"),
    )
    .unwrap();
    sh_chmod(&tool);
    dir
}

/// The discovery script run with `path_first` before the system's PATH (none: `nvidia-smi`
/// nowhere).
fn discover(path_first: Option<&Path>) -> Output {
    let path = match path_first {
        Some(dir) => format!("{}:/usr/bin:/bin", dir.display()),
        None => "/usr/bin:/bin".into(),
    };
    Command::new("bash")
        .arg(discovery_script())
        .env_clear()
        .env("PATH", path)
        .output()
        .unwrap()
}

#[test]
fn the_discovery_script_lists_what_nvidia_smi_lists() {
    let two = fake_nvidia_smi("two", "0\\n1\\n", 0);
    let out = discover(Some(&two));
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        stdout(&out),
        "{\"name\": \"gpu\", \"addresses\": [\"0\",\"1\"]}\n"
    );
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["addresses"][1], "1");
}

#[test]
fn the_discovery_script_says_why_it_finds_no_gpu() {
    let cases = [
        (None, "no nvidia-smi in this container"),
        (
            Some(fake_nvidia_smi("fails", "", 9)),
            "nvidia-smi could not list",
        ),
        (Some(fake_nvidia_smi("empty", "", 0)), "lists no GPU"),
        (
            Some(fake_nvidia_smi("odd", "GPU-0\\n", 0)),
            "no number: GPU-0",
        ),
    ];
    for (dir, message) in cases {
        let out = discover(dir.as_deref());
        assert_eq!(out.status.code(), Some(1), "{message}: {out:?}");
        assert!(stdout(&out).is_empty(), "{message}: {out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(message), "{message}: {stderr}");
    }
}

/// The worker daemon's JVM options, from the stand-in `spark-class`'s output.
fn worker_opts(out: &Output) -> String {
    let text = stdout(out);
    let line = text
        .lines()
        .find(|l| l.contains("WORKER_OPTS="))
        .unwrap_or_else(|| panic!("{out:?}"));
    line.split("WORKER_OPTS=").nth(1).unwrap().to_string()
}

#[test]
fn a_worker_offers_its_gpus_with_sparkups_script_or_the_images() {
    let home = fake_spark_home("gpus");
    let (_master, url) = listening_master();
    // sparkup's script beside the launcher, as the ConfigMap mounts both.
    let bin = crate::common::scratch("gpus-launcher");
    std::fs::copy(super::launcher(), bin.join("sparkup.sh")).unwrap();
    std::fs::copy(discovery_script(), bin.join("discover-gpus.sh")).unwrap();
    let tmp = crate::common::scratch("gpus-tmp");
    let launch = |env: &[(&str, &str)]| {
        Command::new("bash")
            .arg(bin.join("sparkup.sh"))
            .args(["worker", &url])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("SPARK_HOME", &home)
            .env("POD_IP", "10.1.2.3")
            .env("TMPDIR", &tmp)
            .envs(env.iter().copied())
            .output()
            .unwrap()
    };
    let out = launch(&[("SPARKUP_WORKER_GPUS", "2")]);
    assert!(out.status.success(), "{out:?}");
    let opts = worker_opts(&out);
    assert!(
        opts.contains(" -Dspark.worker.resource.gpu.amount=2 "),
        "{opts}"
    );
    let script = opts
        .split("-Dspark.worker.resource.gpu.discoveryScript=")
        .nth(1)
        .unwrap()
        .trim();
    // An executable copy in scratch space: Spark runs it itself.
    assert!(script.starts_with(tmp.to_str().unwrap()), "{script}");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(script).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o700, "{script}");
    assert_eq!(
        std::fs::read(script).unwrap(),
        std::fs::read(discovery_script()).unwrap()
    );

    // The image's own script, as it is.
    let own = super::launcher();
    let out = launch(&[
        ("SPARKUP_WORKER_GPUS", "1"),
        ("SPARKUP_GPU_DISCOVERY_SCRIPT", "/bin/true"),
    ]);
    assert!(out.status.success(), "{out:?}");
    assert!(
        worker_opts(&out).ends_with(
            " -Dspark.worker.resource.gpu.amount=1 -Dspark.worker.resource.gpu.discoveryScript=/bin/true"
        ),
        "{out:?}"
    );
    // Without GPUs, nothing is added.
    let out = run(&home, &["worker", &url], &[("SPARKUP_WORKER_GPUS", "0")]);
    assert!(!worker_opts(&out).contains("resource.gpu"), "{out:?}");

    // A script the image lacks (or cannot run) stops the worker at once, before it waits for a
    // master, saying which value names it.
    for missing in ["/nonexistent/gpus.sh", own.as_str()] {
        let out = launch(&[
            ("SPARKUP_WORKER_GPUS", "1"),
            ("SPARKUP_GPU_DISCOVERY_SCRIPT", missing),
        ]);
        assert_eq!(out.status.code(), Some(64), "{out:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(&format!(
                "the GPU discovery script {missing} (workers.gpuDiscoveryScript) is not an \
                 executable file in this image"
            )),
            "{stderr}"
        );
        assert!(!stderr.contains("waiting for the master"), "{stderr}");
    }
}
