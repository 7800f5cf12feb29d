//! `security.tls`: what it needs when on, and what it cannot be combined with.

use super::*;
use crate::spark::tls::password_keys;

/// A key of a Secret, as the API server takes it.
fn is_secret_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 253
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
}

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
        if let Some(key) = key.filter(|k| !is_secret_key(k)) {
            r.invalid(
                format!("security.tls.{field}"),
                key,
                "a key of a Secret: letters, digits, '-', '_' and '.'",
            );
        }
    }
    if let Some(password) = &tls.password {
        check_subdomain(r, "security.tls.password.secret", &password.secret);
        if !is_secret_key(&password.key) {
            r.invalid(
                "security.tls.password.key",
                &password.key,
                "a key of a Secret: letters, digits, '-', '_' and '.'",
            );
        }
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
