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
use super::pods::{on_older_template, pod_ready, pods_of, runs_template, terminating};
use super::progress::{Progress, WaitOptions};
use super::wait::wait_for_spark;
use crate::json::str_at;
use crate::render::Object;
use crate::render::kinds;
use crate::render::model::Component;
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
            .filter(|pod| on_older_template(pod, object))
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
    let deadline = opts.deadline();
    let mut replaced = Vec::new();
    // The master first: workers reconnect to the new one through the Service.
    let order = [Component::Master, Component::Worker];
    for component in order {
        let Some(object) = objects
            .iter()
            .find(|o| o.kind == "ReplicationController" && o.role() == Some(component))
        else {
            continue;
        };
        let stale = stale_pods(api, std::slice::from_ref(object)).await?;
        let Some(stale) = stale.into_iter().next() else {
            continue;
        };
        let one_at_a_time = component == Component::Worker;
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
            wait_replaced(api, object, &batch, deadline, opts.interval).await?;
            // The master must see every worker again before the next one goes.
            wait_for_spark(api, cluster, deadline, opts, &Progress::hidden()).await?;
        }
    }
    Ok(replaced)
}

/// Waits until the deleted pods are gone and as many pods of the current template are ready as
/// the controller wants.
async fn wait_replaced(
    api: &ApiServer,
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
    loop {
        let pods = pods_of(api, object).await?;
        let gone = !pods
            .iter()
            .any(|p| str_at(p, "/metadata/name").is_some_and(|n| deleted.iter().any(|d| d == n)));
        let current = pods
            .iter()
            .filter(|p| !terminating(p) && runs_template(p, object) && pod_ready(p))
            .count() as u64;
        // A worker RC mid-roll still has pods of the older template, which count for it.
        let old = pods.iter().filter(|p| on_older_template(p, object)).count() as u64;
        if gone && current >= want.saturating_sub(old) {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(KubeError::TimedOut(format!(
                "timed out rolling {}: replaced {}, and {current} pod(s) of the new template are \
                 ready",
                object.id(),
                deleted.join(", ")
            )));
        }
        tokio::time::sleep(interval).await;
    }
}
