//! The untyped tree that layers are merged in, and how it becomes typed.
//!
//! Profiles, `-f` files and `--set` overrides are merged as `serde_json::Value` trees before
//! anything is typed, so a later layer can change one leaf deep inside an earlier one. A `--set`
//! value is a string whose type is decided by the field it lands in (`--set image.tag=4.0` stays
//! the string `"4.0"`, `--set workers.replicas=3` becomes the integer 3): [`Tree`] remembers
//! which leaves came from `--set`, and [`Tree::typed`] converts exactly those, so a values file
//! stays as strict as YAML wrote it. Errors say what a user writes (`a non-negative integer`), not
//! Rust's type names.

use std::collections::BTreeSet;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeOwned, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::quote;

/// A merged tree of values and the JSON pointers of the leaves that came from `--set`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tree {
    pub(crate) value: Value,
    pub(crate) from_set: BTreeSet<String>,
}

impl Tree {
    /// Types the tree; `serde_path_to_error` names the field of the first value that does not fit.
    pub(crate) fn typed<T: DeserializeOwned>(
        &self,
    ) -> Result<T, serde_path_to_error::Error<DeError>> {
        serde_path_to_error::deserialize(Typed {
            value: &self.value,
            pointer: String::new(),
            from_set: &self.from_set,
        })
    }
}

/// How sparkup reads YAML: serde-saphyr's budget (depth, nodes, alias expansion) and duplicate-key
/// rejection stay on; errors come without source snippets, as one line after the origin.
pub(crate) fn parse_yaml<T: DeserializeOwned>(text: &str) -> Result<Vec<T>, String> {
    let options = serde_saphyr::options! { with_snippet: false, reject_unsupported_tags: true };
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

/// Parses YAML documents of values. Unlike a plain `Value`, a key may be written as a number or
/// a boolean (`1:` is the key `"1"`), and any other non-string key is named in the error.
pub(crate) fn parse_values(text: &str) -> Result<Vec<Value>, String> {
    super::tags::reject_tags(text)?;
    let docs: Vec<YamlValue> = parse_yaml(text)?;
    Ok(docs.into_iter().map(|d| d.0).collect())
}

/// A value for error messages: strings quoted and cut, containers named.
pub(crate) fn describe(value: &Value) -> String {
    match value {
        Value::String(s) => quote(s),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
        other => other.to_string(),
    }
}

/// One segment of a JSON pointer, escaped as RFC 6901 has it.
pub(crate) fn pointer_segment(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

struct YamlValue(Value);

impl<'de> Deserialize<'de> for YamlValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<YamlValue, D::Error> {
        d.deserialize_any(YamlVisitor).map(YamlValue)
    }
}

struct YamlVisitor;

impl<'de> Visitor<'de> for YamlVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom(format!("{v} is not a finite number")))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(YamlValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(MapKey(key)) = access.next_key()? {
            let YamlValue(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

/// A mapping key: values take string keys only, but YAML lets `1:` or `true:` be a key; those are
/// taken as the text a user wrote rather than rejected.
struct MapKey(String);

impl<'de> Deserialize<'de> for MapKey {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<MapKey, D::Error> {
        match YamlValue::deserialize(d)?.0 {
            Value::String(s) => Ok(MapKey(s)),
            key @ (Value::Number(_) | Value::Bool(_)) => Ok(MapKey(key.to_string())),
            other => Err(de::Error::custom(format!(
                "a mapping key must be a string, not {}",
                describe(&other)
            ))),
        }
    }
}

/// Error raised while typing a tree. Its text becomes the detail after the field path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeError(pub(crate) String);

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
            quote(field),
            expected.join(", ")
        ))
    }
    fn missing_field(field: &'static str) -> Self {
        DeError(format!("missing field `{field}`"))
    }
    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError(format!(
            "invalid value {}: expected one of {}",
            quote(variant),
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
        de::Unexpected::Str(s) => quote(s),
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

/// Deserializes a typed value out of a tree, converting the strings that came from `--set` into
/// what their target asks for.
struct Typed<'a> {
    value: &'a Value,
    /// Where `value` is, as a JSON pointer.
    pointer: String,
    from_set: &'a BTreeSet<String>,
}

impl<'a> Typed<'a> {
    fn child(&self, segment: &str, value: &'a Value) -> Typed<'a> {
        Typed {
            value,
            pointer: format!("{}/{}", self.pointer, pointer_segment(segment)),
            from_set: self.from_set,
        }
    }

    /// The text of a `--set` leaf, which takes the type its target asks for.
    fn set_text(&self) -> Option<&'a str> {
        match self.value {
            Value::String(s) if self.from_set.contains(&self.pointer) => Some(s),
            _ => None,
        }
    }

    fn parse<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, DeError> {
        raw.trim()
            .parse()
            .map_err(|_| DeError(format!("invalid value {}: expected {what}", quote(raw))))
    }
}

impl<'a> IntoDeserializer<'a, DeError> for Typed<'a> {
    type Deserializer = Typed<'a>;
    fn into_deserializer(self) -> Typed<'a> {
        self
    }
}

macro_rules! deserialize_set_number {
    ($method:ident, $visit:ident, $ty:ty, $what:expr) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            match self.set_text() {
                Some(raw) => visitor.$visit(Self::parse::<$ty>(raw, $what)?),
                None => self.deserialize_any(visitor),
            }
        }
    };
}

impl<'de> de::Deserializer<'de> for Typed<'de> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => visitor.visit_i64(i),
                (None, Some(u)) => visitor.visit_u64(u),
                _ => visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN)),
            },
            // Untyped targets (free-form maps of strings) keep a --set value as written.
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Array(items) => {
                let items = items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| self.child(&i.to_string(), item));
                visitor.visit_seq(de::value::SeqDeserializer::new(items))
            }
            Value::Object(map) => {
                let entries = map.iter().map(|(k, v)| (k.as_str(), self.child(k, v)));
                visitor.visit_map(de::value::MapDeserializer::new(entries))
            }
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.set_text() {
            Some(raw) => match raw.trim() {
                "true" => visitor.visit_bool(true),
                "false" => visitor.visit_bool(false),
                _ => Err(DeError(format!(
                    "invalid value {}: expected true or false",
                    quote(raw)
                ))),
            },
            None => self.deserialize_any(visitor),
        }
    }

    deserialize_set_number!(deserialize_i8, visit_i8, i8, "an integer");
    deserialize_set_number!(deserialize_i16, visit_i16, i16, "an integer");
    deserialize_set_number!(deserialize_i32, visit_i32, i32, "an integer");
    deserialize_set_number!(deserialize_i64, visit_i64, i64, "an integer");
    deserialize_set_number!(deserialize_u8, visit_u8, u8, "an integer from 0 to 255");
    deserialize_set_number!(
        deserialize_u16,
        visit_u16,
        u16,
        "an integer from 0 to 65535"
    );
    deserialize_set_number!(deserialize_u32, visit_u32, u32, "a non-negative integer");
    deserialize_set_number!(deserialize_u64, visit_u64, u64, "a non-negative integer");
    deserialize_set_number!(deserialize_f32, visit_f32, f32, "a number");
    deserialize_set_number!(deserialize_f64, visit_f64, f64, "a number");

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.value {
            Value::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            other => Err(DeError(format!(
                "invalid value {}: expected a string",
                describe(other)
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

    /// A tree of one leaf from `--set`.
    fn set(text: &str) -> Tree {
        Tree {
            value: Value::String(text.into()),
            from_set: BTreeSet::from([String::new()]),
        }
    }

    fn typed<T: DeserializeOwned>(tree: &Tree) -> Result<T, DeError> {
        tree.typed().map_err(|e| e.into_inner())
    }

    fn written(value: Value) -> Tree {
        Tree {
            value,
            from_set: BTreeSet::new(),
        }
    }

    #[test]
    fn raw_values_take_the_type_of_their_target() {
        assert_eq!(typed::<u32>(&set("3")), Ok(3));
        assert_eq!(typed::<String>(&set("4.0")), Ok("4.0".into()));
        assert_eq!(typed::<bool>(&set("true")), Ok(true));
        assert_eq!(typed::<Option<u16>>(&set("80")), Ok(Some(80)));
    }

    #[test]
    fn raw_values_that_do_not_fit_name_what_was_expected() {
        let err = typed::<u32>(&set("three")).unwrap_err();
        assert_eq!(
            err.0,
            r#"invalid value "three": expected a non-negative integer"#
        );
        let err = typed::<bool>(&set("yes")).unwrap_err();
        assert_eq!(err.0, r#"invalid value "yes": expected true or false"#);
    }

    #[test]
    fn typed_nodes_keep_their_type() {
        let err = typed::<String>(&written(Value::from(3))).unwrap_err();
        assert_eq!(err.0, "invalid value 3: expected a string");
        // A string written in a file is not converted: only --set values are.
        let err = typed::<u32>(&written(Value::from("3"))).unwrap_err();
        assert_eq!(
            err.0,
            r#"invalid value "3": expected a non-negative integer"#
        );
    }

    #[test]
    fn set_leaves_are_found_by_their_pointer() {
        let tree = Tree {
            value: serde_json::json!({"a/b": ["1", "2"]}),
            from_set: BTreeSet::from(["/a~1b/1".to_string()]),
        };
        let err = typed::<std::collections::BTreeMap<String, Vec<u8>>>(&tree).unwrap_err();
        assert_eq!(
            err.0,
            r#"invalid value "1": expected an integer from 0 to 255"#
        );
        let mut tree = tree;
        tree.from_set.insert("/a~1b/0".into());
        let map = typed::<std::collections::BTreeMap<String, Vec<u8>>>(&tree).unwrap();
        assert_eq!(map["a/b"], [1, 2]);
    }

    #[test]
    fn keys_written_as_numbers_or_booleans_are_strings() {
        let docs = parse_values("1: a\ntrue: b\n").unwrap();
        assert_eq!(docs[0], serde_json::json!({"1": "a", "true": "b"}));
        let err = parse_values("a:\n  [1]: x\n").unwrap_err();
        assert!(
            err.starts_with("a mapping key must be a string, not a list"),
            "{err}"
        );
    }
}
