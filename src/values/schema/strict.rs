//! Where a derived schema is looser than the deserializer it stands for, made as strict.
//!
//! k8s-openapi's schemas are the API server's OpenAPI ones, which let unknown keys through and
//! say nothing of `null`; but `validate` refuses a key k8s-openapi would skip, k8s-openapi reads
//! `null` as an optional field left out, and its int-or-string and quantity types take what
//! their names say. And integer formats (`int32`, `uint32`) bound nothing in JSON Schema, though
//! every deserializer holds to them.

use serde_json::{Value, json};

use super::nullable;

/// Bounds for the integer formats schemars and k8s-openapi name.
pub(super) fn bound_integers(value: &mut Value) {
    match value {
        Value::Object(map) => {
            let bounds = match map.get("format").and_then(Value::as_str) {
                Some("int32") => Some((json!(i32::MIN), json!(i32::MAX))),
                Some("int64") => Some((json!(i64::MIN), json!(i64::MAX))),
                Some("uint32") => Some((json!(0), json!(u32::MAX))),
                Some("uint64") => Some((json!(0), json!(u64::MAX))),
                _ => None,
            };
            if let (Some((min, max)), Some("integer")) =
                (bounds, map.get("type").and_then(Value::as_str))
            {
                map.entry("minimum").or_insert(min);
                map.entry("maximum").or_insert(max);
            }
            map.values_mut().for_each(bound_integers);
        }
        Value::Array(items) => items.iter_mut().for_each(bound_integers),
        _ => {}
    }
}

/// The prefix of k8s-openapi's schema names.
pub(super) const KUBERNETES: &str = "io.k8s.";

/// A Kubernetes type's schema made as strict as `load` is with it.
pub(super) fn kubernetes(name: &str, def: &mut Value) {
    let description = def.get("description").cloned();
    let replaced = match name {
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString" => Some(json!({
            "anyOf": [{"type": "integer", "format": "int32"}, {"type": "string"}]
        })),
        "io.k8s.apimachinery.pkg.api.resource.Quantity" => Some(json!({
            "anyOf": [{"type": "number"}, {"type": "string"}]
        })),
        _ => None,
    };
    if let Some(mut replaced) = replaced {
        if let (Some(d), Value::Object(map)) = (description, &mut replaced) {
            map.insert("description".into(), d);
        }
        *def = replaced;
        return;
    }
    strict(def);
}

/// Every object schema in `schema`: unknown keys refused, optional keys nullable.
fn strict(schema: &mut Value) {
    let Value::Object(map) = schema else {
        return;
    };
    if map.contains_key("properties") {
        map.entry("additionalProperties").or_insert(false.into());
        let required: Vec<Value> = match map.get("required") {
            Some(Value::Array(required)) => required.clone(),
            _ => Vec::new(),
        };
        if let Some(Value::Object(properties)) = map.get_mut("properties") {
            for (key, property) in properties.iter_mut() {
                strict(property);
                if !required.contains(&Value::String(key.clone())) {
                    *property = nullable(std::mem::take(property));
                }
            }
        }
    }
    for key in ["items", "additionalProperties"] {
        if let Some(inner) = map.get_mut(key) {
            strict(inner);
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(Value::Array(branches)) = map.get_mut(key) {
            branches.iter_mut().for_each(strict);
        }
    }
}
