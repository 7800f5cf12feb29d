//! submit: a driver followed from its start to its exit code, a driver that cannot start, a run
//! stopped or detached, the binary's exit code, and the Role a submitter needs.

use std::future::Future;
use std::time::Duration;

use serde_json::json;
use sparkup::Cluster;
use sparkup::kube::{self as k8s, ApiServer, KubeError};
use sparkup::render::{Submission, SubmitRequest};

use crate::common::scratch;

use super::fake::{self, Fake};
use super::{CONFIGMAPS, applied, bounded, objects};

/// The run `sparkup submit` asks for with `tail`: its flags (`--name`, `--class`, `--conf`,
/// `--packages`, `--job`, each with its value), then APP and its arguments.
fn submit_args(tail: &[&str]) -> SubmitRequest {
    let mut request = SubmitRequest::default();
    let mut rest = tail.iter().map(|s| s.to_string());
    while let Some(word) = rest.next() {
        let mut value = || rest.next().expect("a flag's value");
        match word.as_str() {
            "--name" => request.name = Some(value()),
            "--class" => request.class = Some(value()),
            "--conf" => request.conf.push(value()),
            "--packages" => request.packages = Some(value()),
            "--job" => request.job = Some(value()),
            _ => {
                request.app = Some(word);
                request.args = rest.by_ref().collect();
            }
        }
    }
    request
}

/// The run's objects, as `sparkup submit` builds them before connecting.
fn build_submission(
    cluster: &Cluster,
    request: &SubmitRequest,
    now: Duration,
) -> Result<Submission, sparkup::Error> {
    sparkup::render::submission(cluster, &Default::default(), request, now)
}

fn quick() -> k8s::SubmitOptions {
    k8s::SubmitOptions {
        interval: Duration::from_millis(10),
        ..Default::default()
    }
}

/// A run through `submit`, its notes dropped: its outcome and the log it printed.
async fn run_submission(
    api: &ApiServer,
    cluster: &Cluster,
    submission: &Submission,
    opts: &k8s::SubmitOptions,
    stop: impl Future<Output = ()>,
) -> (Result<k8s::Outcome, KubeError>, String) {
    let mut out = Vec::new();
    let result = bounded(k8s::submit(
        api,
        cluster,
        submission,
        opts,
        stop,
        &mut out,
        &mut |_: &str| {},
    ))
    .await;
    (result, String::from_utf8(out).unwrap())
}

fn log_lines(lines: &[(&str, &str)]) -> Vec<(String, String)> {
    lines
        .iter()
        .map(|(at, text)| (at.to_string(), text.to_string()))
        .collect()
}

/// A run from start to end: the pod starting, a log stream that breaks off and resumes within
/// the same second, the driver's exit code; a local application shipped in a ConfigMap that
/// the Job owns.
#[tokio::test]
async fn submit_follows_the_driver_from_its_start_to_its_exit_code() {
    let (fake, api, cluster, _) = applied("dev", &[]).await;
    let dir = scratch("submit");
    let app = dir.join("word count.py");
    std::fs::write(&app, "print('hello')\n").unwrap();
    let args = submit_args(&[app.to_str().unwrap(), "--day", "2026-11-21"]);
    let submission =
        build_submission(&cluster, &args, Duration::from_secs(29_412_000 * 60)).unwrap();
    std::fs::remove_dir_all(&dir).ok();
    fake.state().driver = fake::Driver {
        pending: 3,
        log: log_lines(&[
            ("2026-11-22T03:30:05.1Z", "starting"),
            ("2026-11-22T03:30:05.25Z", "stage 0"),
            ("2026-11-22T03:30:05.3Z", "stage 1"),
            ("2026-11-22T03:30:07.000000001Z", "RESULT 42"),
        ]),
        first_stream: Some(2),
        exit: 3,
        ..Default::default()
    };
    fake.clear_seen();
    let mut out = Vec::new();
    let mut notes = Vec::new();
    let outcome = bounded(k8s::submit(
        &api,
        &cluster,
        &submission,
        &quick(),
        std::future::pending(),
        &mut out,
        &mut |n: &str| notes.push(n.to_string()),
    ))
    .await
    .unwrap();
    assert_eq!(outcome, k8s::Outcome::Finished(3));
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "starting\nstage 0\nstage 1\nRESULT 42\n"
    );
    let job = &submission.job.name;
    assert!(job.starts_with("spark-word-count-29412000-"), "{job}");
    assert!(
        notes.iter().any(|n| n.ends_with("is starting")),
        "{notes:?}"
    );
    let state = fake.state();
    assert!(state.driver.log_requests >= 2, "the stream resumed");
    let shipped = &state.objects[&format!("{CONFIGMAPS}/{job}-app")];
    assert_eq!(
        shipped["binaryData"]["word_count.py"],
        "cHJpbnQoJ2hlbGxvJykK"
    );
    let stored_job = &state.objects[&format!("/apis/batch/v1/namespaces/default/jobs/{job}")];
    assert_eq!(
        shipped["metadata"]["ownerReferences"][0]["uid"],
        stored_job["metadata"]["uid"]
    );
    let driver = &stored_job["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        driver["args"],
        json!([
            "submit",
            "--name",
            "word-count",
            "/opt/sparkup/app/word_count.py",
            "--day",
            "2026-11-21"
        ])
    );
    assert_eq!(stored_job["spec"]["ttlSecondsAfterFinished"], 86400);
}

#[tokio::test]
async fn a_driver_that_cannot_start_fails_at_once() {
    let (fake, api, cluster, _) = applied("dev", &[]).await;
    let submission = build_submission(
        &cluster,
        &submit_args(&["local:///opt/app.py"]),
        Duration::ZERO,
    )
    .unwrap();
    fake.state().driver.stuck = Some((
        "ImagePullBackOff".into(),
        "Back-off pulling image \"apache/spark:9.9\": not found".into(),
    ));
    let err = run_submission(
        &api,
        &cluster,
        &submission,
        &quick(),
        std::future::pending(),
    )
    .await
    .0
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("the driver cannot start: pod spark-app-0-"),
        "{err}"
    );
    assert!(err.to_string().contains("ImagePullBackOff"), "{err}");
}

/// Ctrl-C and `--timeout` stop the application: its Job is deleted, with its pods.
#[tokio::test]
async fn stopping_a_run_deletes_its_job() {
    let (fake, api, cluster, _) = applied("dev", &[]).await;
    for timeout in [None, Some(Duration::from_millis(300))] {
        let submission = build_submission(
            &cluster,
            &submit_args(&["--name", "long", "https://example.com/app.py"]),
            Duration::from_secs(60 * u64::from(timeout.is_some())),
        )
        .unwrap();
        fake.state().driver = fake::Driver {
            log: log_lines(&[("2026-11-22T03:30:05Z", "working")]),
            runs_on: true,
            ..Default::default()
        };
        let stop = async {
            match timeout {
                None => tokio::time::sleep(Duration::from_millis(300)).await,
                Some(_) => std::future::pending().await,
            }
        };
        let opts = k8s::SubmitOptions { timeout, ..quick() };
        let (outcome, out) = run_submission(&api, &cluster, &submission, &opts, stop).await;
        let outcome = outcome.unwrap();
        let expected = match timeout {
            None => k8s::Outcome::Interrupted,
            Some(_) => k8s::Outcome::TimedOut,
        };
        assert_eq!(outcome, expected);
        assert_eq!(out, "working\n");
        let job = format!(
            "/apis/batch/v1/namespaces/default/jobs/{}",
            submission.job.name
        );
        assert!(
            fake.lines()
                .iter()
                .any(|l| l.starts_with(&format!("DELETE {job}"))),
            "{:?}",
            fake.lines()
        );
        assert!(!fake.state().objects.contains_key(&job));
        assert!(
            fake.state()
                .pods
                .iter()
                .all(|p| p["metadata"]["labels"]["job-name"] != submission.job.name.as_str())
        );
    }
}

#[tokio::test]
async fn submit_without_a_cluster_creates_nothing_and_detach_creates_only_the_job() {
    let fake = Fake::new().with_namespace("default");
    let api = fake.api().await;
    let (cluster, _) = objects("dev", &[]);
    let submission =
        build_submission(&cluster, &submit_args(&["s3a://b/app.py"]), Duration::ZERO).unwrap();
    let err = run_submission(
        &api,
        &cluster,
        &submission,
        &quick(),
        std::future::pending(),
    )
    .await
    .0
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("no Spark cluster spark in namespace default"),
        "{err}"
    );
    assert!(
        fake.lines().iter().all(|l| l.starts_with("GET")),
        "{:?}",
        fake.lines()
    );

    let (fake, api, cluster, _) = applied("dev", &[]).await;
    fake.clear_seen();
    let detached = k8s::SubmitOptions {
        detach: true,
        ..quick()
    };
    let outcome = run_submission(
        &api,
        &cluster,
        &submission,
        &detached,
        std::future::pending(),
    )
    .await
    .0
    .unwrap();
    assert_eq!(outcome, k8s::Outcome::Detached);
    let writes: Vec<String> = fake
        .lines()
        .into_iter()
        .filter(|l| !l.starts_with("GET"))
        .collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert!(
        writes[0].starts_with("POST /apis/batch/v1/namespaces/default/jobs?"),
        "{writes:?}"
    );
}

/// The binary: a run through the kubeconfig ends with the driver's exit code; an executor no
/// worker can hold is refused before any request.
#[test]
fn the_binary_submits_and_exits_with_the_drivers_code() {
    use crate::common::sparkup;
    let fake = Fake::new().with_namespace("default");
    let kubeconfig = fake.kubeconfig();
    let kubeconfig = kubeconfig.to_str().unwrap();
    let too_big = sparkup(&[
        "submit",
        "-p",
        "dev",
        "--kubeconfig",
        kubeconfig,
        "--conf",
        "spark.executor.memory=8g",
        "https://example.com/app.py",
    ]);
    assert_eq!(too_big.code, Some(2), "{}", too_big.stderr);
    assert!(
        too_big
            .stderr
            .contains("--conf spark.executor.memory: invalid value \"8g\": expected at most 1024m"),
        "{}",
        too_big.stderr
    );
    assert!(fake.lines().is_empty(), "{:?}", fake.lines());

    let apply = sparkup(&[
        "apply",
        "-p",
        "dev",
        "--kubeconfig",
        kubeconfig,
        "--no-wait",
    ]);
    assert_eq!(apply.code, Some(0), "{}", apply.stderr);
    fake.state().driver = fake::Driver {
        pending: 1,
        log: log_lines(&[("2026-11-22T03:30:05Z", "Pi is roughly 3.14")]),
        exit: 7,
        ..Default::default()
    };
    let run = sparkup(&[
        "submit",
        "-p",
        "dev",
        "--kubeconfig",
        kubeconfig,
        "https://example.com/pi.py",
        "10",
    ]);
    assert_eq!(run.code, Some(7), "{}", run.stderr);
    assert_eq!(run.stdout, "Pi is roughly 3.14\n");
}

/// The RBAC verb, API group and resource a request line needs, as the API server authorizes it.
fn authorization(line: &str) -> (String, String, String) {
    let (method, uri) = line.split_once(' ').unwrap();
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // /api/v1/namespaces/NS/RES[/NAME[/SUB]] or /apis/GROUP/VERSION/namespaces/NS/RES[...]
    let (group, rest) = match parts[0] {
        "api" => (String::new(), &parts[4..]),
        _ => (parts[1].to_string(), &parts[5..]),
    };
    let resource = match rest {
        [res, _, sub, ..] => format!("{res}/{sub}"),
        [res, ..] => res.to_string(),
        [] => String::new(),
    };
    let named = rest.len() > 1;
    let verb = match (method, named) {
        ("GET", true) => "get",
        ("GET", false) if query.contains("watch=true") => "watch",
        ("GET", false) => "list",
        ("POST", _) => "create",
        ("PATCH", _) => "patch",
        ("PUT", _) => "update",
        ("DELETE", _) => "delete",
        _ => "?",
    };
    (verb.into(), group, resource)
}

/// `rbac.submitter`'s Role allows every request `submit` makes (a shipped file, a run to its
/// end, a run stopped), and grants nothing those runs do not use.
#[tokio::test]
async fn the_submitter_role_allows_exactly_what_submit_does() {
    let (fake, api, cluster, _) = applied("dev", &[]).await;
    let dir = scratch("rbac");
    let app = dir.join("app.py");
    std::fs::write(&app, "print(1)\n").unwrap();
    fake.clear_seen();
    for stop_early in [false, true] {
        let submission = build_submission(
            &cluster,
            &submit_args(&[app.to_str().unwrap()]),
            Duration::from_secs(60 * u64::from(stop_early)),
        )
        .unwrap();
        fake.state().driver = fake::Driver {
            pending: 1,
            log: log_lines(&[("2026-11-22T03:30:05Z", "1")]),
            runs_on: stop_early,
            ..Default::default()
        };
        let stop = async {
            match stop_early {
                true => tokio::time::sleep(Duration::from_millis(300)).await,
                false => std::future::pending().await,
            }
        };
        run_submission(&api, &cluster, &submission, &quick(), stop)
            .await
            .0
            .unwrap();
    }
    std::fs::remove_dir_all(&dir).ok();
    let needed: std::collections::BTreeSet<(String, String, String)> =
        fake.lines().iter().map(|l| authorization(l)).collect();

    let (_, rbac) = objects("dev", &["rbac.submitter=true"]);
    let role = rbac.iter().find(|o| o.kind == "Role").expect("a Role");
    let mut granted = std::collections::BTreeSet::new();
    for rule in role.value["rules"].as_array().unwrap() {
        for group in rule["apiGroups"].as_array().unwrap() {
            for resource in rule["resources"].as_array().unwrap() {
                for verb in rule["verbs"].as_array().unwrap() {
                    granted.insert((
                        verb.as_str().unwrap().to_string(),
                        group.as_str().unwrap().to_string(),
                        resource.as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    assert_eq!(granted, needed, "granted (left) and used (right) differ");
    let binding = rbac.iter().find(|o| o.kind == "RoleBinding").unwrap();
    assert_eq!(binding.value["roleRef"]["name"], "spark-submitter");
    assert_eq!(binding.value["subjects"][0]["name"], "spark-submitter");
}
