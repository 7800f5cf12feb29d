//! What a plan restarts, and what that costs: the pods of each workload whose pod template
//! changes, with the running applications and executors they hold, from the master's `/json/`.

use serde::Serialize;
use serde_json::Value;

use super::client::{ApiServer, KubeError};
use super::plan::{Action, Change};
use crate::render::Component;
use crate::values::ClusterSpec;
use crate::values::spec::Recovery;

/// The pods a change replaces, and what is lost or moved with them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Restart {
    /// `master`, `worker`, `history`, `connect`.
    pub role: String,
    /// What goes: `its pod`, `3 pods, one at a time`.
    pub pods: String,
    /// What that costs the applications.
    pub cost: String,
}

/// Marks every change that replaces running pods; reads the master's `/json/` only when the
/// master or the workers restart.
pub(crate) async fn mark(
    api: &ApiServer,
    spec: &ClusterSpec,
    changes: &mut [Change],
) -> Result<(), KubeError> {
    let restarting: Vec<(usize, Component)> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.kind(), "Deployment" | "ReplicationController"))
        .filter(|(_, c)| c.action == Action::Update && template_changes(c))
        .filter_map(|(i, c)| Some((i, role(c)?)))
        .collect();
    let daemons = restarting
        .iter()
        .any(|(_, r)| matches!(r, Component::Master | Component::Worker));
    let spark = match daemons {
        true => spark_view(api, spec).await?,
        false => None,
    };
    for (i, role) in restarting {
        changes[i].restart = Some(restart(spec, role, spark.as_ref()));
    }
    Ok(())
}

fn template_changes(change: &Change) -> bool {
    let template = |side: &Option<Value>| {
        side.as_ref()
            .and_then(|v| v.pointer("/spec/template"))
            .cloned()
    };
    template(&change.before) != template(&change.after)
}

fn role(change: &Change) -> Option<Component> {
    let side = change.after.as_ref().or(change.before.as_ref())?;
    let label = side.pointer("/metadata/labels/app.kubernetes.io~1component")?;
    Component::parse(label.as_str()?)
}

/// The master's `/json/`, or none when it does not answer (then the cost is unknown).
async fn spark_view(api: &ApiServer, spec: &ClusterSpec) -> Result<Option<Value>, KubeError> {
    let master = Component::Master.object_name(&spec.name);
    match api
        .proxy_get(&spec.namespace, &master, "http", "/json/")
        .await
    {
        Ok(json) => Ok(Some(json)),
        Err(KubeError::Api { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn restart(spec: &ClusterSpec, role: Component, spark: Option<&Value>) -> Restart {
    let count = |key: &str| spark.and_then(|j| j[key].as_array()).map(Vec::len);
    let (pods, cost) = match role {
        Component::Master => {
            let apps = count("activeapps");
            let cost = match (apps, spec.master.recovery) {
                (None, _) => "the master's running applications could not be read".to_string(),
                (Some(0), _) => "no application is running".to_string(),
                (Some(n), Recovery::Filesystem) => {
                    format!("{n} running application(s) reconnect to the new master (recovery)")
                }
                (Some(n), Recovery::None) => format!(
                    "{n} running application(s) are lost (no master.recovery): apply refuses \
                     without --lose-running-applications"
                ),
            };
            ("its pod".to_string(), cost)
        }
        Component::Worker => {
            let used: u64 = spark
                .and_then(|j| j["workers"].as_array())
                .into_iter()
                .flatten()
                .filter_map(|w| w["coresused"].as_u64())
                .sum();
            let moved = match spec.workers.decommission {
                true => {
                    "they decommission first: cached and shuffle blocks move to other executors"
                }
                false => {
                    "their tasks run again elsewhere (workers.decommission moves blocks first)"
                }
            };
            let cost = match spark {
                Some(_) => format!("executors on {used} core(s) in use stop; {moved}"),
                None => format!("their executors stop; {moved}"),
            };
            (
                format!("{} pod(s), one at a time", spec.workers.replicas),
                cost,
            )
        }
        Component::Connect => (
            "its pod".into(),
            "the Connect server restarts: its client sessions end".into(),
        ),
        Component::History => (
            "its pod".into(),
            "the history UI is away while it restarts; no application is affected".into(),
        ),
        Component::Job => ("its pod".into(), String::new()),
    };
    Restart {
        role: role.as_str().to_string(),
        pods,
        cost,
    }
}
