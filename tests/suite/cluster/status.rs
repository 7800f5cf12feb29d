//! status: the objects and Spark's own view, the jobs and their last runs, the UI's URL.

use serde_json::json;
use sparkup::kube as k8s;

use super::{applied, bounded};

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
    insta::assert_snapshot!(report.to_string());

    fake.state().spark = None;
    let report = bounded(k8s::status(&api, &cluster, &objects))
        .await
        .unwrap();
    assert!(!report.healthy, "no Spark master view means not healthy");
    let table = report.to_string();
    assert!(
        table.contains("master not reachable: no endpoints available for service"),
        "{table}"
    );
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
        // The labels sparkup gives every Job of the instance.
        let labels = json!({"app.kubernetes.io/name": "spark",
            "app.kubernetes.io/instance": "spark", "app.kubernetes.io/component": "job"});
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
    insta::assert_snapshot!(report.to_string());
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
        report.ui.to_string(),
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
    assert_eq!(
        report.ui.to_string(),
        "http://203.0.113.7:8080/ (LoadBalancer)"
    );

    let node_port = ["master.service.type=NodePort", "security.authenticate=true"];
    let (fake, api, cluster, objects) = applied("dev", &node_port).await;
    fake.state().objects.get_mut(service).unwrap()["spec"]["ports"][1]["nodePort"] = json!(31080);
    let report = bounded(k8s::status(&api, &cluster, &objects))
        .await
        .unwrap();
    assert_eq!(
        report.ui.to_string(),
        "http://<any node's address>:31080/ (NodePort)"
    );
}

/// With HTTPS UIs, status reads the master's view through the service proxy over HTTPS (the
/// fake, like a real pod, answers a plain request on a TLS port with an error) and names
/// https URLs.
#[tokio::test]
async fn status_reads_an_https_master_and_names_https_urls() {
    let tls = [
        "security.tls.enabled=true",
        "security.tls.secretName=spark-tls",
        "security.tls.password=spark-tls-password/password",
        "history.enabled=true",
        "history.logDirectory=s3a://events/",
    ];
    let (fake, api, cluster, objects) = applied("dev", &tls).await;
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 1, "workers": []}));
    let report = bounded(k8s::status(&api, &cluster, &objects))
        .await
        .unwrap();
    let table = report.to_string();
    assert!(report.healthy, "{table}");
    assert!(!table.contains("not reachable"), "{table}");
    assert!(
        table.contains("then open https://localhost:8080/"),
        "{table}"
    );
    assert!(
        table.contains("history: kubectl port-forward -n default svc/spark-history 18080:18080, then open https://localhost:18080/"),
        "{table}"
    );
    // Asked over HTTPS: the fake refuses a plain request to a UI with HTTPS on.
    let seen: Vec<String> = fake.state().seen.iter().map(|s| s.uri.clone()).collect();
    assert!(
        seen.iter()
            .any(|uri| uri.contains("/services/https:spark-master:http/proxy/json/")),
        "{seen:?}"
    );
}

/// With demand scaling, status shows what KEDA read (the cores the applications want), and the
/// workers its HPA has and wants; a ScaledObject KEDA has not taken yet is not healthy.
#[tokio::test]
async fn status_shows_the_demand_scaler() {
    let sets = [
        "workers.autoscaling.enabled=true",
        "workers.autoscaling.mode=demand",
        "workers.autoscaling.minReplicas=0",
        "workers.autoscaling.maxReplicas=6",
        "sparkConf.spark.cores.max=4",
    ];
    let (fake, api, cluster, objects) = applied("dev", &sets).await;
    fake.state().spark = Some(json!({"status": "ALIVE", "aliveworkers": 2, "workers": [],
        "activeapps": [{"name": "a", "state": "RUNNING"}, {"name": "b", "state": "WAITING"}]}));
    let report = bounded(k8s::status(&api, &cluster, &objects))
        .await
        .unwrap();
    let table = report.to_string();
    assert!(!report.healthy, "{table}");
    assert!(
        table.contains(
            "not ready: KEDA has not taken it yet (is KEDA's operator running?) (min 0, max 6)"
        ),
        "{table}"
    );

    // What KEDA's operator writes, and the HPA it creates: 2 applications of 4 cores wanted,
    // 2 workers of 1 core now, so the HPA's average is 4 per worker and it wants 6 (its max).
    {
        let mut state = fake.state();
        let scaled = "/apis/keda.sh/v1alpha1/namespaces/default/scaledobjects/spark-worker";
        state.objects.get_mut(scaled).unwrap()["status"] = json!({
            "hpaName": "keda-hpa-spark-worker",
            "conditions": [{"type": "Ready", "status": "True"}, {"type": "Active", "status": "True"}]});
        state.objects.insert(
            "/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/keda-hpa-spark-worker".into(),
            json!({"kind": "HorizontalPodAutoscaler", "metadata": {"name": "keda-hpa-spark-worker"},
                "status": {"currentReplicas": 2, "desiredReplicas": 6, "currentMetrics": [{"type": "External",
                    "external": {"metric": {"name": "composite-metric"}, "current": {"averageValue": "4"}}}]}}),
        );
    }
    let report = bounded(k8s::status(&api, &cluster, &objects))
        .await
        .unwrap();
    let table = report.to_string();
    assert!(report.healthy, "{table}");
    assert!(
        table.contains(
            "active, read 8 core(s) wanted (2 application(s) × 4), 2 worker(s) now, wants 6 (min 0, max 6)"
        ),
        "{table}"
    );
}
