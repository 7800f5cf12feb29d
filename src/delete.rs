//! Removing an instance: its ApplySet members in reverse apply order, then the parent.
//! PersistentVolumeClaims hold data and stay unless `--purge`.

use std::collections::BTreeSet;

use crate::api::{Api, ApplyMode, ClusterError};
use crate::inventory;
use crate::manifests::Object;
use crate::spec::ClusterSpec;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DeleteReport {
    pub deleted: Vec<String>,
    pub kept: Vec<String>,
}

pub async fn delete(
    api: &Api,
    spec: &ClusterSpec,
    objects: &[Object],
    purge: bool,
) -> Result<DeleteReport, ClusterError> {
    if !api.namespace_exists(&spec.namespace).await? {
        return Ok(DeleteReport::default());
    }
    let mut kinds = inventory::recorded_kinds(api, &spec.name, &spec.namespace).await?;
    kinds.extend(inventory::group_kinds(objects));
    let nothing_rendered = BTreeSet::new();
    let stale = inventory::stale_members(
        api,
        &spec.name,
        &spec.namespace,
        &kinds,
        &nothing_rendered,
        purge,
    )
    .await?;
    let mut report = DeleteReport {
        kept: stale.kept,
        ..Default::default()
    };
    for (kind, name) in &stale.remove {
        api.delete(kind, &spec.namespace, name).await?;
        report.deleted.push(format!("{}/{name}", kind.kind));
    }
    let kept_kinds = stale.kept_kinds;
    let parent_kind = inventory::config_map_kind();
    if kept_kinds.is_empty() {
        api.delete(
            parent_kind,
            &spec.namespace,
            &inventory::parent_name(&spec.name),
        )
        .await?;
    } else {
        // The kept claims stay findable: `delete --purge` later removes them.
        let parent = inventory::parent(&spec.name, &spec.namespace, &kept_kinds);
        api.apply(parent_kind, &parent, ApplyMode::default())
            .await?;
    }
    Ok(report)
}
