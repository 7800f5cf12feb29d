//! Spark's TLS settings, as `security.tls` sets them.
//!
//! Spark reads TLS settings per namespace (`spark.ssl.ui` for a driver's UI, `spark.ssl.standalone`
//! for the master's and the workers', `spark.ssl.historyServer`, `spark.ssl.rpc`), each falling
//! back to `spark.ssl.*`; so the key material is set once under `spark.ssl.*`. `spark.ssl.enabled`
//! turns HTTPS on for every UI; RPC is the one namespace that does not follow it and needs
//! `spark.ssl.rpc.enabled` (Spark 4.0 or later), which then takes precedence over AES encryption.
//! With HTTPS on, Jetty serves HTTPS on `spark.ssl.<ns>.port` and only a redirect on the UI's
//! plain port; the launcher sets each role's HTTPS port to the UI port it always had, so
//! Services, probes and policies keep their numbers.

/// The keystore type cert-manager writes.
const STORE_TYPE: &str = "PKCS12";

/// What TLS covers and where its key material is.
#[derive(Debug, Clone)]
pub(crate) struct Stores {
    /// HTTPS for every web UI.
    pub ui: bool,
    /// TLS for RPC and block transfers.
    pub rpc: bool,
    /// The keystore's path in the container.
    pub keystore: String,
    /// The truststore's path, when there is one.
    pub truststore: Option<String>,
}

/// The `spark-defaults.conf` properties of `stores`; no password.
pub(crate) fn properties(stores: &Stores) -> Vec<(&'static str, String)> {
    let mut conf = Vec::new();
    if stores.ui {
        conf.push(("spark.ssl.enabled", "true".to_string()));
    }
    if stores.rpc {
        conf.push(("spark.ssl.rpc.enabled", "true".to_string()));
    }
    conf.push(("spark.ssl.keyStore", stores.keystore.clone()));
    conf.push(("spark.ssl.keyStoreType", STORE_TYPE.into()));
    if let Some(truststore) = &stores.truststore {
        conf.push(("spark.ssl.trustStore", truststore.clone()));
        conf.push(("spark.ssl.trustStoreType", STORE_TYPE.into()));
    }
    conf
}

/// The password properties: cert-manager protects the keystore, its key and the truststore
/// with one password.
pub(crate) fn password_keys(truststore: bool) -> &'static [&'static str] {
    const ALL: [&str; 3] = [
        "spark.ssl.keyStorePassword",
        "spark.ssl.keyPassword",
        "spark.ssl.trustStorePassword",
    ];
    match truststore {
        true => &ALL,
        false => &ALL[..2],
    }
}

/// Whether `security.tls` alone decides this property: whether TLS is on, and on which port.
pub(crate) fn settled(key: &str) -> bool {
    let Some(rest) = key.strip_prefix("spark.ssl.") else {
        return false;
    };
    let last = rest.rsplit('.').next().unwrap_or(rest);
    matches!(last, "enabled" | "port")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ui_and_rpc_are_turned_on_apart_and_no_password_is_a_property() {
        let stores = Stores {
            ui: true,
            rpc: false,
            keystore: "/t/keystore.p12".into(),
            truststore: Some("/t/truststore.p12".into()),
        };
        let conf = properties(&stores);
        assert!(conf.contains(&("spark.ssl.enabled", "true".into())));
        assert!(!conf.iter().any(|(k, _)| *k == "spark.ssl.rpc.enabled"));
        assert!(conf.contains(&("spark.ssl.trustStore", "/t/truststore.p12".into())));
        assert!(!conf.iter().any(|(k, _)| k.contains("Password")));
        let rpc_only = Stores {
            ui: false,
            rpc: true,
            truststore: None,
            ..stores
        };
        let conf = properties(&rpc_only);
        assert!(!conf.iter().any(|(k, _)| *k == "spark.ssl.enabled"));
        assert!(conf.contains(&("spark.ssl.rpc.enabled", "true".into())));
        assert!(!conf.iter().any(|(k, _)| *k == "spark.ssl.trustStore"));
        assert_eq!(password_keys(false).len(), 2);
        assert_eq!(password_keys(true)[2], "spark.ssl.trustStorePassword");
    }

    #[test]
    fn only_switches_and_ports_are_settled() {
        for key in [
            "spark.ssl.enabled",
            "spark.ssl.ui.enabled",
            "spark.ssl.rpc.enabled",
            "spark.ssl.standalone.port",
            "spark.ssl.port",
        ] {
            assert!(settled(key), "{key}");
        }
        for key in [
            "spark.ssl.protocol",
            "spark.ssl.enabledAlgorithms",
            "spark.ssl.needClientAuth",
            "spark.ui.port",
        ] {
            assert!(!settled(key), "{key}");
        }
    }
}
