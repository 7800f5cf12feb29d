//! Revisions through the binary: what each apply records, `history`, `rollback`, `diff
//! --revision`, how many are kept, and what `delete` does with them.

use serde_json::{Value, json};

use super::DEPLOYMENTS;
use super::fake::Fake;
use crate::common::{Run, sparkup};

const SECRETS: &str = "/api/v1/namespaces/default/secrets";

/// A fake with Spark up, and the binary run against it with the `dev` profile.
fn cluster() -> (Fake, impl Fn(&[&str]) -> Run) {
    let fake = Fake::new().with_namespace("default");
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 8, "workers": []}));
    let kubeconfig = fake.kubeconfig().to_str().unwrap().to_string();
    let run = move |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["-p", "dev", "--kubeconfig", &kubeconfig]);
        sparkup(&all)
    };
    (fake, run)
}

fn ok(run: &Run) -> &str {
    assert_eq!(run.code, Some(0), "{}{}", run.stdout, run.stderr);
    &run.stdout
}

fn revision_secrets(fake: &Fake) -> Vec<String> {
    let state = fake.state();
    state
        .objects
        .keys()
        .filter_map(|p| p.strip_prefix(&format!("{SECRETS}/")))
        .filter(|n| n.contains("-revision-"))
        .map(String::from)
        .collect()
}

fn replicas(fake: &Fake) -> Value {
    fake.state().objects[&format!("{DEPLOYMENTS}/spark-worker")]["spec"]["replicas"].clone()
}

/// Each apply that changes something records a revision with its values, result and change;
/// an apply that changes nothing records none; `history` lists them, shows one with its values
/// against the one before, and gives its values back as a values file.
#[test]
fn applies_record_revisions_that_history_lists_and_shows() {
    let (fake, run) = cluster();
    ok(&run(&["apply", "--timeout", "20s"]));
    let scaled = run(&["apply", "--timeout", "20s", "--set", "workers.replicas=3"]);
    assert!(
        ok(&scaled).contains("revision 2: workers.replicas: 1 → 3\n"),
        "{}",
        scaled.stdout
    );
    let same = run(&["apply", "--timeout", "20s", "--set", "workers.replicas=3"]);
    assert!(!ok(&same).contains("revision"), "{}", same.stdout);
    assert_eq!(
        revision_secrets(&fake),
        ["spark-revision-1", "spark-revision-2"]
    );
    // Stored as the real server stores a Secret, compressed, outside the ApplySet.
    let stored = fake.state().objects[&format!("{SECRETS}/spark-revision-2")].clone();
    assert_eq!(stored["type"], "sparkup.io/revision.v1");
    assert_eq!(
        stored["metadata"]["labels"]["sparkup.io/result"],
        "deployed"
    );
    assert!(stored["metadata"]["labels"]["applyset.kubernetes.io/part-of"].is_null());
    assert!(stored["data"]["revision.json.gz"].as_str().unwrap().len() < 8000);

    let table = run(&["history"]);
    let lines: Vec<&str> = ok(&table).lines().collect();
    assert!(lines[0].starts_with("REVISION  TIME"), "{}", table.stdout);
    assert!(lines[1].starts_with("1 ") && lines[1].ends_with("first revision"));
    assert!(lines[2].contains(" deployed ") && lines[2].ends_with("workers.replicas: 1 → 3"));
    assert_eq!(lines.len(), 3, "{}", table.stdout);

    let json: Value = serde_json::from_str(ok(&run(&["history", "-o", "json"]))).unwrap();
    assert_eq!(json[1]["revision"], 2);
    assert_eq!(json[1]["result"], "deployed");
    assert!(json[1].get("values").is_none());

    let shown = run(&["history", "2"]);
    let text = ok(&shown);
    assert!(text.starts_with("revision 2\ntime     20"), "{text}");
    assert!(text.contains("values against revision 1:\n--- revision 1\n+++ revision 2\n"));
    assert!(
        text.contains("\n-  replicas: 1\n+  replicas: 3\n"),
        "{text}"
    );

    // Its values are a values file: applied from it, nothing would change.
    let values = run(&["history", "2", "-o", "values"]);
    let dir = tempdir();
    let file = dir.join("values.yaml");
    std::fs::write(&file, ok(&values)).unwrap();
    let diff = run(&["diff", "-f", file.to_str().unwrap()]);
    assert_eq!(diff.code, Some(0), "{}{}", diff.stdout, diff.stderr);
}

/// `rollback` applies the revision before the newest through the normal apply and records it
/// as a new revision; `diff --revision` shows what a rollback to another would change.
#[test]
fn rollback_applies_an_earlier_revision_as_a_new_one() {
    let (fake, run) = cluster();
    ok(&run(&["apply", "--timeout", "20s"]));
    ok(&run(&[
        "apply",
        "--timeout",
        "20s",
        "--set",
        "workers.replicas=3",
    ]));
    assert_eq!(replicas(&fake), 3);

    let plan = run(&["diff", "--revision", "1"]);
    assert_eq!(plan.code, Some(1), "{}{}", plan.stdout, plan.stderr);
    assert!(
        plan.stdout.contains("-  replicas: 3\n+  replicas: 1"),
        "{}",
        plan.stdout
    );

    let back = run(&["rollback", "--timeout", "20s"]);
    let text = ok(&back);
    assert!(text.contains("applied Deployment/spark-worker"), "{text}");
    assert!(
        text.contains("revision 3: rollback to 1: workers.replicas: 3 → 1\n"),
        "{text}"
    );
    assert!(
        text.contains("Spark master ALIVE with 1 worker(s)"),
        "{text}"
    );
    assert_eq!(replicas(&fake), 1);
    let json: Value = serde_json::from_str(ok(&run(&["history", "-o", "json"]))).unwrap();
    assert_eq!(json[2]["rollbackOf"], 1);
    assert_eq!(json[2]["result"], "deployed");

    // The values given on the command line only name the instance.
    let again = run(&[
        "rollback",
        "2",
        "--set",
        "workers.replicas=5",
        "--timeout",
        "20s",
    ]);
    assert!(ok(&again).contains("revision 4: rollback to 2: workers.replicas: 1 → 3"));
    assert_eq!(replicas(&fake), 3);
    let none = run(&["diff", "--revision", "4"]);
    assert_eq!(none.code, Some(0), "{}{}", none.stdout, none.stderr);
}

#[test]
fn a_revision_that_is_not_there_is_named_with_those_that_are() {
    let (fake, run) = cluster();
    let nothing = run(&["rollback"]);
    assert_eq!(nothing.code, Some(2));
    assert!(
        nothing
            .stderr
            .contains("has 0 revision(s): nothing to roll back to"),
        "{}",
        nothing.stderr
    );
    ok(&run(&["apply", "--timeout", "20s"]));
    ok(&run(&[
        "apply",
        "--timeout",
        "20s",
        "--set",
        "workers.replicas=2",
    ]));
    fake.clear_seen();
    for args in [
        &["rollback", "9"][..],
        &["diff", "--revision", "9"],
        &["history", "9"],
    ] {
        let missing = run(args);
        assert_eq!(missing.code, Some(2), "{args:?}");
        assert!(
            missing
                .stderr
                .contains("spark in namespace default has no revision 9; it has revisions 1 to 2"),
            "{}",
            missing.stderr
        );
    }
    // Nothing was written.
    assert!(
        fake.lines().iter().all(|l| l.starts_with("GET ")),
        "{:?}",
        fake.lines()
    );
    let table = ok(&run(&["history", "-n", "other"])).to_string();
    assert_eq!(
        table,
        "no revisions of spark in namespace other: nothing was applied there with sparkup\n"
    );
}

/// `--history-max` keeps the newest revisions; an apply whose wait runs out is recorded as
/// timed out, one without a wait as applied.
#[test]
fn history_keeps_the_newest_and_records_how_each_apply_ended() {
    let (fake, run) = cluster();
    for n in 1..=4 {
        let replicas = format!("workers.replicas={n}");
        let args = [
            "apply",
            "--timeout",
            "20s",
            "--history-max",
            "2",
            "--set",
            &replicas,
        ];
        ok(&run(&args));
    }
    assert_eq!(
        revision_secrets(&fake),
        ["spark-revision-3", "spark-revision-4"]
    );
    ok(&run(&[
        "apply",
        "--no-wait",
        "--history-max",
        "0",
        "--set",
        "workers.replicas=5",
    ]));
    fake.state().spark = None;
    let late = run(&[
        "apply",
        "--timeout",
        "1s",
        "--history-max",
        "0",
        "--set",
        "workers.replicas=6",
    ]);
    assert_eq!(late.code, Some(3), "{}{}", late.stdout, late.stderr);
    let json: Value = serde_json::from_str(ok(&run(&["history", "-o", "json"]))).unwrap();
    let results: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["deployed", "deployed", "applied", "timed-out"]);
    assert!(
        json[3]["message"]
            .as_str()
            .unwrap()
            .starts_with("timed out after 1s"),
        "{}",
        json[3]
    );
}

/// A credential in an inline variable is masked wherever history shows values; `-o values`
/// gives them exactly, being meant for `-f`. `delete` keeps the revisions, `--purge` deletes
/// them.
#[test]
fn history_masks_credentials_and_delete_keeps_revisions_unless_purged() {
    let (fake, run) = cluster();
    ok(&run(&["apply", "--timeout", "20s"]));
    let env = [
        "apply",
        "--timeout",
        "20s",
        "--set",
        "env.DB_PASSWORD=hunter2",
    ];
    ok(&run(&env));
    for args in [
        &["history", "2"][..],
        &["history", "2", "-o", "json"],
        &["history"],
    ] {
        let shown = run(args);
        assert!(
            !ok(&shown).contains("hunter2"),
            "{args:?}: {}",
            shown.stdout
        );
    }
    assert!(ok(&run(&["history"])).ends_with(" +env.DB_PASSWORD\n"));
    assert!(ok(&run(&["history", "2"])).contains("+  DB_PASSWORD: \"***\""));
    assert!(ok(&run(&["history", "2", "-o", "values"])).contains("hunter2"));

    let deleted = run(&["delete"]);
    assert!(
        ok(&deleted).contains("kept    2 revision(s)"),
        "{}",
        deleted.stdout
    );
    assert_eq!(revision_secrets(&fake).len(), 2);
    let purged = run(&["delete", "--purge"]);
    assert!(
        ok(&purged).contains("deleted Secret/spark-revision-2"),
        "{}",
        purged.stdout
    );
    assert!(revision_secrets(&fake).is_empty());
}

fn tempdir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "sparkup-history-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
