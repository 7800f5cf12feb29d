//! ReplicationControllers, whose pods sparkup replaces itself when their template changes.

use serde_json::json;
use sparkup::kube::{self as k8s, DiffOptions, Summary};

use super::{applied, bounded, patient};

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
    let table = report.to_string();
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
    assert!(report.healthy, "{}", report.to_string());
}
