//! Before an apply writes anything: would it replace a master that runs applications it cannot
//! give back?
//!
//! A standalone master keeps its applications in memory unless recovery is on
//! (`spark.deploy.recoveryMode=FILESYSTEM`, `master.recovery: filesystem`). A new master pod
//! without it starts empty: every running driver loses its executors and waits for a master
//! that will never know it. So when the master's pod template changes, and the live master or
//! the new one has no recovery, `apply` reads the master's `/json/` and refuses while
//! applications run, naming them, unless told to go ahead.

use serde_json::Value;

use super::client::{ApiServer, KubeError};
use super::plan::{normalize, template_changes};
use super::wait;
use crate::render::{Component, Object};
use crate::values::ClusterSpec;
use crate::values::spec::Recovery;

/// Whether applying replaces the master's pod: among (object, live object, the server's dry
/// run of it), the master's workload has another pod template than its live one.
pub(crate) fn master_restarts(pairs: &[(&Object, Option<&Value>, &Value)]) -> bool {
    pairs.iter().any(|(object, live, dry_run)| {
        object.role() == Some(Component::Master)
            && object.value.pointer("/spec/template").is_some()
            && live.is_some_and(|live| template_changes(&normalize(live), &normalize(dry_run)))
    })
}

/// Refuses to replace a master without recovery on both sides while it runs applications.
pub(crate) async fn check_running_applications(
    api: &ApiServer,
    spec: &ClusterSpec,
) -> Result<(), KubeError> {
    if spec.master.recovery == Recovery::Filesystem && live_recovery(api, spec).await? {
        return Ok(());
    }
    let json = match wait::spark_view(api, spec).await {
        Ok(json) => json,
        // No master answering (no ready endpoint, no Service): nothing it could lose.
        Err(KubeError::Api {
            code: 503 | 404, ..
        }) => return Ok(()),
        Err(e) => return Err(e),
    };
    let running: Vec<String> = crate::spark::master::active_apps(&json)
        .map(|app| format!("{} ({})", app.id, app.name))
        .collect();
    if running.is_empty() {
        return Ok(());
    }
    Err(KubeError::WouldLose(format!(
        "this apply replaces the master's pod, and without recovery on both the running master \
         and the new one (master.recovery: filesystem) a new master does not know the {} running \
         application(s), which are lost: {}. Nothing was changed: wait for them to finish, or \
         run again with --lose-running-applications",
        running.len(),
        running.join(", ")
    )))
}

/// Whether the running master was started with recovery: its ConfigMap says so.
async fn live_recovery(api: &ApiServer, spec: &ClusterSpec) -> Result<bool, KubeError> {
    let kind = crate::render::kinds::kind_info("v1", "ConfigMap").expect("ConfigMap is known");
    let name = crate::render::model::config::config_name(spec);
    let live = api
        .get(
            kind,
            Some(&spec.namespace),
            &name,
            "read the live configuration",
        )
        .await?;
    Ok(live
        .as_ref()
        .and_then(|c| c.pointer("/data/spark-defaults.conf"))
        .and_then(Value::as_str)
        .is_some_and(|conf| {
            conf.lines()
                .any(|l| l.trim() == "spark.deploy.recoveryMode FILESYSTEM")
        }))
}
