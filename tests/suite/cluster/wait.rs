//! The wait after an apply: rollouts to their end, every worker registered with the master,
//! pods that cannot start, and what a timeout reports.

use std::time::Duration;

use http::Method;
use serde_json::json;
use sparkup::kube::{self as k8s, KubeError, Progress};

use super::{DEPLOYMENTS, applied, bounded, fast, objects, patient, serial};

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
        // A setting the workers read: their pods restart (one only applications read would not).
        &[
            "workers.replicas=2",
            "sparkConf.spark.worker.cleanup.enabled=true",
        ],
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
    let code = sparkup::exit_code(&anyhow::Error::from(err));
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
