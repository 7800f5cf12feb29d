//! What Kubernetes accepts as a name, a label or an annotation.

use super::*;

/// Labels sparkup sets itself; a user value would break selectors or the inventory.
pub(super) const RESERVED_LABELS: &[&str] = &[
    "app.kubernetes.io/name",
    "app.kubernetes.io/instance",
    "app.kubernetes.io/component",
    "app.kubernetes.io/managed-by",
    "app.kubernetes.io/part-of",
    "applyset.kubernetes.io/part-of",
    "applyset.kubernetes.io/id",
];

pub(super) fn check_metadata(
    r: &mut Report,
    path: &str,
    map: &BTreeMap<String, String>,
    labels: bool,
) {
    for (key, value) in map {
        let field = path_key(path, key);
        if !is_qualified_name(key) {
            r.invalid(
                field,
                key,
                "a key such as example.com/team: an optional DNS prefix and '/', then at most 63 \
                 letters, digits, '-', '_' or '.'",
            );
        } else if RESERVED_LABELS.contains(&key.as_str()) && labels {
            r.invalid(field, key, "a label sparkup does not set itself");
        } else if labels && !is_label_value(value) {
            r.invalid(
                field,
                value,
                "a label value: at most 63 letters, digits, '-', '_' or '.', starting and ending \
                 with a letter or digit",
            );
        }
    }
}

pub(super) fn check_subdomain(r: &mut Report, path: impl Into<String>, name: &str) {
    if !is_dns1123_subdomain(name) {
        r.invalid(path, name, DNS1123_SUBDOMAIN);
    }
}

/// A key of a Secret, as the API server takes it.
pub(super) fn check_secret_key(r: &mut Report, path: impl Into<String>, key: &str) {
    let ok = !key.is_empty()
        && key.len() <= 253
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c));
    if !ok {
        r.invalid(
            path,
            key,
            "a key of a Secret: letters, digits, '-', '_' and '.'",
        );
    }
}

/// `{secret: NAME, key: KEY}` at `path`: an object name and a key of it.
pub(super) fn check_secret_ref(r: &mut Report, path: &str, reference: &SecretKeyRef) {
    check_subdomain(r, format!("{path}.secret"), &reference.secret);
    check_secret_key(r, format!("{path}.key"), &reference.key);
}

pub(super) const DNS1123_LABEL: &str =
    "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63";

pub(super) const DNS1123_SUBDOMAIN: &str = "a Kubernetes object name: lowercase letters, digits, '-' and '.', \
                                 starting and ending with a letter or digit, at most 253";

pub(crate) fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub(super) fn is_dns1035_label(s: &str) -> bool {
    is_dns1123_label(s) && s.starts_with(|c: char| c.is_ascii_lowercase())
}

pub(super) fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

pub(super) fn is_label_value(s: &str) -> bool {
    s.is_empty() || is_label_name(s)
}

pub(super) fn is_label_name(s: &str) -> bool {
    s.len() <= 63
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

pub(super) fn is_qualified_name(s: &str) -> bool {
    match s.split_once('/') {
        Some((prefix, name)) => is_dns1123_subdomain(prefix) && is_label_name(name),
        None => is_label_name(s),
    }
}

pub(super) fn is_env_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The API server's limit on the annotations of one object, keys and values together.
const MAX_ANNOTATIONS_BYTES: usize = 256 * 1024;
/// What sparkup adds to an object's or a pod's annotations itself, at most.
const OWN_ANNOTATIONS_BYTES: usize = 1024;

/// Each object's annotations within the API server's limit, sparkup's own included: `annotations`
/// go on every object, the Service's and the Ingress's own beside them, pod annotations on pod
/// templates.
pub(super) fn check_annotation_sizes(spec: &ClusterSpec, r: &mut Report) {
    let size = |map: &BTreeMap<String, String>| -> usize {
        map.iter().map(|(k, v)| k.len() + v.len()).sum()
    };
    let every = size(&spec.annotations);
    let limit = MAX_ANNOTATIONS_BYTES - OWN_ANNOTATIONS_BYTES;
    let objects = [
        ("annotations", every),
        (
            "master.service.annotations",
            every + size(&spec.master.service.annotations),
        ),
        (
            "ui.ingress.annotations",
            every + size(&spec.ui.ingress.annotations),
        ),
        ("master.podAnnotations", size(&spec.master.pod_annotations)),
        (
            "workers.podAnnotations",
            size(&spec.workers.pod_annotations),
        ),
    ];
    for (path, bytes) in objects {
        if bytes > limit {
            r.0.push(ValueError::new(
                path,
                format!(
                    "{bytes} bytes of annotations on one object: expected at most {limit} (the \
                     API server takes {MAX_ANNOTATIONS_BYTES} per object, keys and values \
                     together, and sparkup adds up to {OWN_ANNOTATIONS_BYTES} of its own)"
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_name_rules() {
        assert!(is_dns1123_label("spark-1"));
        assert!(!is_dns1123_label("Spark"));
        assert!(!is_dns1123_label("-a"));
        assert!(!is_dns1123_label(&"a".repeat(64)));
        assert!(!is_dns1035_label("1spark"));
        assert!(is_dns1123_subdomain("my.secret-1"));
        assert!(!is_dns1123_subdomain("a..b"));
        assert!(is_qualified_name("example.com/team"));
        assert!(!is_qualified_name("example.com/"));
        assert!(!is_qualified_name("a b"));
        assert!(is_label_value(""));
        assert!(!is_label_value("a\nb"));
        assert!(is_env_name("_X1"));
        assert!(!is_env_name("1X"));
    }
}
