//! The labels every object and pod of an instance carries, by which `apply`, `status`, `delete`
//! and `kubectl get -l` find them.

pub(crate) const LABEL_NAME: &str = "app.kubernetes.io/name";
pub(crate) const LABEL_INSTANCE: &str = "app.kubernetes.io/instance";
pub(crate) const LABEL_COMPONENT: &str = "app.kubernetes.io/component";
pub(crate) const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
pub(crate) const LABEL_PART_OF: &str = "app.kubernetes.io/part-of";
/// The field manager and `managed-by` value of everything sparkup applies.
pub(crate) const MANAGER: &str = "sparkup";
/// On every pod template: a fingerprint of the whole template, to tell pods of an older one.
pub(crate) const TEMPLATE_HASH_ANNOTATION: &str = "sparkup.io/template-hash";

/// The labels of an object sparkup creates outside the templates (a shipped application's
/// ConfigMap, the authentication Secret): the instance's, without ApplySet membership, so that
/// prune never removes it.
#[cfg(feature = "kube")]
pub(crate) fn instance_labels(instance: &str, component: &str) -> serde_json::Value {
    serde_json::json!({
        LABEL_NAME: "spark",
        LABEL_INSTANCE: instance,
        LABEL_COMPONENT: component,
        LABEL_MANAGED_BY: MANAGER,
    })
}
