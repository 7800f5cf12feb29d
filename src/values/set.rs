//! `--set path=value` expressions.
//!
//! Paths are dotted keys with `[N]` list indexes (`storage[0].size=20Gi`). Spark properties,
//! labels and annotations have dots and slashes in their own names, so once a path enters one of
//! those free-form maps the rest of it is a single key:
//! `--set sparkConf.spark.executor.memory=2g`. Elsewhere `\.` keeps a dot inside a key.

use std::cmp::Ordering;

use serde_json::{Map, Value};

use super::tree::{Tree, describe, pointer_segment};
use crate::error::{Error, quote};

/// Maps whose keys are user data rather than fields: the rest of a path is one key.
const FREE_FORM_MAPS: &[&str] = &[
    "sparkConf",
    "secretConf",
    "conf",
    "labels",
    "annotations",
    "podLabels",
    "podAnnotations",
    "nodeSelector",
    "env",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Segment {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct SetExpr {
    path: Vec<Segment>,
    /// The text after `=`, typed by its target field; `None` for `null`.
    value: Option<String>,
}

impl SetExpr {
    pub(super) fn parse(expr: &str) -> Result<SetExpr, Error> {
        let origin = || format!("--set {}", quote(expr));
        let Some((path, value)) = expr.split_once('=') else {
            return Err(Error::source(
                origin(),
                "expected path=value, e.g. workers.replicas=3",
            ));
        };
        let path = parse_path(path).map_err(|detail| Error::source(origin(), detail))?;
        let value = (value != "null").then(|| value.to_owned());
        Ok(SetExpr { path, value })
    }

    /// Sets the value in the tree, creating maps and appending list items as needed; `null`
    /// restores the default found at the same place in `base`, or removes the key.
    pub(super) fn apply(&self, tree: &mut Tree, base: &Value) -> Result<(), String> {
        let mut node = &mut tree.value;
        let mut base_node = Some(base);
        let mut pointer = String::new();
        let (last, parents) = self.path.split_last().expect("a --set path is never empty");
        for segment in parents {
            base_node = base_node.and_then(|b| child(b, segment));
            pointer.push_str(&segment.pointer());
            node = step(node, segment)?;
        }
        pointer.push_str(&last.pointer());
        let default = base_node.and_then(|b| child(b, last)).cloned();
        make_container(node, last);
        let value = self.value.as_ref().map(|text| {
            tree.from_set.insert(pointer);
            Value::String(text.clone())
        });
        match (node, last) {
            (Value::Object(map), Segment::Key(key)) => {
                match value.or(default) {
                    Some(value) => map.insert(key.clone(), value),
                    None => map.shift_remove(key),
                };
                Ok(())
            }
            (Value::Array(items), Segment::Index(i)) => {
                let value = value.unwrap_or(Value::Null);
                match i.cmp(&items.len()) {
                    Ordering::Less => items[*i] = value,
                    Ordering::Equal => items.push(value),
                    Ordering::Greater => return Err(index_error(*i, items.len())),
                }
                Ok(())
            }
            (other, segment) => Err(mismatch(other, segment)),
        }
    }
}

impl Segment {
    fn pointer(&self) -> String {
        match self {
            Segment::Key(key) => format!("/{}", pointer_segment(key)),
            Segment::Index(i) => format!("/{i}"),
        }
    }
}

fn child<'a>(node: &'a Value, segment: &Segment) -> Option<&'a Value> {
    match (node, segment) {
        (Value::Object(map), Segment::Key(key)) => map.get(key),
        (Value::Array(items), Segment::Index(i)) => items.get(*i),
        _ => None,
    }
}

/// Turns a null (a key that was just created) into the container `segment` indexes.
fn make_container(node: &mut Value, segment: &Segment) {
    if node.is_null() {
        *node = match segment {
            Segment::Key(_) => Value::Object(Map::new()),
            Segment::Index(_) => Value::Array(Vec::new()),
        };
    }
}

/// Descends one segment, creating the container the next segment needs.
fn step<'a>(node: &'a mut Value, segment: &Segment) -> Result<&'a mut Value, String> {
    make_container(node, segment);
    match (node, segment) {
        (Value::Object(map), Segment::Key(key)) => {
            Ok(map.entry(key.clone()).or_insert(Value::Null))
        }
        (Value::Array(items), Segment::Index(i)) => {
            if *i == items.len() {
                items.push(Value::Null);
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

fn mismatch(node: &Value, segment: &Segment) -> String {
    match segment {
        Segment::Key(key) => format!("cannot set key {} inside {}", quote(key), describe(node)),
        Segment::Index(i) => format!("cannot set index [{i}] inside {}", describe(node)),
    }
}

fn parse_path(path: &str) -> Result<Vec<Segment>, String> {
    if path.ends_with('.') && !path.ends_with("\\.") {
        return Err("the path ends with '.': expected a key after it".into());
    }
    let mut segments = Vec::new();
    let mut key = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'.') => key.push(chars.next().unwrap_or('.')),
            '.' => {
                let free_form = FREE_FORM_MAPS.contains(&key.as_str());
                push_key(&mut segments, &mut key)?;
                if free_form {
                    let rest: String = chars.by_ref().collect();
                    let rest = rest.replace("\\.", ".");
                    if rest.is_empty() {
                        return Err("the path ends with '.': expected a key after it".into());
                    }
                    segments.push(Segment::Key(rest));
                    return Ok(segments);
                }
            }
            '[' => {
                if !key.is_empty() {
                    push_key(&mut segments, &mut key)?;
                }
                let mut digits = String::new();
                let mut closed = false;
                for c in chars.by_ref() {
                    if c == ']' {
                        closed = true;
                        break;
                    }
                    digits.push(c);
                }
                if !closed {
                    return Err(format!(
                        "list index [{digits} has no closing ']': expected [N] with N a number"
                    ));
                }
                let index = digits
                    .parse()
                    .map_err(|_| format!("list index [{digits}]: expected [N] with N a number"))?;
                segments.push(Segment::Index(index));
                if matches!(chars.peek(), Some('.')) {
                    chars.next();
                    if chars.peek().is_none() {
                        return Err("the path ends with '.': expected a key after it".into());
                    }
                }
            }
            c => key.push(c),
        }
    }
    if !key.is_empty() || segments.is_empty() {
        push_key(&mut segments, &mut key)?;
    }
    Ok(segments)
}

fn push_key(segments: &mut Vec<Segment>, key: &mut String) -> Result<(), String> {
    if key.is_empty() {
        return Err("empty key in path: expected keys separated by single dots".into());
    }
    segments.push(Segment::Key(std::mem::take(key)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(path: &str) -> Vec<Segment> {
        parse_path(path).unwrap()
    }

    fn k(s: &str) -> Segment {
        Segment::Key(s.into())
    }

    #[test]
    fn dotted_paths_and_indexes() {
        assert_eq!(keys("workers.replicas"), vec![k("workers"), k("replicas")]);
        assert_eq!(
            keys("storage[1].size"),
            vec![k("storage"), Segment::Index(1), k("size")]
        );
        assert_eq!(
            keys("image.pullSecrets[0]"),
            vec![k("image"), k("pullSecrets"), Segment::Index(0)]
        );
    }

    #[test]
    fn free_form_maps_take_the_rest_as_one_key() {
        assert_eq!(
            keys("sparkConf.spark.executor.memory"),
            vec![k("sparkConf"), k("spark.executor.memory")]
        );
        assert_eq!(
            keys("master.service.annotations.example.com/lb-type"),
            vec![
                k("master"),
                k("service"),
                k("annotations"),
                k("example.com/lb-type")
            ]
        );
        assert_eq!(keys(r"a\.b.c"), vec![k("a.b"), k("c")]);
    }

    #[test]
    fn malformed_paths_are_rejected() {
        for bad in [
            "",
            "a..b",
            ".a",
            "a.",
            "a[x]",
            "a[-1]",
            "a[0].",
            "sparkConf.",
        ] {
            assert!(parse_path(bad).is_err(), "{bad:?} should be rejected");
        }
        assert!(SetExpr::parse("workers.replicas").is_err());
    }

    #[test]
    fn null_is_the_only_untyped_value() {
        assert_eq!(SetExpr::parse("a=null").unwrap().value, None);
        assert_eq!(SetExpr::parse("a=3").unwrap().value, Some("3".into()));
        assert_eq!(SetExpr::parse("a=").unwrap().value, Some("".into()));
        assert_eq!(SetExpr::parse("a=x=y").unwrap().value, Some("x=y".into()));
    }
}
