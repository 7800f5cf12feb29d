//! From the user's layers to one typed, validated [`ClusterSpec`].
//!
//! Layers, lowest first: the built-in defaults, the chosen profile, each `-f` file, each `--set`.
//! Maps merge key by key, lists are replaced whole, and `null` puts the built-in default back.
//! Nothing after this stage looks at user input again: templates trust what comes out of here.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::error::{Error, ValueError};
use crate::node::{Node, NodeDeserializer, quote_for_message};
use crate::overrides::{Segment, SetExpr};
use crate::profiles;
use crate::sizing::{self, Sizing};
use crate::spec::ClusterSpec;
use crate::validate;

/// The largest values file read; a bigger one is surely not a values file.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Where the values come from, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct ValuesOptions {
    pub profile: String,
    /// `-f` files in order; `-` reads standard input.
    pub files: Vec<PathBuf>,
    /// `--set path=value` expressions in order.
    pub sets: Vec<String>,
}

/// A validated spec with the settings derived from it: everything later stages need.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub spec: ClusterSpec,
    pub sizing: Sizing,
}

/// Merges every layer and returns the validated cluster.
pub fn load(opts: &ValuesOptions) -> Result<Cluster, Error> {
    let base = Node::from_serialize(&ClusterSpec::default());
    let mut merged = base.clone();

    let profile = profiles::get(&opts.profile)?;
    let origin = format!("profile {}", opts.profile);
    merge_layer(&mut merged, parse_document(profile, &origin)?, &base);

    for file in &opts.files {
        let (text, origin) = read_file(file)?;
        merge_layer(&mut merged, parse_document(&text, &origin)?, &base);
    }
    for expr in &opts.sets {
        let set = SetExpr::parse(expr)?;
        apply_set(&mut merged, &set, &base).map_err(|detail| {
            Error::source(format!("--set {}", quote_for_message(expr)), detail)
        })?;
    }
    typed(&merged)
}

/// Types a merged tree and checks every rule.
pub fn typed(tree: &Node) -> Result<Cluster, Error> {
    let spec: ClusterSpec =
        serde_path_to_error::deserialize(NodeDeserializer(tree)).map_err(|e| {
            let path = e.path().to_string();
            ValueError::new(path, e.into_inner().0)
        })?;
    let mut problems = validate::check(&spec, tree);
    let sizing = sizing::compute(&spec).map_err(|e| problems.extend(e)).ok();
    match sizing {
        Some(sizing) if problems.is_empty() => Ok(Cluster { spec, sizing }),
        _ => Err(Error::Values(problems)),
    }
}

fn read_file(path: &Path) -> Result<(String, String), Error> {
    if path == Path::new("-") {
        let mut bytes = Vec::new();
        std::io::stdin()
            .take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| Error::source("standard input", e))?;
        let origin = "values from standard input".to_string();
        return Ok((into_text(bytes, &origin)?, origin));
    }
    let origin = format!("values file {}", path.display());
    let file = std::fs::File::open(path).map_err(|e| Error::source(&origin, e))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::source(&origin, e))?;
    Ok((into_text(bytes, &origin)?, origin))
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
pub fn parse_document(text: &str, origin: &str) -> Result<Node, Error> {
    if text.contains('\0') {
        return Err(Error::source(
            origin,
            "contains a NUL byte: expected YAML text",
        ));
    }
    let mut docs: Vec<Node> =
        crate::node::parse_yaml(text).map_err(|e| Error::source(origin, e))?;
    if docs.len() > 1 {
        return Err(Error::source(
            origin,
            format!(
                "{} YAML documents: expected one mapping of values",
                docs.len()
            ),
        ));
    }
    let node = docs.pop();
    match node {
        None | Some(Node::Null) => Ok(Node::Map(Default::default())),
        Some(map @ Node::Map(_)) => Ok(map),
        Some(other) => Err(Error::source(
            origin,
            format!(
                "the document is {}: expected a mapping of values",
                other.describe()
            ),
        )),
    }
}

/// Merges `layer` into `merged`. A `null` in the layer restores the built-in default found at the
/// same place in `base`, or removes the key where there is none.
fn merge_layer(merged: &mut Node, layer: Node, base: &Node) {
    merge_at(merged, layer, Some(base));
}

fn merge_at(merged: &mut Node, layer: Node, base: Option<&Node>) {
    match (merged, layer) {
        (Node::Map(into), Node::Map(from)) => {
            for (key, value) in from {
                let base_child = base.and_then(|b| b.get_path(&[&key]));
                if value == Node::Null {
                    match base_child {
                        Some(default) => into.insert(key, default.clone()),
                        None => into.remove(&key),
                    };
                    continue;
                }
                match into.get_mut(&key) {
                    Some(existing) => merge_at(existing, value, base_child),
                    None => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (slot, value) => *slot = value,
    }
}

/// Applies one `--set` to the merged tree, creating maps and appending list items as needed.
fn apply_set(merged: &mut Node, set: &SetExpr, base: &Node) -> Result<(), String> {
    let mut node = merged;
    let mut base_node = Some(base);
    let (last, parents) = set.path.split_last().expect("a --set path is never empty");
    for segment in parents {
        base_node = base_node.and_then(|b| child(b, segment));
        node = step(node, segment)?;
    }
    let default = base_node.and_then(|b| child(b, last)).cloned();
    make_container(node, last);
    match (node, last) {
        (Node::Map(map), Segment::Key(key)) => {
            match (&set.value, default) {
                (Node::Null, Some(default)) => map.insert(key.clone(), default),
                (Node::Null, None) => map.remove(key),
                (value, _) => map.insert(key.clone(), value.clone()),
            };
            Ok(())
        }
        (Node::Seq(items), Segment::Index(i)) => {
            let value = set.value.clone();
            match i.cmp(&items.len()) {
                std::cmp::Ordering::Less => items[*i] = value,
                std::cmp::Ordering::Equal => items.push(value),
                std::cmp::Ordering::Greater => return Err(index_error(*i, items.len())),
            }
            Ok(())
        }
        (other, segment) => Err(mismatch(other, segment)),
    }
}

fn child<'a>(node: &'a Node, segment: &Segment) -> Option<&'a Node> {
    match (node, segment) {
        (Node::Map(map), Segment::Key(key)) => map.get(key),
        (Node::Seq(items), Segment::Index(i)) => items.get(*i),
        _ => None,
    }
}

/// Turns a null (a key that was just created) into the container `segment` indexes.
fn make_container(node: &mut Node, segment: &Segment) {
    if matches!(node, Node::Null) {
        *node = match segment {
            Segment::Key(_) => Node::Map(Default::default()),
            Segment::Index(_) => Node::Seq(Vec::new()),
        };
    }
}

/// Descends one segment, creating the container the next segment needs.
fn step<'a>(node: &'a mut Node, segment: &Segment) -> Result<&'a mut Node, String> {
    make_container(node, segment);
    match (node, segment) {
        (Node::Map(map), Segment::Key(key)) => Ok(map.entry(key.clone()).or_insert(Node::Null)),
        (Node::Seq(items), Segment::Index(i)) => {
            if *i == items.len() {
                items.push(Node::Null);
            }
            let len = items.len();
            items.get_mut(*i).ok_or_else(|| index_error(*i, len))
        }
        (other, segment) => Err(mismatch(other, segment)),
    }
}

fn index_error(i: usize, len: usize) -> String {
    format!("index [{i}] is past the end of a list of {len}: expected an index from 0 to {len}")
}

fn mismatch(node: &Node, segment: &Segment) -> String {
    match segment {
        Segment::Key(key) => format!(
            "cannot set key {} inside {}",
            quote_for_message(key),
            node.describe()
        ),
        Segment::Index(i) => format!("cannot set index [{i}] inside {}", node.describe()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(profile: &str, sets: &[&str]) -> ValuesOptions {
        ValuesOptions {
            profile: profile.into(),
            files: Vec::new(),
            sets: sets.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn set_values_are_typed_by_their_field() {
        let spec = load(&opts("default", &["workers.replicas=5", "image.tag=4.0"]))
            .unwrap()
            .spec;
        assert_eq!(spec.workers.replicas, 5);
        assert_eq!(spec.image.tag, "4.0");
    }

    #[test]
    fn later_layers_win_and_null_restores_the_default() {
        let spec = load(&opts(
            "dev",
            &["workers.replicas=4", "workers.replicas=null"],
        ))
        .unwrap()
        .spec;
        assert_eq!(
            spec.workers.replicas,
            ClusterSpec::default().workers.replicas
        );
    }

    #[test]
    fn set_reaches_into_lists_from_earlier_layers() {
        let spec = load(&opts("prod", &["storage[0].size=20Gi"])).unwrap().spec;
        assert_eq!(spec.storage[0].size.as_ref().unwrap().text(), "20Gi");
        let err = load(&opts("default", &["storage[3].name=x"])).unwrap_err();
        assert!(
            err.to_string().contains("index [3] is past the end"),
            "{err}"
        );
    }

    #[test]
    fn maps_merge_deeply() {
        let mut merged = Node::from_serialize(&ClusterSpec::default());
        let base = merged.clone();
        let layer = parse_document("workers:\n  replicas: 7\n", "test").unwrap();
        merge_layer(&mut merged, layer, &base);
        let spec = typed(&merged).unwrap().spec;
        assert_eq!(spec.workers.replicas, 7);
        assert_eq!(spec.workers.ports, ClusterSpec::default().workers.ports);
    }
}
