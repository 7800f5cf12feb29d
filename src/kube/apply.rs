//! Making the cluster match the rendered objects: server-side apply in order, then prune.
//!
//! One field manager (`sparkup`) and strict field validation; the namespace first (created if
//! missing), then the ApplySet parent naming every kind the instance has or had, then the objects
//! stage by stage (configuration, storage, services, master, workers, the rest) with the objects
//! of one stage sent together. Only when everything applied are objects that are no longer
//! rendered pruned: PersistentVolumeClaims only when asked, nothing outside the instance.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, stream};

use super::client::CONCURRENCY;
use super::client::{ApiServer, ApplyMode, KubeError};
use super::inventory;
use crate::render::Object;
use crate::render::owned::applyset_parent;
use crate::values::ClusterSpec;

#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    pub force_conflicts: bool,
    pub prune_pvcs: bool,
    /// Objects of one stage in flight at once.
    pub concurrency: usize,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            force_conflicts: false,
            prune_pvcs: false,
            concurrency: CONCURRENCY,
        }
    }
}

/// What an apply did, object by object (`Kind/name`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ApplyReport {
    pub namespace_created: bool,
    pub applied: Vec<String>,
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
    let mut report = ApplyReport {
        namespace_created: ensure_namespace(api, &spec.namespace).await?,
        ..Default::default()
    };
    let recorded = if report.namespace_created {
        BTreeSet::new()
    } else {
        inventory::recorded_kinds(api, &spec.name, &spec.namespace).await?
    };
    let current = inventory::group_kinds(objects);
    // The parent names old and new kinds before anything changes, so an interrupted apply still
    // knows where to look for what it must prune.
    let all_kinds: BTreeSet<String> = recorded.union(&current).cloned().collect();
    let mode = ApplyMode {
        dry_run: false,
        force: opts.force_conflicts,
    };
    apply_parent(api, spec, &all_kinds, mode).await?;
    report.secret_created = ensure_auth_secret(api, spec).await?;

    report.applied = apply_in_stages(api, objects, mode, opts.concurrency).await?;

    let stale = inventory::stale_members(
        api,
        &spec.name,
        &spec.namespace,
        &all_kinds,
        objects,
        opts.prune_pvcs,
        opts.concurrency,
    )
    .await?;
    for member in &stale.remove {
        api.delete(member.kind, &spec.namespace, &member.name)
            .await?;
        report.pruned.push(member.id());
    }
    report.kept = stale.kept;
    let kept_kinds = stale.kept_kinds;
    let final_kinds: BTreeSet<String> = current.union(&kept_kinds).cloned().collect();
    if final_kinds != all_kinds {
        apply_parent(api, spec, &final_kinds, mode).await?;
    }
    Ok(report)
}

/// Applies stage by stage, the objects of one stage together; stops at the first failure, after
/// its stage's requests have ended.
async fn apply_in_stages(
    api: &ApiServer,
    objects: &[Object],
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

/// Creates the namespace if it does not exist; true when it was created.
async fn ensure_namespace(api: &ApiServer, namespace: &str) -> Result<bool, KubeError> {
    if api.namespace_exists(namespace).await? {
        return Ok(false);
    }
    api.create_namespace(namespace).await?;
    Ok(true)
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
