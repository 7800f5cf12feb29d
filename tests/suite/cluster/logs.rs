//! `sparkup logs` through the binary: every pod of a role with its prefix, the kubelet's query
//! options, a run with its extra workers, following pods that appear later, and a run's follow
//! that ends with the run.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::fake::Fake;
use crate::common::{Run, sparkup};

fn pod(name: &str, component: &str, created: &str, containers: &[&str], init: &[&str]) -> Value {
    let list =
        |names: &[&str]| -> Vec<Value> { names.iter().map(|n| json!({"name": n})).collect() };
    let running = |names: &[&str]| -> Vec<Value> {
        names
            .iter()
            .map(|n| json!({"name": n, "state": {"running": {"startedAt": created}}}))
            .collect()
    };
    json!({
        "metadata": {"name": name, "creationTimestamp": created, "labels": {
            "app.kubernetes.io/name": "spark", "app.kubernetes.io/instance": "spark",
            "app.kubernetes.io/component": component}},
        "spec": {"containers": list(containers), "initContainers": list(init)},
        "status": {"phase": "Running", "containerStatuses": running(containers),
            "initContainerStatuses": running(init)},
    })
}

fn lines(texts: &[(&str, &str)]) -> Vec<(String, String)> {
    texts
        .iter()
        .map(|(at, text)| (format!("2026-11-22T{at}Z"), text.to_string()))
        .collect()
}

fn with_workers() -> Fake {
    let fake = Fake::new().with_namespace("default");
    let mut state = fake.state();
    for (name, created) in [
        ("spark-worker-5d8f-bbbbb", "2026-11-22T03:00:02Z"),
        ("spark-worker-5d8f-aaaaa", "2026-11-22T03:00:01Z"),
    ] {
        state
            .pods
            .push(pod(name, "worker", created, &["spark"], &[]));
        let id = &name[name.len() - 5..];
        let log = lines(&[
            ("03:00:05", &format!("{id} started")),
            ("03:55:00", &format!("{id} registered")),
            ("03:59:00", &format!("{id} executor added")),
        ]);
        state.logs.insert(format!("{name}/spark"), log);
    }
    drop(state);
    fake
}

fn run(fake: &Fake, args: &[&str]) -> Run {
    let kubeconfig = fake.kubeconfig();
    let mut all = args.to_vec();
    all.extend(["--kubeconfig", kubeconfig.to_str().unwrap()]);
    sparkup(&all)
}

#[test]
fn every_pod_of_a_role_is_shown_oldest_first_with_its_prefix() {
    let fake = with_workers();
    let all = run(&fake, &["logs", "worker"]);
    assert_eq!(all.code, Some(0), "{}", all.stderr);
    assert_eq!(
        all.stdout,
        "[worker-aaaaa] aaaaa started\n[worker-aaaaa] aaaaa registered\n\
         [worker-aaaaa] aaaaa executor added\n[worker-bbbbb] bbbbb started\n\
         [worker-bbbbb] bbbbb registered\n[worker-bbbbb] bbbbb executor added\n"
    );
    let last = run(&fake, &["logs", "worker", "--tail", "1", "--timestamps"]);
    assert_eq!(
        last.stdout,
        "[worker-aaaaa] 2026-11-22T03:59:00Z aaaaa executor added\n\
         [worker-bbbbb] 2026-11-22T03:59:00Z bbbbb executor added\n"
    );
    fake.clear_seen();
    let recent = run(&fake, &["logs", "worker", "--since", "10m"]);
    assert!(!recent.stdout.contains("started"), "{}", recent.stdout);
    assert!(recent.stdout.contains("[worker-bbbbb] bbbbb registered"));
    assert!(
        fake.lines().contains(
            &"GET /api/v1/namespaces/default/pods/spark-worker-5d8f-aaaaa/log?container=spark&sinceSeconds=600"
                .to_string()
        ),
        "{:?}",
        fake.lines()
    );

    fake.state().previous_logs.insert(
        "spark-worker-5d8f-aaaaa/spark".into(),
        lines(&[("02:00:00", "OutOfMemoryError")]),
    );
    let previous = run(&fake, &["logs", "worker", "--previous"]);
    assert_eq!(previous.code, Some(0), "{}", previous.stderr);
    assert_eq!(previous.stdout, "[worker-aaaaa] OutOfMemoryError\n");
    assert!(
        previous
            .stderr
            .contains("[worker-bbbbb] no log: previous terminated container not found"),
        "{}",
        previous.stderr
    );
}

#[test]
fn a_run_shows_its_driver_and_on_request_its_extra_workers() {
    let fake = Fake::new().with_namespace("default");
    let mut runpod = pod(
        "spark-nightly-2901-xyz12",
        "job",
        "2026-11-22T03:00:00Z",
        &["driver"],
        &["worker-1"],
    );
    runpod["metadata"]["labels"]["batch.kubernetes.io/job-name"] = json!("spark-nightly-2901");
    runpod["metadata"]["labels"]["sparkup.io/job"] = json!("nightly");
    {
        let mut state = fake.state();
        state.pods.push(runpod);
        state.logs.insert(
            "spark-nightly-2901-xyz12/driver".into(),
            lines(&[("03:00:09", "RESULT 42")]),
        );
        state.logs.insert(
            "spark-nightly-2901-xyz12/worker-1".into(),
            lines(&[("03:00:03", "Successfully registered with master")]),
        );
    }
    let driver = run(&fake, &["logs", "spark-nightly-2901"]);
    assert_eq!(
        driver.stdout, "[nightly-2901] RESULT 42\n",
        "{}",
        driver.stderr
    );
    let both = run(&fake, &["logs", "job", "nightly", "--workers"]);
    assert_eq!(
        both.stdout,
        "[nightly-2901] RESULT 42\n[nightly-2901/worker-1] Successfully registered with master\n",
        "{}",
        both.stderr
    );

    let missing = run(&fake, &["logs", "spark-nightly-1"]);
    assert_eq!(missing.code, Some(2));
    assert!(
        missing
            .stderr
            .contains("no pods of run spark-nightly-1 in namespace default"),
        "{}",
        missing.stderr
    );
    let nameless = run(&fake, &["logs", "job"]);
    assert_eq!(nameless.code, Some(2));
    assert!(
        nameless.stderr.contains("sparkup logs job NAME"),
        "{}",
        nameless.stderr
    );

    // Followed, a run's log ends when its containers have.
    let mut state = fake.state();
    state.pods[0]["status"]["containerStatuses"][0]["state"] =
        json!({"terminated": {"exitCode": 0}});
    state.pods[0]["status"]["initContainerStatuses"][0]["state"] =
        json!({"terminated": {"exitCode": 143}});
    drop(state);
    let started = Instant::now();
    let followed = run(&fake, &["logs", "spark-nightly-2901", "-f", "--workers"]);
    assert_eq!(followed.code, Some(0), "{}", followed.stderr);
    assert!(followed.stdout.contains("[nightly-2901] RESULT 42\n"));
    assert!(started.elapsed() < Duration::from_secs(20));
}

/// `-f` follows every worker and picks up one that starts later, as stern does; a line is
/// printed once even when its stream is opened again.
#[test]
fn following_picks_up_pods_that_appear_later() {
    let fake = with_workers();
    {
        let mut state = fake.state();
        state.pods.truncate(1);
        state
            .running_on
            .insert("spark-worker-5d8f-bbbbb/spark".into());
    }
    let kubeconfig = fake.kubeconfig();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sparkup"))
        .args([
            "logs",
            "worker",
            "-f",
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("sparkup starts");
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let read_until = |what: &str, seen: &mut Vec<String>| {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !seen.iter().any(|l: &String| l.contains(what)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => seen.push(line),
                Err(_) => return false,
            }
        }
        true
    };
    let first = read_until("bbbbb executor added", &mut seen);
    // A worker that starts later.
    {
        let mut state = fake.state();
        let mut later = pod(
            "spark-worker-5d8f-ccccc",
            "worker",
            "2026-11-22T03:59:30Z",
            &["spark"],
            &[],
        );
        later["metadata"]["labels"]["app.kubernetes.io/component"] = json!("worker");
        state.pods.push(later);
        state.logs.insert(
            "spark-worker-5d8f-ccccc/spark".into(),
            lines(&[("03:59:40", "ccccc started")]),
        );
    }
    let later = read_until("[worker-ccccc] ccccc started", &mut seen);
    let _ = child.kill();
    let _ = child.wait();
    assert!(first && later, "{seen:?}");
    let bbbbb: Vec<&String> = seen
        .iter()
        .filter(|l| l.starts_with("[worker-bbbbb]"))
        .collect();
    assert_eq!(bbbbb.len(), 3, "{seen:?}");
}
