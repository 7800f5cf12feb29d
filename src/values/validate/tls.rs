//! `security.tls`: what it needs when on, and what it cannot be combined with.

use super::*;
use crate::spark::tls::password_keys;

pub(super) fn check_tls(spec: &ClusterSpec, r: &mut Report) {
    let tls = &spec.security.tls;
    if let Some(name) = &tls.secret_name {
        check_subdomain(r, "security.tls.secretName", name);
    }
    let keys = [
        ("keystore", Some(tls.keystore.as_str())),
        ("truststore", tls.truststore_key()),
    ];
    for (field, key) in keys {
        if let Some(key) = key {
            check_secret_key(r, format!("security.tls.{field}"), key);
        }
    }
    if let Some(password) = &tls.password {
        check_secret_ref(r, "security.tls.password", password);
    }
    if !tls.enabled {
        return;
    }
    if tls.secret_name.is_none() {
        r.0.push(ValueError::new(
            "security.tls.secretName",
            "missing: expected the Secret holding the PKCS12 keystore (a cert-manager \
             Certificate's secretName, with keystores.pkcs12.create: true)",
        ));
    }
    if tls.password.is_none() {
        r.0.push(ValueError::new(
            "security.tls.password",
            "missing: expected the keystores' password as {secret: NAME, key: KEY} (a \
             cert-manager Certificate's keystores.pkcs12.passwordSecretRef)",
        ));
    }
    if !tls.ui && !tls.rpc {
        r.0.push(ValueError::new(
            "security.tls",
            "ui and rpc are both false: expected at least one of them on, or enabled: false",
        ));
    }
    if tls.rpc && spec.security.encryption {
        r.0.push(ValueError::new(
            "security.tls.rpc",
            "invalid value true with security.encryption: Spark turns its AES encryption off \
             when RPC runs over TLS; keep one of them",
        ));
    }
    let settled = password_keys(tls.truststore_key().is_some());
    let conf = std::iter::once(("secretConf".to_string(), &spec.secret_conf)).chain(
        spec.jobs.iter().map(|(name, job)| {
            (
                format!("{}.secretConf", path_key("jobs", name)),
                &job.secret_conf,
            )
        }),
    );
    for (path, secret_conf) in conf {
        for key in secret_conf.keys().filter(|k| settled.contains(&k.as_str())) {
            r.0.push(ValueError::new(
                path_key(&path, key),
                "given by security.tls.password: keep it there",
            ));
        }
    }
}
