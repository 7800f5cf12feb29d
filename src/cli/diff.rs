//! `sparkup diff`: what an apply would change, as text or JSON; exit 1 when something would.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Args;

use super::args::KubeArgs;
use super::history::revision_objects;
use super::print::print;
use crate::kube::{self, ApiServer, DiffOptions, PlanOptions, Summary};
use crate::render::Object;
use crate::values::Cluster;

/// Something would change, as `kubectl diff` has it.
const EXIT_CHANGES: u8 = 1;

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    #[command(flatten)]
    pub(crate) kube: KubeArgs,
    /// Print Secret data instead of masking it
    #[arg(long)]
    pub(crate) show_secrets: bool,
    /// Show what an apply with --force-conflicts would do: take over fields another manager owns
    #[arg(long)]
    pub(crate) force_conflicts: bool,
    /// Output: a unified diff, or JSON for CI
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub(crate) output: DiffFormat,
    /// Compare the cluster with this revision's values instead (what `rollback N` would
    /// change); -p, -f and --set then only name the instance
    #[arg(long, value_name = "N")]
    pub(crate) revision: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DiffFormat {
    Text,
    Json,
}

pub(super) async fn diff_command(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
    args: &DiffArgs,
) -> anyhow::Result<ExitCode> {
    let recorded;
    let (cluster, objects) = match args.revision {
        Some(number) => {
            recorded = revision_objects(api, cluster, Some(number), &args.kube).await?;
            (&recorded.1, recorded.2.as_slice())
        }
        None => (cluster, objects),
    };
    let opts = PlanOptions {
        force_conflicts: args.force_conflicts,
    };
    let changes = kube::plan(api, &cluster.spec, objects, opts).await?;
    let opts = DiffOptions {
        show_secrets: args.show_secrets,
        color: std::io::stdout().is_terminal(),
    };
    let text = match args.output {
        DiffFormat::Text => kube::diff_text(&changes, opts)?,
        DiffFormat::Json => kube::diff_json(&changes, opts)?,
    };
    print(&text)?;
    Ok(if Summary::of(&changes).has_changes() {
        ExitCode::from(EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    })
}
