//! `security.tls`: Spark's TLS for the web UIs (`spark.ssl.*`) and for RPC (`spark.ssl.rpc.*`),
//! with the keys from a Kubernetes Secret laid out as cert-manager writes a Certificate with
//! PKCS12 keystores (`keystore.p12`, `truststore.p12`), and the keystores' password from a key of
//! another Secret (the Certificate's `passwordSecretRef`). The password reaches each process as
//! the credentials of `secretConf` do: never in the ConfigMap, the pod spec or an argument.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::secret_ref::SecretKeyRef;

/// The Secret's keys as cert-manager names them.
pub const KEYSTORE_KEY: &str = "keystore.p12";
pub const TRUSTSTORE_KEY: &str = "truststore.p12";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct TlsSpec {
    /// Turn TLS on, for what `ui` and `rpc` say.
    pub enabled: bool,
    /// The Secret with the PKCS12 keystore (and truststore): a cert-manager Certificate's
    /// `secretName`. Required when enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_name: Option<String>,
    /// The keystore's key in that Secret.
    pub keystore: String,
    /// The truststore's key in that Secret; empty when there is none (an ACME issuer gives no
    /// CA, and cert-manager then writes no truststore).
    pub truststore: String,
    /// The keystores' password: `{secret: NAME, key: KEY}` or `NAME/KEY`. Required when enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<SecretKeyRef>,
    /// HTTPS for every web UI: the master's, the workers', the history server's and every
    /// driver's, on the same ports.
    pub ui: bool,
    /// TLS for Spark's RPC and block transfers (`spark.ssl.rpc.enabled`, Spark 4.0 or later),
    /// instead of `security.encryption`.
    pub rpc: bool,
}

impl Default for TlsSpec {
    fn default() -> Self {
        TlsSpec {
            enabled: false,
            secret_name: None,
            keystore: KEYSTORE_KEY.into(),
            truststore: TRUSTSTORE_KEY.into(),
            password: None,
            ui: true,
            rpc: false,
        }
    }
}

impl TlsSpec {
    pub fn is_default(&self) -> bool {
        *self == TlsSpec::default()
    }

    /// Whether the web UIs speak HTTPS.
    pub fn ui_on(&self) -> bool {
        self.enabled && self.ui
    }

    /// Whether Spark's RPC runs over TLS.
    pub fn rpc_on(&self) -> bool {
        self.enabled && self.rpc
    }

    /// The truststore's key, when there is one.
    pub fn truststore_key(&self) -> Option<&str> {
        Some(self.truststore.as_str()).filter(|k| !k.is_empty())
    }

    /// The scheme of every web UI.
    pub fn ui_scheme(&self) -> &'static str {
        match self.ui_on() {
            true => "https",
            false => "http",
        }
    }
}
