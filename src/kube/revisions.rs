//! Revisions: every apply leaves a record of the values it deployed in the instance's
//! namespace, so that `history`, `rollback` and `diff --revision` work from any machine without
//! the values files, a pipeline's apply included.
//!
//! One Secret per revision, `<instance>-revision-<N>`, as helm keeps its releases: the values
//! hold no secret value (credentials come from Secrets by reference, and plain-text ones are
//! refused), but RBAC guards Secrets more closely than ConfigMaps, and a user's inline `env` may
//! still be sensitive. The record is gzip-compressed JSON; the number and the result are labels
//! too, for `kubectl get secret -l`. Revisions are no ApplySet members: prune never removes one,
//! `delete --purge` does. A new number is taken by `create`, which the server refuses for a name
//! that exists, so two applies at once cannot write the same revision.

use std::io::{Read as _, Write as _};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::{ApiServer, KubeError};
use crate::error::{path_key, quote};
use crate::render::kinds::secret_kind;
use crate::render::labels::selector_query;
use crate::render::owned::{REVISION, REVISION_KEY, revision_name, revision_secret};
use crate::spark::secrets::is_credential;
use crate::values::ClusterSpec;

/// Revisions kept unless `--history-max` says otherwise.
pub const HISTORY_MAX: u32 = 10;
/// The largest record read back: a bigger one is no revision of ours.
const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;
/// Changes named in the one-line summary before "and N more".
const CHANGES_SHOWN: usize = 4;
/// A value longer than this is said to have changed, not shown.
const VALUE_SHOWN: usize = 40;

/// How an apply ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RevisionResult {
    /// The objects were applied and the wait had not ended (an apply interrupted while it
    /// waited leaves this).
    Waiting,
    /// Applied, and Spark was up with every worker.
    Deployed,
    /// Applied with `--no-wait`: nobody looked whether Spark came up.
    Applied,
    /// Applied, and Spark was not up in time.
    TimedOut,
    /// Applied, and then a rollout or the wait failed.
    Failed,
}

impl RevisionResult {
    pub fn as_str(self) -> &'static str {
        match self {
            RevisionResult::Waiting => "waiting",
            RevisionResult::Deployed => "deployed",
            RevisionResult::Applied => "applied",
            RevisionResult::TimedOut => "timed-out",
            RevisionResult::Failed => "failed",
        }
    }
}

/// One apply's record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Revision {
    pub number: u32,
    /// When the objects were applied: RFC 3339, UTC, whole seconds.
    pub time: String,
    pub sparkup_version: String,
    pub result: RevisionResult,
    /// Why the wait failed or ran out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// What changed against the revision before, in one line.
    pub change: String,
    /// The revision whose values this one applied again (`rollback`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback_of: Option<u32>,
    /// The effective values, as `sparkup values` prints them.
    pub values: Value,
}

/// What a new revision says besides its values.
#[derive(Debug, Clone, Default)]
pub struct RecordOptions {
    pub rollback_of: Option<u32>,
    /// Revisions kept, this one included; 0 keeps every one.
    pub history_max: u32,
}

/// The instance's revisions, oldest first.
pub async fn revisions(api: &ApiServer, spec: &ClusterSpec) -> Result<Vec<Revision>, KubeError> {
    let labels = crate::render::labels::instance_labels(&spec.name, REVISION);
    let secrets = api
        .list(secret_kind(), &spec.namespace, &selector_query(&labels))
        .await?;
    let mut revisions = secrets.iter().map(decode).collect::<Result<Vec<_>, _>>()?;
    revisions.sort_by_key(|r| r.number);
    Ok(revisions)
}

/// Records what an apply of `spec` just deployed, as the newest revision, and drops the oldest
/// beyond `history_max`. `None` when it changed nothing: the values and sparkup's version are
/// the newest revision's, which was deployed, and no object was written.
pub async fn record(
    api: &ApiServer,
    spec: &ClusterSpec,
    wrote: bool,
    opts: &RecordOptions,
) -> Result<Option<Revision>, KubeError> {
    let values = serde_json::to_value(spec).expect("values serialize to JSON");
    // A rival apply may take the number first; the server refuses the second create.
    for _ in 0..3 {
        let existing = revisions(api, spec).await?;
        let newest = existing.last();
        let same = newest.is_some_and(|n| {
            n.values == values
                && n.sparkup_version == env!("CARGO_PKG_VERSION")
                && n.result == RevisionResult::Deployed
        });
        if same && !wrote && opts.rollback_of.is_none() {
            return Ok(None);
        }
        let revision = Revision {
            number: newest.map_or(1, |n| n.number + 1),
            time: now(),
            sparkup_version: env!("CARGO_PKG_VERSION").into(),
            result: RevisionResult::Waiting,
            message: None,
            change: change_line(newest, &values, opts.rollback_of),
            rollback_of: opts.rollback_of,
            values: values.clone(),
        };
        match api.create(secret_kind(), &encode(spec, &revision)).await {
            Ok(_) => {
                prune(api, spec, &existing, revision.number, opts.history_max).await?;
                return Ok(Some(revision));
            }
            Err(e) if e.code() == Some(409) => continue,
            Err(e) => return Err(e),
        }
    }
    Err(KubeError::Request {
        action: format!("record a revision of {}", spec.name),
        detail: "other applies took every new revision number; apply again".into(),
    })
}

/// Writes how the apply of `revision` ended.
pub async fn finish(
    api: &ApiServer,
    spec: &ClusterSpec,
    revision: &mut Revision,
    result: RevisionResult,
    message: Option<String>,
) -> Result<(), KubeError> {
    revision.result = result;
    revision.message = message;
    let body = encode(spec, revision);
    let patch = serde_json::json!({
        "metadata": {"labels": body["metadata"]["labels"]},
        "data": body["data"],
    });
    let name = revision_name(&spec.name, revision.number);
    api.merge_patch(secret_kind(), &spec.namespace, &name, &patch)
        .await
        .map(|_| ())
}

/// Deletes every revision of the instance (`delete --purge`); their ids.
pub async fn delete_all(api: &ApiServer, spec: &ClusterSpec) -> Result<Vec<String>, KubeError> {
    let mut deleted = Vec::new();
    for revision in revisions(api, spec).await? {
        let name = revision_name(&spec.name, revision.number);
        api.delete(secret_kind(), &spec.namespace, &name).await?;
        deleted.push(format!("Secret/{name}"));
    }
    Ok(deleted)
}

/// The revision numbered `number`, or an error that names the ones there are.
pub fn find(revisions: &[Revision], number: u32, spec: &ClusterSpec) -> Result<Revision, String> {
    if let Some(found) = revisions.iter().find(|r| r.number == number) {
        return Ok(found.clone());
    }
    let there = match (revisions.first(), revisions.last()) {
        (Some(first), Some(last)) => format!("revisions {} to {}", first.number, last.number),
        _ => "no revision: nothing was applied with this version of sparkup".into(),
    };
    Err(format!(
        "{} in namespace {} has no revision {number}; it has {there} (sparkup history)",
        spec.name, spec.namespace
    ))
}

/// Drops the oldest revisions, so that `max` remain with the newest (`number`).
async fn prune(
    api: &ApiServer,
    spec: &ClusterSpec,
    existing: &[Revision],
    number: u32,
    max: u32,
) -> Result<(), KubeError> {
    if max == 0 {
        return Ok(());
    }
    let oldest_kept = number.saturating_sub(max - 1);
    for old in existing.iter().filter(|r| r.number < oldest_kept) {
        let name = revision_name(&spec.name, old.number);
        match api.delete(secret_kind(), &spec.namespace, &name).await {
            Err(e) if e.code() != Some(404) => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

fn encode(spec: &ClusterSpec, revision: &Revision) -> Value {
    let json = serde_json::to_vec(revision).expect("a revision serializes to JSON");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&json).expect("writing to memory");
    let bytes = gz.finish().expect("writing to memory");
    revision_secret(spec, revision.number, revision.result.as_str(), bytes)
}

fn decode(secret: &Value) -> Result<Revision, KubeError> {
    let name = secret["metadata"]["name"].as_str().unwrap_or("?");
    let unreadable = |detail: String| KubeError::Request {
        action: format!("read the revision in Secret/{name}"),
        detail,
    };
    let data = secret["data"][REVISION_KEY]
        .as_str()
        .ok_or_else(|| unreadable(format!("no {REVISION_KEY} in its data")))?;
    let gz = base64::engine::general_purpose::STANDARD
        .decode(data)
        .map_err(|e| unreadable(format!("its data is not base64: {e}")))?;
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(gz.as_slice())
        .take(MAX_RECORD_BYTES)
        .read_to_end(&mut json)
        .map_err(|e| unreadable(format!("its data is not gzip: {e}")))?;
    serde_json::from_slice(&json).map_err(|e| unreadable(format!("not a sparkup revision: {e}")))
}

/// Now, as RFC 3339 in UTC to the second.
fn now() -> String {
    k8s_openapi::jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// What a revision changed against the one before, in a line: the values' paths as `--set`
/// writes them, a short value shown, a credential's never.
pub fn change_line(before: Option<&Revision>, values: &Value, rollback_of: Option<u32>) -> String {
    let prefix = rollback_of.map(|n| format!("rollback to {n}: "));
    let Some(before) = before else {
        return format!("{}first revision", prefix.unwrap_or_default());
    };
    let mut changes = Vec::new();
    changed_paths(&before.values, values, "", false, &mut changes);
    let mut parts: Vec<String> = changes.iter().take(CHANGES_SHOWN).cloned().collect();
    if changes.len() > CHANGES_SHOWN {
        parts.push(format!("and {} more", changes.len() - CHANGES_SHOWN));
    }
    if before.sparkup_version != env!("CARGO_PKG_VERSION") {
        parts.push(format!(
            "sparkup {} → {}",
            before.sparkup_version,
            env!("CARGO_PKG_VERSION")
        ));
    }
    if parts.is_empty() {
        parts.push("no change to the values".into());
    }
    format!("{}{}", prefix.unwrap_or_default(), parts.join(", "))
}

/// Every path whose value differs: a map's keys are followed, anything else is compared whole.
/// `env_map`: the values are an `env` map, where a credential's name hides its value.
fn changed_paths(before: &Value, after: &Value, path: &str, env_map: bool, out: &mut Vec<String>) {
    let join = |key: &str| match path {
        "" => key.to_string(),
        _ => path_key(path, key),
    };
    let (Value::Object(old), Value::Object(new)) = (before, after) else {
        return changed_leaf(before, after, path, false, out);
    };
    for (key, value) in new {
        match old.get(key) {
            Some(was) if env_map => changed_leaf(was, value, &join(key), is_credential(key), out),
            Some(was) => changed_paths(was, value, &join(key), key == "env", out),
            None => out.push(format!("+{}", join(key))),
        }
    }
    for key in old.keys().filter(|k| !new.contains_key(*k)) {
        out.push(format!("-{}", join(key)));
    }
}

fn changed_leaf(old: &Value, new: &Value, path: &str, secret: bool, out: &mut Vec<String>) {
    if old == new {
        return;
    }
    match (shown(old), shown(new)) {
        (Some(old), Some(new)) if !secret => out.push(format!("{path}: {old} → {new}")),
        _ => out.push(format!("{path} changed")),
    }
}

/// The values as a person may see them: in every `env` map, the value of a variable whose name
/// says it is a credential (`AWS_SECRET_ACCESS_KEY`) is masked.
pub fn masked(values: &Value) -> Value {
    let mut values = values.clone();
    mask_env(&mut values);
    values
}

fn mask_env(value: &mut Value) {
    let Value::Object(map) = value else { return };
    for (key, child) in map.iter_mut() {
        if let (true, Value::Object(env)) = (key == "env", &mut *child) {
            for (_, value) in env.iter_mut().filter(|(name, _)| is_credential(name)) {
                *value = Value::String(crate::kube::diff::MASK.into());
            }
        }
        mask_env(child);
    }
}

/// A scalar short enough to show in a line.
fn shown(value: &Value) -> Option<String> {
    let text = match value {
        Value::String(s) => quote(s),
        Value::Object(_) | Value::Array(_) => return None,
        other => other.to_string(),
    };
    (text.chars().count() <= VALUE_SHOWN).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn revision(values: Value) -> Revision {
        Revision {
            number: 1,
            time: "2026-12-08T00:00:00Z".into(),
            sparkup_version: env!("CARGO_PKG_VERSION").into(),
            result: RevisionResult::Deployed,
            message: None,
            change: String::new(),
            rollback_of: None,
            values,
        }
    }

    #[test]
    fn the_change_line_names_paths_as_set_writes_them() {
        let before = revision(
            json!({"workers": {"replicas": 2}, "sparkConf": {"a.b": "1"},
            "jobs": {"old": {}}, "env": {"AWS_SECRET_ACCESS_KEY": "x1", "X Y": "1"}}),
        );
        let after = json!({"workers": {"replicas": 3}, "sparkConf": {"a.b": "2"},
            "jobs": {"nightly": {}}, "env": {"AWS_SECRET_ACCESS_KEY": "x2", "X Y": "2"}});
        assert_eq!(
            change_line(Some(&before), &after, None),
            "workers.replicas: 2 → 3, sparkConf.a.b: \"1\" → \"2\", +jobs.nightly, -jobs.old, \
             and 2 more"
        );
        let line = change_line(Some(&before), &after, Some(4));
        assert!(
            line.starts_with("rollback to 4: workers.replicas"),
            "{line}"
        );
        let env_only = json!({"env": {"AWS_SECRET_ACCESS_KEY": "x2"}});
        let before = revision(json!({"env": {"AWS_SECRET_ACCESS_KEY": "x1"}}));
        assert_eq!(
            change_line(Some(&before), &env_only, None),
            "env.AWS_SECRET_ACCESS_KEY changed"
        );
        assert_eq!(
            change_line(Some(&before), &before.values, None),
            "no change to the values"
        );
        assert_eq!(change_line(None, &after, None), "first revision");
    }

    #[test]
    fn credentials_in_env_are_masked_and_nothing_else() {
        let values = json!({"env": {"DB_PASSWORD": "hunter2", "MODE": "x"},
            "workers": {"pod": {"env": {"API_TOKEN": "t0k"}}},
            "security": {"tls": {"passwordSecretRef": {"secret": "tls", "key": "password"}}}});
        let shown = masked(&values);
        assert_eq!(shown["env"]["DB_PASSWORD"], "***");
        assert_eq!(shown["env"]["MODE"], "x");
        assert_eq!(shown["workers"]["pod"]["env"]["API_TOKEN"], "***");
        assert_eq!(shown["security"], values["security"]);
    }

    #[test]
    fn a_long_value_is_said_to_change_and_not_shown() {
        let before = revision(json!({"image": {"tag": "a".repeat(50)}}));
        let after = json!({"image": {"tag": "b"}});
        assert_eq!(
            change_line(Some(&before), &after, None),
            "image.tag changed"
        );
    }

    #[test]
    fn a_record_reads_back_as_written() {
        let spec = ClusterSpec::default();
        let written = revision(serde_json::to_value(&spec).unwrap());
        let secret = encode(&spec, &written);
        assert_eq!(secret["metadata"]["name"], "spark-revision-1");
        assert_eq!(secret["metadata"]["labels"]["sparkup.io/revision"], "1");
        assert_eq!(decode(&secret).unwrap(), written);
        let mut broken = secret.clone();
        broken["data"][REVISION_KEY] = json!("bm90IGd6aXA=");
        let err = decode(&broken).unwrap_err().to_string();
        assert!(err.contains("Secret/spark-revision-1"), "{err}");
        assert!(err.contains("not gzip"), "{err}");
    }
}
