//! apply: the requests it sends and their order, whatever the concurrency; what a second
//! apply sends; server-side apply's field ownership and `--force-conflicts`; `--dry-run`.

use http::Method;
use serde_json::{Value, json};
use sparkup::kube::{self as k8s, ApplyOptions, KubeError, Summary};

use super::fake::{self, Fake};
use super::{
    DEPLOYMENTS, applied, bounded, objects, query_params, secret_templates, serial, sparkup_on,
};

/// The writes, in the order they were sent: what is not a read or a dry run.
fn writes(fake: &Fake) -> Vec<String> {
    fake.lines()
        .into_iter()
        .filter(|l| !l.starts_with("GET ") && !l.contains("dryRun"))
        .collect()
}

#[tokio::test]
async fn apply_to_a_new_namespace_sends_one_request_per_object_in_order() {
    let fake = Fake::new();
    let api = fake.api().await;
    let (cluster, objects) = objects("prod", &[]);
    let report = bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    assert!(report.namespace_created);
    assert_eq!(report.applied.len(), 11);
    insta::assert_snapshot!(writes(&fake).join("\n"));
    // The first round reads and dry-runs everything at once: the dry runs into the namespace
    // that is not there yet fail, which costs no round trip of its own.
    let lines = fake.lines();
    let survey = lines.len() - writes(&fake).len();
    assert_eq!(
        (survey, api.requests()),
        (20, 34),
        "prod: namespace, inventory, Secret, 6 kinds listed, 11 dry runs; then the namespace, \
         the inventory, the Secret and 11 objects written: {lines:#?}"
    );
}

#[tokio::test]
async fn apply_sends_the_same_objects_whatever_the_concurrency() {
    let (cluster, objects) = objects("prod", &[]);
    let mut runs = Vec::new();
    for concurrency in [1, 4] {
        let fake = Fake::new();
        let api = fake.api().await;
        let opts = ApplyOptions {
            concurrency,
            ..Default::default()
        };
        bounded(k8s::apply(&api, &cluster.spec, &objects, opts))
            .await
            .unwrap();
        let mut lines = fake.lines();
        lines.sort();
        runs.push(lines);
    }
    assert_eq!(runs[0], runs[1]);
}

#[tokio::test]
async fn a_second_apply_sends_identical_objects_and_diff_then_finds_nothing() {
    let (fake, api, cluster, objects) = applied("prod", &[]).await;
    let first: Vec<_> = fake.state().seen.clone();
    fake.clear_seen();
    let report = bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    assert!(!report.namespace_created && report.pruned.is_empty());
    // The dry run found every object as it is: none is sent again.
    assert_eq!(report.unchanged.len(), 11, "{report:?}");
    assert!(report.applied.is_empty(), "{report:?}");
    // The writes: an apply into an existing namespace first dry-runs every object.
    let patches = |seen: &[fake::Seen]| -> Vec<(String, Option<Value>)> {
        seen.iter()
            .filter(|s| s.method == Method::PATCH && !s.uri.contains("dryRun"))
            .map(|s| (s.uri.clone(), s.body.clone()))
            .collect()
    };
    // No write at all: the inventory parent already names every kind.
    assert!(!patches(&first).is_empty());
    assert_eq!(patches(&fake.state().seen), []);
    let dry_runs = fake.lines().iter().filter(|l| l.contains("dryRun")).count();
    assert_eq!(dry_runs, 11, "every object dry-run before the first write");

    fake.clear_seen();
    let changes = bounded(k8s::plan(&api, &cluster.spec, &objects, Default::default()))
        .await
        .unwrap();
    let summary = Summary::of(&changes);
    assert!(!summary.has_changes(), "{summary}");
    assert_eq!(summary.unchanged, 11);
    // A diff is a dry run: every apply it sent carried dryRun=All.
    assert!(fake.lines().iter().filter(|l| l.contains("dryRun")).count() == 11);
}

#[tokio::test]
async fn force_conflicts_is_sent_as_force() {
    let fake = Fake::new().with_namespace("default");
    let api = fake.api().await;
    let (cluster, objects) = objects("dev", &[]);
    let opts = ApplyOptions {
        force_conflicts: true,
        ..serial()
    };
    bounded(k8s::apply(&api, &cluster.spec, &objects, opts))
        .await
        .unwrap();
    let patches: Vec<String> = fake
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("PATCH"))
        .collect();
    assert!(!patches.is_empty());
    for line in patches {
        let mut params = query_params(&line);
        // The dry run of every object before the first write is forced as the apply is.
        params.retain(|p| *p != "dryRun=All");
        assert_eq!(
            params,
            [
                "fieldManager=sparkup",
                "fieldValidation=Strict",
                "force=true"
            ],
            "{line}"
        );
    }
}

/// Server-side apply conflicts only where another manager set a field to another value: then the
/// apply fails naming field and manager, `--force-conflicts` takes the field over, and a field
/// sparkup does not set is never a conflict.
#[tokio::test]
async fn only_a_field_another_manager_changed_conflicts_and_force_takes_it_over() {
    let (fake, api, cluster, objects) = applied("dev", &[]).await;
    let worker = format!("{DEPLOYMENTS}/spark-worker");
    fake.set_as("kubectl-scale", &worker, ".spec.replicas", json!(5));
    fake.set_as(
        "kubectl-annotate",
        &worker,
        ".metadata.annotations",
        json!({"team": "data"}),
    );
    let err = bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap_err();
    let KubeError::Refused(err) = &err else {
        panic!("refused by the dry run before any write: {err}");
    };
    match err.as_ref() {
        KubeError::Conflict { object, conflicts } => {
            assert_eq!(object, "Deployment/spark-worker");
            assert_eq!(conflicts, &[".spec.replicas (owned by kubectl-scale)"]);
        }
        other => panic!("{other}"),
    }
    // A manager that set the same value as sparkup shares the field: no conflict.
    fake.set_as("kubectl-scale", &worker, ".spec.replicas", json!(1));
    bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    fake.set_as("kubectl-scale", &worker, ".spec.replicas", json!(5));
    let forced = ApplyOptions {
        force_conflicts: true,
        ..serial()
    };
    bounded(k8s::apply(&api, &cluster.spec, &objects, forced))
        .await
        .unwrap();
    assert_eq!(fake.state().objects[&worker]["spec"]["replicas"], 1);
    assert_eq!(fake.state().owners[&worker][".spec.replicas"], "sparkup");
}

#[tokio::test]
async fn apply_dry_run_changes_nothing() {
    let (fake, _api, _, _) = applied("dev", &["workers.replicas=1"]).await;
    fake.clear_seen();
    let before = fake.state().objects.clone();
    let templates = secret_templates("bmV3");
    let run = sparkup_on(
        &fake,
        &[
            "apply",
            "--dry-run",
            "--no-wait",
            "-p",
            "dev",
            "--set",
            "workers.replicas=3",
            "--templates",
            templates.to_str().unwrap(),
        ],
    );
    std::fs::remove_dir_all(&templates).ok();
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(fake.state().objects, before, "a dry run stores nothing");
    for line in fake.lines() {
        let write =
            line.starts_with("PATCH") || line.starts_with("POST") || line.starts_with("DELETE");
        assert!(!write || line.contains("dryRun=All"), "{line}");
    }
}

/// The API server reads a server-side apply body as YAML: a raw DEL there was refused (400) and
/// a raw U+0085 or U+2028 stored as a space. The client writes them as JSON escapes, which reach
/// the object exactly.
#[tokio::test]
async fn characters_yaml_reads_otherwise_reach_the_object_exactly() {
    let note = "del\u{7f} nel\u{85} ls\u{2028} ps\u{2029} c1\u{9b}";
    let set = format!("env.NOTE={note}");
    let (fake, _api, _, _) = applied("dev", &[&set]).await;
    let state = fake.state();
    let master = &state.objects[&format!("{DEPLOYMENTS}/spark-master")];
    let env = master["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .unwrap();
    let value = env.iter().find(|v| v["name"] == "NOTE").unwrap()["value"].clone();
    assert_eq!(value, note);
}

/// Replacing a master without recovery loses its running applications: apply names them and
/// changes nothing, unless told to go ahead; a change the master does not read goes through.
#[tokio::test]
async fn a_master_restart_that_would_lose_running_applications_is_refused() {
    let (fake, api, _, _) = applied("dev", &[]).await;
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 1, "workers": [],
        "activeapps": [{"id": "app-20261204-0001", "name": "etl"}]}));
    let before = fake.state().objects.clone();
    // An application setting: no daemon restarts, the apply goes through.
    let (cluster, desired) = objects("dev", &["sparkConf.spark.executor.memory=512m"]);
    bounded(k8s::apply(&api, &cluster.spec, &desired, serial()))
        .await
        .unwrap();
    // A master setting: the master's pod would be replaced.
    let before_master = fake.state().objects.clone();
    assert_ne!(before, before_master, "the ConfigMap changed");
    let (cluster, desired) = objects("dev", &["sparkConf.spark.deploy.spreadOut=false"]);
    let err = bounded(k8s::apply(&api, &cluster.spec, &desired, serial()))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, KubeError::WouldLose(_)), "{text}");
    assert!(text.contains("app-20261204-0001 (etl)"), "{text}");
    assert!(text.contains("--lose-running-applications"), "{text}");
    assert_eq!(fake.state().objects, before_master, "nothing was changed");
    let go_ahead = ApplyOptions {
        lose_running_applications: true,
        ..serial()
    };
    bounded(k8s::apply(&api, &cluster.spec, &desired, go_ahead))
        .await
        .unwrap();
    // With recovery on the running master and the new one, the applications come back.
    let recovery = [
        "master.recovery=filesystem",
        "master.recoveryDirectory=/data/recovery",
        "storage[0].name=data",
        "storage[0].mountPath=/data",
        "storage[0].size=1Gi",
    ];
    let (cluster, desired) = objects("dev", &recovery);
    bounded(k8s::apply(&api, &cluster.spec, &desired, go_ahead))
        .await
        .unwrap();
    let mut more = recovery.to_vec();
    more.push("sparkConf.spark.deploy.spreadOut=true");
    let (cluster, desired) = objects("dev", &more);
    bounded(k8s::apply(&api, &cluster.spec, &desired, serial()))
        .await
        .unwrap();
}

/// An apply sends again only what the server's dry run shows would change.
#[tokio::test]
async fn an_apply_writes_only_the_objects_it_changes() {
    let (fake, api, _, _) = applied("dev", &[]).await;
    fake.clear_seen();
    let (cluster, desired) = objects("dev", &["sparkConf.spark.worker.cleanup.enabled=true"]);
    let report = bounded(k8s::apply(&api, &cluster.spec, &desired, serial()))
        .await
        .unwrap();
    assert_eq!(
        report.applied,
        ["ConfigMap/spark-config", "Deployment/spark-worker"]
    );
    assert_eq!(report.unchanged.len(), desired.len() - 2, "{report:?}");
    let state = fake.state();
    let worker = &state.objects[&format!("{DEPLOYMENTS}/spark-worker")];
    let conf = state.objects["/api/v1/namespaces/default/configmaps/spark-config"]["data"]
        ["spark-defaults.conf"]
        .as_str()
        .unwrap();
    assert!(conf.contains("spark.worker.cleanup.enabled true"), "{conf}");
    assert!(worker["spec"]["template"].is_object());
}
