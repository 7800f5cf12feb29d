//! ui: a local port forwarded to a UI through the API server, and what it says when there is
//! nothing to forward to.

use std::time::Duration;

use serde_json::json;
use sparkup::kube as k8s;

use super::fake::Fake;
use super::{bounded, objects};

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
    // Ctrl-C stops it (bash's own kill: procps' is not on every machine).
    let _ = std::process::Command::new("bash")
        .args(["-c", "kill -INT \"$1\"", "kill", &child.id().to_string()])
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
