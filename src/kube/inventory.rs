//! Which objects belong to an instance: kubectl's ApplySet, with a ConfigMap as parent.
//!
//! Every object sparkup applies carries `applyset.kubernetes.io/part-of=<id>`; the parent
//! ConfigMap `<name>-applyset` names the group-kinds its members may have. Prune, status and
//! delete therefore list only those kinds, by that one label, in that one namespace: never
//! anything outside the instance, and no API discovery. `kubectl apply --applyset` understands
//! the same labels.

use std::collections::BTreeSet;

use serde_json::Value;

use super::client::{ApiServer, KubeError};
use crate::applyset::{ANNOTATION_GROUP_KINDS, LABEL_PART_OF, applyset_id, parent_name};
use crate::json::str_at;
use crate::render::Object;
use crate::render::kinds::{self, KindInfo, object_id};

/// Group-kinds of a set of objects, sorted, as the parent annotation lists them.
pub(crate) fn group_kinds<'a>(objects: impl IntoIterator<Item = &'a Object>) -> BTreeSet<String> {
    objects
        .into_iter()
        .map(|o| o.kind_info().group_kind())
        .collect()
}

/// The group-kinds the live parent names (empty when there is no parent yet).
pub(crate) async fn recorded_kinds(
    api: &ApiServer,
    instance: &str,
    namespace: &str,
) -> Result<BTreeSet<String>, KubeError> {
    Ok(kinds_named_by(
        live_parent(api, instance, namespace).await?.as_ref(),
    ))
}

/// The live ApplySet parent, when there is one.
pub(crate) async fn live_parent(
    api: &ApiServer,
    instance: &str,
    namespace: &str,
) -> Result<Option<Value>, KubeError> {
    api.get(
        config_map_kind(),
        Some(namespace),
        &parent_name(instance),
        "get the inventory",
    )
    .await
}

/// The group-kinds a parent names.
pub(crate) fn kinds_named_by(parent: Option<&Value>) -> BTreeSet<String> {
    parent
        .and_then(|p| p.pointer("/metadata/annotations"))
        .and_then(|a| a.get(ANNOTATION_GROUP_KINDS))
        .and_then(Value::as_str)
        .map(|s| {
            s.split(',')
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Whether applying `rendered` (a parent as sparkup renders it) would leave `live` as it is:
/// every label and annotation sparkup sets is there with its value. sparkup's parent has no
/// other field, so server-side apply would change nothing.
pub(crate) fn parent_is_current(live: Option<&Value>, rendered: &Value) -> bool {
    let Some(live) = live else {
        return false;
    };
    ["/metadata/labels", "/metadata/annotations"]
        .iter()
        .all(|pointer| match rendered.pointer(pointer) {
            Some(Value::Object(wanted)) => wanted
                .iter()
                .all(|(key, value)| live.pointer(pointer).and_then(|m| m.get(key)) == Some(value)),
            Some(_) => false,
            None => true,
        })
}

/// Every live member of the instance's ApplySet among `kinds`, one LIST per kind.
pub(crate) async fn live_members(
    api: &ApiServer,
    instance: &str,
    namespace: &str,
    kinds: &BTreeSet<String>,
    concurrency: usize,
) -> Result<Vec<(&'static KindInfo, Value)>, KubeError> {
    use futures::{StreamExt, TryStreamExt, stream};
    let selector = format!("{LABEL_PART_OF}={}", applyset_id(instance, namespace));
    let parent = parent_name(instance);
    let known: Vec<&'static KindInfo> = kinds
        .iter()
        .filter_map(|group_kind| kinds::kind_by_group_kind(group_kind))
        .collect();
    // One list per kind, a few at a time, results in the kinds' order.
    let lists: Vec<(&'static KindInfo, Vec<Value>)> = stream::iter(known)
        .map(|kind| {
            let selector = &selector;
            async move { Ok::<_, KubeError>((kind, api.list(kind, namespace, selector).await?)) }
        })
        .buffered(concurrency.max(1))
        .try_collect()
        .await?;
    let mut members = Vec::new();
    for (kind, items) in lists {
        for item in items {
            // The parent is the inventory itself, never one of its members, whatever a list says.
            let name = str_at(&item, "/metadata/name");
            if kind.kind == "ConfigMap" && name == Some(parent.as_str()) {
                continue;
            }
            members.push((kind, item));
        }
    }
    Ok(members)
}

/// A live member of the ApplySet.
#[derive(Debug)]
pub(crate) struct Member {
    pub kind: &'static KindInfo,
    pub name: String,
    pub live: Value,
}

impl Member {
    pub fn id(&self) -> String {
        object_id(self.kind.kind, &self.name)
    }
}

/// Members to remove, in reverse apply order, and the claims kept because they hold data.
#[derive(Debug, Default)]
pub(crate) struct Stale {
    pub remove: Vec<Member>,
    /// `Kind/name` of kept claims.
    pub kept: Vec<String>,
    /// Group-kinds of the kept claims, which the parent must go on naming.
    pub kept_kinds: BTreeSet<String>,
}

/// The kinds the live parent names and the kinds of `objects`: where members may be.
pub(crate) async fn kinds_in_use(
    api: &ApiServer,
    instance: &str,
    namespace: &str,
    objects: &[Object],
) -> Result<BTreeSet<String>, KubeError> {
    let mut kinds = recorded_kinds(api, instance, namespace).await?;
    kinds.extend(group_kinds(objects));
    Ok(kinds)
}

/// The live members among `kinds` that are not among `rendered`; claims are kept unless
/// `remove_claims`.
pub(crate) async fn stale_members(
    api: &ApiServer,
    instance: &str,
    namespace: &str,
    kinds: &BTreeSet<String>,
    rendered: &[Object],
    remove_claims: bool,
    concurrency: usize,
) -> Result<Stale, KubeError> {
    let members = live_members(api, instance, namespace, kinds, concurrency).await?;
    Ok(stale_among(members, rendered, remove_claims))
}

/// Of the live `members`, those not among `rendered`, in reverse apply order; claims are kept
/// unless `remove_claims`.
pub(crate) fn stale_among(
    mut members: Vec<(&'static KindInfo, Value)>,
    rendered: &[Object],
    remove_claims: bool,
) -> Stale {
    let rendered: BTreeSet<(&str, &str)> = rendered
        .iter()
        .map(|o| (o.kind.as_str(), o.name.as_str()))
        .collect();
    members.sort_by_key(|(kind, _)| std::cmp::Reverse(kind.stage));
    let mut stale = Stale::default();
    for (kind, live) in members {
        let name = str_at(&live, "/metadata/name")
            .unwrap_or_default()
            .to_string();
        if rendered.contains(&(kind.kind, name.as_str())) {
            continue;
        }
        let member = Member { kind, name, live };
        if kind.kind == "PersistentVolumeClaim" && !remove_claims {
            stale.kept_kinds.insert(kind.group_kind());
            stale.kept.push(member.id());
        } else {
            stale.remove.push(member);
        }
    }
    stale
}

/// The ConfigMap kind, for the parent's path.
static CONFIG_MAP: std::sync::LazyLock<&'static KindInfo> = std::sync::LazyLock::new(|| {
    kinds::kind_info("v1", "ConfigMap").expect("ConfigMap is a known kind")
});

pub(crate) fn config_map_kind() -> &'static KindInfo {
    &CONFIG_MAP
}
