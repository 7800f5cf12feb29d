//! No value can change the structure of the output.
//!
//! For every user-supplied string field (values and map keys) and every hostile string, the
//! render either fails with a values error, or produces exactly the objects and keys that a
//! benign value produces, with the hostile text appearing verbatim where the benign text did.
//! Free-text fields (annotations, environment values, toleration values, Spark property values)
//! must accept the hostile text, so the property is exercised, not avoided.

use std::collections::BTreeSet;
use std::path::PathBuf;

use serde_json::Value;
use sparkup::Error;
use sparkup::render::{self, Format, RenderOptions};

const BENIGN: &str = "benign";

const HOSTILE: &[&str] = &[
    "a\nkind: Secret",
    "x\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: stolen",
    "\"quoted\" and 'single'",
    "{{ name }}",
    "{% for x in range(3) %}x{% endfor %}",
    "{# comment #}",
    "key: value",
    ": leading colon",
    "# not a comment",
    "- not a list",
    "[not, a, list]",
    "{not: a map}",
    "&anchor *alias",
    "!!binary aGk=",
    "trailing backslash \\",
    "line\u{2028}separator",
    "next\u{85}line",
    "del\u{7f}char",
    "tab\tseparated",
    "cr\rreturn",
    "null",
    "true",
    "~",
    "   spaces   ",
    "$(POD_IP)",
    "spark.master=local[*]",
    "ünïcödé ✓",
];

/// Where a benign or hostile value goes, and whether the field must accept any text.
struct Field {
    /// A `--set` path; the value is appended after `=`.
    path: &'static str,
    /// Other `--set`s the field needs to be meaningful (an entry's required siblings).
    with: &'static [&'static str],
    /// Free text: every hostile string without a control character must be accepted.
    free_text: bool,
    /// Spark properties also refuse control characters (a conf entry is one line).
    one_line: bool,
    /// Put before the value, for fields with a required form (a mount path is absolute).
    prefix: &'static str,
}

const FIELDS: &[Field] = &[
    free("annotations.note"),
    free("master.podAnnotations.note"),
    free("workers.podAnnotations.note"),
    free("master.service.annotations.note"),
    free("env.NOTE"),
    Field {
        path: "workers.tolerations[0].value",
        with: &["workers.tolerations[0].key=dedicated"],
        free_text: true,
        one_line: false,
        prefix: "",
    },
    Field {
        path: "sparkConf.spark.note",
        with: &[],
        free_text: true,
        one_line: true,
        prefix: "",
    },
    restricted("name"),
    restricted("namespace"),
    restricted("image.repository"),
    restricted("image.tag"),
    restricted("image.pullSecrets[0]"),
    restricted("serviceAccountName"),
    restricted("labels.team"),
    restricted("workers.nodeSelector.disk"),
    restricted("master.podLabels.team"),
    Field {
        path: "envFrom[0].secret",
        with: &[],
        free_text: false,
        one_line: false,
        prefix: "",
    },
    Field {
        path: "storage[0].mountPath",
        with: &["storage[0].name=data", "storage[0].size=1Gi"],
        free_text: false,
        one_line: false,
        prefix: "/data/",
    },
    Field {
        path: "storage[0].storageClassName",
        with: &[
            "storage[0].name=data",
            "storage[0].size=1Gi",
            "storage[0].mountPath=/data",
        ],
        free_text: false,
        one_line: false,
        prefix: "",
    },
    Field {
        path: "workers.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey",
        with: &[],
        free_text: false,
        one_line: false,
        prefix: "",
    },
];

const fn free(path: &'static str) -> Field {
    Field {
        path,
        with: &[],
        free_text: true,
        one_line: false,
        prefix: "",
    }
}

const fn restricted(path: &'static str) -> Field {
    Field {
        path,
        with: &[],
        free_text: false,
        one_line: false,
        prefix: "",
    }
}

/// Renders to a JSON List, or the values error that stopped it.
fn render(sets: Vec<String>, files: Vec<PathBuf>) -> Result<Value, Error> {
    let cluster = crate::common::try_load("default", files, &sets)?;
    let objects = render::render(&cluster, &RenderOptions::default())?;
    let text = render::format_all(&objects, Format::Json)?;
    Ok(serde_json::from_str(&text).expect("sparkup prints valid JSON"))
}

/// Every key path in the output, with list positions: the output's structure.
fn shape(value: &Value, path: String, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{path}/{k}");
                out.insert(p.clone());
                shape(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{path}/{i}");
                out.insert(p.clone());
                shape(v, p, out);
            }
        }
        _ => {}
    }
}

fn shape_of(value: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    shape(value, String::new(), &mut out);
    out
}

/// Paths whose string value contains `needle`.
fn paths_containing(value: &Value, needle: &str, path: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| paths_containing(v, needle, format!("{path}/{k}"), out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| paths_containing(v, needle, format!("{path}/{i}"), out)),
        Value::String(s) if s.contains(needle) => out.push(path),
        _ => {}
    }
}

/// The property names in every rendered spark-defaults.conf.
fn conf_keys(list: &Value) -> Vec<String> {
    let mut keys = Vec::new();
    for item in list["items"].as_array().expect("a List") {
        if let Some(conf) = item
            .pointer("/data/spark-defaults.conf")
            .and_then(Value::as_str)
        {
            for line in conf.lines().filter(|l| !l.starts_with('#')) {
                keys.push(line.split(' ').next().unwrap_or_default().to_owned());
            }
        }
    }
    keys
}

fn sets_for(field: &Field, value: &str) -> Vec<String> {
    let mut sets: Vec<String> = field.with.iter().map(|s| s.to_string()).collect();
    sets.push(format!("{}={}{value}", field.path, field.prefix));
    sets
}

fn is_values_error(e: &Error) -> bool {
    matches!(e, Error::Values(_) | Error::Source { .. })
}

#[test]
fn hostile_values_never_change_the_structure() {
    let mut accepted = 0;
    for field in FIELDS {
        let baseline = render(sets_for(field, BENIGN), vec![])
            .unwrap_or_else(|e| panic!("{}: benign value rejected: {e}", field.path));
        let mut benign_paths = Vec::new();
        paths_containing(&baseline, BENIGN, String::new(), &mut benign_paths);
        assert!(
            !benign_paths.is_empty(),
            "{}: value not rendered",
            field.path
        );

        // `--set path=null` means "back to the default" by design; every other text is data.
        for hostile in HOSTILE.iter().filter(|h| **h != "null") {
            let case = format!("{} = {hostile:?}", field.path);
            let has_control = hostile.chars().any(char::is_control);
            match render(sets_for(field, hostile), vec![]) {
                Err(e) => {
                    assert!(is_values_error(&e), "{case}: not a values error: {e}");
                    let must_accept = field.free_text && !(field.one_line && has_control);
                    assert!(!must_accept, "{case}: free text rejected: {e}");
                }
                Ok(out) => {
                    accepted += 1;
                    assert_eq!(
                        shape_of(&out),
                        shape_of(&baseline),
                        "{case}: structure changed"
                    );
                    assert_eq!(
                        conf_keys(&out),
                        conf_keys(&baseline),
                        "{case}: conf lines changed"
                    );
                    if field.path.starts_with("sparkConf.") {
                        let expected = hostile.replace('\\', "\\\\");
                        let line = format!("spark.note {expected}\n");
                        let conf = out["items"][0]["data"]["spark-defaults.conf"]
                            .as_str()
                            .unwrap_or("");
                        assert!(conf.contains(&line), "{case}: conf is {conf:?}");
                    } else {
                        // Every string the benign value went into holds the hostile text
                        // instead, as the process receives it: the kubelet turns `$$` in a
                        // container's arguments and variables into `$` (and expands `$(VAR)`,
                        // which is why sparkup doubles every `$` there).
                        for path in &benign_paths {
                            let before = baseline.pointer(path).and_then(Value::as_str);
                            let expected = before.map(|s| s.replace(BENIGN, hostile));
                            let rendered = out.pointer(path).and_then(Value::as_str);
                            let received = rendered.map(|r| match kubelet_expands(path) {
                                true => {
                                    assert!(!r.contains("$(") || r.contains("$$("), "{case}: {r}");
                                    r.replace("$$", "$")
                                }
                                false => r.to_string(),
                            });
                            assert_eq!(
                                received.as_deref(),
                                expected.as_deref(),
                                "{case}: at {path}"
                            );
                        }
                    }
                }
            }
        }
    }
    println!("{accepted} hostile values rendered with an unchanged structure");
    assert!(
        accepted > 100,
        "only {accepted} hostile values were rendered"
    );
}

/// Whether the kubelet expands `$(VAR)` in the string at this path: a container's arguments,
/// command and variable values.
fn kubelet_expands(path: &str) -> bool {
    let in_container = path.contains("/containers/") || path.contains("/initContainers/");
    in_container
        && (path.contains("/args/") || path.contains("/command/") || path.contains("/env/"))
}

#[test]
fn hostile_map_keys_are_rejected() {
    let dir = crate::common::scratch("injection");
    let maps = [
        "annotations",
        "labels",
        "sparkConf",
        "env",
        "master.podAnnotations",
        "workers.nodeSelector",
        "master.service.annotations",
    ];
    for map in maps {
        for hostile in HOSTILE
            .iter()
            .filter(|h| **h != "null" && **h != "true" && **h != "~")
        {
            // JSON is YAML: the key reaches sparkup exactly as written.
            let mut doc = serde_json::json!({ hostile.to_string(): "v" });
            for part in map.rsplit('.') {
                doc = serde_json::json!({ part: doc });
            }
            let file = dir.join("values.yaml");
            std::fs::write(&file, doc.to_string()).unwrap();
            match render(vec![], vec![file]) {
                Err(e) => assert!(is_values_error(&e), "{map} key {hostile:?}: {e}"),
                Ok(_) => panic!("{map} key {hostile:?} was accepted"),
            }
        }
    }
    std::fs::remove_dir_all(&dir).ok();
}
