//! The image's shell scripts: lint-clean and strict about their arguments.

use std::path::Path;
use std::process::Command;

fn entrypoint() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docker/entrypoint.sh")
        .display()
        .to_string()
}

#[test]
#[ignore = "needs shellcheck; run by the README's test command"]
fn scripts_pass_shellcheck() {
    let out = Command::new("shellcheck")
        .args(["--severity=style", &entrypoint()])
        .output()
        .expect("shellcheck on PATH (apt-get install shellcheck)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn entrypoint_rejects_missing_or_wrong_role_arguments() {
    for args in [
        &[][..],
        &["worker"][..],
        &["worker", "a", "b"][..],
        &["health"][..],
    ] {
        let out = Command::new("bash")
            .arg(entrypoint())
            .args(args)
            .env("POD_IP", "127.0.0.1")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with("entrypoint: usage:"),
            "{args:?}: {stderr}"
        );
    }
}

#[test]
fn entrypoint_runs_other_commands_with_the_address_exported() {
    let out = Command::new("bash")
        .arg(entrypoint())
        .args([
            "sh",
            "-c",
            "echo $SPARK_PUBLIC_DNS $SPARK_LOCAL_IP $SPARK_SCALA_VERSION",
        ])
        .env("POD_IP", "10.1.2.3")
        .env_remove("SPARK_PUBLIC_DNS")
        .env_remove("SPARK_LOCAL_IP")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "10.1.2.3 10.1.2.3 2.13\n"
    );
}
