//! Removing an instance: its ApplySet members in reverse apply order, then the parent.
//! PersistentVolumeClaims hold data and stay unless `--purge`; so does the authentication Secret
//! `apply` created (a cluster applied again keeps its secret), and so do the revisions (a cluster
//! applied again goes on from its history, and `rollback` can bring a deleted one back).

use super::client::{ApiServer, ApplyMode, CONCURRENCY, KubeError};
use super::{inventory, revisions};
use crate::applyset;
use crate::render::Object;
use crate::values::ClusterSpec;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DeleteReport {
    pub deleted: Vec<String>,
    pub kept: Vec<String>,
    /// Revisions left in the namespace (without `--purge`).
    pub revisions_kept: usize,
}

pub async fn delete(
    api: &ApiServer,
    spec: &ClusterSpec,
    objects: &[Object],
    purge: bool,
) -> Result<DeleteReport, KubeError> {
    if !api.namespace_exists(&spec.namespace).await? {
        return Ok(DeleteReport::default());
    }
    let kinds = inventory::kinds_in_use(api, &spec.name, &spec.namespace, objects).await?;
    let stale = inventory::stale_members(
        api,
        &spec.name,
        &spec.namespace,
        &kinds,
        &[],
        purge,
        CONCURRENCY,
    )
    .await?;
    let mut report = DeleteReport {
        kept: stale.kept,
        ..Default::default()
    };
    for member in &stale.remove {
        api.delete(member.kind, &spec.namespace, &member.name)
            .await?;
        report.deleted.push(member.id());
    }
    if let Some(secret) = spec.auth_secret() {
        let kind = crate::render::kinds::secret_kind();
        let id = format!("Secret/{secret}");
        match purge {
            true => {
                api.delete(kind, &spec.namespace, &secret).await?;
                report.deleted.push(id);
            }
            false => report.kept.push(id),
        }
    }
    match purge {
        true => report
            .deleted
            .extend(revisions::delete_all(api, spec).await?),
        false => report.revisions_kept = revisions::revisions(api, spec).await?.len(),
    }
    let kept_kinds = stale.kept_kinds;
    let parent_kind = inventory::config_map_kind();
    if kept_kinds.is_empty() {
        api.delete(
            parent_kind,
            &spec.namespace,
            &applyset::parent_name(&spec.name),
        )
        .await?;
    } else {
        // The kept claims stay findable: `delete --purge` later removes them.
        let parent =
            crate::render::owned::applyset_parent(&spec.name, &spec.namespace, &kept_kinds);
        api.apply(parent_kind, &parent, ApplyMode::default())
            .await?;
    }
    Ok(report)
}
