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
use super::{guard, inventory};
use crate::json::str_at;
use crate::render::Object;
use crate::render::kinds::KindInfo;
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
    let exists = api.namespace_exists(namespace).await?;
    let mode = ApplyMode {
        dry_run: false,
        force: opts.force_conflicts,
    };
    let recorded = match exists {
        true => inventory::recorded_kinds(api, instance, namespace).await?,
        false => BTreeSet::new(),
    };
    let current = inventory::group_kinds(objects);
    // The parent names old and new kinds before anything changes, so an interrupted apply still
    // knows where to look for what it must prune.
    let all_kinds: BTreeSet<String> = recorded.union(&current).cloned().collect();
    let (members, unchanged) = match exists {
        true => {
            let members =
                inventory::live_members(api, instance, namespace, &all_kinds, opts.concurrency)
                    .await?;
            let unchanged = preflight(api, spec, objects, &members, opts).await?;
            (members, unchanged)
        }
        // The server cannot dry-run into a namespace that does not exist, and nothing runs
        // there to lose.
        false => {
            api.create_namespace(namespace).await?;
            (Vec::new(), BTreeSet::new())
        }
    };
    let mut report = ApplyReport {
        namespace_created: !exists,
        ..Default::default()
    };
    apply_parent(api, spec, &all_kinds, mode).await?;
    report.secret_created = ensure_auth_secret(api, spec).await?;

    let (same, changed): (Vec<&Object>, Vec<&Object>) =
        objects.iter().partition(|o| unchanged.contains(&o.id()));
    report.unchanged = same.iter().map(|o| o.id()).collect();
    report.applied = apply_in_stages(api, &changed, mode, opts.concurrency).await?;

    // The members listed before the writes: what is no longer rendered among them goes.
    let stale = inventory::stale_among(members, objects, opts.prune_pvcs);
    for member in &stale.remove {
        api.delete(member.kind, namespace, &member.name).await?;
        report.pruned.push(member.id());
    }
    report.kept = stale.kept;
    let final_kinds: BTreeSet<String> = current.union(&stale.kept_kinds).cloned().collect();
    if final_kinds != all_kinds {
        apply_parent(api, spec, &final_kinds, mode).await?;
    }
    Ok(report)
}

/// Before the first write, the server's dry run of every object: all or nothing, a conflict, an
/// admission refusal or a validation error on any object ends the apply here. It also says
/// what the apply would not change (the dry run's result is the live object), which is then not
/// sent again, and whether it replaces a master that would lose running applications.
async fn preflight(
    api: &ApiServer,
    spec: &ClusterSpec,
    objects: &[Object],
    members: &[(&'static KindInfo, Value)],
    opts: ApplyOptions,
) -> Result<BTreeSet<String>, KubeError> {
    let dry_run = ApplyMode {
        dry_run: true,
        force: opts.force_conflicts,
    };
    let dry_runs = apply_all(api, objects, dry_run, opts.concurrency)
        .await
        .map_err(|e| KubeError::Refused(Box::new(e)))?;
    let live_of = |object: &Object| {
        members
            .iter()
            .find(|(kind, live)| {
                kind.kind == object.kind && str_at(live, "/metadata/name") == Some(&object.name)
            })
            .map(|(_, live)| live)
    };
    let pairs: Vec<(&Object, Option<&Value>, &Value)> = objects
        .iter()
        .zip(&dry_runs)
        .map(|(object, dry)| (object, live_of(object), dry))
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

/// Creates the Secret with Spark's shared authentication secret, a random one, when it does not
/// exist; one that exists is never changed (a new secret would lock out every running daemon and
/// driver). It is no member of the instance: prune and delete leave it. Its name when created.
async fn ensure_auth_secret(
    api: &ApiServer,
    spec: &ClusterSpec,
) -> Result<Option<String>, KubeError> {
    let Some(name) = spec.auth_secret() else {
        return Ok(None);
    };
    let kind = crate::render::kinds::kind_info("v1", "Secret").expect("Secret is in the table");
    let action = format!("read Secret/{name}");
    if api
        .get(kind, Some(&spec.namespace), &name, &action)
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| KubeError::Request {
        action: format!("create Secret/{name}"),
        detail: format!("no random numbers from the operating system: {e}"),
    })?;
    let secret: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let body = crate::render::owned::auth_secret(spec, &name, &secret);
    api.create(kind, &body).await?;
    Ok(Some(format!("Secret/{name}")))
}

/// Sends every object at once (a dry run needs no order), `concurrency` at a time: the server's
/// answers in the objects' order, or the first refusal, after every request has ended.
async fn apply_all(
    api: &ApiServer,
    objects: &[Object],
    mode: ApplyMode,
    concurrency: usize,
) -> Result<Vec<Value>, KubeError> {
    let results: Vec<Result<Value, KubeError>> = stream::iter(objects)
        .map(|object| api.apply(object.kind_info(), &object.value, mode))
        .buffered(concurrency.max(1))
        .collect()
        .await;
    results.into_iter().collect()
}

async fn apply_parent(
    api: &ApiServer,
    spec: &ClusterSpec,
    kinds: &BTreeSet<String>,
    mode: ApplyMode,
) -> Result<(), KubeError> {
    let parent = applyset_parent(&spec.name, &spec.namespace, kinds);
    api.apply(inventory::config_map_kind(), &parent, mode)
        .await
        .map(|_| ())
}
