//! The commands that talk to a cluster: `apply`, `diff`, `status` and `delete`, what they print
//! and the exit codes they return.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;

use super::args::{ApplyArgs, DiffArgs, DiffFormat, KubeArgs};
use super::print::{EXIT_CHANGES, EXIT_UNHEALTHY, print};
use super::render::build_objects;
use crate::kube::{
    self, Action, ApiServer, ApplyOptions, Change, DiffOptions, Progress, Summary, WaitOptions,
};
use crate::render::Object;
use crate::values::Cluster;
/// What a cluster command does once it is connected.
pub(super) enum Operation<'a> {
    Apply(&'a ApplyArgs),
    Diff(&'a DiffArgs),
    Status,
    Delete { purge: bool },
}

/// Builds the objects first (bad values stop here, before any connection), then connects and
/// runs the operation on a single-threaded runtime.
pub(super) fn run(args: &KubeArgs, operation: Operation) -> anyhow::Result<ExitCode> {
    let (cluster, objects) = build_objects(&args.values(), args.templates.clone())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let api = kube::connect(&args.connect_options()).await?;
        match operation {
            Operation::Apply(a) => apply_command(&api, &cluster, &objects, a).await,
            Operation::Diff(d) => diff_command(&api, &cluster, &objects, d).await,
            Operation::Status => status_command(&api, &cluster, &objects).await,
            Operation::Delete { purge } => delete_command(&api, &cluster, &objects, purge).await,
        }
    })
}

pub async fn apply_command(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
    args: &ApplyArgs,
) -> anyhow::Result<ExitCode> {
    let spec = &cluster.spec;
    if args.dry_run {
        let changes = kube::plan(api, spec, objects).await?;
        return print(&dry_run_report(&changes, args.prune_pvcs));
    }
    let opts = ApplyOptions {
        force_conflicts: args.force_conflicts,
        prune_pvcs: args.prune_pvcs,
        ..Default::default()
    };
    let report = kube::apply(api, spec, objects, opts).await?;
    let mut text = String::new();
    if report.namespace_created {
        text.push_str(&format!("created namespace {}\n", spec.namespace));
    }
    for id in &report.applied {
        text.push_str(&format!("applied {id}\n"));
    }
    for id in &report.pruned {
        text.push_str(&format!("pruned  {id}\n"));
    }
    for id in &report.kept {
        text.push_str(&format!(
            "kept    {id} (no longer rendered; --prune-pvcs deletes it)\n"
        ));
    }
    print(&text)?;
    if !args.no_wait {
        let opts = WaitOptions {
            timeout: args.timeout,
            interval: Duration::from_secs(2),
        };
        kube::wait(api, cluster, objects, opts, &Progress::new()).await?;
        print(&format!(
            "Spark master ALIVE with {} worker(s) in namespace {}\n",
            spec.workers.replicas, spec.namespace
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One line per change an apply would make, then the summary.
fn dry_run_report(changes: &[Change], prune_pvcs: bool) -> String {
    let mut text = String::new();
    for change in changes {
        let line = match change.action {
            Action::Prune if change.kind() == "PersistentVolumeClaim" && !prune_pvcs => {
                format!(
                    "keep      {} (no longer rendered; --prune-pvcs deletes it)",
                    change.id()
                )
            }
            action => format!("{:9} {}", format!("{action:?}").to_lowercase(), change.id()),
        };
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str(&format!(
        "{} (dry run: nothing was changed)\n",
        Summary::of(changes)
    ));
    text
}

pub async fn diff_command(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
    args: &DiffArgs,
) -> anyhow::Result<ExitCode> {
    let changes = kube::plan(api, &cluster.spec, objects).await?;
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

pub async fn status_command(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
) -> anyhow::Result<ExitCode> {
    let report = kube::status(api, cluster, objects).await?;
    print(&kube::status_table(&report))?;
    Ok(if report.healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNHEALTHY)
    })
}

pub async fn delete_command(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
    purge: bool,
) -> anyhow::Result<ExitCode> {
    let report = kube::delete(api, &cluster.spec, objects, purge).await?;
    let mut text = String::new();
    for id in &report.deleted {
        text.push_str(&format!("deleted {id}\n"));
    }
    for id in &report.kept {
        text.push_str(&format!("kept    {id} (holds data; --purge deletes it)\n"));
    }
    if report.deleted.is_empty() && report.kept.is_empty() {
        text.push_str(&format!(
            "nothing to delete for {} in namespace {}\n",
            cluster.spec.name, cluster.spec.namespace
        ));
    }
    print(&text)
}
