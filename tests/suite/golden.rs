//! Golden tests: every profile's render and values, and the error text of every invalid fixture.

use crate::common::{assert_rejected, folder_listing, scratch, sparkup, sparkup_in};

/// Snapshots `sparkup COMMAND --profile P` for every built-in profile as `COMMAND-P`.
fn snapshot_every_profile(command: &str) {
    for profile in sparkup::values::profiles::names() {
        let run = sparkup(&[command, "--profile", profile]);
        assert_eq!(run.code, Some(0), "{command} {profile}: {}", run.stderr);
        insta::assert_snapshot!(format!("{command}-{profile}"), run.stdout);
    }
}

#[test]
fn every_profile_renders_to_its_snapshot() {
    snapshot_every_profile("render");
}

#[test]
fn every_profile_composes_to_its_snapshot() {
    snapshot_every_profile("compose");
}

#[test]
fn every_profile_values_to_its_snapshot() {
    snapshot_every_profile("values");
}

/// Values files that reach what no profile does (jobs, the history and Connect servers).
#[test]
fn every_valid_fixture_renders_and_composes_to_its_snapshots() {
    insta::glob!("fixtures/valid/*.yaml", |path| {
        let file = path.to_str().expect("fixture path");
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("fixture name");
        for command in ["render", "compose"] {
            let run = sparkup(&[command, "-f", file]);
            assert_eq!(run.code, Some(0), "{command} {file}: {}", run.stderr);
            insta::assert_snapshot!(format!("{command}-values-{stem}"), run.stdout);
        }
    });
}

/// `compose --output-dir` for a profile and for the fixtures with authentication and `secretConf`
/// (no value in any file) and with metrics (a third mounted file): each file with its mode,
/// then `compose.yaml`. The mounted files are the single file's inline configs (checked in
/// `compose_dir`), so they are not repeated here.
#[test]
fn compose_folders_match_their_snapshots() {
    let cases: [(&str, &[&str]); 3] = [
        ("dev", &["--profile", "dev"]),
        (
            "secrets",
            &["-f", "tests/suite/fixtures/valid/secrets.yaml"],
        ),
        (
            "monitoring",
            &["-f", "tests/suite/fixtures/valid/monitoring.yaml"],
        ),
    ];
    for (name, values) in cases {
        let dir = scratch(&format!("compose-dir-{name}"));
        let out = dir.to_str().expect("scratch path");
        let mut args = vec!["compose", "--output-dir", out];
        args.extend(values);
        let run = sparkup(&args);
        assert_eq!(run.code, Some(0), "{name}: {}", run.stderr);
        let mut report = folder_listing(&dir);
        report.push('\n');
        report.push_str(&std::fs::read_to_string(dir.join("compose.yaml")).unwrap());
        insta::assert_snapshot!(format!("compose-dir-{name}"), report);
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn every_invalid_fixture_is_rejected_with_its_snapshotted_message() {
    insta::glob!("fixtures/invalid/*.yaml", |path| {
        let dir = path.parent().unwrap_or(std::path::Path::new("."));
        let file = path
            .file_name()
            .and_then(|f| f.to_str())
            .expect("fixture name");
        let run = sparkup_in(dir, &["render", "-f", file], b"");
        assert_rejected(&run);
        insta::assert_snapshot!(run.stderr);
    });
}

#[test]
fn invalid_set_expressions_are_rejected_with_their_messages() {
    let cases = [
        "workers.replicas=abc",
        "workers.replicas=-1",
        "workers.replicas=1001",
        "workers.replica=3",
        "workers.replicas",
        "workers..replicas=1",
        "workers.replicas.=1",
        "storage[x].name=a",
        "storage[5].name=a",
        "workers.resources.limits.memory=2x",
        "workers.resources.limits.memory=-1Gi",
        "master.ports.http=7077",
        "master.ports.http=65536",
        "image.pullPolicy=always",
        "name.first=x",
        "workers[0]=x",
        "sparkConf.spark.a=1\nspark.b 2",
        "sparkConf.notspark=1",
        "securityContext.runAsUser=0",
        "workers.antiAffinity=true",
        "image.pullSecrets[0=a",
    ];
    let mut report = String::new();
    for case in cases {
        let run = sparkup(&["render", "--set", case]);
        assert_rejected(&run);
        report.push_str(&format!("--set {case:?}\n{}\n", run.stderr));
    }
    insta::assert_snapshot!(report);
}
