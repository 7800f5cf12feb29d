//! The JSON Schema `sparkup schema` prints, held to what `sparkup` itself accepts.
//!
//! With `check-jsonschema` (PyPI, 0.39.0; `.ci/run` installs it): the schema is a valid 2020-12
//! schema; every built-in profile and valid fixture validates; every invalid fixture whose error is
//! one of shape (an unknown key, a wrong type, a value its type cannot hold) fails it, and every
//! other one validates, since what it breaks is a rule only `load` checks; hand-made layers get
//! the same verdict from both; quantities are read as `Quantity::parse` reads them. Those tests are
//! ignored by a plain `cargo test`. The top-level shape is a snapshot and needs nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Value, json};
use sparkup::values::quantity::{Quantity, QuantityError};

use crate::common::{scratch, sparkup};

const TOOL: &str = "check-jsonschema on PATH (pip install check-jsonschema==0.39.0)";

/// Invalid fixtures refused because of their shape: each must fail the schema.
const SHAPE_ERRORS: &[&str] = &[
    "affinity-missing-operator",
    "affinity-typo",
    "anti-affinity-unknown",
    "autoscaling-mode-unknown",
    "document-is-a-list",
    "document-is-a-scalar",
    "image-tag-number",
    "name-not-a-string",
    "pod-container-typo",
    "port-too-large",
    "pull-policy-lowercase",
    "quantity-bad-suffix",
    "quantity-list",
    "quantity-lowercase-suffix",
    "quantity-negative",
    "replicas-float",
    "replicas-negative",
    "replicas-not-a-number",
    "service-type-unknown",
    "spark-conf-value-number",
    "storage-access-mode-unknown",
    "storage-not-a-list",
    "toleration-typo",
    "unknown-nested-key",
    "unknown-top-level-key",
    "worker-limits-not-a-map",
    "workload-kind-unknown",
];

/// Invalid fixtures refused while the YAML is read, before there are values to check: not the
/// schema's to judge (and some are no YAML another reader takes).
const UNREADABLE: &[&str] = &[
    "alias-bomb",
    "binary-garbage",
    "deep-nesting",
    "duplicate-keys",
    "non-string-key",
    "nul-byte",
    "two-documents",
    "yaml-binary-tag",
    "yaml-custom-tag",
    "yaml-syntax-error",
];

fn fixtures(dir: &str) -> BTreeMap<String, PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| (p.file_stem().unwrap().to_string_lossy().into_owned(), p))
        .collect()
}

/// The printed schema, parsed.
fn schema() -> Value {
    let run = sparkup(&["schema"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    serde_json::from_str(&run.stdout).expect("the schema is JSON")
}

/// The printed schema in a file of `dir`.
fn schema_file(dir: &Path) -> PathBuf {
    let file = dir.join("values.schema.json");
    std::fs::write(&file, sparkup(&["schema"]).stdout).unwrap();
    file
}

/// The files check-jsonschema refuses against `schema`, each with the paths of its errors.
fn refused(schema: &Path, files: &[PathBuf]) -> BTreeMap<PathBuf, Vec<String>> {
    let out = Command::new("check-jsonschema")
        .args(["--output-format", "json", "--schemafile"])
        .arg(schema)
        .args(files)
        .output()
        .expect(TOOL);
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("{e}: {}", String::from_utf8_lossy(&out.stderr));
    });
    let unparsed = report.get("parse_errors").and_then(Value::as_array);
    assert!(unparsed.is_none_or(Vec::is_empty), "{report:#}");
    let mut failed: BTreeMap<PathBuf, Vec<String>> = BTreeMap::new();
    for error in report["errors"].as_array().into_iter().flatten() {
        let file = PathBuf::from(error["filename"].as_str().unwrap());
        let path = error["path"].as_str().unwrap().to_string();
        failed.entry(file).or_default().push(path);
    }
    failed
}

/// Each top-level key: what it takes, its default, what it means; then the definitions.
#[test]
fn the_top_level_shape_is_its_snapshot() {
    let schema = schema();
    let mut text = format!(
        "$schema: {}\ntype: {}\nadditionalProperties: {}\n\n",
        schema["$schema"], schema["type"], schema["additionalProperties"]
    );
    for (key, property) in schema["properties"].as_object().unwrap() {
        text.push_str(&format!("{key}: {}", shape(property)));
        if let Some(default) = property.get("default") {
            text.push_str(&format!(" = {default}"));
        }
        if let Some(Value::String(about)) = property.get("description") {
            text.push_str(&format!("\n    {}", about.replace('\n', " ")));
        }
        text.push('\n');
    }
    let defs = schema["$defs"].as_object().unwrap();
    let (kubernetes, own): (Vec<&String>, Vec<&String>) =
        defs.keys().partition(|k| k.starts_with("io.k8s."));
    text.push_str(&format!(
        "\n$defs: {own:?}\nand {} of Kubernetes\n",
        kubernetes.len()
    ));
    insta::assert_snapshot!(text);
}

/// `string | null`, `PodValues | null`, `object | null (keys: a, b)`, `object (map of string)`.
fn shape(schema: &Value) -> String {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        return reference.trim_start_matches("#/$defs/").to_string();
    }
    let mut parts: Vec<String> = match &schema["type"] {
        Value::String(t) => vec![t.clone()],
        Value::Array(types) => types.iter().map(|t| t.as_str().unwrap().into()).collect(),
        _ => Vec::new(),
    };
    for key in ["anyOf", "oneOf"] {
        parts.extend(schema[key].as_array().into_iter().flatten().map(shape));
    }
    let mut text = parts.join(" | ");
    if let Some(Value::Object(properties)) = schema.get("properties") {
        let keys: Vec<&str> = properties.keys().map(String::as_str).collect();
        text.push_str(&format!(" (keys: {})", keys.join(", ")));
    }
    if let Some(extra @ Value::Object(_)) = schema.get("additionalProperties") {
        text.push_str(&format!(" (map of {})", shape(extra)));
    }
    text
}

#[test]
fn the_schema_prints_as_json_or_as_the_same_in_yaml() {
    let json = schema();
    let run = sparkup(&["schema", "-o", "yaml"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let yaml: Value = serde_saphyr::from_str(&run.stdout).expect("the schema is YAML");
    assert_eq!(yaml, json);
    assert_eq!(schema(), json, "the same every time");
}

#[test]
#[ignore = "needs check-jsonschema; run by the README's test command"]
fn the_schema_is_a_valid_2020_12_schema() {
    let dir = scratch("jsonschema-meta");
    let file = schema_file(&dir);
    let out = Command::new("check-jsonschema")
        .arg("--check-metaschema")
        .arg(&file)
        .output()
        .expect(TOOL);
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        schema()["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
}

#[test]
#[ignore = "needs check-jsonschema; run by the README's test command"]
fn every_profile_and_valid_fixture_validates() {
    let dir = scratch("jsonschema-valid");
    let profiles = fixtures("profiles");
    let valid = fixtures("tests/suite/fixtures/valid");
    assert_eq!(profiles.len(), sparkup::values::profiles::names().count());
    assert!(valid.len() >= 6, "{valid:?}");
    let files: Vec<PathBuf> = profiles.values().chain(valid.values()).cloned().collect();
    let refused = refused(&schema_file(&dir), &files);
    assert!(refused.is_empty(), "{refused:#?}");
}

/// A shape error fails the schema; an error only `load`'s rules find (a name, a size, a port
/// collision, two fields that do not go together) passes it: the schema is no stricter than
/// the types.
#[test]
#[ignore = "needs check-jsonschema; run by the README's test command"]
fn every_shape_error_fails_the_schema_and_every_rule_error_passes_it() {
    let dir = scratch("jsonschema-invalid");
    let invalid = fixtures("tests/suite/fixtures/invalid");
    for name in SHAPE_ERRORS.iter().chain(UNREADABLE) {
        assert!(invalid.contains_key(*name), "no fixture {name}.yaml");
    }
    let readable: Vec<PathBuf> = invalid
        .iter()
        .filter(|(name, _)| !UNREADABLE.contains(&name.as_str()))
        .map(|(_, path)| path.clone())
        .collect();
    let refused = refused(&schema_file(&dir), &readable);
    let mut wrong = Vec::new();
    for (name, path) in &invalid {
        let shape = SHAPE_ERRORS.contains(&name.as_str());
        let failed = refused.get(path);
        match (shape, failed) {
            (true, None) => wrong.push(format!("{name}: a shape error the schema lets through")),
            (false, Some(paths)) if !UNREADABLE.contains(&name.as_str()) => {
                wrong.push(format!("{name}: refused by the schema at {paths:?}"))
            }
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    let rules = invalid.len() - SHAPE_ERRORS.len() - UNREADABLE.len();
    assert!(rules > 60, "{rules}");
}

/// Layers whose verdict is one of shape, each with whether `sparkup` takes it: `null` where the
/// merge puts a default back, `null` in a list item, both forms of a Secret's key, quantities as
/// numbers, the bounds of Kubernetes' integers.
const LAYERS: &[(&str, &str, bool)] = &[
    ("empty", "", true),
    ("null-top-level", "name: null\nmaster: null\n", true),
    (
        "null-nested",
        "master: {ports: null, resources: {limits: {cpu: null}}}\n",
        true,
    ),
    (
        "null-map-entry",
        "sparkConf: {spark.a.b: null}\njobs: {etl: null}\n",
        true,
    ),
    (
        "null-optional-in-list",
        "storage: [{name: d, mountPath: /d, size: 1Gi, storageClassName: null}]\n",
        true,
    ),
    (
        "null-kubernetes-optional",
        "workers: {tolerations: [{key: a, operator: Equal, value: null, effect: NoSchedule}]}\n",
        true,
    ),
    ("null-in-a-list", "image: {pullSecrets: [null]}\n", false),
    (
        "null-not-optional-in-list",
        "storage: [{name: d, mountPath: /d, size: 1Gi, readOnly: null}]\n",
        false,
    ),
    (
        "secret-text",
        "secretConf: {spark.hadoop.fs.s3a.access.key: s3/access}\n",
        true,
    ),
    (
        "secret-mapping",
        "secretConf: {spark.hadoop.fs.s3a.access.key: {secret: s3, key: access}}\n",
        true,
    ),
    (
        "secret-text-without-slash",
        "secretConf: {spark.hadoop.fs.s3a.access.key: s3}\n",
        false,
    ),
    (
        "secret-number",
        "secretConf: {spark.hadoop.fs.s3a.access.key: 3}\n",
        false,
    ),
    (
        "secret-mapping-extra-key",
        "secretConf: {spark.hadoop.fs.s3a.access.key: {secret: s3, key: a, b: c}}\n",
        false,
    ),
    (
        "quantity-numbers",
        "master: {resources: {limits: {cpu: 1.5, memory: 2147483648}}}\n",
        true,
    ),
    (
        "quantity-exponent",
        "master: {resources: {limits: {memory: 2e9}}}\n",
        true,
    ),
    (
        "quantity-negative-number",
        "master: {resources: {limits: {cpu: -1}}}\n",
        false,
    ),
    ("port-fraction", "master: {ports: {rpc: 7077.5}}\n", false),
    (
        "kubernetes-type",
        "workers: {tolerations: [{key: a, operator: Equal, value: 3}]}\n",
        false,
    ),
    (
        "kubernetes-int32",
        "pod: {extraPorts: [{name: jmx, containerPort: 3000000000}]}\n",
        false,
    ),
    (
        "kubernetes-int-or-string",
        "pod: {lifecycle: {postStart: {httpGet: {port: metrics}}}}\n",
        true,
    ),
    (
        "kubernetes-int-or-string-list",
        "pod: {lifecycle: {postStart: {httpGet: {port: [1]}}}}\n",
        false,
    ),
    (
        "enum-null",
        "workers: {antiAffinity: null, kind: null}\n",
        true,
    ),
];

#[test]
#[ignore = "needs check-jsonschema; run by the README's test command"]
fn the_schema_and_sparkup_agree_on_nulls_forms_and_types() {
    let dir = scratch("jsonschema-layers");
    let mut files = Vec::new();
    let mut wrong = Vec::new();
    for (name, text, ok) in LAYERS {
        let file = dir.join(format!("{name}.yaml"));
        std::fs::write(&file, text).unwrap();
        let run = sparkup(&["values", "-f", file.to_str().unwrap()]);
        if (run.code == Some(0)) != *ok {
            wrong.push(format!(
                "{name}: sparkup says {:?}: {}",
                run.code, run.stderr
            ));
        }
        files.push(file);
    }
    let refused = refused(&schema_file(&dir), &files);
    for ((name, _, ok), file) in LAYERS.iter().zip(&files) {
        let failed = refused.get(file);
        if failed.is_none() != *ok {
            wrong.push(format!("{name}: the schema says {failed:?}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// Every text `Quantity::parse` reads matches the schema's pattern, and no text it refuses as no
/// quantity or a negative one does. How large or how fine a quantity may be is the parser's to
/// say (a pattern says it only of an exponent), so those texts may go either way.
#[test]
#[ignore = "needs check-jsonschema; run by the README's test command"]
fn quantities_are_read_as_the_parser_reads_them() {
    let numbers = [
        "0", "1", "+1", "007", "1.", ".5", "1.5", "", ".", "-1", "1.2.3", "+", "1,5", "\u{661}",
    ];
    let suffixes = [
        "", "m", "n", "u", "k", "M", "E", "Ki", "Mi", "Ei", "e3", "E3", "e+3", "e-3", "e030",
        "e30", "e-30", "e31", "e-31", "e", "E+", "ki", "i", "x", " Gi", "Gi ", "KiB",
    ];
    let mut texts: Vec<String> = numbers
        .iter()
        .flat_map(|n| suffixes.iter().map(move |s| format!("{n}{s}")))
        .collect();
    texts.extend([
        "9".repeat(40),
        "99999999999Ei".into(),
        "+-1".into(),
        "1e2147483648".into(),
    ]);
    let mut expected: Vec<Option<bool>> = texts
        .iter()
        .map(|t| match Quantity::parse(t) {
            Ok(_) => Some(true),
            Err(QuantityError::TooLarge | QuantityError::TooPrecise) => None,
            Err(QuantityError::Syntax | QuantityError::Negative) => Some(false),
        })
        .collect();
    let mut instance: Vec<Value> = texts.iter().map(|t| json!(t)).collect();
    for (number, ok) in [
        (json!(0), true),
        (json!(2.5), true),
        (json!(1000), true),
        (json!(-1), false),
        (json!(-0.5), false),
    ] {
        instance.push(number);
        expected.push(Some(ok));
    }
    let dir = scratch("jsonschema-quantities");
    let defs = schema()["$defs"].clone();
    let wrapper = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$defs": defs,
        "type": "array",
        "items": {"$ref": "#/$defs/Quantity"}
    });
    let schema_file = dir.join("quantities.schema.json");
    std::fs::write(&schema_file, wrapper.to_string()).unwrap();
    let file = dir.join("quantities.json");
    std::fs::write(&file, Value::Array(instance.clone()).to_string()).unwrap();
    let refused = refused(&schema_file, std::slice::from_ref(&file));
    let refused: Vec<&String> = refused.get(&file).into_iter().flatten().collect();
    let mut wrong = Vec::new();
    for (i, (value, ok)) in instance.iter().zip(&expected).enumerate() {
        let by_schema = !refused.contains(&&format!("$[{i}]"));
        if ok.is_some_and(|ok| ok != by_schema) {
            wrong.push(format!("{value}: parser {ok:?}, schema {by_schema}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
    assert!(expected.iter().filter(|ok| **ok == Some(true)).count() > 50);
}
