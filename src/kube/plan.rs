//! What an apply would change: live objects against the server's dry run of the desired ones.
//!
//! The desired side is the API server's own answer to a server-side apply with `dryRun=All`, so
//! defaults, admission and field ownership are all accounted for; both sides are normalised
//! (server-set metadata and status dropped) before they are compared. Nothing here writes.

use futures::{StreamExt, TryStreamExt, stream};
use serde_json::Value;

use super::client::{ApiServer, ApplyMode, CONCURRENCY, KubeError};
use super::inventory;
use super::restarts;
use super::roll::stale_pods;
use super::survey;
use super::wait;
use crate::render::kinds::{KindInfo, object_id};
use crate::render::{Component, Object};
use crate::values::ClusterSpec;

/// Objects of one stage sent at once.

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Prune,
    Unchanged,
}

#[derive(Debug, Clone)]
pub struct Change {
    pub action: Action,
    pub(crate) kind: &'static KindInfo,
    pub name: String,
    /// The live object, normalised; none for a create.
    pub before: Option<Value>,
    /// The desired object after the server's dry run, normalised; none for a prune.
    pub after: Option<Value>,
    /// Pods of a ReplicationController that run an older template: apply replaces them.
    pub stale_pods: Vec<String>,
    /// The running pods this change replaces, and what that costs.
    pub restart: Option<super::restarts::Restart>,
}

impl Change {
    /// The object's kind, `Deployment`.
    pub fn kind(&self) -> &'static str {
        self.kind.kind
    }

    /// `Kind/name`.
    pub fn id(&self) -> String {
        object_id(self.kind.kind, &self.name)
    }
}

/// Server-set fields that say nothing about what the user asked for.
const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "generation",
    "creationTimestamp",
    "selfLink",
];
const SERVER_ANNOTATIONS: &[&str] = &[
    "deployment.kubernetes.io/revision",
    "kubectl.kubernetes.io/last-applied-configuration",
];

/// Drops server-set metadata, annotations written by controllers, and status, and puts keys in
/// one order (`apiVersion`, `kind`, `metadata`, then the rest sorted, sorted all the way down):
/// the server's field order and ours differ, and a diff should show values, not order.
pub(crate) fn normalize(object: &Value) -> Value {
    let mut value = object.clone();
    if let Some(map) = value.as_object_mut() {
        map.remove("status");
    }
    if let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in SERVER_METADATA {
            metadata.remove(*key);
        }
        if let Some(annotations) = metadata
            .get_mut("annotations")
            .and_then(Value::as_object_mut)
        {
            for key in SERVER_ANNOTATIONS {
                annotations.remove(*key);
            }
            if annotations.is_empty() {
                metadata.remove("annotations");
            }
        }
    }
    // Last: removing keys from an order-preserving map moves others.
    canonical(&value)
}

fn canonical(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            let rank = |k: &str| match k {
                "apiVersion" => 0,
                "kind" => 1,
                "metadata" => 2,
                _ => 3,
            };
            keys.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&map[k])))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        other => other.clone(),
    }
}

/// How to plan.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanOptions {
    /// Dry-run with `force=true`, as the apply will: fields another manager owns are taken over
    /// instead of failing the plan.
    pub force_conflicts: bool,
}

/// Compares every rendered object with the cluster and lists what would be pruned.
pub async fn plan(
    api: &ApiServer,
    spec: &ClusterSpec,
    objects: &[Object],
    opts: PlanOptions,
) -> Result<Vec<Change>, KubeError> {
    let mode = ApplyMode {
        dry_run: true,
        force: opts.force_conflicts,
    };
    // The instance's live members, one LIST per kind, are the "before" of every object that
    // already exists, and what is left of them is what apply would prune; the dry runs are the
    // "after". A refusal is the server's own error, as apply would meet it.
    let (name, namespace) = (&spec.name, &spec.namespace);
    let (survey, stale_pods) = futures::join!(
        survey::survey(api, name, namespace, objects, mode, CONCURRENCY),
        stale_pods(api, objects),
    );
    let survey = survey.map_err(|e| match e {
        KubeError::Refused(inner) => *inner,
        e => e,
    })?;
    if !survey.exists {
        // A namespace that does not exist yet holds nothing: everything is a create.
        return Ok(objects.iter().map(|o| create(o, o.value.clone())).collect());
    }
    let mut changes: Vec<Change> = stream::iter(objects.iter().zip(&survey.dry_runs))
        .map(|(object, dry)| compare(api, object, survey.live_of(object), dry))
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    // Every stale member, claims included: the report says which ones apply would keep.
    let stale = inventory::stale_among(survey.members, objects, true);
    changes.extend(stale.remove.into_iter().map(|member| Change {
        action: Action::Prune,
        kind: member.kind,
        before: Some(normalize(&member.live)),
        name: member.name,
        after: None,
        stale_pods: Vec::new(),
        restart: None,
    }));
    // A ReplicationController keeps its pods on the old template: that drift is a change too.
    for stale in stale_pods? {
        if let Some(change) = changes.iter_mut().find(|c| c.id() == stale.workload) {
            change.stale_pods = stale.pods;
        }
    }
    mark_restarts(api, spec, &mut changes).await?;
    Ok(changes)
}

/// Marks every update that replaces running pods with what that costs; reads the master's
/// `/json/` only when the master or the workers restart.
async fn mark_restarts(
    api: &ApiServer,
    spec: &ClusterSpec,
    changes: &mut [Change],
) -> Result<(), KubeError> {
    let restarting: Vec<(usize, Component)> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c.kind(), "Deployment" | "ReplicationController"))
        .filter(|(_, c)| c.action == Action::Update)
        .filter(|(_, c)| match (&c.before, &c.after) {
            (Some(before), Some(after)) => template_changes(before, after),
            _ => false,
        })
        .filter_map(|(i, c)| Some((i, role_of(c.after.as_ref()?)?)))
        .collect();
    let daemons = restarting
        .iter()
        .any(|(_, r)| matches!(r, Component::Master | Component::Worker));
    let spark = match daemons {
        // A master that does not answer: the cost is unknown, which the report says.
        true => match wait::spark_view(api, spec).await {
            Ok(json) => Some(json),
            Err(KubeError::Api { .. }) => None,
            Err(e) => return Err(e),
        },
        false => None,
    };
    for (i, role) in restarting {
        changes[i].restart = Some(restarts::restart(spec, role, spark.as_ref()));
    }
    Ok(())
}

/// Whether two normalised states of a workload run different pod templates.
pub(crate) fn template_changes(before: &Value, after: &Value) -> bool {
    before.pointer("/spec/template") != after.pointer("/spec/template")
}

fn role_of(object: &Value) -> Option<Component> {
    let label = object.pointer("/metadata/labels/app.kubernetes.io~1component")?;
    Component::parse(label.as_str()?)
}

fn create(object: &Object, after: Value) -> Change {
    Change {
        action: Action::Create,
        kind: object.kind_info(),
        name: object.name.clone(),
        before: None,
        after: Some(normalize(&after)),
        stale_pods: Vec::new(),
        restart: None,
    }
}

/// One object against the cluster: `member` is its live state when the inventory listed it;
/// otherwise it is read, since it may exist without being a member yet. `dry` is the server's
/// dry run of it.
async fn compare(
    api: &ApiServer,
    object: &Object,
    member: Option<&Value>,
    dry: &Value,
) -> Result<Change, KubeError> {
    let kind = object.kind_info();
    let live = match member {
        Some(live) => Some(normalize(live)),
        None => api.get_object(object).await?.as_ref().map(normalize),
    };
    let after = normalize(dry);
    Ok(match live {
        None => create(object, after),
        Some(before) => {
            let action = if before == after {
                Action::Unchanged
            } else {
                Action::Update
            };
            Change {
                action,
                kind,
                name: object.name.clone(),
                before: Some(before),
                after: Some(after),
                stale_pods: Vec::new(),
                restart: None,
            }
        }
    })
}

/// How many changes of each action.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    pub prune: usize,
    pub unchanged: usize,
    /// ReplicationControllers with pods on an older template, which apply replaces.
    pub roll: usize,
}

impl Summary {
    pub fn of(changes: &[Change]) -> Summary {
        let mut s = Summary::default();
        for c in changes {
            match c.action {
                Action::Create => s.create += 1,
                Action::Update => s.update += 1,
                Action::Prune => s.prune += 1,
                Action::Unchanged => s.unchanged += 1,
            }
            if !c.stale_pods.is_empty() {
                s.roll += 1;
            }
        }
        s
    }

    pub fn has_changes(&self) -> bool {
        self.create + self.update + self.prune + self.roll > 0
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(
            f,
            "{} to create, {} to update, {} to prune, {} unchanged",
            self.create, self.update, self.prune, self.unchanged
        )?;
        if self.roll > 0 {
            write!(f, ", {} with pods to roll", self.roll)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_orders_keys_and_drops_server_fields() {
        let live = serde_json::json!({
            "kind": "Secret", "apiVersion": "v1",
            "metadata": {"namespace": "a", "name": "b", "uid": "x", "resourceVersion": "1",
                         "annotations": {"deployment.kubernetes.io/revision": "3"}},
            "status": {"phase": "x"}, "data": {"z": "1", "a": "2"}
        });
        let text = serde_json::to_string(&normalize(&live)).unwrap();
        assert_eq!(
            text,
            r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"b","namespace":"a"},"data":{"a":"2","z":"1"}}"#
        );
    }
}
