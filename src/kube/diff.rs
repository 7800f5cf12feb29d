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
    (before, after)
}

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
        }));
    }
    let report = json!({ "summary": Summary::of(changes), "changes": items });
    Ok(serde_json::to_string_pretty(&report).expect("JSON") + "\n")
}
