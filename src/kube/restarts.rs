//! What a restart costs: the pods of a workload whose pod template changes, with the running
//! applications and executors they hold, from the master's `/json/`.

use serde::Serialize;
use serde_json::Value;

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

/// What replacing the pods of `role` costs, from the master's `/json/` when it answered.
pub(crate) fn restart(spec: &ClusterSpec, role: Component, spark: Option<&Value>) -> Restart {
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
