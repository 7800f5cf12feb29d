//! Showing a plan: unified diffs with three lines of context, Secret data masked, a summary.

use serde_json::{Value, json};
use similar::TextDiff;

use super::plan::{Action, Change, Summary};
use crate::error::Error;
use crate::render::output;

/// What replaces each value of a Secret's `data` and `stringData` wherever a person sees it.
pub(crate) const MASK: &str = "***";

#[derive(Debug, Clone, Copy, Default)]
pub struct DiffOptions {
    pub show_secrets: bool,
    /// ANSI colours, for a terminal.
    pub color: bool,
}

/// Masks a Secret's `data` and `stringData` on both sides: equal values become `***`, changed
/// ones `*** (before)` / `*** (after)`, so a diff tells that a secret changed but not to what.
fn mask(change: &Change, show: bool) -> (Option<Value>, Option<Value>) {
    let (mut before, mut after) = (change.before.clone(), change.after.clone());
    if show || change.kind.kind != "Secret" {
        return (before, after);
    }
    for field in ["data", "stringData"] {
        let old = before.as_ref().and_then(|b| b.get(field)).cloned();
        let new = after.as_ref().and_then(|a| a.get(field)).cloned();
        let mask_side = |side: &mut Option<Value>, other: &Option<Value>, marker: &str| {
            if let Some(Value::Object(map)) = side.as_mut().and_then(|s| s.get_mut(field)) {
                for (key, value) in map.iter_mut() {
                    let same = other.as_ref().and_then(|o| o.get(key)) == Some(value);
                    let text = if same || other.is_none() {
                        MASK.to_string()
                    } else {
                        format!("{MASK} ({marker})")
                    };
                    *value = Value::String(text);
                }
            }
        };
        mask_side(&mut before, &new, "before");
        mask_side(&mut after, &old, "after");
    }
    // `kubectl apply` (client-side) keeps the whole Secret, data included, in this annotation.
    for side in [&mut before, &mut after] {
        if let Some(annotation) = side
            .as_mut()
            .and_then(|s| s.pointer_mut("/metadata/annotations"))
            .and_then(|a| a.get_mut(LAST_APPLIED))
        {
            *annotation = Value::String(MASK.to_string());
        }
    }
    (before, after)
}

/// The annotation in which client-side `kubectl apply` records what it applied.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

fn yaml(value: Option<&Value>) -> Result<String, Error> {
    value.map_or(Ok(String::new()), output::to_yaml)
}

/// One change as a unified diff; unchanged objects give an empty string.
pub(crate) fn unified(change: &Change, opts: DiffOptions) -> Result<String, Error> {
    let roll = match change.stale_pods.as_slice() {
        [] => String::new(),
        pods => format!(
            "~ {}: pod(s) {} run an older template: apply replaces them\n",
            change.id(),
            pods.join(", ")
        ),
    };
    if change.action == Action::Unchanged {
        return Ok(roll);
    }
    let (before, after) = mask(change, opts.show_secrets);
    let (old, new) = (yaml(before.as_ref())?, yaml(after.as_ref())?);
    let id = change.id();
    let note = match change.action {
        Action::Create => " (create)",
        Action::Prune => " (would be pruned)",
        _ => "",
    };
    let text = TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("live/{id}"), &format!("desired/{id}{note}"))
        .to_string();
    let text = if opts.color { colorize(&text) } else { text };
    Ok(text + &roll)
}

fn colorize(text: &str) -> String {
    text.lines()
        .map(|line| {
            let code = match line.as_bytes().first() {
                Some(b'+') => "32",
                Some(b'-') => "31",
                Some(b'@') => "36",
                _ => return format!("{line}\n"),
            };
            format!("\x1b[{code}m{line}\x1b[0m\n")
        })
        .collect()
}

/// Every change's diff, then the summary line.
pub fn diff_text(changes: &[Change], opts: DiffOptions) -> Result<String, Error> {
    let mut out = String::new();
    for change in changes {
        out.push_str(&unified(change, opts)?);
    }
    for change in changes {
        if let Some(r) = &change.restart {
            out.push_str(&format!(
                "restarts {} ({}): {}; {}\n",
                change.id(),
                r.role,
                r.pods,
                r.cost
            ));
        }
    }
    out.push_str(&format!("{}\n", Summary::of(changes)));
    Ok(out)
}

/// The plan as JSON, for CI: the summary and every change with its diff.
pub fn diff_json(changes: &[Change], opts: DiffOptions) -> Result<String, Error> {
    let plain = DiffOptions {
        color: false,
        ..opts
    };
    let mut items = Vec::new();
    for change in changes {
        items.push(json!({
            "action": change.action,
            "kind": change.kind.kind,
            "name": change.name,
            "diff": unified(change, plain)?,
            "restart": change.restart,
        }));
    }
    let report = json!({ "summary": Summary::of(changes), "changes": items });
    Ok(serde_json::to_string_pretty(&report).expect("JSON") + "\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kube::plan::Action;

    /// Client-side `kubectl apply` keeps a Secret's data in an annotation: masked like the data.
    #[test]
    fn a_secrets_last_applied_annotation_is_masked() {
        let live = serde_json::json!({"kind": "Secret", "metadata": {"name": "s", "annotations": {
            LAST_APPLIED: "{\"data\":{\"token\":\"c2VjcmV0\"}}", "team": "a"}},
            "data": {"token": "c2VjcmV0"}});
        let change = Change {
            action: Action::Update,
            kind: crate::render::kinds::secret_kind(),
            name: "s".into(),
            before: Some(live.clone()),
            after: Some(live),
            stale_pods: Vec::new(),
            restart: None,
        };
        let (before, after) = mask(&change, false);
        for side in [before.unwrap(), after.unwrap()] {
            assert!(!side.to_string().contains("c2VjcmV0"), "{side}");
            assert_eq!(side["metadata"]["annotations"]["team"], "a");
        }
        let (shown, _) = mask(&change, true);
        assert!(shown.unwrap().to_string().contains("c2VjcmV0"));
    }
}
