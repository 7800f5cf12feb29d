//! Rolling ReplicationControllers, which never replace their pods when the template changes.
//!
//! A Deployment rolls by itself; an RC whose template got a new configuration or image keeps every
//! pod on the old one, and says nothing. sparkup finds the pods whose template fingerprint is not
//! the rendered one and replaces them itself: the master's at once (there is one), then the
//! workers one at a time, each replacement registered ALIVE with the master before the next goes,
//! so the cluster never loses more than one worker.

use tokio::time::{Duration, Instant};

use serde_json::Value;

use super::client::{ApiServer, KubeError};
use super::pods::{pod_ready, pods_of, runs_template, terminating};
use super::wait::{WaitOptions, deadline, spark_view};
use crate::json::str_at;
use crate::render::Object;
use crate::render::kinds;
use crate::spark::master;
use crate::values::Cluster;

/// The pods of one workload that run an older template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StalePods {
    /// `Kind/name` of the workload.
    pub workload: String,
    /// Names of its pods that run an older template.
    pub pods: Vec<String>,
}

/// For every ReplicationController among `objects`, its pods that run an older template.
pub async fn stale_pods(api: &ApiServer, objects: &[Object]) -> Result<Vec<StalePods>, KubeError> {
    let mut stale = Vec::new();
    for object in objects.iter().filter(|o| o.kind == "ReplicationController") {
        let pods: Vec<String> = pods_of(api, object)
            .await?
            .iter()
            .filter(|pod| !terminating(pod) && !runs_template(pod, object))
            .filter_map(|pod| str_at(pod, "/metadata/name").map(str::to_owned))
            .collect();
        if !pods.is_empty() {
            stale.push(StalePods {
                workload: object.id(),
                pods,
            });
        }
    }
    Ok(stale)
}

/// Replaces the pods of ReplicationControllers that run an older template; returns the names of
/// the pods replaced, in order.
pub async fn roll(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
    opts: WaitOptions,
) -> Result<Vec<String>, KubeError> {
    let deadline = deadline(opts.timeout);
    let mut replaced = Vec::new();
    // The master first: workers reconnect to the new one through the Service.
    let order = ["master", "worker"];
    for component in order {
        let Some(object) = objects
            .iter()
            .find(|o| o.kind == "ReplicationController" && o.component() == component)
        else {
            continue;
        };
        let stale = stale_pods(api, std::slice::from_ref(object)).await?;
        let Some(stale) = stale.into_iter().next() else {
            continue;
        };
        let one_at_a_time = component == "worker";
        let batches: Vec<Vec<String>> = match one_at_a_time {
            true => stale.pods.into_iter().map(|p| vec![p]).collect(),
            false => vec![stale.pods],
        };
        for batch in batches {
            for pod in &batch {
                let namespace = object.namespace().unwrap_or("default");
                api.delete(kinds::pod_kind(), namespace, pod).await?;
            }
            replaced.extend(batch.iter().cloned());
            wait_replaced(api, cluster, object, &batch, deadline, opts.interval).await?;
        }
    }
    Ok(replaced)
}

/// Waits until the deleted pods are gone, as many pods of the current template are ready as the
/// controller wants, and the master has every worker ALIVE.
async fn wait_replaced(
    api: &ApiServer,
    cluster: &Cluster,
    object: &Object,
    deleted: &[String],
    deadline: Instant,
    interval: Duration,
) -> Result<(), KubeError> {
    let want = object
        .value
        .pointer("/spec/replicas")
        .and_then(Value::as_u64)
        .unwrap_or(1);
    let workers = u64::from(cluster.spec.workers.replicas);
    loop {
        let pods = pods_of(api, object).await?;
        let gone = !pods
            .iter()
            .any(|p| str_at(p, "/metadata/name").is_some_and(|n| deleted.iter().any(|d| d == n)));
        let current = pods
            .iter()
            .filter(|p| !terminating(p) && runs_template(p, object) && pod_ready(p))
            .count() as u64;
        let state = if gone && current >= want_current(&pods, object, want) {
            match spark_view(api, cluster).await {
                Ok(json) if master::is_up(&json, workers) => return Ok(()),
                Ok(json) => format!(
                    "{} of {workers} workers ALIVE",
                    json["aliveworkers"].as_u64().unwrap_or(0)
                ),
                Err(e) if e.code().is_some() => format!("master not answering ({e})"),
                Err(e) => return Err(e),
            }
        } else {
            format!("{current} pod(s) of the new template ready")
        };
        if Instant::now() >= deadline {
            return Err(KubeError::TimedOut(format!(
                "timed out rolling {}: replaced {} and waited for it: {state}",
                object.id(),
                deleted.join(", ")
            )));
        }
        tokio::time::sleep(interval).await;
    }
}

/// How many ready pods of the current template the roll waits for now: the pods that are not of
/// an older template (a worker RC mid-roll still has old ones, which count for the controller).
fn want_current(pods: &[Value], object: &Object, want: u64) -> u64 {
    let old = pods
        .iter()
        .filter(|p| !terminating(p) && !runs_template(p, object))
        .count() as u64;
    want.saturating_sub(old)
}
