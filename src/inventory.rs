//! Which objects belong to an instance: kubectl's ApplySet, with a ConfigMap as parent.
//!
//! Every object sparkup applies carries `applyset.kubernetes.io/part-of=<id>`; the parent
//! ConfigMap `<name>-applyset` names the group-kinds its members may have. Prune, status and
//! delete therefore list only those kinds, by that one label, in that one namespace: never
//! anything outside the instance, and no API discovery. `kubectl apply --applyset` understands
//! the same labels.

use std::collections::BTreeSet;

use base64::Engine as _;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::api::{Api, ClusterError};
use crate::manifests::str_at;
use crate::manifests::{self, KindInfo, Object};

pub const LABEL_APPLYSET_ID: &str = "applyset.kubernetes.io/id";
pub const LABEL_PART_OF: &str = "applyset.kubernetes.io/part-of";
pub const ANNOTATION_TOOLING: &str = "applyset.kubernetes.io/tooling";
pub const ANNOTATION_GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";

pub fn parent_name(instance: &str) -> String {
    format!("{instance}-applyset")
}

/// The ApplySet id of the parent ConfigMap, as kubectl computes it:
/// `applyset-<base64url(sha256(<name>.<namespace>.<kind>.<group>))>-v1`.
pub fn applyset_id(instance: &str, namespace: &str) -> String {
    let key = format!("{}.{namespace}.ConfigMap.", parent_name(instance));
    let hash = Sha256::digest(key.as_bytes());
    format!(
        "applyset-{}-v1",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash)
    )
}

/// Group-kinds of a set of objects, sorted, as the parent annotation lists them.
pub fn group_kinds<'a>(objects: impl IntoIterator<Item = &'a Object>) -> BTreeSet<String> {
    objects
        .into_iter()
        .map(|o| o.kind_info().group_kind())
        .collect()
}

/// The parent ConfigMap naming `kinds`.
pub fn parent(instance: &str, namespace: &str, kinds: &BTreeSet<String>) -> Value {
    let kinds: Vec<&str> = kinds.iter().map(String::as_str).collect();
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": parent_name(instance),
            "namespace": namespace,
            "labels": {
                LABEL_APPLYSET_ID: applyset_id(instance, namespace),
                "app.kubernetes.io/name": "spark",
                "app.kubernetes.io/instance": instance,
                "app.kubernetes.io/component": "inventory",
                "app.kubernetes.io/managed-by": manifests::MANAGER,
            },
            "annotations": {
                ANNOTATION_TOOLING: format!("sparkup/{}", env!("CARGO_PKG_VERSION")),
                ANNOTATION_GROUP_KINDS: kinds.join(","),
            }
        }
    })
}

/// The group-kinds the live parent names (empty when there is no parent yet).
pub async fn recorded_kinds(
    api: &Api,
    instance: &str,
    namespace: &str,
) -> Result<BTreeSet<String>, ClusterError> {
    let path = api.path(
        config_map_kind(),
        Some(namespace),
        Some(&parent_name(instance)),
    );
    let parent = api.get(&path, "get the inventory").await?;
    Ok(parent
        .as_ref()
        .and_then(|p| p.pointer("/metadata/annotations"))
        .and_then(|a| a.get(ANNOTATION_GROUP_KINDS))
        .and_then(Value::as_str)
        .map(|s| {
            s.split(',')
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default())
}

/// Every live member of the instance's ApplySet among `kinds`, one LIST per kind.
async fn live_members(
    api: &Api,
    instance: &str,
    namespace: &str,
    kinds: &BTreeSet<String>,
) -> Result<Vec<(&'static KindInfo, Value)>, ClusterError> {
    let selector = format!("{LABEL_PART_OF}={}", applyset_id(instance, namespace));
    let parent = parent_name(instance);
    let mut members = Vec::new();
    for group_kind in kinds {
        let Some(kind) = manifests::kind_by_group_kind(group_kind) else {
            continue;
        };
        for item in api.list(kind, namespace, &selector).await? {
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
pub struct Member {
    pub kind: &'static KindInfo,
    pub name: String,
    pub live: Value,
}

impl Member {
    pub fn id(&self) -> String {
        format!("{}/{}", self.kind.kind, self.name)
    }
}

/// Members to remove, in reverse apply order, and the claims kept because they hold data.
#[derive(Debug, Default)]
pub struct Stale {
    pub remove: Vec<Member>,
    /// `Kind/name` of kept claims.
    pub kept: Vec<String>,
    /// Group-kinds of the kept claims, which the parent must go on naming.
    pub kept_kinds: BTreeSet<String>,
}

/// The kinds the live parent names and the kinds of `objects`: where members may be.
pub async fn kinds_in_use(
    api: &Api,
    instance: &str,
    namespace: &str,
    objects: &[Object],
) -> Result<BTreeSet<String>, ClusterError> {
    let mut kinds = recorded_kinds(api, instance, namespace).await?;
    kinds.extend(group_kinds(objects));
    Ok(kinds)
}

/// The live members among `kinds` that are not among `rendered`; claims are kept unless
/// `remove_claims`.
pub async fn stale_members(
    api: &Api,
    instance: &str,
    namespace: &str,
    kinds: &BTreeSet<String>,
    rendered: &[Object],
    remove_claims: bool,
) -> Result<Stale, ClusterError> {
    let rendered: BTreeSet<(&str, &str)> = rendered
        .iter()
        .map(|o| (o.kind.as_str(), o.name.as_str()))
        .collect();
    let mut members = live_members(api, instance, namespace, kinds).await?;
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
    Ok(stale)
}

/// The ConfigMap kind, for the parent's path.
static CONFIG_MAP: std::sync::LazyLock<&'static KindInfo> = std::sync::LazyLock::new(|| {
    manifests::kind_info("v1", "ConfigMap").expect("ConfigMap is a known kind")
});

pub fn config_map_kind() -> &'static KindInfo {
    &CONFIG_MAP
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_kubectl() {
        let id = applyset_id("spark", "default");
        assert!(id.starts_with("applyset-") && id.ends_with("-v1"), "{id}");
        // 32 bytes of SHA-256 are 43 characters of unpadded base64url; a label value allows 63.
        assert_eq!(id.len(), "applyset-".len() + 43 + "-v1".len());
        assert_ne!(id, applyset_id("spark", "other"));
    }
}
