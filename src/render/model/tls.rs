//! `security.tls` in the pods: the Secret with the keystores mounted read-only into every
//! sparkup container, the keystores' password added to each process's private configuration as
//! the credentials of `secretConf` are (the kubelet's probes speak HTTPS: `Pod::with_https_probes`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::spark::tls::{self as spark_tls, Stores};
use crate::values::spec::{ClusterSpec, SecretKeyRef};

/// Where the TLS Secret is mounted: beside the configuration, not inside its read-only volume.
pub(crate) const TLS_DIR: &str = "/etc/sparkup-tls";
/// The pod's volume of the TLS Secret.
pub(crate) const TLS_VOLUME: &str = "tls";

/// The TLS Secret's volume, which every sparkup container mounts.
#[derive(Debug, Serialize)]
pub(crate) struct TlsMount {
    pub volume: &'static str,
    pub secret: String,
    pub mount_path: &'static str,
}

/// The volume, when TLS is on.
pub(crate) fn mount(spec: &ClusterSpec) -> Option<TlsMount> {
    let tls = &spec.security.tls;
    let secret = tls.secret_name.clone().filter(|_| tls.enabled)?;
    Some(TlsMount {
        volume: TLS_VOLUME,
        secret,
        mount_path: TLS_DIR,
    })
}

/// What TLS covers and where its files are in the containers, when it is on.
pub(crate) fn stores(spec: &ClusterSpec) -> Option<Stores> {
    let tls = &spec.security.tls;
    tls.enabled.then(|| Stores {
        ui: tls.ui,
        rpc: tls.rpc,
        keystore: format!("{TLS_DIR}/{}", tls.keystore),
        truststore: tls.truststore_key().map(|t| format!("{TLS_DIR}/{t}")),
    })
}

/// `secretConf` with the keystores' password under each property Spark reads it from.
pub(crate) fn secret_conf(spec: &ClusterSpec) -> BTreeMap<String, SecretKeyRef> {
    let mut conf = spec.secret_conf.clone();
    let tls = &spec.security.tls;
    if let Some(password) = tls.password.as_ref().filter(|_| tls.enabled) {
        for key in spark_tls::password_keys(tls.truststore_key().is_some()) {
            conf.insert(key.to_string(), password.clone());
        }
    }
    conf
}
