//! The cluster commands' bodies: what `apply`, `diff`, `status` and `delete` print and return.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use crate::api::Api;
use crate::apply::{self, ApplyOptions};
use crate::cli::{ApplyArgs, DiffArgs, DiffFormat, print};
use crate::diff::{self, DiffOptions};
use crate::manifests::Object;
use crate::plan::{self, Action, Change, Summary};
use crate::values::Cluster;
use crate::wait::{self, Progress, WaitOptions};
use crate::{delete, status};

/// `diff`'s exit code when something would change, as `kubectl diff` has it.
const EXIT_CHANGES: u8 = 1;
/// `status`'s exit code when the cluster is not healthy.
const EXIT_UNHEALTHY: u8 = 1;

pub async fn apply_command(
    api: &Api,
    cluster: &Cluster,
    objects: &[Object],
    args: &ApplyArgs,
) -> anyhow::Result<ExitCode> {
    let spec = &cluster.spec;
    if args.dry_run {
        let changes = plan::plan(api, spec, objects).await?;
        return print(&dry_run_report(&changes, args.prune_pvcs));
    }
    let opts = ApplyOptions {
        force_conflicts: args.force_conflicts,
        prune_pvcs: args.prune_pvcs,
        ..Default::default()
    };
    let report = apply::apply(api, spec, objects, opts).await?;
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
        wait::wait(api, cluster, objects, opts, &Progress::new()).await?;
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
            Action::Prune if change.kind.kind == "PersistentVolumeClaim" && !prune_pvcs => {
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
    api: &Api,
    cluster: &Cluster,
    objects: &[Object],
    args: &DiffArgs,
) -> anyhow::Result<ExitCode> {
    let changes = plan::plan(api, &cluster.spec, objects).await?;
    let opts = DiffOptions {
        show_secrets: args.show_secrets,
        color: std::io::stdout().is_terminal(),
    };
    let text = match args.output {
        DiffFormat::Text => diff::text_report(&changes, opts)?,
        DiffFormat::Json => diff::json_report(&changes, opts)?,
    };
    print(&text)?;
    Ok(if Summary::of(&changes).has_changes() {
        ExitCode::from(EXIT_CHANGES)
    } else {
        ExitCode::SUCCESS
    })
}

pub async fn status_command(
    api: &Api,
    cluster: &Cluster,
    objects: &[Object],
) -> anyhow::Result<ExitCode> {
    let report = status::status(api, cluster, objects).await?;
    print(&status::render(&report))?;
    Ok(if report.healthy {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_UNHEALTHY)
    })
}

pub async fn delete_command(
    api: &Api,
    cluster: &Cluster,
    objects: &[Object],
    purge: bool,
) -> anyhow::Result<ExitCode> {
    let report = delete::delete(api, &cluster.spec, objects, purge).await?;
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
