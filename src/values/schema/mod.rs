//! The JSON Schema (draft 2020-12) of a values file, for editors and CI.
//!
//! schemars derives it from the same types serde fills, so it cannot drift from what [`load`]
//! accepts. What it derives describes a *complete* spec, though, and a values file is one layer
//! merged over the defaults; so the derived schema is reshaped to say what a layer may hold:
//!
//! - Every key reached through mappings alone, which the merge walks key by key, is optional and
//!   may be `null` (the built-in default again). Such a type gets a twin definition,
//!   `<name>Layer` (plain `<name>` when no list holds the type), and where the built-in defaults
//!   differ by place it is inlined instead, so each key carries the default of its place
//!   (`master.ports.rpc` 7077, `workers.ports.rpc` 7078).
//! - A list replaces the earlier one whole, so inside a list item the derived schema stands:
//!   required fields are required, and `null` goes only where the type takes it.
//! - Kubernetes' own types (k8s-openapi's schemas) are made as strict as [`load`] is with them: no
//!   unknown keys, `null` for an optional field, int-or-string and quantities as what they take.
//!
//! What a schema cannot say stays [`load`]'s alone: rules across fields, names, sizes and ranges,
//! YAML tags, one document per file.
//!
//! [`load`]: super::load

use std::collections::BTreeSet;

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

mod strict;

use super::spec::ClusterSpec;
use strict::{KUBERNETES, bound_integers, kubernetes};

const DEFS: &str = "$defs";

/// Where a definition's name starts in a reference.
const DEF_PREFIX: &str = "#/$defs/";

/// The suffix of a definition's twin as a layer holds it.
const LAYER: &str = "Layer";

/// Keywords that describe rather than constrain: they stay outside when a schema is wrapped.
const ANNOTATIONS: &[&str] = &["title", "description", "default", "examples", "deprecated"];

const DESCRIPTION: &str = "One layer of sparkup's values, merged over the built-in defaults and \
    the chosen profile: every key is optional, `null` puts a key back to its built-in default, \
    mappings merge key by key and lists are replaced whole.";

/// The schema `sparkup schema` prints.
pub fn values_schema() -> Value {
    let generated = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<ClusterSpec>()
        .to_value();
    let Value::Object(mut root) = generated else {
        return generated;
    };
    let mut defs = match root.remove(DEFS) {
        Some(Value::Object(defs)) => defs,
        _ => Map::new(),
    };
    for (name, def) in defs.iter_mut() {
        if name.starts_with(KUBERNETES) {
            kubernetes(name, def);
        }
    }
    let meta = root.remove("$schema").unwrap_or(Value::Null);
    let defaults = serde_json::to_value(ClusterSpec::default()).unwrap_or(Value::Null);
    let mut layer = Layer {
        defs: &defs,
        twins: Map::new(),
    };
    let top = layer.layer(&Value::Object(root), Some(&defaults));
    let twins = layer.twins;
    defs.extend(twins);
    let mut out = Map::new();
    out.insert("$schema".into(), meta);
    out.insert("title".into(), "sparkup values".into());
    out.insert("description".into(), DESCRIPTION.into());
    if let Value::Object(top) = top {
        out.extend(top.into_iter().filter(|(k, _)| k != "title"));
    }
    out.insert("type".into(), json!(["object", "null"]));
    out.insert(DEFS.into(), Value::Object(defs));
    let mut out = Value::Object(out);
    tidy_defs(&mut out);
    bound_integers(&mut out);
    out
}

/// Reshapes subschemas reached through mappings alone, keeping the twins it makes.
struct Layer<'a> {
    defs: &'a Map<String, Value>,
    twins: Map<String, Value>,
}

impl Layer<'_> {
    /// `schema` as a layer may hold it, with `default` (the built-in value in its place) on each
    /// key that is not a mapping of keys of its own.
    fn layer(&mut self, schema: &Value, default: Option<&Value>) -> Value {
        let spreads = |d: &Value| d.as_object().is_some_and(|d| !d.is_empty());
        let default = default.or_else(|| schema.get("default")).cloned();
        if let (Some(name), Value::Object(beside)) = (def_name(schema), schema)
            && !default.as_ref().is_some_and(spreads)
        {
            let mut twin = beside.clone();
            let reference = format!("{DEF_PREFIX}{}", self.twin(&name));
            twin.insert("$ref".into(), reference.into());
            if let Some(d) = default {
                twin.insert("default".into(), d);
            }
            return Value::Object(twin);
        }
        let mut schema = self.inline(schema);
        let Value::Object(map) = &mut schema else {
            return schema;
        };
        map.remove("required");
        map.remove("default");
        // A mapping of keys of its own passes its default down to them.
        let spread = default
            .as_ref()
            .filter(|d| spreads(d) && (map.contains_key("properties") || has_branches(map)));
        if let (Some(d), None) = (&default, spread) {
            map.insert("default".into(), d.clone());
        }
        if let Some(Value::Object(properties)) = map.get_mut("properties") {
            for (key, property) in properties.iter_mut() {
                let inner = spread.and_then(|d| d.get(key));
                *property = nullable(self.layer(property, inner));
            }
        }
        if let Some(extra @ Value::Object(_)) = map.get_mut("additionalProperties") {
            *extra = nullable(self.layer(extra, None));
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            if let Some(Value::Array(branches)) = map.get_mut(key) {
                for branch in branches {
                    let keyed = self.inline(branch).get("properties").is_some();
                    *branch = self.layer(branch, spread.filter(|_| keyed));
                }
            }
        }
        schema
    }

    /// The name of `name`'s twin as a layer holds it; `name` itself when that is the same.
    fn twin(&mut self, name: &str) -> String {
        let twin = format!("{name}{LAYER}");
        if self.twins.contains_key(&twin) {
            return twin;
        }
        let Some(def) = self.defs.get(name) else {
            return name.to_string();
        };
        // A type that holds itself finds its twin's name here while it is being made.
        self.twins.insert(twin.clone(), Value::Bool(true));
        let shaped = self.layer(def, None);
        if &shaped == def {
            self.twins.remove(&twin);
            return name.to_string();
        }
        self.twins.insert(twin.clone(), shaped);
        twin
    }

    /// `schema` with a reference replaced by the definition, and the keywords beside the
    /// reference (a field's description, its default) over the definition's.
    fn inline(&self, schema: &Value) -> Value {
        let Some(Value::Object(def)) = def_name(schema).and_then(|name| self.defs.get(&name))
        else {
            return schema.clone();
        };
        let mut inlined = def.clone();
        if let Value::Object(beside) = schema {
            for (key, value) in beside.iter().filter(|(k, _)| *k != "$ref") {
                inlined.insert(key.clone(), value.clone());
            }
        }
        Value::Object(inlined)
    }
}

/// Drops the definitions nothing uses, and gives a twin its type's plain name when no list
/// holds the type, so that only a type used both ways has two.
fn tidy_defs(schema: &mut Value) {
    let Some(Value::Object(defs)) = schema.get(DEFS) else {
        return;
    };
    let used = referenced(schema, defs);
    let renames: Vec<(String, String)> = used
        .iter()
        .filter_map(|name| {
            let plain = name.strip_suffix(LAYER)?;
            (!used.contains(plain)).then(|| (name.clone(), plain.to_string()))
        })
        .collect();
    if let Some(Value::Object(defs)) = schema.get_mut(DEFS) {
        defs.retain(|name, _| used.contains(name));
        for (from, to) in &renames {
            if let Some(def) = defs.remove(from) {
                defs.insert(to.clone(), def);
            }
        }
        defs.sort_keys();
    }
    for (from, to) in &renames {
        rename_refs(
            schema,
            &format!("{DEF_PREFIX}{from}"),
            &format!("{DEF_PREFIX}{to}"),
        );
    }
}

fn rename_refs(value: &mut Value, from: &str, to: &str) {
    match value {
        Value::Object(map) => {
            if map.get("$ref").and_then(Value::as_str) == Some(from) {
                map.insert("$ref".into(), to.into());
            }
            map.values_mut().for_each(|v| rename_refs(v, from, to));
        }
        Value::Array(items) => items.iter_mut().for_each(|v| rename_refs(v, from, to)),
        _ => {}
    }
}

/// Whether a schema chooses among subschemas (an `Option`, a quantity's two forms).
fn has_branches(map: &Map<String, Value>) -> bool {
    ["anyOf", "oneOf", "allOf"]
        .iter()
        .any(|k| map.contains_key(*k))
}

/// The definition a `$ref` names.
fn def_name(schema: &Value) -> Option<String> {
    let reference = schema.get("$ref")?.as_str()?;
    let name = reference.strip_prefix(DEF_PREFIX)?;
    Some(name.replace("~1", "/").replace("~0", "~"))
}

/// Whether `null` is valid for `schema` already.
fn accepts_null(map: &Map<String, Value>) -> bool {
    let null = json!({"type": "null"});
    match map.get("type") {
        Some(Value::String(t)) => t == "null",
        Some(Value::Array(types)) => types.iter().any(|t| t == "null"),
        _ => ["anyOf", "oneOf"].iter().any(|k| {
            map.get(*k)
                .and_then(Value::as_array)
                .is_some_and(|branches| branches.contains(&null))
        }),
    }
}

/// `schema`, or `null`.
fn nullable(schema: Value) -> Value {
    let Value::Object(mut map) = schema else {
        return schema;
    };
    if accepts_null(&map) {
        return Value::Object(map);
    }
    let plain = !["enum", "const", "$ref", "anyOf", "oneOf", "allOf"]
        .iter()
        .any(|k| map.contains_key(*k));
    match map.get_mut("type") {
        Some(t @ Value::String(_)) if plain => {
            *t = json!([t.clone(), "null"]);
            return Value::Object(map);
        }
        _ => {}
    }
    let typed = map.contains_key("type");
    for key in ["anyOf", "oneOf"] {
        if let (Some(Value::Array(branches)), false) = (map.get_mut(key), typed) {
            branches.push(json!({"type": "null"}));
            return Value::Object(map);
        }
    }
    let mut outer = Map::new();
    for key in ANNOTATIONS {
        if let Some(value) = map.remove(*key) {
            outer.insert((*key).into(), value);
        }
    }
    outer.insert(
        "anyOf".into(),
        json!([Value::Object(map), {"type": "null"}]),
    );
    Value::Object(outer)
}

/// The definitions `schema` uses outside `$defs`, directly or through other definitions.
fn referenced(schema: &Value, defs: &Map<String, Value>) -> BTreeSet<String> {
    let mut todo = Vec::new();
    if let Value::Object(map) = schema {
        map.iter()
            .filter(|(k, _)| *k != DEFS)
            .for_each(|(_, v)| collect_refs(v, &mut todo));
    }
    let mut found = BTreeSet::new();
    while let Some(name) = todo.pop() {
        if let (Some(def), true) = (defs.get(&name), !found.contains(&name)) {
            found.insert(name);
            collect_refs(def, &mut todo);
        }
    }
    found
}

fn collect_refs(value: &Value, into: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            into.extend(def_name(value));
            map.values().for_each(|v| collect_refs(v, into));
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, into)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve<'a>(schema: &'a Value, root: &'a Value) -> &'a Value {
        match def_name(schema) {
            Some(name) => &root[DEFS][name.as_str()],
            None => schema,
        }
    }

    /// Calls `visit` on every subschema a layer reaches through mappings alone (not list items),
    /// references followed.
    fn each_in_layer(
        schema: &Value,
        root: &Value,
        seen: &mut BTreeSet<String>,
        visit: &mut dyn FnMut(&Value),
    ) {
        if let Some(name) = def_name(schema)
            && !seen.insert(name)
        {
            return;
        }
        let schema = resolve(schema, root);
        visit(schema);
        let mut next: Vec<&Value> = Vec::new();
        if let Some(Value::Object(properties)) = schema.get("properties") {
            next.extend(properties.values());
        }
        next.extend(schema.get("additionalProperties").filter(|v| v.is_object()));
        for key in ["anyOf", "oneOf", "allOf"] {
            next.extend(
                schema
                    .get(key)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten(),
            );
        }
        for inner in next {
            each_in_layer(inner, root, seen, visit);
        }
    }

    fn accepts_null_at(schema: &Value, root: &Value) -> bool {
        let schema = resolve(schema, root);
        schema.as_object().is_some_and(accepts_null)
    }

    #[test]
    fn a_layer_requires_no_key_and_takes_null_for_every_one() {
        let root = values_schema();
        assert_eq!(
            root["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert!(
            accepts_null_at(&root, &root),
            "an empty file is an empty layer"
        );
        let mut seen = BTreeSet::new();
        let mut keys = 0;
        each_in_layer(&root, &root, &mut seen, &mut |schema| {
            assert!(schema.get("required").is_none(), "{schema:#}");
            let properties = schema.get("properties").and_then(Value::as_object);
            for (key, property) in properties.into_iter().flatten() {
                keys += 1;
                assert!(accepts_null_at(property, &root), "{key}: {property:#}");
            }
        });
        assert!(keys > 100, "{keys}");
        assert!(
            seen.contains("PodValues") && seen.contains("SecretKeyRef"),
            "{seen:?}"
        );
    }

    #[test]
    fn each_key_carries_the_default_of_its_place() {
        let schema = values_schema();
        let at = |path: &str| {
            let pointer = path
                .split('.')
                .map(|key| format!("/properties/{key}"))
                .collect::<String>();
            schema.pointer(&format!("{pointer}/default")).cloned()
        };
        assert_eq!(at("master.ports.rpc"), Some(json!(7077)));
        assert_eq!(at("workers.ports.rpc"), Some(json!(7078)));
        assert_eq!(at("workers.replicas"), Some(json!(2)));
        assert_eq!(at("workers.resources.limits.memory"), Some(json!("4Gi")));
        assert_eq!(
            at("image.tag"),
            Some(json!(super::super::spec::DEFAULT_IMAGE.1))
        );
        assert_eq!(at("sparkConf"), Some(json!({})));
        // A mapping of keys of its own carries its default on each key instead.
        assert_eq!(at("master.ports"), None);
        let tls = &schema["$defs"]["TlsSpec"]["properties"];
        assert_eq!(tls["keystore"]["default"], "keystore.p12");
        assert_eq!(tls["ui"]["default"], true);
        let job = &schema["$defs"]["JobSpec"]["properties"];
        assert_eq!(job["backoffLimit"]["default"], 0);
        let limits = &job["resources"]["properties"]["limits"]["properties"];
        assert_eq!(limits["memory"]["default"], "1Gi");
    }

    #[test]
    fn list_items_keep_their_required_fields_and_no_key_is_unknown() {
        let schema = values_schema();
        let defs = &schema[DEFS];
        assert_eq!(
            defs["StorageSpec"]["required"],
            json!(["name", "mountPath"])
        );
        assert_eq!(
            defs["io.k8s.api.core.v1.Container"]["required"],
            json!(["name"])
        );
        let mut objects = 0;
        let mut refs = Vec::new();
        every_schema(&schema, &mut |s| {
            if s.get("properties").is_some() {
                objects += 1;
                assert_eq!(s.get("additionalProperties"), Some(&json!(false)), "{s:#}");
            }
            refs.extend(def_name(s));
        });
        assert!(objects > 100, "{objects}");
        for name in refs {
            assert!(defs.get(&name).is_some(), "{name} is not defined");
        }
    }

    fn every_schema(value: &Value, visit: &mut dyn FnMut(&Value)) {
        match value {
            Value::Object(map) => {
                visit(value);
                map.values().for_each(|v| every_schema(v, visit));
            }
            Value::Array(items) => items.iter().for_each(|v| every_schema(v, visit)),
            _ => {}
        }
    }

    #[test]
    fn kubernetes_types_take_null_for_an_optional_field_and_ints_or_strings() {
        let schema = values_schema();
        let defs = &schema[DEFS];
        let toleration = &defs["io.k8s.api.core.v1.Toleration"]["properties"];
        assert_eq!(toleration["value"]["type"], json!(["string", "null"]));
        let port = &defs["io.k8s.api.core.v1.ContainerPort"]["properties"]["containerPort"];
        assert_eq!(port["type"], "integer", "required: no null");
        assert_eq!(port["maximum"], i32::MAX);
        let int_or_string = &defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];
        assert_eq!(int_or_string["anyOf"][1], json!({"type": "string"}));
    }
}
