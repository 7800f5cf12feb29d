//! Which Spark properties hold credentials, and which ones sparkup's security settings settle.
//!
//! Spark redacts a property in its UIs, logs and event logs when its name matches
//! `spark.redaction.regex`, by default `(?i)secret|password|token|access[.]?key`. The same names
//! are the ones whose values must not be written as plain text into a ConfigMap, a pod spec or a
//! compose file: they come from a Kubernetes Secret instead (`secretConf`). And the properties of
//! Spark's authentication belong to `security` alone: a job that sets `spark.authenticate=false`,
//! or a `-Dspark.authenticate.secret=...` in a daemon's JVM options, would undo it or put the
//! secret where anyone who can read the pod spec sees it.
//!
//! Every message here completes the sentence after a field path and never shows the value of a
//! credential.

/// Spark's default `spark.redaction.regex`.
pub(crate) const REDACTION_REGEX: &str = "(?i)secret|password|token|access[.]?key";
/// Credentials the default pattern misses: Azure storage account keys.
const EXTRA_CREDENTIALS: &[&str] = &["fs.azure.account.key", "fs.azure.sas."];

/// What `security` has settled for the cluster.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Settled {
    pub authenticate: bool,
    pub encryption: bool,
    /// `spark.master.rest.filters` is set: the REST submission server is protected.
    pub rest_filters: bool,
}

/// Whether Spark would redact this property: its value is a credential.
pub(crate) fn is_credential(key: &str) -> bool {
    let lower = key.to_ascii_lowercase();
    ["secret", "password", "token", "accesskey", "access.key"]
        .iter()
        .chain(EXTRA_CREDENTIALS)
        .any(|word| lower.contains(word))
}

/// Whether a Spark property of this name may take `value` from a user's values, `--conf` or a
/// `-D` option; the error completes the sentence after its path and never holds the value of a
/// credential.
pub(crate) fn check_property(key: &str, value: &str, settled: Settled) -> Result<(), String> {
    if key == "spark.authenticate" || key.starts_with("spark.authenticate.") {
        return Err(
            "not allowed here: set security.authenticate, which keeps the secret in a \
             Kubernetes Secret instead of the ConfigMap every pod can read"
                .into(),
        );
    }
    if super::tls::settled(key) {
        return Err(
            "not allowed here: set security.tls, which turns TLS on for the UIs and RPC, \
             mounts the keystores from their Secret and keeps every UI on its port"
                .into(),
        );
    }
    if key == "spark.redaction.regex" && !value.starts_with(REDACTION_REGEX) {
        return Err(format!(
            "invalid value {}: expected a pattern that redacts at least what Spark's default does, \
             such as {REDACTION_REGEX}|myCredential (the default, then your own alternatives)",
            crate::error::quote(value)
        ));
    }
    if key == "spark.network.crypto.enabled" && settled.encryption && value.trim() != "true" {
        return Err(format!(
            "invalid value {}: expected true, which security.encryption settles (set \
             security.encryption=false to turn encryption off)",
            crate::error::quote(value)
        ));
    }
    let rest_on = key == "spark.master.rest.enabled" && value.trim().eq_ignore_ascii_case("true");
    if rest_on && settled.authenticate && !settled.rest_filters {
        return Err(
            "invalid value \"true\": expected false with security.authenticate: the REST \
             submission server (port 6066) takes applications without Spark's authentication; \
             protect it with spark.master.rest.filters or leave it off"
                .into(),
        );
    }
    if is_credential(key) {
        return Err(format!(
            "a credential as plain text, which would be readable in the ConfigMap, the pod spec \
             and the compose file: give it under secretConf instead ({key}: {{secret: NAME, key: \
             KEY}}), and sparkup adds it from the Kubernetes Secret when the container starts"
        ));
    }
    Ok(())
}

/// The variables whose value the JVM reads as options: a `-Dspark.x=y` there sets a Spark
/// property of every JVM that reads it.
pub(crate) fn is_jvm_options(name: &str) -> bool {
    (name.starts_with("SPARK_") && name.ends_with("_OPTS"))
        || matches!(
            name,
            "SPARK_DAEMON_JAVA_OPTS" | "JAVA_TOOL_OPTIONS" | "_JAVA_OPTIONS" | "JDK_JAVA_OPTIONS"
        )
}

/// The Spark properties a JVM options value sets (`-Dspark.key=value`), in order.
pub(crate) fn jvm_properties(options: &str) -> Vec<(&str, &str)> {
    options
        .split_whitespace()
        .filter_map(|word| word.strip_prefix("-D"))
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
        .filter(|(key, _)| key.starts_with("spark."))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ON: Settled = Settled {
        authenticate: true,
        encryption: true,
        rest_filters: false,
    };

    #[test]
    fn credentials_are_what_spark_redacts_and_azure_keys() {
        for key in [
            "spark.hadoop.fs.s3a.secret.key",
            "spark.hadoop.fs.s3a.access.key",
            "spark.ssl.keyStorePassword",
            "spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net",
            "spark.some.TOKEN",
        ] {
            assert!(is_credential(key), "{key}");
            let err = check_property(key, "hunter2", Settled::default()).unwrap_err();
            assert!(err.contains("secretConf"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        for key in [
            "spark.executor.memory",
            "spark.ssl.keyStore",
            "spark.sql.shuffle.partitions",
        ] {
            assert!(!is_credential(key), "{key}");
        }
    }

    #[test]
    fn what_security_settles_is_not_undone_elsewhere() {
        for key in ["spark.authenticate", "spark.authenticate.secret"] {
            let err = check_property(key, "false", Settled::default()).unwrap_err();
            assert!(err.starts_with("not allowed here"), "{err}");
        }
        assert!(check_property("spark.network.crypto.enabled", "false", ON).is_err());
        assert!(
            check_property("spark.network.crypto.enabled", "false", Settled::default()).is_ok()
        );
        assert!(check_property("spark.master.rest.enabled", "true", ON).is_err());
        assert!(check_property("spark.master.rest.enabled", "false", ON).is_ok());
        assert!(check_property("spark.redaction.regex", "(?i)nothing", ON).is_err());
        let wider = format!("{REDACTION_REGEX}|mine");
        assert!(check_property("spark.redaction.regex", &wider, ON).is_ok());
    }

    #[test]
    fn jvm_options_set_spark_properties() {
        assert!(is_jvm_options("SPARK_WORKER_OPTS"));
        assert!(is_jvm_options("JAVA_TOOL_OPTIONS"));
        assert!(!is_jvm_options("SPARK_HOME"));
        assert_eq!(
            jvm_properties("-Xmx1g -Dspark.authenticate=false -Dfoo=1 -Dspark.x"),
            [("spark.authenticate", "false"), ("spark.x", "")]
        );
    }
}
