//! `--set path=value` expressions.
//!
//! Paths are dotted keys with `[N]` list indexes (`storage[0].size=20Gi`). Spark properties,
//! labels and annotations have dots and slashes in their own names, so once a path enters one of
//! those free-form maps the rest of it is a single key:
//! `--set sparkConf.spark.executor.memory=2g`. Elsewhere `\.` keeps a dot inside a key.

use crate::error::Error;
use crate::node::{Node, quote_for_message};

/// Maps whose keys are user data rather than fields: the rest of a path is one key.
const FREE_FORM_MAPS: &[&str] = &[
    "sparkConf",
    "labels",
    "annotations",
    "podLabels",
    "podAnnotations",
    "nodeSelector",
    "env",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SetExpr {
    pub path: Vec<Segment>,
    /// [`Node::Raw`], typed by its target field, or [`Node::Null`] for `null`.
    pub value: Node,
}

impl SetExpr {
    pub fn parse(expr: &str) -> Result<SetExpr, Error> {
        let origin = || format!("--set {}", quote_for_message(expr));
        let Some((path, value)) = expr.split_once('=') else {
            return Err(Error::source(
                origin(),
                "expected path=value, e.g. workers.replicas=3",
            ));
        };
        let path = parse_path(path).map_err(|detail| Error::source(origin(), detail))?;
        let value = match value {
            "null" => Node::Null,
            other => Node::Raw(other.to_owned()),
        };
        Ok(SetExpr { path, value })
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
                let digits: String = chars.by_ref().take_while(|&c| c != ']').collect();
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
        assert_eq!(SetExpr::parse("a=null").unwrap().value, Node::Null);
        assert_eq!(SetExpr::parse("a=3").unwrap().value, Node::Raw("3".into()));
        assert_eq!(SetExpr::parse("a=").unwrap().value, Node::Raw("".into()));
        assert_eq!(
            SetExpr::parse("a=x=y").unwrap().value,
            Node::Raw("x=y".into())
        );
    }
}
