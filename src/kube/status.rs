//! One table of the instance's objects and Spark's own view of the cluster.

use std::fmt::Write as _;

use serde_json::Value;

use super::client::{ApiServer, KubeError};
use super::roll::stale_pods;
use super::wait;
use crate::json::str_at;
use crate::render::Object;
use crate::spark::master;
use crate::values::Cluster;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub object: String,
    pub state: String,
    pub healthy: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub rows: Vec<Row>,
    /// Spark's view, or why it could not be read.
    pub spark: Result<Vec<(String, String)>, String>,
    pub healthy: bool,
    pub ui: String,
}

pub async fn status(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
) -> Result<StatusReport, KubeError> {
    let mut rows = Vec::new();
    for object in objects {
        let live = api.get_object(object).await?;
        let (state, healthy) = match &live {
            None => ("missing".to_string(), false),
            Some(live) => object_state(api, cluster, object, live).await?,
        };
        rows.push(Row {
            object: object.id(),
            state,
            healthy,
        });
    }
    // A ReplicationController's pods on an older template: a drift only the pods show.
    for stale in stale_pods(api, objects).await? {
        if let Some(row) = rows.iter_mut().find(|r| r.object == stale.workload) {
            row.state.push_str(&format!(
                ", {} pod(s) on an older template (apply replaces them)",
                stale.pods.len()
            ));
            row.healthy = false;
        }
    }
    let want = u64::from(cluster.spec.workers.replicas);
    let (spark, spark_healthy) = match wait::spark_view(api, cluster).await {
        Ok(json) => (Ok(master::rows(&json)), master::is_up(&json, want)),
        Err(e @ (KubeError::Unreachable { .. } | KubeError::Timeout { .. })) => {
            return Err(e);
        }
        // The service proxy's answer while no master pod is ready: a state, not a failure.
        Err(KubeError::Api {
            code: 503, message, ..
        }) => (Err(format!("master not reachable: {message}")), false),
        Err(e) => (Err(format!("cannot read the master's /json/: {e}")), false),
    };
    let spec = &cluster.spec;
    let port = spec.master.ports.http;
    Ok(StatusReport {
        healthy: rows.iter().all(|r| r.healthy) && spark_healthy,
        rows,
        spark,
        ui: format!(
            "kubectl port-forward -n {} svc/{}-master {port}:{port}, then open http://localhost:{port}/",
            spec.namespace, spec.name
        ),
    })
}

async fn object_state(
    api: &ApiServer,
    cluster: &Cluster,
    object: &Object,
    live: &Value,
) -> Result<(String, bool), KubeError> {
    Ok(match object.kind.as_str() {
        "Deployment" | "ReplicationController" | "StatefulSet" => {
            let want = live
                .pointer("/spec/replicas")
                .and_then(Value::as_i64)
                .unwrap_or(1);
            let ready = live
                .pointer("/status/readyReplicas")
                .and_then(Value::as_i64)
                .unwrap_or(0);
            let healthy = wait::rollout(live).is_ok();
            (format!("{ready}/{want} ready"), healthy)
        }
        "PersistentVolumeClaim" => {
            let phase = str_at(live, "/status/phase").unwrap_or("Unknown");
            (phase.to_string(), phase == "Bound")
        }
        "Service" => {
            let kind = str_at(live, "/spec/type").unwrap_or("ClusterIP");
            let ip = str_at(live, "/spec/clusterIP").unwrap_or("-");
            let ready = ready_endpoints(api, &cluster.spec.namespace, &object.name).await?;
            (format!("{kind} {ip}, {ready} ready endpoint(s)"), ready > 0)
        }
        _ => ("present".to_string(), true),
    })
}

async fn ready_endpoints(
    api: &ApiServer,
    namespace: &str,
    service: &str,
) -> Result<usize, KubeError> {
    let slices = api.endpoint_slices_of(namespace, service).await?;
    Ok(slices
        .iter()
        .flat_map(|s| s["endpoints"].as_array().cloned().unwrap_or_default())
        .filter(|e| {
            e.pointer("/conditions/ready")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        })
        .count())
}

/// The report as a table.
pub fn status_table(report: &StatusReport) -> String {
    let width = report
        .rows
        .iter()
        .map(|r| r.object.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut out = format!("{:width$}  STATE\n", "OBJECT");
    for row in &report.rows {
        let mark = if row.healthy { "" } else { "  (not healthy)" };
        let _ = writeln!(out, "{:width$}  {}{mark}", row.object, row.state);
    }
    out.push_str("\nSPARK\n");
    match &report.spark {
        Ok(rows) => {
            for (key, value) in rows {
                let _ = writeln!(out, "{key:width$}  {value}");
            }
        }
        Err(e) => {
            let _ = writeln!(out, "{:width$}  {e}", "master");
        }
    }
    let _ = writeln!(out, "\nUI: {}", report.ui);
    let _ = writeln!(
        out,
        "{}",
        if report.healthy {
            "healthy"
        } else {
            "not healthy"
        }
    );
    out
}
