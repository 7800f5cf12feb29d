//! Printing objects: multi-document YAML or a JSON `List`, to stdout or one file per object.
//!
//! Output is byte-for-byte deterministic for the same input, so it can be committed, diffed and
//! reviewed. It is meant to be applied, so Secrets are written exactly as rendered: masking them
//! here would turn `sparkup render | kubectl apply -f -` into a Secret whose data is `***`.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::manifests::Object;
use crate::error::Error;

/// First line of every `kustomization.yaml` sparkup writes: marks a folder as sparkup's to rewrite.
const KUSTOMIZATION_HEADER: &str =
    "# Written by sparkup render --output-dir; rewritten on every render.";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

pub fn to_yaml(value: &Value) -> Result<String, Error> {
    serde_saphyr::to_string(value).map_err(|e| Error::manifest("output", e))
}

/// Every object as one YAML stream (documents separated by `---`) or one JSON `List`.
pub fn format_all(objects: &[Object], format: Format) -> Result<String, Error> {
    match format {
        Format::Yaml => {
            let mut out = String::new();
            for object in objects {
                out.push_str("---\n");
                out.push_str(&to_yaml(&object.value)?);
            }
            Ok(out)
        }
        Format::Json => {
            let items: Vec<&Value> = objects.iter().map(|o| &o.value).collect();
            let list = serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": items });
            let mut text =
                serde_json::to_string_pretty(&list).map_err(|e| Error::manifest("output", e))?;
            text.push('\n');
            Ok(text)
        }
    }
}

/// File name of an object in an output folder: its apply position, kind and name.
fn file_name(index: usize, object: &Object, format: Format) -> String {
    let ext = match format {
        Format::Yaml => "yaml",
        Format::Json => "json",
    };
    format!(
        "{:02}-{}-{}.{ext}",
        index + 1,
        object.kind.to_ascii_lowercase(),
        object.name
    )
}

/// Writes one file per object and a `kustomization.yaml` listing them in apply order, so
/// `kubectl apply -k DIR` and GitOps tools can take the folder. Files from sparkup's previous
/// render into the same folder are removed first; a folder with other content is refused.
pub fn write_dir(dir: &Path, objects: &[Object], format: Format) -> Result<Vec<String>, Error> {
    let origin = || format!("output folder {}", dir.display());
    remove_previous_render(dir).map_err(|e| Error::source(origin(), e))?;
    std::fs::create_dir_all(dir).map_err(|e| Error::source(origin(), e))?;
    let mut names = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        let name = file_name(i, object, format);
        let value = &object.value;
        let text = match format {
            Format::Yaml => to_yaml(value)?,
            Format::Json => {
                serde_json::to_string_pretty(value).map_err(|e| Error::manifest(object.id(), e))?
                    + "\n"
            }
        };
        std::fs::write(dir.join(&name), text).map_err(|e| Error::source(origin(), e))?;
        names.push(name);
    }
    let mut kustomization = format!(
        "{KUSTOMIZATION_HEADER}\napiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n"
    );
    for name in &names {
        let _ = writeln!(kustomization, "  - {name}");
    }
    std::fs::write(dir.join("kustomization.yaml"), kustomization)
        .map_err(|e| Error::source(origin(), e))?;
    Ok(names)
}

/// Removes what the previous render wrote, as its kustomization lists it. A folder holding
/// anything else is refused before a file is touched: `kubectl apply -f DIR` would apply a
/// stranger's file along with the render.
fn remove_previous_render(dir: &Path) -> Result<(), String> {
    let entries: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e.to_string()),
    };
    if entries.is_empty() {
        return Ok(());
    }
    let text = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap_or_default();
    if !text.starts_with(KUSTOMIZATION_HEADER) {
        return Err("the folder is not empty and was not written by sparkup: expected an empty or new folder".into());
    }
    let written: Vec<&str> = text
        .lines()
        .filter_map(|line| line.strip_prefix("  - "))
        .filter(|name| !name.contains('/') && !name.starts_with('.'))
        .collect();
    let mut foreign: Vec<&String> = entries
        .iter()
        .filter(|e| *e != "kustomization.yaml" && !written.contains(&e.as_str()))
        .collect();
    if !foreign.is_empty() {
        foreign.sort();
        let names: Vec<&str> = foreign.iter().map(|s| s.as_str()).collect();
        return Err(format!(
            "the folder holds files sparkup did not write ({}): expected only a previous \
             render's files; move them away, or render into another folder",
            names.join(", ")
        ));
    }
    for name in written {
        match std::fs::remove_file(dir.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.to_string()),
            _ => {}
        }
    }
    Ok(())
}
