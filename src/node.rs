//! The untyped value tree that layers are merged in.
//!
//! Profiles, `-f` files and `--set` overrides are merged as trees before anything is typed, so a
//! later layer can change one leaf deep inside an earlier one. A `--set` value is kept as
//! [`Node::Raw`]: its type is decided by the field it lands in (`--set image.tag=4.0` stays the
//! string `"4.0"`, `--set workers.replicas=3` becomes the integer 3). The tree then deserializes
//! into the typed spec through [`NodeDeserializer`], with `serde_path_to_error` naming the field.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};

/// A YAML-like value. Maps keep their keys sorted, which keeps every output deterministic.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A scalar from `--set`, typed by the field it is deserialized into.
    Raw(String),
    Seq(Vec<Node>),
    Map(BTreeMap<String, Node>),
}

impl Node {
    /// Short description of the value for error messages; long strings are cut.
    pub fn describe(&self) -> String {
        match self {
            Node::Null => "null".into(),
            Node::Bool(b) => b.to_string(),
            Node::Int(i) => i.to_string(),
            Node::Float(f) => f.to_string(),
            Node::Str(s) | Node::Raw(s) => quote_for_message(s),
            Node::Seq(_) => "a list".into(),
            Node::Map(_) => "a mapping".into(),
        }
    }

    /// Builds a tree from any serializable value (used for the built-in defaults).
    pub fn from_serialize<T: Serialize>(value: &T) -> Node {
        Node::from(serde_json::to_value(value).expect("values serialize to JSON"))
    }

    /// The path of the first non-null map key in `self` that `kept` does not have: used to find
    /// keys that a typed round trip (k8s-openapi skips unknown fields) silently dropped.
    pub fn first_lost_key(&self, kept: &Node, path: String) -> Option<String> {
        match (self, kept) {
            (Node::Map(w), Node::Map(k)) => w.iter().find_map(|(key, value)| match k.get(key) {
                None if *value != Node::Null => Some(format!("{path}.{key}")),
                None => None,
                Some(kept_value) => value.first_lost_key(kept_value, format!("{path}.{key}")),
            }),
            (Node::Seq(w), Node::Seq(k)) => w
                .iter()
                .zip(k)
                .enumerate()
                .find_map(|(i, (w, k))| w.first_lost_key(k, format!("{path}[{i}]"))),
            _ => None,
        }
    }

    /// Follows a dotted path of map keys.
    pub fn get_path(&self, path: &[&str]) -> Option<&Node> {
        path.iter().try_fold(self, |node, key| match node {
            Node::Map(map) => map.get(*key),
            _ => None,
        })
    }
}

/// How sparkup reads YAML: serde-saphyr's budget (depth, nodes, alias expansion) and duplicate-key
/// rejection stay on; errors come without source snippets, as one line after the origin.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<Vec<T>, String> {
    let options = serde_saphyr::options! { with_snippet: false };
    serde_saphyr::from_multiple_with_options(text, options).map_err(|e| {
        let message = e.to_string();
        let message = message.trim_start_matches("error: ");
        let message = match message.strip_prefix("budget breached: ") {
            Some(rest) => format!(
                "the document exceeds the parser's limits on size or alias expansion ({rest})"
            ),
            None => message.to_owned(),
        };
        message
            .replace(", set DuplicateKeyPolicy in Options if acceptable", "")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    })
}

/// Quotes a string for an error message, cut to a readable length.
pub fn quote_for_message(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        format!("{}…", serde_json::to_string(&cut).unwrap_or_default())
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

impl From<serde_json::Value> for Node {
    fn from(value: serde_json::Value) -> Self {
        use serde_json::Value;
        match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(b),
            Value::Number(n) => n
                .as_i64()
                .map(Node::Int)
                .unwrap_or_else(|| Node::Float(n.as_f64().unwrap_or(f64::NAN))),
            Value::String(s) => Node::Str(s),
            Value::Array(items) => Node::Seq(items.into_iter().map(Node::from).collect()),
            Value::Object(map) => Node::Map(map.into_iter().map(|(k, v)| (k, v.into())).collect()),
        }
    }
}

impl Serialize for Node {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_unit(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Int(i) => s.serialize_i64(*i),
            Node::Float(f) => s.serialize_f64(*f),
            Node::Str(v) | Node::Raw(v) => s.serialize_str(v),
            Node::Seq(items) => items.serialize(s),
            Node::Map(map) => map.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Node, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Node, E> {
        i64::try_from(v)
            .map(Node::Int)
            .map_err(|_| E::custom(format!("the number {v} is too large")))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Node, A::Error> {
        let mut map = BTreeMap::new();
        while let Some(key) = access.next_key::<MapKey>()? {
            let value = access.next_value()?;
            if map.insert(key.0.clone(), value).is_some() {
                return Err(de::Error::custom(format!(
                    "duplicate key {}",
                    quote_for_message(&key.0)
                )));
            }
        }
        Ok(Node::Map(map))
    }
}

/// A mapping key: values take string keys only, but YAML lets `1:` or `true:` be a key; those are
/// taken as the text a user wrote rather than rejected.
struct MapKey(String);

impl<'de> Deserialize<'de> for MapKey {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<MapKey, D::Error> {
        match Node::deserialize(d)? {
            Node::Str(s) | Node::Raw(s) => Ok(MapKey(s)),
            Node::Int(i) => Ok(MapKey(i.to_string())),
            Node::Bool(b) => Ok(MapKey(b.to_string())),
            other => Err(de::Error::custom(format!(
                "a mapping key must be a string, not {}",
                other.describe()
            ))),
        }
    }
}

/// Error raised while typing a tree. Its text becomes the detail after the field path.
#[derive(Debug, Clone, PartialEq)]
pub struct DeError(pub String);

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError(msg.to_string())
    }
    fn invalid_type(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        DeError(format!(
            "invalid value {}: expected {}",
            unexpected(unexp),
            expected(exp)
        ))
    }
    fn invalid_value(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        Self::invalid_type(unexp, exp)
    }
    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        DeError(format!(
            "unknown field {}: expected one of {}",
            quote_for_message(field),
            expected.join(", ")
        ))
    }
    fn missing_field(field: &'static str) -> Self {
        DeError(format!("missing field `{field}`"))
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError(format!(
            "invalid value {}: expected one of {}",
            quote_for_message(variant),
            expected.join(", ")
        ))
    }
}

/// serde names primitive targets by their Rust type; say what a user writes instead.
fn expected(exp: &dyn de::Expected) -> String {
    match exp.to_string().as_str() {
        "u8" => "an integer from 0 to 255".into(),
        "u16" => "an integer from 0 to 65535".into(),
        "u32" | "u64" => "a non-negative integer".into(),
        "i8" | "i16" | "i32" | "i64" => "an integer".into(),
        "f32" | "f64" => "a number".into(),
        other if other.starts_with("struct ") => "a mapping".into(),
        other => other.into(),
    }
}

fn unexpected(u: de::Unexpected) -> String {
    match u {
        de::Unexpected::Str(s) => quote_for_message(s),
        de::Unexpected::Map => "(a mapping)".into(),
        de::Unexpected::Seq => "(a list)".into(),
        de::Unexpected::Unit | de::Unexpected::Option => "null".into(),
        de::Unexpected::Signed(i) => i.to_string(),
        de::Unexpected::Unsigned(u) => u.to_string(),
        de::Unexpected::Float(f) => f.to_string(),
        de::Unexpected::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Deserializes a typed value out of a [`Node`].
pub struct NodeDeserializer<'a>(pub &'a Node);

impl<'a> IntoDeserializer<'a, DeError> for &'a Node {
    type Deserializer = NodeDeserializer<'a>;
    fn into_deserializer(self) -> NodeDeserializer<'a> {
        NodeDeserializer(self)
    }
}

impl NodeDeserializer<'_> {
    fn raw_number<T: std::str::FromStr>(&self, raw: &str, what: &str) -> Result<T, DeError> {
        raw.trim().parse().map_err(|_| {
            DeError(format!(
                "invalid value {}: expected {what}",
                quote_for_message(raw)
            ))
        })
    }
}

macro_rules! deserialize_raw_number {
    ($method:ident, $visit:ident, $ty:ty, $what:expr) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            match self.0 {
                Node::Raw(raw) => visitor.$visit(self.raw_number::<$ty>(raw, $what)?),
                _ => self.deserialize_any(visitor),
            }
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDeserializer<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Node::Null => visitor.visit_unit(),
            Node::Bool(b) => visitor.visit_bool(*b),
            Node::Int(i) => visitor.visit_i64(*i),
            Node::Float(f) => visitor.visit_f64(*f),
            Node::Str(s) => visitor.visit_borrowed_str(s),
            // Untyped targets (free-form maps of strings) keep a --set value as written.
            Node::Raw(s) => visitor.visit_borrowed_str(s),
            Node::Seq(items) => visitor.visit_seq(de::value::SeqDeserializer::new(items.iter())),
            Node::Map(map) => visitor.visit_map(de::value::MapDeserializer::new(
                map.iter().map(|(k, v)| (k.as_str(), v)),
            )),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Node::Raw(raw) => match raw.trim() {
                "true" => visitor.visit_bool(true),
                "false" => visitor.visit_bool(false),
                _ => Err(DeError(format!(
                    "invalid value {}: expected true or false",
                    quote_for_message(raw)
                ))),
            },
            _ => self.deserialize_any(visitor),
        }
    }

    deserialize_raw_number!(deserialize_i8, visit_i8, i8, "an integer");
    deserialize_raw_number!(deserialize_i16, visit_i16, i16, "an integer");
    deserialize_raw_number!(deserialize_i32, visit_i32, i32, "an integer");
    deserialize_raw_number!(deserialize_i64, visit_i64, i64, "an integer");
    deserialize_raw_number!(deserialize_u8, visit_u8, u8, "an integer from 0 to 255");
    deserialize_raw_number!(
        deserialize_u16,
        visit_u16,
        u16,
        "an integer from 0 to 65535"
    );
    deserialize_raw_number!(deserialize_u32, visit_u32, u32, "a non-negative integer");
    deserialize_raw_number!(deserialize_u64, visit_u64, u64, "a non-negative integer");
    deserialize_raw_number!(deserialize_f32, visit_f32, f32, "a number");
    deserialize_raw_number!(deserialize_f64, visit_f64, f64, "a number");

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.0 {
            Node::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.0 {
            Node::Str(s) | Node::Raw(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Err(DeError(format!(
                "invalid value {}: expected a string",
                other.describe()
            ))),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    serde::forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed<T: for<'de> Deserialize<'de>>(node: &Node) -> Result<T, DeError> {
        T::deserialize(NodeDeserializer(node))
    }

    #[test]
    fn raw_values_take_the_type_of_their_target() {
        assert_eq!(typed::<u32>(&Node::Raw("3".into())), Ok(3));
        assert_eq!(typed::<String>(&Node::Raw("4.0".into())), Ok("4.0".into()));
        assert_eq!(typed::<bool>(&Node::Raw("true".into())), Ok(true));
        assert_eq!(typed::<Option<u16>>(&Node::Raw("80".into())), Ok(Some(80)));
    }

    #[test]
    fn raw_values_that_do_not_fit_name_what_was_expected() {
        let err = typed::<u32>(&Node::Raw("three".into())).unwrap_err();
        assert_eq!(
            err.0,
            r#"invalid value "three": expected a non-negative integer"#
        );
        let err = typed::<bool>(&Node::Raw("yes".into())).unwrap_err();
        assert_eq!(err.0, r#"invalid value "yes": expected true or false"#);
    }

    #[test]
    fn typed_nodes_keep_their_type() {
        let err = typed::<String>(&Node::Int(3)).unwrap_err();
        assert_eq!(err.0, "invalid value 3: expected a string");
    }

    #[test]
    fn long_strings_are_cut_in_messages() {
        let long = "x".repeat(500);
        assert!(quote_for_message(&long).chars().count() < 90);
    }
}
