//! `sparkup compose --output-dir`: the folder form of the compose file, which docker-compose
//! 1.29 (Debian's) runs as well as docker compose v2, since it needs no inline configs.
//!
//! It must be the single file's project exactly, with each inline config a file bind-mounted
//! read-only where the config was: a difference between the two forms would be a cluster that
//! runs one way under one compose and another way under the other. The folder's files are
//! readable by the container's user whatever the umask, a second run replaces only sparkup's
//! files, and a folder that cannot be written is a plain error.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value};

use crate::common::{Run, assert_rejected, folder_listing, scratch, sparkup, sparkup_in};
use crate::e2e::unescape;

/// `--profile P` for every built-in profile, and `-f F` for every valid fixture.
fn cases() -> Vec<(String, Vec<String>)> {
    let profiles = sparkup::values::profiles::names()
        .map(|p| (p.to_string(), vec!["--profile".to_string(), p.to_string()]));
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/suite/fixtures/valid");
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let fixtures = files.into_iter().map(|f| {
        let stem = f.file_stem().unwrap().to_string_lossy().into_owned();
        (stem, vec!["-f".to_string(), f.display().to_string()])
    });
    profiles.chain(fixtures).collect()
}

/// Runs `sparkup compose ARGS --output-dir DIR`; the run must succeed.
fn compose_into(dir: &Path, args: &[String]) -> Run {
    let mut all: Vec<&str> = vec!["compose", "--output-dir", dir.to_str().unwrap()];
    all.extend(args.iter().map(String::as_str));
    let run = sparkup(&all);
    assert_eq!(run.code, Some(0), "{all:?}: {}", run.stderr);
    run
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).unwrap()
}

/// The read-only bind mount of `config/<source>` at `target`, as the folder form writes it.
fn bind(source: &str, target: &str) -> Value {
    serde_json::json!({
        "type": "bind",
        "source": format!("./config/{source}"),
        "target": target,
        "read_only": true,
    })
}

/// The single file's service with its configs as the folder form mounts them.
fn as_mounted(service: &Value) -> Value {
    let mut service: Map<String, Value> = service.as_object().unwrap().clone();
    let configs = service.remove("configs").unwrap_or(Value::Array(vec![]));
    let mounts = configs
        .as_array()
        .unwrap()
        .iter()
        .map(|c| bind(c["source"].as_str().unwrap(), c["target"].as_str().unwrap()));
    let mut volumes = match service.remove("volumes") {
        Some(Value::Array(volumes)) => volumes,
        _ => Vec::new(),
    };
    volumes.extend(mounts);
    if !volumes.is_empty() {
        service.insert("volumes".into(), Value::Array(volumes));
    }
    Value::Object(service)
}

#[test]
fn the_folder_is_the_single_file_with_its_configs_as_mounted_files() {
    for (name, args) in cases() {
        let dir = scratch(&format!("compose-forms-{name}"));
        let folder = compose_into(&dir, &args);
        let mut single_args = vec!["compose"];
        single_args.extend(args.iter().map(String::as_str));
        let single = sparkup(&single_args);
        assert_eq!(single.code, Some(0), "{name}: {}", single.stderr);
        assert_eq!(
            folder.stderr.lines().count(),
            single.stderr.lines().count() + 1
        );
        let single = yaml(&single.stdout);
        let folder = yaml(&std::fs::read_to_string(dir.join("compose.yaml")).unwrap());

        // docker-compose 1.29 refuses `name`; it would drop `configs` without a word.
        assert!(
            folder.get("name").is_none() && folder.get("configs").is_none(),
            "{name}"
        );
        let services = single["services"].as_object().unwrap();
        assert_eq!(
            services.len(),
            folder["services"].as_object().unwrap().len()
        );
        for (service, spec) in services {
            assert_eq!(
                folder["services"][service],
                as_mounted(spec),
                "{name}: {service}"
            );
        }
        for (config, spec) in single["configs"].as_object().unwrap() {
            let file = std::fs::read_to_string(dir.join("config").join(config)).unwrap();
            assert_eq!(file, unescape(spec["content"].as_str().unwrap()), "{name}");
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Every file is readable by the container's user (not the one who wrote it), even under a
/// umask of 077, which would leave a new file private.
#[test]
fn the_folder_files_are_readable_by_all_whatever_the_umask() {
    let dir = scratch("compose-umask");
    let out = Command::new("sh")
        .args(["-c", "umask 077 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_sparkup"))
        .args(["compose", "--profile", "dev", "--output-dir"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        folder_listing(&dir),
        "compose.yaml 0644\nconfig/spark-defaults.conf 0644\nconfig/sparkup.sh 0644\n"
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A second run replaces sparkup's files, whatever was done to them, and leaves everything
/// else: the user's `.env`, a file of theirs in `config/`, a file a previous run mounted.
#[test]
fn a_second_run_replaces_only_sparkups_files() {
    let dir = scratch("compose-again");
    let args = ["--set".to_string(), "metrics.enabled=true".to_string()];
    compose_into(&dir, &args);
    let first = std::fs::read_to_string(dir.join("compose.yaml")).unwrap();
    std::fs::write(dir.join("compose.yaml"), "edited").unwrap();
    std::fs::write(dir.join("config/sparkup.sh"), "edited").unwrap();
    std::fs::write(dir.join(".env"), "SPARK_AUTH_SECRET=x\n").unwrap();
    std::fs::write(dir.join("config/mine"), "mine").unwrap();
    private(&dir.join(".env"));
    private(&dir.join("config/mine"));

    let run = compose_into(&dir, &[]);
    assert!(
        run.stderr
            .contains("wrote compose.yaml, config/spark-defaults.conf, config/sparkup.sh"),
        "{}",
        run.stderr
    );
    let second = std::fs::read_to_string(dir.join("compose.yaml")).unwrap();
    assert!(second.starts_with("# Written by sparkup compose --output-dir"));
    assert!(first.contains("metrics.properties") && !second.contains("metrics.properties"));
    let launcher = std::fs::read_to_string(dir.join("config/sparkup.sh")).unwrap();
    assert!(launcher.starts_with("#!/usr/bin/env bash"));
    assert_eq!(
        folder_listing(&dir),
        ".env 0600\ncompose.yaml 0644\nconfig/metrics.properties 0644\nconfig/mine 0600\n\
         config/spark-defaults.conf 0644\nconfig/sparkup.sh 0644\n"
    );
    std::fs::remove_dir_all(&dir).ok();
}

fn private(file: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(file, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// A folder that cannot be made or written is one error line naming it and the cause, exit 2,
/// and no half-written file.
#[test]
fn a_folder_that_cannot_be_written_is_an_error() {
    let dir = scratch("compose-unwritable");
    std::fs::write(dir.join("file"), "").unwrap();
    let run = sparkup_in(&dir, &["compose", "--output-dir", "file/spark"], b"");
    assert_rejected(&run);
    assert_eq!(
        run.stderr.trim(),
        "error: output folder file/spark: creating config/: Not a directory (os error 20)"
    );

    std::fs::create_dir_all(dir.join("taken/compose.yaml")).unwrap();
    let run = sparkup_in(&dir, &["compose", "--output-dir", "taken"], b"");
    assert_rejected(&run);
    assert_eq!(
        run.stderr.trim(),
        "error: output folder taken: writing compose.yaml: Is a directory (os error 21)"
    );
    assert_eq!(
        folder_listing(&dir.join("taken")),
        "config/spark-defaults.conf 0644\nconfig/sparkup.sh 0644\n"
    );

    let run = sparkup_in(&dir, &["compose", "-o", "x.yaml", "--output-dir", "y"], b"");
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("cannot be used with"), "{}", run.stderr);
    std::fs::remove_dir_all(&dir).ok();
}

/// The names of the variables compose must have (`${NAME:?...}`), each set to a stand-in.
fn required_variables(text: &str) -> Vec<(String, String)> {
    let mut names: Vec<String> = text
        .split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once(":?").map(|(name, _)| name.to_string()))
        .filter(|name| name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    names.sort();
    names.dedup();
    names.into_iter().map(|n| (n, "stand-in".into())).collect()
}

/// Debian's docker-compose (1.29) reads every folder as written: no `version`, no inline
/// configs, the bind mounts relative to the folder, with the limits and profiles it keeps.
#[test]
#[ignore = "needs docker-compose (apt-get install docker-compose); run by the README's full test command"]
fn docker_compose_1_29_reads_every_folder() {
    for (name, args) in cases() {
        let dir = scratch(&format!("compose-v1-{name}"));
        compose_into(&dir, &args);
        let file = dir.join("compose.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        let out = Command::new("docker-compose")
            .arg("-f")
            .arg(&file)
            .args(["config"])
            .envs(required_variables(&text))
            .output()
            .expect("docker-compose on PATH (apt-get install docker-compose)");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success() && stderr.is_empty(),
            "{name}: {stderr}"
        );
        let read = yaml(&String::from_utf8_lossy(&out.stdout));
        let written = yaml(&text);
        for (service, spec) in written["services"].as_object().unwrap() {
            let mounted = &read["services"][service]["volumes"];
            let source = format!("{}/config/sparkup.sh", dir.display());
            let launcher = mounted
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["source"] == source);
            assert!(
                launcher.is_some_and(|v| v["read_only"] == true),
                "{name}: {mounted}"
            );
            let limits = &spec["deploy"]["resources"]["limits"];
            assert_eq!(
                read["services"][service]["deploy"]["resources"]["limits"]["memory"],
                limits["memory"],
                "{name}: {service}"
            );
        }
        std::fs::remove_dir_all(&dir).ok();
    }
}

/// Every folder's `compose.yaml` against the Compose specification, which docker compose v2
/// reads by.
#[test]
#[ignore = "needs check-jsonschema; run by the README's full test command"]
fn every_folder_passes_the_compose_specification() {
    let root = scratch("compose-dir-schema");
    let mut files = Vec::new();
    for (name, args) in cases() {
        let dir = root.join(&name);
        compose_into(&dir, &args);
        files.push(dir.join("compose.yaml"));
    }
    let out = Command::new("check-jsonschema")
        .args(["--builtin-schema", "vendor.compose-spec"])
        .args(&files)
        .output()
        .expect("check-jsonschema on PATH (pip install check-jsonschema)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::remove_dir_all(&root).ok();
}
