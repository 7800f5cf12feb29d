//! Small helpers over `serde_json::Value`, the form every stage holds objects and values in.

use serde_json::Value;

/// The string at a JSON pointer (`/metadata/name`), if there is one.
pub(crate) fn str_at<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str)
}

/// The path of the first non-null map key in `written` that `kept` does not have: finds keys
/// that a typed round trip (k8s-openapi skips unknown fields) silently dropped.
pub(crate) fn first_lost_key(written: &Value, kept: &Value, path: String) -> Option<String> {
    match (written, kept) {
        (Value::Object(w), Value::Object(k)) => {
            w.iter().find_map(|(key, value)| match k.get(key) {
                None if !value.is_null() => Some(format!("{path}.{key}")),
                None => None,
                Some(kept_value) => first_lost_key(value, kept_value, format!("{path}.{key}")),
            })
        }
        (Value::Array(w), Value::Array(k)) => w
            .iter()
            .zip(k)
            .enumerate()
            .find_map(|(i, (w, k))| first_lost_key(w, k, format!("{path}[{i}]"))),
        _ => None,
    }
}

/// The path of the first map key that `kept` has and `written` does not, with an empty string
/// for its value: a required field a typed round trip filled with its default (k8s-openapi writes
/// a missing `operator` as `""`, which the API server rejects later).
pub(crate) fn first_defaulted_key(written: &Value, kept: &Value, path: String) -> Option<String> {
    match (written, kept) {
        (Value::Object(w), Value::Object(k)) => {
            k.iter().find_map(|(key, value)| match w.get(key) {
                None if value.as_str() == Some("") => Some(format!("{path}.{key}")),
                None => None,
                Some(written_value) => {
                    first_defaulted_key(written_value, value, format!("{path}.{key}"))
                }
            })
        }
        (Value::Array(w), Value::Array(k)) => w
            .iter()
            .zip(k)
            .enumerate()
            .find_map(|(i, (w, k))| first_defaulted_key(w, k, format!("{path}[{i}]"))),
        _ => None,
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
