//! One table of the instance's objects and Spark's own view of the cluster.

use serde_json::Value;

use super::client::{ApiServer, KubeError};
use super::roll::stale_pods;
use super::wait;
use crate::json::str_at;
use crate::render::Object;
use crate::render::model::Component;
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
    /// Where the master's UI is.
    pub ui: UiAddress,
    /// The instance's runs (Jobs of its CronJobs and of `sparkup submit`), newest first.
    pub runs: Vec<Row>,
    /// How to reach the history and Connect servers.
    pub access: Vec<Access>,
}

/// Where the master's UI is, for how the instance is exposed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UiAddress {
    /// Through the instance's Ingress `name`, at `url`.
    Ingress { url: String, name: String },
    /// A load balancer's address; `scheme` is `https` with HTTPS UIs.
    LoadBalancer {
        scheme: &'static str,
        address: String,
        port: u16,
    },
    /// Any node's address, at this port.
    NodePort { scheme: &'static str, port: u16 },
    /// Nothing outside the cluster: a port-forward to the Service.
    PortForward {
        scheme: &'static str,
        namespace: String,
        service: String,
        port: u16,
    },
}

/// A server of the instance, reached through a port-forward to its Service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Access {
    pub component: Component,
    /// `https` with HTTPS UIs.
    pub scheme: &'static str,
    pub namespace: String,
    pub service: String,
    pub port: u16,
}

/// Runs shown by `status`, newest first.
const MAX_RUNS: usize = 10;

pub async fn status(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
) -> Result<StatusReport, KubeError> {
    let (mut rows, master_live) = object_rows(api, cluster, objects).await?;
    let (spark, spark_healthy) = spark_rows(api, cluster).await?;
    let runs = run_rows(api, cluster, objects, &mut rows).await?;
    let spec = &cluster.spec;
    Ok(StatusReport {
        runs,
        access: access(cluster),
        healthy: rows.iter().all(|r| r.healthy) && spark_healthy,
        rows,
        spark,
        ui: ui_address(cluster, master_live.as_ref(), spec.master.ports.http),
    })
}

/// One row per object, and the master's live Service (where its UI is exposed).
async fn object_rows(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
) -> Result<(Vec<Row>, Option<Value>), KubeError> {
    let mut rows = Vec::new();
    let master_service = format!(
        "Service/{}",
        Component::Master.object_name(&cluster.spec.name)
    );
    let mut master_live = None;
    for object in objects {
        let live = api.get_object(object).await?;
        if object.id() == master_service {
            master_live = live.clone();
        }
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
    Ok((rows, master_live))
}

/// The master's own view, and whether it is up with every worker.
async fn spark_rows(
    api: &ApiServer,
    cluster: &Cluster,
) -> Result<(Result<Vec<(String, String)>, String>, bool), KubeError> {
    let want = u64::from(cluster.spec.workers.expected());
    Ok(match wait::spark_view(api, &cluster.spec).await {
        Ok(json) => (Ok(master::rows(&json)), master::is_up(&json, want)),
        Err(e @ (KubeError::Unreachable { .. } | KubeError::Timeout { .. })) => {
            return Err(e);
        }
        // The service proxy's answer while no master pod is ready: a state, not a failure.
        Err(KubeError::Api {
            code: 503, message, ..
        }) => (Err(format!("master not reachable: {message}")), false),
        Err(e) => (Err(format!("cannot read the master's /json/: {e}")), false),
    })
}

/// The newest runs, and each CronJob's row told its last run.
async fn run_rows(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
    rows: &mut [Row],
) -> Result<Vec<Row>, KubeError> {
    // Without the right to list Jobs (or on a server without them) status still reports the
    // cluster; the runs say why they are missing.
    let (jobs, runs_error) = match list_runs(api, cluster).await {
        Ok(jobs) => (jobs, None),
        Err(e @ KubeError::Api { .. }) => (Vec::new(), Some(e.to_string())),
        Err(e) => return Err(e),
    };
    let cronjobs = rows
        .iter_mut()
        .zip(objects)
        .filter(|(_, o)| o.kind == "CronJob");
    for (row, cronjob) in cronjobs {
        let last = jobs.iter().find(|j| owned_by(j, &cronjob.name));
        let result = match last {
            Some(job) => format!(", last run {}", run_state(job)),
            None => String::new(),
        };
        row.state.push_str(&result);
    }
    let mut runs: Vec<Row> = jobs
        .iter()
        .take(MAX_RUNS)
        .map(|job| Row {
            object: format!("Job/{}", str_at(job, "/metadata/name").unwrap_or("?")),
            state: run_state(job),
            healthy: true,
        })
        .collect();
    if let Some(error) = runs_error {
        runs.push(Row {
            object: "Jobs".into(),
            state: error,
            healthy: true,
        });
    }
    Ok(runs)
}

/// The history and Connect servers, when enabled.
fn access(cluster: &Cluster) -> Vec<Access> {
    let spec = &cluster.spec;
    [Component::History, Component::Connect]
        .into_iter()
        .filter(|c| match c {
            Component::History => spec.history.enabled,
            _ => spec.connect.enabled,
        })
        .map(|component| Access {
            component,
            scheme: spec.security.tls.ui_scheme(),
            namespace: spec.namespace.clone(),
            service: component.object_name(&spec.name),
            port: match component {
                Component::History => spec.history.port,
                _ => spec.connect.port,
            },
        })
        .collect()
}

/// Where the master's UI is, for how the instance is exposed: its Ingress, a load balancer, a
/// node port, or a port-forward.
fn ui_address(cluster: &Cluster, service: Option<&Value>, port: u16) -> UiAddress {
    let spec = &cluster.spec;
    let master = Component::Master.object_name(&spec.name);
    let scheme = spec.security.tls.ui_scheme();
    if let Some(url) = spec.ingress_url() {
        return UiAddress::Ingress { url, name: master };
    }
    let balancer = service
        .and_then(|s| s.pointer("/status/loadBalancer/ingress/0"))
        .and_then(|i| str_at(i, "/hostname").or_else(|| str_at(i, "/ip")));
    if let Some(address) = balancer {
        return UiAddress::LoadBalancer {
            scheme,
            address: address.to_string(),
            port,
        };
    }
    let node_port = service
        .and_then(|s| s.pointer("/spec/ports"))
        .and_then(Value::as_array)
        .and_then(|ports| ports.iter().find(|p| p["name"] == "http"))
        .and_then(|p| p["nodePort"].as_u64())
        .and_then(|p| u16::try_from(p).ok());
    if let Some(port) = node_port {
        return UiAddress::NodePort { scheme, port };
    }
    UiAddress::PortForward {
        scheme,
        namespace: spec.namespace.clone(),
        service: master,
        port,
    }
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
        "PodDisruptionBudget" => {
            let int = |at: &str| live.pointer(at).and_then(Value::as_i64).unwrap_or(0);
            let state = format!(
                "{} of {} worker(s) healthy, {} may be disrupted now",
                int("/status/currentHealthy"),
                int("/status/expectedPods"),
                int("/status/disruptionsAllowed"),
            );
            (state, true)
        }
        "HorizontalPodAutoscaler" => {
            let int = |at: &str| live.pointer(at).and_then(Value::as_i64).unwrap_or(0);
            let state = format!(
                "{} worker(s) now, wants {} (min {}, max {})",
                int("/status/currentReplicas"),
                int("/status/desiredReplicas"),
                int("/spec/minReplicas"),
                int("/spec/maxReplicas"),
            );
            (state, true)
        }
        "ScaledObject" => super::scaler::scaled_object_state(api, &cluster.spec, live).await?,
        "CronJob" => {
            let schedule = str_at(live, "/spec/schedule").unwrap_or("?");
            let mut state = format!("schedule {schedule:?}");
            if let Some(zone) = str_at(live, "/spec/timeZone") {
                state.push_str(&format!(" ({zone})"));
            }
            if live.pointer("/spec/suspend").and_then(Value::as_bool) == Some(true) {
                state.push_str(", suspended");
            }
            let active = live
                .pointer("/status/active")
                .and_then(Value::as_array)
                .map_or(0, Vec::len);
            if active > 0 {
                state.push_str(&format!(", {active} running now"));
            }
            (state, true)
        }
        _ => ("present".to_string(), true),
    })
}

/// The instance's Jobs, newest first.
async fn list_runs(api: &ApiServer, cluster: &Cluster) -> Result<Vec<Value>, KubeError> {
    let spec = &cluster.spec;
    let kind = crate::render::kinds::kind_info("batch/v1", "Job").expect("Job is in the table");
    let selector = Component::Job.selector_query(&spec.name);
    let mut jobs = api.list(kind, &spec.namespace, &selector).await?;
    jobs.sort_by(|a, b| {
        let at = |j: &Value| {
            str_at(j, "/metadata/creationTimestamp")
                .unwrap_or("")
                .to_string()
        };
        at(b).cmp(&at(a))
    });
    Ok(jobs)
}

fn owned_by(job: &Value, cronjob: &str) -> bool {
    job.pointer("/metadata/ownerReferences")
        .and_then(Value::as_array)
        .is_some_and(|owners| {
            owners
                .iter()
                .any(|o| o["kind"] == "CronJob" && o["name"] == cronjob)
        })
}

/// `running since …`, `succeeded …`, `failed …` for one Job.
fn run_state(job: &Value) -> String {
    let started = str_at(job, "/status/startTime").unwrap_or("(not started)");
    let condition = |kind: &str| {
        job.pointer("/status/conditions")
            .and_then(Value::as_array)
            .and_then(|c| {
                c.iter()
                    .find(|c| c["type"] == kind && c["status"] == "True")
            })
            .cloned()
    };
    if let Some(done) = condition("Complete") {
        let at = str_at(&done, "/lastTransitionTime").unwrap_or(started);
        return format!("succeeded {at}");
    }
    if let Some(failed) = condition("Failed") {
        let at = str_at(&failed, "/lastTransitionTime").unwrap_or(started);
        let reason = str_at(&failed, "/reason").unwrap_or("Failed");
        return format!("failed {at} ({reason})");
    }
    format!("running since {started}")
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
