//! A reference to a key of a Kubernetes Secret, as values give it.

use serde::{Deserialize, Serialize};

/// A key of a Kubernetes Secret in the instance's namespace: `{secret: NAME, key: KEY}`, or
/// `NAME/KEY` (which `--set` can give).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct SecretKeyRef {
    pub secret: String,
    pub key: String,
}

impl<'de> Deserialize<'de> for SecretKeyRef {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Fields {
            secret: String,
            key: String,
        }
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SecretKeyRef;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("{secret: NAME, key: KEY} or NAME/KEY")
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
