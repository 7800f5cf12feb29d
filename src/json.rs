//! Small helpers over `serde_json::Value`, the form every stage holds objects and values in.

use serde_json::Value;

/// The string at a JSON pointer (`/metadata/name`), if there is one.
pub(crate) fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// The value of an object's label `key` (a key with a `/`, which a JSON pointer must escape).
#[cfg(feature = "kube")]
pub(crate) fn label<'a>(object: &'a Value, key: &str) -> Option<&'a str> {
    object["metadata"]["labels"][key].as_str()
}

/// The path of the first non-null map key in `written` that `kept` does not have: finds keys
/// that a typed round trip (k8s-openapi skips unknown fields) silently dropped.
pub(crate) fn first_lost_key(written: &Value, kept: &Value, path: String) -> Option<String> {
    first_missing(written, kept, path, &|value| !value.is_null())
}

/// The path of the first map key that `kept` has and `written` does not, with an empty string
/// for its value: a required field a typed round trip filled with its default (k8s-openapi writes
/// a missing `operator` as `""`, which the API server rejects later).
pub(crate) fn first_defaulted_key(written: &Value, kept: &Value, path: String) -> Option<String> {
    first_missing(kept, written, path, &|value| value.as_str() == Some(""))
}

/// The path of the first map key of `from` that `other` lacks at the same place and whose value
/// `counts`; lists are compared item by item.
fn first_missing(
    from: &Value,
    other: &Value,
    path: String,
    counts: &dyn Fn(&Value) -> bool,
) -> Option<String> {
    let mut path = path;
    missing_at(from, other, &mut path, counts).then_some(path)
}

/// Whether `from` has a key `other` lacks; `path` is left naming it when so, and as it was
/// otherwise. One buffer for the whole walk: most walks find nothing, and a path string per key
/// was most of their cost.
fn missing_at(
    from: &Value,
    other: &Value,
    path: &mut String,
    counts: &dyn Fn(&Value) -> bool,
) -> bool {
    let len = path.len();
    match (from, other) {
        (Value::Object(f), Value::Object(o)) => f.iter().any(|(key, value)| {
            let next = get(o, key);
            if next.is_none() && !counts(value) {
                return false;
            }
            path.push('.');
            path.push_str(key);
            let found = next.is_none_or(|next| missing_at(value, next, path, counts));
            if !found {
                path.truncate(len);
            }
            found
        }),
        (Value::Array(f), Value::Array(o)) => f.iter().zip(o).enumerate().any(|(i, (f, o))| {
            use std::fmt::Write as _;
            let _ = write!(path, "[{i}]");
            let found = missing_at(f, o, path, counts);
            if !found {
                path.truncate(len);
            }
            found
        }),
        _ => false,
    }
}

/// The value at `key`: typed objects' maps are small, and comparing a few keys costs less than
/// hashing one.
fn get<'v>(map: &'v serde_json::Map<String, Value>, key: &str) -> Option<&'v Value> {
    match map.len() {
        0..=16 => map.iter().find(|(k, _)| k.as_str() == key).map(|(_, v)| v),
        _ => map.get(key),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lost_keys_are_named_by_their_path() {
        let written = json!({"a": [{"b": 1, "typo": 2}], "gone": null});
        let kept = json!({"a": [{"b": 1}]});
        assert_eq!(
            first_lost_key(&written, &kept, "x".into()),
            Some("x.a[0].typo".into())
        );
        assert_eq!(first_lost_key(&kept, &kept, "x".into()), None);
    }

    #[test]
    fn defaulted_required_fields_are_named() {
        let written = json!({"terms": [{"key": "a"}]});
        let kept = json!({"terms": [{"key": "a", "operator": ""}]});
        assert_eq!(
            first_defaulted_key(&written, &kept, "x".into()),
            Some("x.terms[0].operator".into())
        );
        assert_eq!(first_defaulted_key(&kept, &kept, "x".into()), None);
    }
}
