//! Waiting until the Spark cluster is really up, with a line of progress per thing waited on.
//!
//! First the rollouts (observed generation, updated and ready replicas); while a workload is not
//! ready its pods are checked, so an image that cannot be pulled, a crash loop or a pod that
//! cannot be scheduled fails at once with the pod's state and events instead of at the timeout.
//! Then Spark's own view: the master's `/json/` through the API server's service proxy, until the
//! master is ALIVE with every worker registered.

use tokio::time::Instant;

use futures::future::join_all;
use indicatif::ProgressBar;
use serde_json::Value;

use super::client::{ApiServer, KubeError, duration_text};
use super::pods::check_pods;
pub use super::progress::{Progress, WaitOptions};
use crate::render::Object;
use crate::render::model::Component;
use crate::spark::master;
use crate::values::Cluster;
use crate::values::ClusterSpec;

struct Pending<'a> {
    object: &'a Object,
    bar: ProgressBar,
    state: String,
}

pub async fn wait(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
    opts: WaitOptions,
    progress: &Progress,
) -> Result<(), KubeError> {
    let deadline = opts.deadline();
    let namespace = &cluster.spec.namespace;
    super::resolution::wait_for_dependencies(api, namespace, objects, deadline, opts, progress)
        .await?;
    let mut pending: Vec<Pending> = objects
        .iter()
        .filter(|o| {
            matches!(
                o.kind.as_str(),
                "Deployment" | "ReplicationController" | "StatefulSet"
            )
        })
        .map(|object| Pending {
            object,
            bar: progress.line(object.id()),
            state: "waiting for the first status".into(),
        })
        .collect();
    while !pending.is_empty() {
        let mut still = Vec::new();
        let lives = join_all(pending.iter().map(|item| api.get_object(item.object))).await;
        for (mut item, live) in pending.into_iter().zip(lives) {
            match live?.as_ref().map(rollout) {
                Some(Ok(())) => item.bar.finish_with_message("ready"),
                Some(Err(mut state)) => {
                    if let Some(note) = check_pods(api, item.object).await? {
                        state = format!("{state}; {note}");
                    }
                    item.bar.set_message(state.clone());
                    item.state = state;
                    still.push(item);
                }
                None => {
                    item.state = "not found".into();
                    still.push(item);
                }
            }
        }
        pending = still;
        if pending.is_empty() {
            break;
        }
        if Instant::now() >= deadline {
            let states: Vec<String> = pending
                .iter()
                .map(|p| format!("  {}: {}", p.object.id(), p.state))
                .collect();
            return Err(KubeError::TimedOut(format!(
                "timed out after {} waiting for:\n{}",
                duration_text(opts.timeout),
                states.join("\n")
            )));
        }
        tokio::time::sleep(opts.interval).await;
    }
    wait_for_spark(api, cluster, deadline, opts, progress).await
}

fn int(value: &Value, pointer: &str) -> i64 {
    value.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

/// Ok when the workload's current spec is rolled out as `kubectl rollout status` has it: the
/// controller saw the spec, every replica runs the current template, none of an older one is
/// left, and every replica is available (ReplicationControllers: ready; their template drift is
/// found through the pods).
pub(crate) fn rollout(live: &Value) -> Result<(), String> {
    let generation = int(live, "/metadata/generation");
    let observed = int(live, "/status/observedGeneration");
    if observed < generation {
        return Err("waiting for the controller to see the new spec".into());
    }
    let want = live
        .pointer("/spec/replicas")
        .and_then(Value::as_i64)
        .unwrap_or(1);
    if live["kind"] != "Deployment" {
        let ready = int(live, "/status/readyReplicas");
        return match ready >= want {
            true => Ok(()),
            false => Err(format!("{ready}/{want} ready")),
        };
    }
    let updated = int(live, "/status/updatedReplicas");
    let replicas = int(live, "/status/replicas");
    let available = int(live, "/status/availableReplicas");
    let ready = int(live, "/status/readyReplicas");
    if updated < want {
        Err(format!("{ready}/{want} ready, {updated}/{want} updated"))
    } else if replicas > updated {
        Err(format!(
            "{} replica(s) of the previous revision still running",
            replicas - updated
        ))
    } else if available < updated {
        Err(format!("{available}/{want} available"))
    } else {
        Ok(())
    }
}

/// The master's `/json/` through the API server's service proxy; with HTTPS UIs the proxy is
/// told to speak HTTPS to the pod (`https:` in the service's path), and checks no certificate.
pub(crate) async fn spark_view(api: &ApiServer, spec: &ClusterSpec) -> Result<Value, KubeError> {
    let service = Component::Master.object_name(&spec.name);
    let service = match spec.security.tls.ui_on() {
        true => format!("https:{service}"),
        false => service,
    };
    api.proxy_get(&spec.namespace, &service, "http", "/json/")
        .await
}

/// Polls the master's `/json/` until it is ALIVE with every worker registered.
pub(crate) async fn wait_for_spark(
    api: &ApiServer,
    cluster: &Cluster,
    deadline: Instant,
    opts: WaitOptions,
    progress: &Progress,
) -> Result<(), KubeError> {
    let want = u64::from(cluster.spec.workers.expected());
    let bar = progress.line("Spark master".into());
    loop {
        let state = match spark_view(api, &cluster.spec).await {
            Ok(json) => {
                let status = json["status"].as_str().unwrap_or("unknown").to_string();
                let alive = json["aliveworkers"].as_u64().unwrap_or(0);
                if master::is_up(&json, want) {
                    bar.finish_with_message(format!("ALIVE, {alive}/{want} workers"));
                    return Ok(());
                }
                format!("{status}, {alive}/{want} workers alive")
            }
            // Waiting will not grant a permission: say which one is missing.
            Err(
                e @ KubeError::Api {
                    code: 401 | 403, ..
                },
            ) => {
                return Err(KubeError::NotReady(format!(
                    "cannot read the Spark master's /json/ through the API server: {e}; waiting \
                     needs `get` on `services/proxy` in namespace {}",
                    cluster.spec.namespace
                )));
            }
            // The proxy answers 503 until the master's UI listens.
            Err(e) if e.code().is_some() => format!("not answering yet ({e})"),
            Err(e) => return Err(e),
        };
        bar.set_message(state.clone());
        if Instant::now() >= deadline {
            // The service proxy connects from the API server, which a network policy that
            // admits only pods keeps out.
            let hint = match (
                cluster.spec.network_policy.enabled,
                state.starts_with("not answering"),
            ) {
                (true, true) => {
                    "\nwith networkPolicy.enabled, the API server's service proxy must reach the \
                     master's UI port: add the API server's addresses to networkPolicy.uiFrom \
                     (an ipBlock)"
                }
                _ => "",
            };
            return Err(KubeError::TimedOut(format!(
                "timed out after {} waiting for the Spark master: {state}{hint}",
                duration_text(opts.timeout)
            )));
        }
        tokio::time::sleep(opts.interval).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn deployment(status: Value) -> Value {
        json!({"kind": "Deployment", "metadata": {"generation": 2}, "spec": {"replicas": 2},
            "status": status})
    }

    /// `kubectl rollout status`: a Deployment whose old-revision pods still serve is not done.
    #[test]
    fn a_rollout_is_done_when_no_pod_of_the_old_revision_is_left() {
        let done = json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
            "readyReplicas": 2, "availableReplicas": 2});
        assert_eq!(rollout(&deployment(done)), Ok(()));
        let old_left = json!({"observedGeneration": 2, "replicas": 3, "updatedReplicas": 2,
            "readyReplicas": 3, "availableReplicas": 2});
        assert_eq!(
            rollout(&deployment(old_left)),
            Err("1 replica(s) of the previous revision still running".into())
        );
        let unseen = json!({"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2,
            "readyReplicas": 2, "availableReplicas": 2});
        assert!(rollout(&deployment(unseen)).is_err());
        let unavailable = json!({"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
            "readyReplicas": 1, "availableReplicas": 1});
        assert_eq!(
            rollout(&deployment(unavailable)),
            Err("1/2 available".into())
        );
    }
}
