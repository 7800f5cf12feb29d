//! What apply and diff read before they decide anything, in one round of requests sent together:
//! whether the namespace exists, the inventory parent, the live members of every rendered kind,
//! and the server's dry run of every object. On a real API server the round trips, not the
//! requests, are what a user waits for; only kinds the parent names that are no longer rendered
//! need a second round.

use std::collections::BTreeSet;

use futures::{StreamExt, stream};
use serde_json::Value;

use super::client::{ApiServer, ApplyMode, KubeError};
use super::inventory;
use crate::json::str_at;
use crate::render::Object;
use crate::render::kinds::KindInfo;

/// The cluster as apply and diff find it.
#[derive(Debug, Default)]
pub(crate) struct Survey {
    pub exists: bool,
    /// The live ApplySet parent, when there is one.
    pub parent: Option<Value>,
    /// The group-kinds the live parent names.
    pub recorded: BTreeSet<String>,
    /// Every live member of the instance among the rendered and the recorded kinds.
    pub members: Vec<(&'static KindInfo, Value)>,
    /// The server's dry run of every object, in the objects' order; empty when the namespace
    /// does not exist (the server cannot dry-run into it, and nothing there can differ).
    pub dry_runs: Vec<Value>,
}

impl Survey {
    /// The live state of `object` when the inventory listed it.
    pub(crate) fn live_of(&self, object: &Object) -> Option<&Value> {
        self.members
            .iter()
            .find(|(kind, live)| {
                kind.kind == object.kind && str_at(live, "/metadata/name") == Some(&object.name)
            })
            .map(|(_, live)| live)
    }
}

/// Reads and dry-runs everything at once. A dry run's refusal comes back as
/// [`KubeError::Refused`], after every request has ended; a failed read as it is.
pub(crate) async fn survey(
    api: &ApiServer,
    instance: &str,
    namespace: &str,
    objects: &[Object],
    mode: ApplyMode,
    concurrency: usize,
) -> Result<Survey, KubeError> {
    let rendered = inventory::group_kinds(objects);
    let dry_run = ApplyMode {
        dry_run: true,
        ..mode
    };
    let (exists, parent, listed, dry_runs) = futures::join!(
        api.namespace_exists(namespace),
        inventory::live_parent(api, instance, namespace),
        inventory::live_members(api, instance, namespace, &rendered, concurrency),
        dry_run_all(api, objects, dry_run, concurrency),
    );
    if !exists? {
        return Ok(Survey::default());
    }
    let parent = parent?;
    let recorded = inventory::kinds_named_by(parent.as_ref());
    let mut members = listed?;
    let dry_runs = dry_runs.map_err(|e| KubeError::Refused(Box::new(e)))?;
    let unlisted: BTreeSet<String> = recorded.difference(&rendered).cloned().collect();
    if !unlisted.is_empty() {
        members.extend(
            inventory::live_members(api, instance, namespace, &unlisted, concurrency).await?,
        );
    }
    Ok(Survey {
        exists: true,
        parent,
        recorded,
        members,
        dry_runs,
    })
}

/// Sends every object at once (a dry run needs no order), `concurrency` at a time: the server's
/// answers in the objects' order, or the first refusal, after every request has ended.
pub(crate) async fn dry_run_all(
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
