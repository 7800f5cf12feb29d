//! `sparkup history` and `sparkup rollback`: the revisions every apply records, and applying a
//! revision's values again through the normal apply.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use serde_json::{Value, json};

use super::apply::{ApplyArgs, apply_command};
use super::args::KubeArgs;
use super::print::print;
use crate::kube::{self, ApiServer, Revision};
use crate::render::{self, Object, RenderOptions};
use crate::values::{self, Cluster};

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    #[command(flatten)]
    pub(crate) kube: KubeArgs,
    /// Show this revision: how its apply ended and its values against the revision before
    #[arg(value_name = "REVISION")]
    pub(crate) revision: Option<u32>,
    /// Output: a table (or one revision in full), JSON, or with REVISION only its values, as a
    /// values file for -f
    #[arg(long, short = 'o', value_enum, default_value = "table")]
    pub(crate) output: HistoryFormat,
    /// Show values that look like credentials instead of masking them
    #[arg(long)]
    pub(crate) show_secrets: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum HistoryFormat {
    Table,
    Json,
    Values,
}

#[derive(Debug, Args)]
pub(crate) struct RollbackArgs {
    #[command(flatten)]
    pub(crate) apply: ApplyArgs,
    /// The revision whose values to apply again (default: the one before the newest)
    #[arg(value_name = "REVISION")]
    pub(crate) revision: Option<u32>,
}

pub(super) async fn history_command(
    api: &ApiServer,
    cluster: &Cluster,
    args: &HistoryArgs,
) -> anyhow::Result<ExitCode> {
    let spec = &cluster.spec;
    let revisions = kube::revisions(api, spec).await?;
    let shown = |r: &Revision| match args.show_secrets {
        true => r.values.clone(),
        false => kube::masked(&r.values),
    };
    let Some(number) = args.revision else {
        return match args.output {
            HistoryFormat::Table => print(&table(&revisions, spec)),
            HistoryFormat::Json => {
                let list: Vec<Value> = revisions.iter().map(summary).collect();
                print(&(serde_json::to_string_pretty(&list)? + "\n"))
            }
            HistoryFormat::Values => {
                anyhow::bail!("-o values needs a REVISION: sparkup history 3 -o values")
            }
        };
    };
    let revision = kube::find(&revisions, number, spec).map_err(anyhow::Error::msg)?;
    let before = revisions.iter().rev().find(|r| r.number < number);
    match args.output {
        HistoryFormat::Values => print(&render::to_yaml(&revision.values)?),
        HistoryFormat::Json => {
            let mut full = summary(&revision);
            full["values"] = shown(&revision);
            print(&(serde_json::to_string_pretty(&full)? + "\n"))
        }
        HistoryFormat::Table => {
            let mut text = details(&revision);
            let old = before.map(&shown);
            text.push_str(&values_diff(
                old.as_ref(),
                before,
                &shown(&revision),
                number,
            )?);
            print(&text)
        }
    }
}

pub(super) async fn rollback_command(
    api: &ApiServer,
    cluster: &Cluster,
    args: &RollbackArgs,
) -> anyhow::Result<ExitCode> {
    let (number, cluster, objects) =
        revision_objects(api, cluster, args.revision, &args.apply.kube).await?;
    apply_command(api, &cluster, &objects, &args.apply, Some(number)).await
}

/// The cluster and objects of a revision's values, rendered by this version of sparkup.
fn recorded_objects(
    revision: &Revision,
    templates: Option<PathBuf>,
) -> anyhow::Result<(Cluster, Vec<Object>)> {
    let origin = format!("the values of revision {}", revision.number);
    let cluster = values::load_recorded(&revision.values, &origin)?;
    let objects = render::render(&cluster, &RenderOptions { templates })?;
    Ok((cluster, objects))
}

fn table(revisions: &[Revision], spec: &crate::values::ClusterSpec) -> String {
    if revisions.is_empty() {
        return format!(
            "no revisions of {} in namespace {}: nothing was applied there with sparkup\n",
            spec.name, spec.namespace
        );
    }
    let mut text = format!(
        "{:<9} {:<21} {:<10} {:<8} CHANGE\n",
        "REVISION", "TIME", "RESULT", "SPARKUP"
    );
    for r in revisions {
        text.push_str(&format!(
            "{:<9} {:<21} {:<10} {:<8} {}\n",
            r.number,
            r.time,
            r.result.as_str(),
            r.sparkup_version,
            r.change
        ));
    }
    text
}

/// A revision without its values: what `history -o json` lists.
fn summary(r: &Revision) -> Value {
    let mut value = json!({
        "revision": r.number,
        "time": r.time,
        "result": r.result.as_str(),
        "sparkupVersion": r.sparkup_version,
        "change": r.change,
    });
    if let Some(message) = &r.message {
        value["message"] = json!(message);
    }
    if let Some(of) = r.rollback_of {
        value["rollbackOf"] = json!(of);
    }
    value
}

fn details(r: &Revision) -> String {
    let mut text = format!(
        "revision {}\ntime     {}\nresult   {}\nsparkup  {}\nchange   {}\n",
        r.number,
        r.time,
        r.result.as_str(),
        r.sparkup_version,
        r.change
    );
    if let Some(message) = &r.message {
        text.push_str(&format!("message  {message}\n"));
    }
    text
}

/// The revision's values as a unified diff against the revision before (all of them added for
/// the first).
fn values_diff(
    old: Option<&Value>,
    before: Option<&Revision>,
    new: &Value,
    number: u32,
) -> anyhow::Result<String> {
    let old_text = match old {
        Some(old) => render::to_yaml(old)?,
        None => String::new(),
    };
    let new_text = render::to_yaml(new)?;
    let old_name = before.map_or("nothing".to_string(), |b| format!("revision {}", b.number));
    let diff = similar::TextDiff::from_lines(&old_text, &new_text)
        .unified_diff()
        .context_radius(3)
        .header(&old_name, &format!("revision {number}"))
        .to_string();
    Ok(match diff.is_empty() {
        true => format!("\nvalues: the same as {old_name}\n"),
        false => format!("\nvalues against {old_name}:\n{diff}"),
    })
}

/// The revision `number` of the instance (default: the one before the newest), its values
/// rendered: what `rollback` applies and `diff --revision` compares.
pub(super) async fn revision_objects(
    api: &ApiServer,
    cluster: &Cluster,
    number: Option<u32>,
    args: &KubeArgs,
) -> anyhow::Result<(u32, Cluster, Vec<Object>)> {
    let spec = &cluster.spec;
    let revisions = kube::revisions(api, spec).await?;
    let number = match number {
        Some(number) => number,
        None => match revisions.iter().rev().nth(1) {
            Some(previous) => previous.number,
            None => anyhow::bail!(
                "{} in namespace {} has {} revision(s): nothing to roll back to (sparkup history)",
                spec.name,
                spec.namespace,
                revisions.len()
            ),
        },
    };
    let revision = kube::find(&revisions, number, spec).map_err(anyhow::Error::msg)?;
    let (cluster, objects) = recorded_objects(&revision, args.templates.clone())
        .with_context(|| format!("rendering revision {number}"))?;
    Ok((number, cluster, objects))
}
