//! A reference to a key of a Kubernetes Secret, as values give it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A key of a Kubernetes Secret in the instance's namespace: `{secret: NAME, key: KEY}`, or
/// `NAME/KEY` (which `--set` can give).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SecretKeyRef {
    pub secret: String,
    pub key: String,
}

// The mapping form, whose derived schema is the mapping branch of `SecretKeyRef`'s: the two
// cannot differ.
/// `{secret: NAME, key: KEY}`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline)]
struct Fields {
    /// The Secret's name.
    secret: String,
    /// The key in that Secret.
    key: String,
}

const EXPECTED: &str = "{secret: NAME, key: KEY} or NAME/KEY";

impl<'de> Deserialize<'de> for SecretKeyRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SecretKeyRef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(EXPECTED)
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<SecretKeyRef, E> {
                match text.split_once('/') {
                    Some((secret, key)) => Ok(SecretKeyRef {
                        secret: secret.into(),
                        key: key.into(),
                    }),
                    None => Err(E::invalid_value(serde::de::Unexpected::Str(text), &self)),
                }
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                map: M,
            ) -> Result<SecretKeyRef, M::Error> {
                let f = Fields::deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
                Ok(SecretKeyRef {
                    secret: f.secret,
                    key: f.key,
                })
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// Both forms `deserialize` takes: text with a `/` (the Secret's name before the first one, the
/// key after it), or the mapping `{secret, key}`, whose schema is derived from its type.
impl JsonSchema for SecretKeyRef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "SecretKeyRef".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let fields = generator.subschema_for::<Fields>();
        schemars::json_schema!({
            "description": format!("A key of a Kubernetes Secret in the instance's namespace: {EXPECTED}"),
            "oneOf": [
                {
                    "type": "string",
                    "pattern": "/",
                    "description": "NAME/KEY: the Secret's name before the first '/', the key after it"
                },
                fields
            ]
        })
    }
}
