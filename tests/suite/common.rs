//! Running the built binary from integration tests.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `sparkup` with `args` in `dir`, feeding `stdin`.
pub fn sparkup_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sparkup"))
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("sparkup starts");
    // A command that does not read stdin may close it first; that is not a failure.
    let _ = child.stdin.take().expect("piped stdin").write_all(stdin);
    let Output {
        status,
        stdout,
        stderr,
    } = child.wait_with_output().expect("sparkup finishes");
    Run {
        code: status.code(),
        stdout: String::from_utf8(stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(stderr).expect("stderr is UTF-8"),
    }
}

pub fn sparkup(args: &[&str]) -> Run {
    sparkup_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, b"")
}

/// Asserts a bad-input failure: exit code 2, nothing on stdout, one `error:` report on stderr.
pub fn assert_rejected(run: &Run) {
    assert_eq!(run.code, Some(2), "stderr: {}", run.stderr);
    assert!(
        run.stdout.is_empty(),
        "stdout must stay empty: {}",
        run.stdout
    );
    assert!(run.stderr.starts_with("error: "), "stderr: {}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "stderr: {}", run.stderr);
}

/// Writes a kubeconfig whose one context (`context`, the current one) points at `server` with a
/// bearer token, as a test's loopback API server needs.
pub fn write_kubeconfig(file: &Path, server: &str, context: &str, token: &str) {
    std::fs::write(
        file,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: {server}\n\
             contexts:\n- name: {context}\n  context: {{cluster: local, user: tester, namespace: default}}\n\
             current-context: {context}\nusers:\n- name: tester\n  user: {{token: {token}}}\n"
        ),
    )
    .unwrap();
}
