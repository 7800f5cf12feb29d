//! Making the cluster match the rendered objects: server-side apply in order, then prune.
//!
//! One field manager (`sparkup`) and strict field validation; the namespace first (created if
//! missing), then the ApplySet parent naming every kind the instance has or had, then the objects
//! stage by stage (configuration, storage, services, master, workers, the rest) with the objects
//! of one stage sent together. Only when everything applied are objects that are no longer
//! rendered pruned: PersistentVolumeClaims only when asked, nothing outside the instance.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, stream};
use serde_json::Value;

use super::client::CONCURRENCY;
use super::client::{ApiServer, ApplyMode, KubeError};
use super::plan::normalize;
use super::survey::{self, Survey};
use super::{guard, inventory};
use crate::render::Object;
use crate::render::kinds::secret_kind;
use crate::render::owned::applyset_parent;
use crate::values::ClusterSpec;

#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    pub force_conflicts: bool,
    pub prune_pvcs: bool,
    /// Replace a master without recovery even while it runs applications, which are lost.
    pub lose_running_applications: bool,
    /// Objects of one stage in flight at once.
    pub concurrency: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            force_conflicts: false,
            prune_pvcs: false,
            lose_running_applications: false,
            concurrency: CONCURRENCY,
        }
    }
}

/// What an apply did, object by object (`Kind/name`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    pub namespace_created: bool,
    pub applied: Vec<String>,
    /// Objects the server's dry run found as they are: not sent again.
    pub unchanged: Vec<String>,
    pub pruned: Vec<String>,
    /// Claims no longer rendered but kept, because pruning claims deletes data.
    pub kept: Vec<String>,
    /// The authentication Secret, when this apply created it.
    pub secret_created: Option<String>,
}

pub async fn apply(
    api: &ApiServer,
    spec: &ClusterSpec,
    objects: &[Object],
    opts: ApplyOptions,
) -> Result<ApplyReport, KubeError> {
    let (instance, namespace) = (spec.name.as_str(), spec.namespace.as_str());
    let mode = ApplyMode {
        dry_run: false,
        force: opts.force_conflicts,
    };
    let (survey, secret_exists) = futures::join!(
        survey::survey(api, instance, namespace, objects, mode, opts.concurrency),
        auth_secret_exists(api, spec),
    );
    let (survey, secret_exists) = (survey?, secret_exists?);
    let unchanged = match survey.exists {
        true => preflight(api, spec, objects, &survey, opts).await?,
        // The server cannot dry-run into a namespace that does not exist, and nothing runs
        // there to lose.
        false => {
            api.create_namespace(namespace).await?;
            BTreeSet::new()
        }
    };
    let mut report = ApplyReport {
        namespace_created: !survey.exists,
        ..Default::default()
    };
    let current = inventory::group_kinds(objects);
    // The parent names old and new kinds before anything changes, so an interrupted apply still
    // knows where to look for what it must prune.
    let all_kinds: BTreeSet<String> = survey.recorded.union(&current).cloned().collect();
    let parent = applyset_parent(&spec.name, &spec.namespace, &all_kinds);
    if !inventory::parent_is_current(survey.parent.as_ref(), &parent) {
        apply_parent(api, &parent, mode).await?;
    }
    if !secret_exists {
        report.secret_created = create_auth_secret(api, spec).await?;
    }

    let (same, changed): (Vec<&Object>, Vec<&Object>) =
        objects.iter().partition(|o| unchanged.contains(&o.id()));
    report.unchanged = same.iter().map(|o| o.id()).collect();
    report.applied = apply_in_stages(api, &changed, mode, opts.concurrency).await?;

    // The members listed before the writes: what is no longer rendered among them goes.
    let stale = inventory::stale_among(survey.members, objects, opts.prune_pvcs);
    for member in &stale.remove {
        api.delete(member.kind, namespace, &member.name).await?;
        report.pruned.push(member.id());
    }
    report.kept = stale.kept;
    let final_kinds: BTreeSet<String> = current.union(&stale.kept_kinds).cloned().collect();
    if final_kinds != all_kinds {
        let parent = applyset_parent(&spec.name, &spec.namespace, &final_kinds);
        apply_parent(api, &parent, mode).await?;
    }
    Ok(report)
}

/// Before the first write, the server's dry run of every object (in the survey): all or
/// nothing, a conflict, an admission refusal or a validation error on any object has ended the
/// apply already. It also says what the apply would not change (the dry run's result is the
/// live object), which is then not sent again, and whether it replaces a master that would lose
/// running applications.
async fn preflight(
    api: &ApiServer,
    spec: &ClusterSpec,
    objects: &[Object],
    survey: &Survey,
    opts: ApplyOptions,
) -> Result<BTreeSet<String>, KubeError> {
    let pairs: Vec<(&Object, Option<&Value>, &Value)> = objects
        .iter()
        .zip(&survey.dry_runs)
        .map(|(object, dry)| (object, survey.live_of(object), dry))
        .collect();
    if !opts.lose_running_applications && guard::master_restarts(&pairs) {
        guard::check_running_applications(api, spec).await?;
    }
    Ok(pairs
        .iter()
        .filter(|(_, live, dry)| live.is_some_and(|live| normalize(live) == normalize(dry)))
        .map(|(object, _, _)| object.id())
        .collect())
}

/// Applies stage by stage, the objects of one stage together; stops at the first failure, after
/// its stage's requests have ended.
async fn apply_in_stages(
    api: &ApiServer,
    objects: &[&Object],
    mode: ApplyMode,
    concurrency: usize,
) -> Result<Vec<String>, KubeError> {
    let mut stages: BTreeMap<u8, Vec<&Object>> = BTreeMap::new();
    for object in objects {
        stages
            .entry(object.kind_info().stage)
            .or_default()
            .push(object);
    }
    let mut applied = Vec::new();
    for stage in stages.values() {
        let results: Vec<Result<String, KubeError>> = stream::iter(stage.iter())
            .map(|object| async move {
                api.apply(object.kind_info(), &object.value, mode)
                    .await
                    .map(|_| object.id())
            })
            .buffered(concurrency.max(1))
            .collect()
            .await;
        for result in results {
            applied.push(result?);
        }
    }
    Ok(applied)
}

/// Whether the Secret with Spark's shared authentication secret exists (true when the instance
/// needs none).
async fn auth_secret_exists(api: &ApiServer, spec: &ClusterSpec) -> Result<bool, KubeError> {
    let Some(name) = spec.auth_secret() else {
        return Ok(true);
    };
    let action = format!("read Secret/{name}");
    Ok(api
        .get(secret_kind(), Some(&spec.namespace), &name, &action)
        .await?
        .is_some())
}

/// Creates the Secret with Spark's shared authentication secret, a random one, when it does not
/// exist; one that exists is never changed (a new secret would lock out every running daemon and
/// driver). It is no member of the instance: prune and delete leave it. Its name when created.
async fn create_auth_secret(
    api: &ApiServer,
    spec: &ClusterSpec,
) -> Result<Option<String>, KubeError> {
    let Some(name) = spec.auth_secret() else {
        return Ok(None);
    };
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| KubeError::Request {
        action: format!("create Secret/{name}"),
        detail: format!("no random numbers from the operating system: {e}"),
    })?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let body = crate::render::owned::auth_secret(spec, &name, &secret);
    api.create(secret_kind(), &body).await?;
    Ok(Some(format!("Secret/{name}")))
}

async fn apply_parent(api: &ApiServer, parent: &Value, mode: ApplyMode) -> Result<(), KubeError> {
    api.apply(inventory::config_map_kind(), parent, mode)
        .await
        .map(|_| ())
}
