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
