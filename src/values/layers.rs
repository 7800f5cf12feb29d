//! Reading one layer of values (a profile, a file, standard input) and merging it into the tree.
//!
//! Maps merge key by key, lists are replaced whole, and `null` puts the built-in default back.

use std::io::Read;
use std::path::Path;

use serde_json::{Map, Value};

use super::tree::{describe, parse_values};
use crate::error::Error;

/// The largest values file read; a bigger one is surely not a values file.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Reads a values file (`-` is standard input) and parses it into one mapping.
pub(super) fn read(path: &Path) -> Result<Value, Error> {
    let (bytes, origin) = if path == Path::new("-") {
        let origin = "values from standard input".to_string();
        let bytes = read_bounded(std::io::stdin(), "standard input")?;
        (bytes, origin)
    } else {
        let origin = format!("values file {}", path.display());
        let file = std::fs::File::open(path).map_err(|e| Error::source(&origin, e))?;
        (read_bounded(file, &origin)?, origin)
    };
    parse_document(&into_text(bytes, &origin)?, &origin)
}

fn read_bounded(source: impl Read, origin: &str) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::new();
    source
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::source(origin, e))?;
    Ok(bytes)
}

fn into_text(bytes: Vec<u8>, origin: &str) -> Result<String, Error> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Error::source(
            origin,
            format!(
                "larger than {} MiB: expected a values file",
                MAX_FILE_BYTES >> 20
            ),
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        Error::source(
            origin,
            format!(
                "not UTF-8 text (byte {}): expected YAML",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

/// Parses one YAML document that must be a mapping (an empty document is an empty mapping).
pub(super) fn parse_document(text: &str, origin: &str) -> Result<Value, Error> {
    if text.contains('\0') {
        return Err(Error::source(
            origin,
            "contains a NUL byte: expected YAML text",
        ));
    }
    let mut docs = parse_values(text).map_err(|e| Error::source(origin, e))?;
    if docs.len() > 1 {
        return Err(Error::source(
            origin,
            format!(
                "{} YAML documents: expected one mapping of values",
                docs.len()
            ),
        ));
    }
    match docs.pop() {
        None | Some(Value::Null) => Ok(Value::Object(Map::new())),
        Some(map @ Value::Object(_)) => Ok(map),
        Some(other) => Err(Error::source(
            origin,
            format!(
                "the document is {}: expected a mapping of values",
                describe(&other)
            ),
        )),
    }
}

/// Merges `layer` into `merged`. A `null` in the layer restores the built-in default found at the
/// same place in `base`, or removes the key where there is none.
pub(super) fn merge(merged: &mut Value, layer: Value, base: Option<&Value>) {
    match (merged, layer) {
        (Value::Object(into), Value::Object(from)) => {
            for (key, value) in from {
                let base_child = base.and_then(|b| b.get(&key));
                if value.is_null() {
                    match base_child {
                        Some(default) => into.insert(key, default.clone()),
                        None => into.shift_remove(&key),
                    };
                    continue;
                }
                match into.get_mut(&key) {
                    Some(existing) => merge(existing, value, base_child),
                    None => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}
