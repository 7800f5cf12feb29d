//! The names that tie an instance's objects together: kubectl's ApplySet ids, labels and
//! annotations.
//!
//! Rendering labels every object with its ApplySet, and the cluster code finds the members by the
//! same label; both need these names, neither needs the other, so they live here, pure and below
//! both.

// The parent's own labels and annotations serve only the cluster commands.
#![cfg_attr(not(feature = "kube"), allow(dead_code))]

use base64::Engine as _;
use sha2::{Digest, Sha256};

/// On the parent: the ApplySet's id.
pub(crate) const LABEL_APPLYSET_ID: &str = "applyset.kubernetes.io/id";
/// On every member: the id of the ApplySet it belongs to.
pub(crate) const LABEL_PART_OF: &str = "applyset.kubernetes.io/part-of";
/// On the parent: which tool manages the set.
pub(crate) const ANNOTATION_TOOLING: &str = "applyset.kubernetes.io/tooling";
/// On the parent: the group-kinds its members may have, comma-separated.
pub(crate) const ANNOTATION_GROUP_KINDS: &str = "applyset.kubernetes.io/contains-group-kinds";

/// The parent ConfigMap's name.
pub(crate) fn parent_name(instance: &str) -> String {
    format!("{instance}-applyset")
}

/// The ApplySet id of the parent ConfigMap, as kubectl computes it:
/// `applyset-<base64url(sha256(<name>.<namespace>.<kind>.<group>))>-v1`.
pub(crate) fn applyset_id(instance: &str, namespace: &str) -> String {
    let key = format!("{}.{namespace}.ConfigMap.", parent_name(instance));
    let hash = Sha256::digest(key.as_bytes());
    format!(
        "applyset-{}-v1",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hash)
    )
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
