//! What the user reads when the API server refuses: field conflicts and other 409s, error codes
//! with their reason and hint, a server that cannot be reached or does not answer, a kind the
//! server does not serve.

use std::time::Duration;

use http::Method;
use sparkup::kube::{self as k8s, KubeError};

use super::fake::Fake;
use super::{CONFIGMAPS, DEPLOYMENTS, bounded, objects, serial};

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
    assert!(matches!(&err, KubeError::Refused(e) if matches!(**e, KubeError::Conflict { .. })));
    // Refused by the dry run of every object before the first write: nothing was written.
    let lines = fake.lines();
    let writes: Vec<&String> = lines
        .iter()
        .filter(|l| !l.starts_with("GET") && !l.contains("dryRun=All"))
        .collect();
    assert!(writes.is_empty(), "{lines:#?}");
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

/// A PodMonitor needs the Prometheus Operator's CRD: a cluster without it gets an error that
/// says so, from diff and apply alike, and listing the missing kind is no error.
#[tokio::test]
async fn a_pod_monitor_without_its_crd_is_a_clear_error() {
    without_its_crd(
        "/apis/monitoring.coreos.com/v1/namespaces/default/podmonitors",
        "PodMonitor/spark-master",
        &["metrics.enabled=true", "metrics.podMonitor=true"],
        "the API server does not serve monitoring.coreos.com/v1 PodMonitor: install its \
         CustomResourceDefinition (for monitoring.coreos.com, the Prometheus Operator's), or \
         turn off what renders it (metrics.podMonitor)",
    )
    .await;
}

/// Demand scaling needs KEDA's CRD, and says so as the PodMonitor does.
#[tokio::test]
async fn a_scaled_object_without_its_crd_is_a_clear_error() {
    without_its_crd(
        "/apis/keda.sh/v1alpha1/namespaces/default/scaledobjects",
        "ScaledObject/spark-worker",
        &[
            "workers.autoscaling.enabled=true",
            "workers.autoscaling.mode=demand",
            "sparkConf.spark.cores.max=2",
        ],
        "the API server does not serve keda.sh/v1alpha1 ScaledObject: install its \
         CustomResourceDefinition (for keda.sh, KEDA's), or turn off what renders it \
         (workers.autoscaling.mode demand)",
    )
    .await;
}

async fn without_its_crd(collection: &str, id: &str, sets: &[&str], expected: &str) {
    let fake = Fake::new().with_namespace("default");
    let api = fake.api().await;
    let missing = "the server could not find the requested resource";
    let (cluster, objects) = objects("dev", sets);
    let name = id.split_once('/').unwrap().1;
    assert!(objects.iter().any(|o| o.id() == id));
    for object in objects
        .iter()
        .filter(|o| o.id().starts_with(id.split('/').next().unwrap()))
    {
        let path = format!("{collection}/{}", object.id().split_once('/').unwrap().1);
        fake.fail(Method::PATCH, &path, 404, missing);
        fake.fail(Method::GET, &path, 404, missing);
    }
    fake.fail(Method::GET, collection, 404, missing);
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
            .starts_with(&format!("cannot dry-run apply {id}: 404")),
        "{err}"
    );
    assert!(err.to_string().contains("nothing was changed"), "{err}");
    assert!(
        !fake
            .state()
            .objects
            .keys()
            .any(|p| p.ends_with(name) && p.starts_with(collection))
    );
}

/// A refusal on the last stage, after the configuration and the workloads that would change:
/// the dry run of every object before the first write refuses it, and every earlier object is
/// as it was (seen on a real server: a refused CronJob after every Deployment had rolled).
#[tokio::test]
async fn a_refusal_on_the_last_stage_changes_nothing() {
    let job = [
        "jobs.nightly.app=/code/etl.py",
        "jobs.nightly.schedule=@daily",
    ];
    let (fake, api, _, _) = super::applied("dev", &job).await;
    let before = fake.state().objects.clone();
    let cronjob = "/apis/batch/v1/namespaces/default/cronjobs/spark-nightly";
    fake.fail(
        Method::PATCH,
        cronjob,
        422,
        "admission webhook \"policy.example.com\" denied the request: schedules must be UTC",
    );
    fake.clear_seen();
    let mut changed: Vec<&str> = job.to_vec();
    changed.extend([
        "workers.replicas=3",
        "sparkConf.spark.worker.cleanup.enabled=true",
    ]);
    let (cluster, objects) = objects("dev", &changed);
    let err = bounded(k8s::apply(&api, &cluster.spec, &objects, serial()))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(text.contains("denied the request"), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
    assert_eq!(fake.state().objects, before, "every object as it was");
    for line in fake.lines() {
        assert!(
            line.starts_with("GET") || line.contains("dryRun=All"),
            "a write: {line}"
        );
    }
}
