//! The cluster commands against a fake API server: the exact requests, their order, and every
//! error path. Each scenario runs under a timeout, so a missing answer fails instead of hanging.

mod fake;

use std::future::Future;
use std::time::Duration;

use fake::Fake;
use http::Method;
use serde_json::{Value, json};
use sparkup::kube::{
    self as k8s, Action, ApiServer, ApplyOptions, DiffOptions, KubeError, Progress, Summary,
    WaitOptions,
};
use sparkup::render::{Object, RenderOptions};
use sparkup::{Cluster, ValuesOptions};

const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/default/deployments";
const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";
const PVCS: &str = "/api/v1/namespaces/default/persistentvolumeclaims";
const GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";

async fn bounded<T>(future: impl Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), future)
        .await
        .expect("the scenario finished in time (a request went unanswered?)")
}

fn objects(profile: &str, sets: &[&str]) -> (Cluster, Vec<Object>) {
    let values = ValuesOptions {
        profile: profile.into(),
        files: vec![],
        sets: sets.iter().map(|s| s.to_string()).collect(),
    };
    let cluster = sparkup::load(&values).unwrap();
    let objects = sparkup::render::render(&cluster, &RenderOptions::default()).unwrap();
    (cluster, objects)
}

/// A fake cluster to which the profile's objects were applied.
async fn applied(profile: &str, sets: &[&str]) -> (Fake, ApiServer, Cluster, Vec<Object>) {
    let fake = Fake::new();
    let api = fake.api().await;
    let (cluster, objects) = objects(profile, sets);
    bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    (fake, api, cluster, objects)
}

/// The query parameters of a request line, sorted.
fn query_params(line: &str) -> Vec<&str> {
    let query = line.split_once('?').map_or("", |(_, q)| q);
    let mut params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    params.sort();
    params
}

/// One object at a time, so the request order is exact.
fn serial() -> ApplyOptions {
    ApplyOptions {
        concurrency: 1,
        ..Default::default()
    }
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
    insta::assert_snapshot!(fake.lines().join("\n"));
    assert_eq!(
        api.requests(),
        22,
        "prod: 11 objects + namespace (2) + inventory (1) + auth Secret (2) + prune lists (6)"
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
    let patches = |seen: &[fake::Seen]| -> Vec<(String, Option<Value>)> {
        seen.iter()
            .filter(|s| s.method == Method::PATCH)
            .map(|s| (s.uri.clone(), s.body.clone()))
            .collect()
    };
    assert_eq!(patches(&first), patches(&fake.state().seen));

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
        assert_eq!(
            query_params(&line),
            [
                "fieldManager=sparkup",
                "fieldValidation=Strict",
                "force=true"
            ],
            "{line}"
        );
    }
}

/// A plan reads the live objects through the inventory's LISTs, one per kind, instead of one GET
/// per object: the namespace, the inventory, 4 LISTs and 6 dry runs for prod.
#[tokio::test]
async fn a_plan_reads_live_objects_through_the_inventory_lists() {
    let (fake, api, cluster, objects) = applied("prod", &[]).await;
    fake.clear_seen();
    let changes = bounded(k8s::plan(&api, &cluster.spec, &objects, Default::default()))
        .await
        .unwrap();
    assert!(changes.iter().all(|c| c.action == Action::Unchanged));
    let lines = fake.lines();
    assert_eq!(lines.len(), 19, "{lines:#?}");
    let gets: Vec<&String> = lines
        .iter()
        .filter(|l| l.starts_with("GET") && !l.contains("labelSelector"))
        .collect();
    assert_eq!(
        gets,
        [
            "GET /api/v1/namespaces/default",
            "GET /api/v1/namespaces/default/configmaps/spark-applyset"
        ]
    );
}

/// `diff --force-conflicts` and `apply --dry-run --force-conflicts` dry-run what the apply
/// will do: with force, so they do not fail on conflicts the apply takes over.
#[tokio::test]
async fn a_forced_plan_dry_runs_with_force() {
    let fake = Fake::new().with_namespace("default");
    let api = fake.api().await;
    let (cluster, objects) = objects("dev", &[]);
    let opts = k8s::PlanOptions {
        force_conflicts: true,
    };
    bounded(k8s::plan(&api, &cluster.spec, &objects, opts))
        .await
        .unwrap();
    let patches: Vec<String> = fake
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("PATCH"))
        .collect();
    assert_eq!(patches.len(), objects.len());
    for line in patches {
        assert_eq!(
            query_params(&line),
            [
                "dryRun=All",
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
    match &err {
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

/// Applies `dev` to a fake that answers the apply of Deployment `name` with 409 and `message`.
async fn apply_answered_409(name: &str, message: &str) -> (Fake, KubeError) {
    let fake = Fake::new().with_namespace("default");
    fake.fail(
        Method::PATCH,
        &format!("{DEPLOYMENTS}/{name}"),
        409,
        message,
    );
    let api = fake.api().await;
    let (cluster, objects) = objects("dev", &[]);
    let err = bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap_err();
    (fake, err)
}

/// Not every 409 is a field-manager conflict: say what the server said.
#[tokio::test]
async fn a_409_that_is_no_field_conflict_is_reported_as_the_server_said_it() {
    let message = "Operation cannot be fulfilled on deployments.apps \"spark-master\": the object has been modified; please apply your changes to the latest version and try again";
    let (_, err) = apply_answered_409("spark-master", message).await;
    let text = err.to_string();
    assert!(text.contains("the object has been modified"), "{text}");
    assert!(!text.contains("--force-conflicts"), "{text}");
    assert!(!text.contains("owned by another manager"), "{text}");
}

#[tokio::test]
async fn a_conflict_names_fields_and_managers_and_nothing_is_pruned() {
    let message = "Apply failed with 2 conflicts: conflicts with \"kubectl-edit\" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name=\"spark\"].resources.limits.memory";
    let (fake, err) = apply_answered_409("spark-worker", message).await;
    insta::assert_snapshot!(err.to_string());
    assert!(matches!(err, KubeError::Conflict { .. }));
    let lines = fake.lines();
    let failed_at = lines
        .iter()
        .position(|l| l.contains("deployments/spark-worker"))
        .unwrap();
    assert_eq!(
        failed_at,
        lines.len() - 1,
        "nothing after the failed apply: {lines:#?}"
    );
    assert!(!lines.iter().any(|l| l.starts_with("DELETE")));
}

#[tokio::test]
async fn api_errors_are_reported_with_code_reason_and_hint() {
    let cases = [
        (
            Method::PATCH,
            format!("{CONFIGMAPS}/spark-config"),
            422,
            "ConfigMap \"spark-config\" is invalid: data: Invalid value",
        ),
        (
            Method::PATCH,
            format!("{CONFIGMAPS}/spark-applyset"),
            403,
            "configmaps is forbidden: User \"dev\" cannot patch resource",
        ),
        (
            Method::GET,
            "/api/v1/namespaces/default".to_string(),
            500,
            "etcdserver: request timed out",
        ),
        (
            Method::POST,
            "/api/v1/namespaces".to_string(),
            403,
            "namespaces is forbidden: User \"dev\" cannot create resource",
        ),
    ];
    let mut report = String::new();
    for (method, path, code, message) in cases {
        let fake = Fake::new();
        fake.fail(method.clone(), &path, code, message);
        let api = fake.api().await;
        let (cluster, objects) = objects("dev", &[]);
        let err = bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(code));
        assert!(
            !fake.lines().iter().any(|l| l.starts_with("DELETE")),
            "nothing pruned after {code}"
        );
        report.push_str(&format!("{method} {path} -> {code}\n{err}\n\n"));
    }
    insta::assert_snapshot!(report);
}

#[tokio::test]
async fn an_unreachable_server_is_one_clear_line() {
    // A loopback port nobody listens on: the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let kubeconfig = std::env::temp_dir().join(format!(
        "sparkup-unreachable-{}.kubeconfig",
        std::process::id()
    ));
    let server = format!("http://127.0.0.1:{port}");
    crate::common::write_kubeconfig(&kubeconfig, &server, "prod", "t");
    let options = k8s::ConnectOptions {
        kubeconfig: Some(kubeconfig.clone()),
        ..Default::default()
    };
    let api = k8s::connect(&options).await.unwrap();
    std::fs::remove_file(&kubeconfig).unwrap();
    let (cluster, objects) = objects("dev", &[]);
    let err = bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap_err();
    let text = err.to_string();
    let expected =
        format!("cannot reach the Kubernetes API server http://127.0.0.1:{port}/ (context prod): ");
    assert!(text.starts_with(&expected), "{text}");
    assert!(text.contains("onnection refused"), "{text}");
    assert_eq!(text.lines().count(), 1);
}

#[tokio::test]
async fn a_server_that_does_not_answer_times_out() {
    let fake = Fake::new();
    fake.state().silent = true;
    let api = fake.api_with_timeout(Duration::from_millis(300)).await;
    let (cluster, objects) = objects("dev", &[]);
    let err = bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap_err();
    assert!(matches!(err, KubeError::Timeout { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "the Kubernetes API server {}/ (context fake) did not answer within 300ms (get the namespace)",
            fake.url()
        )
    );
}

/// Puts an old member of the instance in the fake cluster, as an earlier apply would have.
fn old_member(fake: &Fake, path: &str, kind: &str, api_version: &str, name: &str) {
    let (_, objects) = objects("dev", &[]);
    let labels = objects[0].value["metadata"]["labels"].clone();
    fake.state().objects.insert(
        format!("{path}/{name}"),
        json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name, "namespace": "default", "labels": labels}}),
    );
}

#[tokio::test]
async fn prune_deletes_only_members_no_longer_rendered_and_keeps_claims() {
    let fake = Fake::new().with_namespace("default");
    old_member(&fake, DEPLOYMENTS, "Deployment", "apps/v1", "spark-history");
    old_member(&fake, PVCS, "PersistentVolumeClaim", "v1", "spark-scratch");
    // Not a member: same kind and namespace, no ApplySet label.
    fake.state().objects.insert(
        format!("{DEPLOYMENTS}/someone-else"),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "someone-else", "labels": {"app": "x"}}}),
    );
    // The inventory an earlier apply left: kubectl's ApplySet parent naming the member kinds.
    let parent = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {
        "name": "spark-applyset", "namespace": "default",
        "annotations": {GROUP_KINDS: "Deployment.apps,PersistentVolumeClaim"}
    }});
    fake.state()
        .objects
        .insert(format!("{CONFIGMAPS}/spark-applyset"), parent);
    let api = fake.api().await;
    let (cluster, objects) = objects("dev", &[]);

    let changes = bounded(k8s::plan(&api, &cluster.spec, &objects, Default::default()))
        .await
        .unwrap();
    let prunes: Vec<String> = changes
        .iter()
        .filter(|c| c.action == Action::Prune)
        .map(|c| c.id())
        .collect();
    assert_eq!(
        prunes,
        [
            "Deployment/spark-history",
            "PersistentVolumeClaim/spark-scratch"
        ]
    );

    let report = bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    assert_eq!(report.pruned, ["Deployment/spark-history"]);
    assert_eq!(report.kept, ["PersistentVolumeClaim/spark-scratch"]);
    assert!(
        fake.state()
            .objects
            .contains_key(&format!("{DEPLOYMENTS}/someone-else"))
    );
    let kinds =
        fake.state().objects[&format!("{CONFIGMAPS}/spark-applyset")]["metadata"]["annotations"]
            [GROUP_KINDS]
            .clone();
    assert_eq!(
        kinds, "ConfigMap,Deployment.apps,PersistentVolumeClaim,Service",
        "the kept claim stays in the inventory"
    );

    let opts = ApplyOptions {
        prune_pvcs: true,
        ..serial()
    };
    let report = bounded(k8s::apply(&api, &cluster.spec, &objects, opts))
        .await
        .unwrap();
    assert_eq!(report.pruned, ["PersistentVolumeClaim/spark-scratch"]);
}

#[tokio::test]
async fn diff_of_a_missing_namespace_is_all_creates_after_one_request() {
    let fake = Fake::new();
    let api = fake.api().await;
    let (cluster, objects) = objects("dev", &[]);
    let changes = bounded(k8s::plan(&api, &cluster.spec, &objects, Default::default()))
        .await
        .unwrap();
    assert!(changes.iter().all(|c| c.action == Action::Create));
    assert_eq!(fake.lines(), ["GET /api/v1/namespaces/default"]);
}

#[tokio::test]
async fn diff_shows_updates_with_context_and_masks_secrets() {
    let (fake, api, _, _) = applied("dev", &[]).await;
    // A Secret applied earlier by a user's template, and a change of worker count.
    let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "spark-auth", "namespace": "default"},
                         "data": {"token": "b2xk", "same": "c2FtZQ=="}});
    fake.state().objects.insert(
        "/api/v1/namespaces/default/secrets/spark-auth".into(),
        secret,
    );
    let (cluster, mut objects) = objects_with_secret("bmV3");
    objects.retain(|o| o.kind != "ConfigMap");
    let changes = bounded(k8s::plan(&api, &cluster.spec, &objects, Default::default()))
        .await
        .unwrap();
    let text = k8s::diff_text(&changes, DiffOptions::default()).unwrap();
    assert!(!text.contains("b2xk") && !text.contains("bmV3"), "{text}");
    insta::assert_snapshot!(text);
    let shown = k8s::diff_text(
        &changes,
        DiffOptions {
            show_secrets: true,
            color: false,
        },
    )
    .unwrap();
    assert!(shown.contains("b2xk") && shown.contains("bmV3"));
    let json: Value =
        serde_json::from_str(&k8s::diff_json(&changes, DiffOptions::default()).unwrap()).unwrap();
    assert_eq!(json["summary"]["update"], 2, "{json}");
}

/// The dev cluster with three workers and a Secret holding `token` from a user template.
fn objects_with_secret(token: &str) -> (Cluster, Vec<Object>) {
    let dir = std::env::temp_dir().join(format!(
        "sparkup-cluster-secret-{}-{token}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let template = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: spark-auth\ndata:\n  token: {token}\n  same: c2FtZQ==\n"
    );
    std::fs::write(dir.join("auth.yaml"), template).unwrap();
    let values = ValuesOptions {
        profile: "dev".into(),
        files: vec![],
        sets: vec!["workers.replicas=3".into()],
    };
    let cluster = sparkup::load(&values).unwrap();
    let opts = RenderOptions {
        templates: Some(dir.clone()),
    };
    let built = (
        cluster.clone(),
        sparkup::render::render(&cluster, &opts).unwrap(),
    );
    std::fs::remove_dir_all(dir).ok();
    built
}

/// For a wait that is expected to time out or fail.
fn fast() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_millis(1500),
        interval: Duration::from_millis(20),
    }
}

/// For a wait that is expected to succeed: polls as often, gives up only far later, so a
/// loaded machine cannot turn success into a timeout.
fn patient() -> WaitOptions {
    WaitOptions {
        timeout: Duration::from_secs(15),
        ..fast()
    }
}

#[tokio::test]
async fn wait_returns_when_rollouts_are_done_and_spark_has_every_worker() {
    let (fake, api, cluster, objects) = applied("dev", &["workers.replicas=2"]).await;
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 1}));
    fake.clear_seen();
    let waiting = {
        let (api, cluster, objects) = (&api, &cluster, &objects);
        async move { k8s::wait(api, cluster, objects, patient(), &Progress::hidden()).await }
    };
    let fake2 = fake.clone();
    let (result, _) = tokio::join!(waiting, async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        fake2.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 2}));
    });
    result.unwrap();
    let proxies = fake
        .lines()
        .iter()
        .filter(|l| l.contains("/proxy/json/"))
        .count();
    assert!(
        proxies >= 2,
        "polled the master until both workers registered"
    );
    assert!(fake.lines().contains(
        &"GET /api/v1/namespaces/default/services/spark-master:http/proxy/json/".to_string()
    ));
}

#[tokio::test]
async fn wait_fails_fast_on_a_crash_loop_with_the_pods_events() {
    let (fake, api, cluster, objects) = applied("dev", &[]).await;
    {
        let mut state = fake.state();
        state.ready = false;
        // A pod of the current template, as the Deployment's controller creates it.
        let master = objects
            .iter()
            .find(|o| o.id() == "Deployment/spark-master")
            .unwrap();
        let template = &master.value["spec"]["template"];
        state.pods = vec![json!({
            "metadata": {"name": "spark-master-7d9f-abcde",
                "labels": template["metadata"]["labels"].clone(),
                "annotations": template["metadata"]["annotations"].clone()},
            "spec": template["spec"].clone(),
            "status": {"containerStatuses": [{
                "name": "spark",
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 40s restarting failed container"}},
                "lastState": {"terminated": {"reason": "Error", "exitCode": 1}}
            }]}
        })];
        state.events = vec![
            json!({"type": "Warning", "reason": "BackOff", "message": "Back-off restarting failed container spark"}),
        ];
    }
    let err = k8s::wait(&api, &cluster, &objects, fast(), &Progress::hidden())
        .await
        .unwrap_err();
    insta::assert_snapshot!(err.to_string());
}

/// Only pods of the current template can fail a wait: a broken pod of the previous template, or
/// one being deleted, is what the controller is replacing; and a pod that cannot be scheduled yet
/// may get a node when the cluster grows, so it is shown and waited for.
#[tokio::test]
async fn the_wait_fails_only_on_current_pods_that_cannot_start() {
    let (fake, api, cluster, objects) = applied("dev", &[]).await;
    let worker = objects
        .iter()
        .find(|o| o.id() == "Deployment/spark-worker")
        .unwrap();
    let template = &worker.value["spec"]["template"];
    let crash = json!({"containerStatuses": [{"name": "spark",
        "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]});
    let mut old = template.clone();
    old["metadata"]["annotations"]["sparkup.io/template-hash"] = json!("0123456789abcdef");
    {
        let mut state = fake.state();
        state.ready = false;
        state.pods = vec![
            json!({"metadata": {"name": "spark-worker-old-1", "labels": old["metadata"]["labels"].clone(),
                "annotations": old["metadata"]["annotations"].clone()},
                "spec": old["spec"].clone(), "status": crash.clone()}),
            json!({"metadata": {"name": "spark-worker-going-1", "deletionTimestamp": "2026-11-22T00:00:00Z",
                "labels": template["metadata"]["labels"].clone(),
                "annotations": template["metadata"]["annotations"].clone()},
                "spec": template["spec"].clone(), "status": crash}),
            json!({"metadata": {"name": "spark-worker-new-1", "labels": template["metadata"]["labels"].clone(),
                "annotations": template["metadata"]["annotations"].clone()},
                "spec": template["spec"].clone(), "status": {"conditions": [{"type": "PodScheduled",
                "status": "False", "reason": "Unschedulable", "message": "0/1 nodes are available: 1 Insufficient cpu."}]}}),
        ];
    }
    let err = k8s::wait(&api, &cluster, &objects, fast(), &Progress::hidden())
        .await
        .unwrap_err();
    assert!(matches!(err, KubeError::TimedOut(_)), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("pod spark-worker-new-1 cannot be scheduled yet: 0/1 nodes are available"),
        "{text}"
    );
    assert!(
        !text.contains("spark-worker-old-1") && !text.contains("going"),
        "{text}"
    );
}

/// A Deployment rolls out a new template revision by revision: the wait goes on while a pod of
/// the previous revision still runs, instead of counting it as rolled out.
#[tokio::test]
async fn the_wait_lasts_until_no_pod_of_the_previous_revision_is_left() {
    let (fake, api, _, _) = applied("dev", &["workers.replicas=2"]).await;
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 2, "workers": []}));
    let (cluster, objects) = objects(
        "dev",
        &["workers.replicas=2", "sparkConf.spark.executor.memory=512m"],
    );
    bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    let worker = format!("{DEPLOYMENTS}/spark-worker");
    assert_eq!(fake.state().rollouts[&worker], 2, "a new revision started");
    fake.clear_seen();
    bounded(k8s::wait(
        &api,
        &cluster,
        &objects,
        patient(),
        &Progress::hidden(),
    ))
    .await
    .unwrap();
    assert_eq!(
        fake.state().rollouts[&worker],
        0,
        "returned while old pods ran"
    );
    let reads = fake
        .lines()
        .iter()
        .filter(|l| *l == &format!("GET {worker}"))
        .count();
    assert_eq!(reads, 3, "two steps with an old pod left, then done");
}

#[tokio::test]
async fn wait_reports_what_was_not_ready_at_the_timeout() {
    let (fake, api, cluster, objects) = applied("dev", &[]).await;
    fake.state().ready = false;
    let err = k8s::wait(&api, &cluster, &objects, fast(), &Progress::hidden())
        .await
        .unwrap_err();
    insta::assert_snapshot!(err.to_string());
}

/// A wait that times out is told apart from bad input (exit 3, not 2); one that lacks the right
/// to read the master through the service proxy fails at once, naming the permission.
#[tokio::test]
async fn the_wait_times_out_as_its_own_error_and_fails_at_once_without_rights() {
    let (fake, api, cluster, objects) = applied("dev", &[]).await;
    let err = k8s::wait(&api, &cluster, &objects, fast(), &Progress::hidden())
        .await
        .unwrap_err();
    assert!(matches!(err, KubeError::TimedOut(_)), "{err}");
    let code = sparkup::cli::exit_code(&anyhow::Error::from(err));
    assert_eq!(code, 3);

    fake.fail(
        Method::GET,
        "/api/v1/namespaces/default/services/spark-master:http/proxy/json/",
        403,
        "services \"spark-master\" is forbidden: User \"ci\" cannot get resource \"services/proxy\"",
    );
    let started = tokio::time::Instant::now();
    let err = k8s::wait(&api, &cluster, &objects, fast(), &Progress::hidden())
        .await
        .unwrap_err();
    assert!(matches!(err, KubeError::NotReady(_)), "{err}");
    assert!(
        err.to_string()
            .contains("needs `get` on `services/proxy` in namespace default"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(1), "it waited");
}

/// ReplicationControllers never replace their pods when the template changes. status and diff
/// show the pods that run an older template, and the roll replaces them: the master first, then
/// the workers one at a time, each checked ALIVE in the master before the next goes.
#[tokio::test]
async fn replication_controllers_are_rolled_by_sparkup_one_worker_at_a_time() {
    let sets = [
        "master.kind=ReplicationController",
        "workers.kind=ReplicationController",
        "workers.replicas=2",
    ];
    let (fake, api, cluster, objects) = applied("dev", &sets).await;
    let pod = |object: &str, name: &str| {
        let object = objects.iter().find(|o| o.id() == object).unwrap();
        let mut metadata = object.value["spec"]["template"]["metadata"].clone();
        metadata["annotations"]["sparkup.io/template-hash"] = json!("0ld0ld0ld0ld0ld0");
        metadata["name"] = json!(name);
        json!({"metadata": metadata, "spec": object.value["spec"]["template"]["spec"],
            "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
    };
    {
        let mut state = fake.state();
        state.pods = vec![
            pod("ReplicationController/spark-master", "spark-master-a"),
            pod("ReplicationController/spark-worker", "spark-worker-a"),
            pod("ReplicationController/spark-worker", "spark-worker-b"),
        ];
        state.spark = Some(json!({"status": "ALIVE", "aliveworkers": 2, "workers": []}));
    }
    let report = bounded(k8s::status(&api, &cluster, &objects))
        .await
        .unwrap();
    assert!(!report.healthy);
    let table = k8s::status_table(&report);
    assert!(
        table.contains("ReplicationController/spark-worker")
            && table.contains("2 pod(s) on an older template"),
        "{table}"
    );
    let changes = bounded(k8s::plan(&api, &cluster.spec, &objects, Default::default()))
        .await
        .unwrap();
    let summary = Summary::of(&changes);
    assert_eq!(summary.roll, 2);
    assert!(
        summary.has_changes(),
        "diff exits 1 while pods run an old template"
    );
    let text = k8s::diff_text(&changes, DiffOptions::default()).unwrap();
    assert!(
        text.contains("~ ReplicationController/spark-worker: pod(s) spark-worker-a, spark-worker-b run an older template"),
        "{text}"
    );

    fake.clear_seen();
    let replaced = bounded(k8s::roll(&api, &cluster, &objects, patient()))
        .await
        .unwrap();
    assert_eq!(
        replaced,
        ["spark-master-a", "spark-worker-a", "spark-worker-b"]
    );
    let lines = fake.lines();
    let at = |needle: &str| {
        lines
            .iter()
            .position(|l| l.starts_with("DELETE") && l.contains(needle))
            .unwrap()
    };
    let (master, first, second) = (
        at("spark-master-a"),
        at("spark-worker-a"),
        at("spark-worker-b"),
    );
    assert!(master < first && first < second, "{lines:#?}");
    assert!(
        lines[first..second]
            .iter()
            .any(|l| l.contains("/proxy/json/")),
        "the first new worker was checked ALIVE before the second went: {lines:#?}"
    );
    assert!(
        bounded(k8s::stale_pods(&api, &objects))
            .await
            .unwrap()
            .is_empty()
    );
    let report = bounded(k8s::status(&api, &cluster, &objects))
        .await
        .unwrap();
    assert!(report.healthy, "{}", k8s::status_table(&report));
}

#[tokio::test]
async fn status_shows_objects_and_sparks_view() {
    let (fake, api, cluster, objects) = applied("prod", &[]).await;
    fake.state().spark = Some(json!({
        "url": "spark://10.1.2.3:7077", "status": "ALIVE", "aliveworkers": 4, "cores": 16, "coresused": 4,
        "memory": 56320, "memoryused": 4096,
        "workers": [{"state": "ALIVE"}, {"state": "ALIVE"}, {"state": "ALIVE"}, {"state": "ALIVE"}, {"state": "DEAD"}],
        "activeapps": [{"name": "etl", "state": "RUNNING"}]
    }));
    let report = bounded(k8s::status(&api, &cluster, &objects))
        .await
        .unwrap();
    assert!(report.healthy);
    insta::assert_snapshot!(k8s::status_table(&report));

    fake.state().spark = None;
    let report = bounded(k8s::status(&api, &cluster, &objects))
        .await
        .unwrap();
    assert!(!report.healthy, "no Spark master view means not healthy");
    let table = k8s::status_table(&report);
    assert!(
        table.contains("master not reachable: no endpoints available for service"),
        "{table}"
    );
}

/// Delete and prune reach only the instance's namespaced members: the namespace, and a foreign
/// object that is even labelled like a member of another instance, stay.
#[tokio::test]
async fn delete_and_prune_leave_the_namespace_and_foreign_objects_alone() {
    let (fake, api, cluster, objects) = applied("dev", &[]).await;
    fake.state().objects.insert(
        format!("{DEPLOYMENTS}/other-master"),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "other-master",
            "labels": {"applyset.kubernetes.io/part-of": "applyset-someone-else-v1"}}}),
    );
    bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    bounded(k8s::delete(&api, &cluster.spec, &objects, true))
        .await
        .unwrap();
    let state = fake.state();
    assert!(state.objects.contains_key("/api/v1/namespaces/default"));
    assert!(
        state
            .objects
            .contains_key(&format!("{DEPLOYMENTS}/other-master"))
    );
    let deletes: Vec<&str> = state
        .seen
        .iter()
        .filter(|s| s.method == Method::DELETE)
        .map(|s| s.uri.as_str())
        .collect();
    assert!(
        deletes
            .iter()
            .all(|uri| uri.starts_with("/api/v1/namespaces/default/")
                || uri.starts_with("/apis/apps/v1/namespaces/default/")),
        "{deletes:?}"
    );
    assert!(
        !deletes.iter().any(|uri| uri.contains("other-master")),
        "{deletes:?}"
    );
}

#[tokio::test]
async fn delete_removes_members_in_reverse_order_and_keeps_claims_unless_purged() {
    let (fake, api, cluster, objects) = applied("prod", &[]).await;
    fake.clear_seen();
    let report = bounded(k8s::delete(&api, &cluster.spec, &objects, false))
        .await
        .unwrap();
    assert_eq!(
        report.deleted,
        [
            "NetworkPolicy/spark-internal",
            "NetworkPolicy/spark-ui",
            "PodDisruptionBudget/spark-worker",
            "Deployment/spark-history",
            "Deployment/spark-master",
            "Deployment/spark-worker",
            "Service/spark-history",
            "Service/spark-master",
            "ConfigMap/spark-config"
        ]
    );
    assert_eq!(
        report.kept,
        [
            "PersistentVolumeClaim/spark-code",
            "PersistentVolumeClaim/spark-data",
            "Secret/spark-auth"
        ]
    );
    let report = bounded(k8s::delete(&api, &cluster.spec, &objects, true))
        .await
        .unwrap();
    assert_eq!(
        report.deleted,
        [
            "PersistentVolumeClaim/spark-code",
            "PersistentVolumeClaim/spark-data",
            "Secret/spark-auth"
        ]
    );
    let left: Vec<String> = fake.state().objects.keys().cloned().collect();
    assert_eq!(
        left,
        ["/api/v1/namespaces/default"],
        "only the namespace is left"
    );
}

#[tokio::test]
async fn the_inventory_parent_is_never_pruned_even_if_a_list_returns_it() {
    let fake = Fake::new().with_namespace("default");
    let api = fake.api().await;
    let (cluster, objects) = objects("dev", &[]);
    bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    // A server (or proxy) that ignores the label selector would list the parent too.
    let parent_path = format!("{CONFIGMAPS}/spark-applyset");
    let labels = objects[0].value["metadata"]["labels"].clone();
    fake.state().objects.get_mut(&parent_path).unwrap()["metadata"]["labels"] = labels;
    let report = bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    assert!(report.pruned.is_empty(), "{:?}", report.pruned);
    assert!(fake.state().objects.contains_key(&parent_path));
}

fn cluster_args(profile: &str) -> sparkup::cli::KubeArgs {
    sparkup::cli::KubeArgs {
        values: sparkup::cli::ValuesArgs {
            profile: profile.into(),
            files: vec![],
            sets: vec![],
        },
        namespace: None,
        kubeconfig: None,
        context: None,
        templates: None,
        request_timeout: Duration::from_secs(5),
    }
}

#[tokio::test]
async fn diff_exits_1_before_an_apply_and_0_after_it() {
    let fake = Fake::new().with_namespace("default");
    let api = fake.api().await;
    let (cluster, objects) = objects("prod", &[]);
    let args = sparkup::cli::DiffArgs {
        kube: cluster_args("prod"),
        show_secrets: false,
        force_conflicts: false,
        output: sparkup::cli::DiffFormat::Json,
    };
    let code = bounded(sparkup::cli::diff_command(&api, &cluster, &objects, &args))
        .await
        .unwrap();
    assert_eq!(
        format!("{code:?}"),
        format!("{:?}", std::process::ExitCode::from(1))
    );
    bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap();
    let code = bounded(sparkup::cli::diff_command(&api, &cluster, &objects, &args))
        .await
        .unwrap();
    assert_eq!(
        format!("{code:?}"),
        format!("{:?}", std::process::ExitCode::SUCCESS)
    );
}

#[tokio::test]
async fn apply_dry_run_changes_nothing() {
    let (fake, api, _, _) = applied("dev", &["workers.replicas=1"]).await;
    fake.clear_seen();
    let before = fake.state().objects.clone();
    let (changed, changed_objects) = objects_with_secret("bmV3");
    let args = sparkup::cli::ApplyArgs {
        kube: cluster_args("dev"),
        force_conflicts: false,
        prune_pvcs: false,
        dry_run: true,
        no_wait: true,
        timeout: Duration::from_secs(1),
    };
    bounded(sparkup::cli::apply_command(
        &api,
        &changed,
        &changed_objects,
        &args,
    ))
    .await
    .unwrap();
    assert_eq!(fake.state().objects, before, "a dry run stores nothing");
    for line in fake.lines() {
        let write =
            line.starts_with("PATCH") || line.starts_with("POST") || line.starts_with("DELETE");
        assert!(!write || line.contains("dryRun=All"), "{line}");
    }
}

/// The binary itself, through its kubeconfig: the whole client stack (kubeconfig loading, the
/// bearer token, kube's HTTP client) against the fake, from a first apply to a delete.
#[test]
fn the_binary_applies_diffs_shows_and_deletes_through_a_kubeconfig() {
    use crate::common::sparkup;
    let fake = Fake::new().with_namespace("default");
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 1, "workers": []}));
    let kubeconfig = fake.kubeconfig();
    let kubeconfig = kubeconfig.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["-p", "dev", "--kubeconfig", kubeconfig]);
        sparkup(&all)
    };

    let apply = run(&["apply", "--timeout", "20s"]);
    assert_eq!(apply.code, Some(0), "{}{}", apply.stdout, apply.stderr);
    assert!(
        apply.stdout.contains("ALIVE with 1 worker"),
        "{}",
        apply.stdout
    );
    assert!(
        fake.state()
            .objects
            .contains_key(&format!("{DEPLOYMENTS}/spark-worker"))
    );

    let same = run(&["diff"]);
    assert_eq!(same.code, Some(0), "{}{}", same.stdout, same.stderr);
    let scaled = run(&["diff", "--set", "workers.replicas=3"]);
    assert_eq!(scaled.code, Some(1), "{}{}", scaled.stdout, scaled.stderr);
    assert!(
        scaled.stdout.contains("+  replicas: 3"),
        "{}",
        scaled.stdout
    );

    let status = run(&["status"]);
    assert_eq!(status.code, Some(0), "{}{}", status.stdout, status.stderr);
    assert!(status.stdout.contains("ALIVE"), "{}", status.stdout);

    let delete = run(&["delete"]);
    assert_eq!(delete.code, Some(0), "{}{}", delete.stdout, delete.stderr);
    let state = fake.state();
    assert!(!state.objects.keys().any(|p| p.starts_with(DEPLOYMENTS)));
    assert!(
        state
            .objects
            .keys()
            .all(|p| !p.contains("/namespaces/default/")),
        "{:?}",
        state.objects.keys()
    );
    // Every request carried the kubeconfig's token (the fake answers 401 otherwise).
    assert!(state.seen.len() > 20, "{}", state.seen.len());
}

/// `sparkup submit -p dev` and `tail` (flags, APP, its arguments), as clap parses them.
fn submit_args(tail: &[&str]) -> sparkup::cli::SubmitArgs {
    use clap::Parser;
    #[derive(clap::Parser)]
    struct Wrapper {
        #[command(flatten)]
        submit: sparkup::cli::SubmitArgs,
    }
    let mut argv = vec!["submit", "-p", "dev"];
    argv.extend_from_slice(tail);
    Wrapper::try_parse_from(argv).unwrap().submit
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
    submission: &k8s::Submission,
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
    let dir = std::env::temp_dir().join(format!("sparkup-submit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let app = dir.join("word count.py");
    std::fs::write(&app, "print('hello')\n").unwrap();
    let args = submit_args(&[app.to_str().unwrap(), "--day", "2026-11-21"]);
    let submission =
        sparkup::cli::build_submission(&cluster, &args, Duration::from_secs(29_412_000 * 60))
            .unwrap();
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
    let submission = sparkup::cli::build_submission(
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
        let submission = sparkup::cli::build_submission(
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
        sparkup::cli::build_submission(&cluster, &submit_args(&["s3a://b/app.py"]), Duration::ZERO)
            .unwrap();
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

/// status lists the scheduled jobs with their last run, the latest runs, and how to reach the
/// Connect server.
#[tokio::test]
async fn status_lists_jobs_their_last_runs_and_the_connect_server() {
    let sets = [
        "connect.enabled=true",
        "connect.resources.limits.memory=1Gi",
        "connect.resources.requests.memory=1Gi",
        "sparkConf.spark.executor.memory=512m",
        "jobs.nightly.app=/opt/etl.py",
        "jobs.nightly.schedule=0 2 * * *",
        "jobs.nightly.timeZone=Europe/Berlin",
    ];
    let (fake, api, cluster, objects) = applied("dev", &sets).await;
    {
        let mut state = fake.state();
        state.spark = Some(json!({"status": "ALIVE", "aliveworkers": 1, "workers": []}));
        let jobs = "/apis/batch/v1/namespaces/default/jobs";
        let labels =
            json!({"app.kubernetes.io/instance": "spark", "app.kubernetes.io/component": "job"});
        state.objects.insert(
            format!("{jobs}/spark-nightly-29412120"),
            json!({"kind": "Job", "metadata": {"name": "spark-nightly-29412120", "labels": labels,
                "creationTimestamp": "2026-11-22T02:00:00Z",
                "ownerReferences": [{"kind": "CronJob", "name": "spark-nightly"}]},
                "status": {"startTime": "2026-11-22T02:00:01Z", "conditions": [
                    {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
                     "lastTransitionTime": "2026-11-22T02:10:00Z"}]}}),
        );
        state.objects.insert(
            format!("{jobs}/spark-adhoc-29412170-ab12"),
            json!({"kind": "Job", "metadata": {"name": "spark-adhoc-29412170-ab12", "labels": labels,
                "creationTimestamp": "2026-11-22T02:50:00Z"},
                "status": {"startTime": "2026-11-22T02:50:02Z", "active": 1}}),
        );
    }
    let report = bounded(k8s::status(&api, &cluster, &objects))
        .await
        .unwrap();
    insta::assert_snapshot!(k8s::status_table(&report));
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
    let dir = std::env::temp_dir().join(format!("sparkup-rbac-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let app = dir.join("app.py");
    std::fs::write(&app, "print(1)\n").unwrap();
    fake.clear_seen();
    for stop_early in [false, true] {
        let submission = sparkup::cli::build_submission(
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

/// `apply` creates the authentication Secret once with a random value, never changes it, and
/// the value appears in no text sparkup writes: render, the applied objects, apply's, diff's
/// and status's output.
#[test]
fn the_authentication_secret_is_created_once_and_shown_nowhere() {
    use crate::common::sparkup;
    let fake = Fake::new();
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 4, "workers": []}));
    let kubeconfig = fake.kubeconfig();
    let kubeconfig = kubeconfig.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["-p", "prod", "--kubeconfig", kubeconfig]);
        sparkup(&all)
    };
    let apply = run(&["apply", "--no-wait"]);
    assert_eq!(apply.code, Some(0), "{}", apply.stderr);
    assert!(
        apply
            .stdout
            .contains("created Secret/spark-auth (a random authentication secret"),
        "{}",
        apply.stdout
    );
    let path = "/api/v1/namespaces/default/secrets/spark-auth";
    let stored = fake.state().objects[path].clone();
    let encoded = stored["data"]["secret"].as_str().unwrap().to_string();
    let secret = {
        use base64::Engine as _;
        String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(&encoded)
                .unwrap(),
        )
        .unwrap()
    };
    assert_eq!(secret.len(), 64, "32 random bytes, hex");
    assert!(secret.chars().all(|c| c.is_ascii_hexdigit()));

    let again = run(&["apply", "--no-wait"]);
    assert_eq!(again.code, Some(0), "{}", again.stderr);
    assert!(!again.stdout.contains("created Secret"), "{}", again.stdout);
    assert_eq!(
        fake.state().objects[path]["data"]["secret"],
        encoded.as_str(),
        "never changed"
    );

    let mut texts = vec![apply.stdout, apply.stderr, again.stdout];
    for args in [&["diff"][..], &["status"][..], &["apply", "--dry-run"][..]] {
        let out = run(args);
        texts.extend([out.stdout, out.stderr]);
    }
    let render = sparkup(&["render", "-p", "prod"]);
    texts.push(render.stdout);
    let applied: Vec<String> = fake
        .state()
        .objects
        .iter()
        .filter(|(p, _)| p.as_str() != path)
        .map(|(_, o)| o.to_string())
        .collect();
    texts.extend(applied);
    for text in &texts {
        assert!(
            !text.contains(&secret) && !text.contains(&encoded),
            "{text}"
        );
    }
    // Every pod reads it from the Secret.
    assert!(texts.iter().any(|t| t.contains("_SPARK_AUTH_SECRET")));
}

/// A PodMonitor needs the Prometheus Operator's CRD: a cluster without it gets an error that
/// says so, from diff and apply alike, and listing the missing kind is no error.
#[tokio::test]
async fn a_pod_monitor_without_its_crd_is_a_clear_error() {
    let fake = Fake::new().with_namespace("default");
    let api = fake.api().await;
    let monitors = "/apis/monitoring.coreos.com/v1/namespaces/default/podmonitors";
    let missing = "the server could not find the requested resource";
    for name in ["spark-master", "spark-worker"] {
        fake.fail(Method::PATCH, &format!("{monitors}/{name}"), 404, missing);
        fake.fail(Method::GET, &format!("{monitors}/{name}"), 404, missing);
    }
    fake.fail(Method::GET, monitors, 404, missing);
    let (cluster, objects) = objects("dev", &["metrics.enabled=true", "metrics.podMonitor=true"]);
    assert!(objects.iter().any(|o| o.id() == "PodMonitor/spark-master"));
    let expected = "the API server does not serve monitoring.coreos.com/v1 PodMonitor: install its \
                    CustomResourceDefinition (for monitoring.coreos.com, the Prometheus \
                    Operator's), or turn off what renders it (metrics.podMonitor)";
    let err = bounded(k8s::plan(&api, &cluster.spec, &objects, Default::default()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains(expected), "{err}");
    let err = bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap_err();
    assert!(err.to_string().contains(expected), "{err}");
    assert!(
        err.to_string()
            .starts_with("cannot apply PodMonitor/spark-master: 404"),
        "{err}"
    );
}

/// status names the UI's URL for how the master is exposed.
#[tokio::test]
async fn status_names_the_ui_url_for_the_exposure() {
    let ingress = [
        "ui.ingress.enabled=true",
        "ui.ingress.host=spark.example.com",
        "ui.ingress.tlsSecret=spark-tls",
    ];
    let (_fake, api, cluster, objects) = applied("dev", &ingress).await;
    let report = bounded(k8s::status(&api, &cluster, &objects))
        .await
        .unwrap();
    assert_eq!(
        report.ui,
        "https://spark.example.com/ (Ingress spark-master)"
    );

    let balancer = [
        "master.service.type=LoadBalancer",
        "security.authenticate=true",
    ];
    let (fake, api, cluster, objects) = applied("dev", &balancer).await;
    let service = "/api/v1/namespaces/default/services/spark-master";
    fake.state().objects.get_mut(service).unwrap()["status"] =
        json!({"loadBalancer": {"ingress": [{"ip": "203.0.113.7"}]}});
    let report = bounded(k8s::status(&api, &cluster, &objects))
        .await
        .unwrap();
    assert_eq!(report.ui, "http://203.0.113.7:8080/ (LoadBalancer)");

    let node_port = ["master.service.type=NodePort", "security.authenticate=true"];
    let (fake, api, cluster, objects) = applied("dev", &node_port).await;
    fake.state().objects.get_mut(service).unwrap()["spec"]["ports"][1]["nodePort"] = json!(31080);
    let report = bounded(k8s::status(&api, &cluster, &objects))
        .await
        .unwrap();
    assert_eq!(report.ui, "http://<any node's address>:31080/ (NodePort)");
}

/// `sparkup ui` opens a local port that reaches the UI of a ready master pod through the API
/// server's portforward subresource (a WebSocket), with the binary's own client stack.
#[test]
fn the_binary_forwards_a_ui_to_localhost() {
    use std::io::{BufRead, BufReader, Read, Write};
    let fake = Fake::new().with_namespace("default");
    let kubeconfig = fake.kubeconfig();
    {
        let mut state = fake.state();
        let labels = json!({"app.kubernetes.io/name": "spark", "app.kubernetes.io/instance": "spark",
            "app.kubernetes.io/component": "master"});
        let ready = json!({"conditions": [{"type": "Ready", "status": "True"}]});
        state.pods = vec![
            json!({"metadata": {"name": "spark-master-old", "labels": labels,
                "deletionTimestamp": "2026-11-22T03:00:00Z"}, "status": ready}),
            json!({"metadata": {"name": "spark-master-abc", "labels": labels}, "status": ready}),
        ];
    }
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sparkup"))
        .args(["ui", "-p", "dev", "--local-port", "0", "--kubeconfig"])
        .arg(&kubeconfig)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let result = std::panic::catch_unwind(|| {
        assert!(
            first.ends_with("/ forwards to pod spark-master-abc port 8080 (Ctrl-C stops)\n"),
            "{first}"
        );
        let address = first
            .strip_prefix("http://")
            .and_then(|r| r.split('/').next())
            .unwrap()
            .to_string();
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream
            .write_all(b"GET /json/ HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(
            answer.ends_with(r#"{"status":"ALIVE","pod":"spark-master-abc","port":8080}"#),
            "{answer}"
        );
    });
    // Ctrl-C stops it.
    let _ = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let status = child.wait().unwrap();
    result.unwrap();
    assert!(status.success(), "{status:?}");
    assert!(
        fake.lines()
            .iter()
            .any(|l| l
                == "GET /api/v1/namespaces/default/pods/spark-master-abc/portforward?&ports=8080"),
        "{:?}",
        fake.lines()
    );
}

#[tokio::test]
async fn a_ui_without_a_ready_pod_or_server_is_a_clear_error() {
    let fake = Fake::new().with_namespace("default");
    let api = fake.api().await;
    let (cluster, _) = objects("dev", &[]);
    let err = bounded(k8s::forward(
        &api,
        &cluster,
        k8s::Ui::Master,
        0,
        |_| {},
        std::future::pending(),
    ))
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "no ready master pod of spark in namespace default (0 pod(s) found): see `sparkup status`"
    );
    let err = bounded(k8s::forward(
        &api,
        &cluster,
        k8s::Ui::History,
        0,
        |_| {},
        std::future::pending(),
    ))
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the instance has no history server: set history.enabled=true"
    );
}
