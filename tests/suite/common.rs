//! What several test modules share: running the built binary and other commands, scratch
//! folders, loading a profile's values.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use sparkup::{Cluster, ValuesOptions};

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

/// Runs `command` to its end and returns its standard output; a failure fails the test, showing
/// its standard error.
pub fn stdout_of(command: &mut Command) -> String {
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A fresh, empty folder for one test, `sparkup-PID-N-NAME` in the temporary directory: N counts
/// the calls, so no two callers get the same folder. NAME comes last, so no path below the
/// folder has `-NAME-` in it (a test may look for that in the names of rendered files).
pub fn scratch(name: &str) -> PathBuf {
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("sparkup-{}-{call}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Every file under `dir`, one a line: its path relative to `dir` and its mode (`0644`), sorted.
pub fn folder_listing(dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let mut lines = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                pending.push(path);
                continue;
            }
            let relative = path.strip_prefix(dir).unwrap().display();
            lines.push(format!(
                "{relative} {:04o}",
                meta.permissions().mode() & 0o7777
            ));
        }
    }
    lines.sort();
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The strings of a JSON array (a container's `args`, a compose service's `ports`); none if it
/// is no array.
pub fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// Loads `profile` with the values files `files` and the `--set`s `sets`, as `sparkup -p PROFILE
/// -f FILE --set KEY=VALUE` does.
pub fn try_load(
    profile: &str,
    files: Vec<PathBuf>,
    sets: &[impl AsRef<str>],
) -> Result<Cluster, sparkup::Error> {
    sparkup::load(&ValuesOptions {
        profile: profile.into(),
        files,
        sets: sets.iter().map(|s| s.as_ref().to_string()).collect(),
    })
}

/// Loads `profile` with the `--set`s `sets` and no values files; a values error fails the test.
pub fn load(profile: &str, sets: &[&str]) -> Cluster {
    try_load(profile, vec![], sets).unwrap()
}
