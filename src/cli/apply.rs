//! `sparkup apply`: make the cluster match, then wait until Spark is up; `--dry-run` shows what
//! would change.

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::args::{KubeArgs, parse_duration};
use super::print::print;
use crate::kube::{
    self, Action, ApiServer, ApplyOptions, Change, HISTORY_MAX, KubeError, PlanOptions, Progress,
    RecordOptions, RevisionResult, Summary, WaitOptions,
};
use crate::render::Object;
use crate::values::Cluster;

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    pub(crate) kube: KubeArgs,
    /// Take over fields that another field manager owns
    #[arg(long)]
    pub(crate) force_conflicts: bool,
    /// Also prune PersistentVolumeClaims that are no longer rendered (deletes their data)
    #[arg(long)]
    pub(crate) prune_pvcs: bool,
    /// Replace a master without recovery even while applications run on it: they are lost
    #[arg(long)]
    pub(crate) lose_running_applications: bool,
    /// Show what would change and change nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Do not wait for the rollouts and the Spark master
    #[arg(long)]
    pub(crate) no_wait: bool,
    /// How long to wait, e.g. 90s, 10m
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub(crate) timeout: Duration,
    /// Revisions kept in the namespace (`sparkup history`); 0 keeps every one
    #[arg(long, value_name = "N", default_value_t = HISTORY_MAX)]
    pub(crate) history_max: u32,
}

/// Applies, records a revision (`rollback_of` the revision whose values these are), waits, and
/// records how the wait ended.
pub(super) async fn apply_command(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
    args: &ApplyArgs,
    rollback_of: Option<u32>,
) -> anyhow::Result<ExitCode> {
    let spec = &cluster.spec;
    if args.dry_run {
        let opts = PlanOptions {
            force_conflicts: args.force_conflicts,
        };
        let changes = kube::plan(api, spec, objects, opts).await?;
        return print(&dry_run_report(&changes, args.prune_pvcs));
    }
    let opts = ApplyOptions {
        force_conflicts: args.force_conflicts,
        prune_pvcs: args.prune_pvcs,
        lose_running_applications: args.lose_running_applications,
        ..Default::default()
    };
    let report = kube::apply(api, spec, objects, opts).await?;
    let mut text = String::new();
    if report.namespace_created {
        text.push_str(&format!("created namespace {}\n", spec.namespace));
    }
    if let Some(secret) = &report.secret_created {
        text.push_str(&format!(
            "created {secret} (a random authentication secret; sparkup never changes it)\n"
        ));
    }
    for id in &report.applied {
        text.push_str(&format!("applied {id}\n"));
    }
    for id in &report.unchanged {
        text.push_str(&format!("unchanged {id}\n"));
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
    let wrote = !(report.applied.is_empty() && report.pruned.is_empty());
    let record = RecordOptions {
        rollback_of,
        history_max: args.history_max,
    };
    let revision = kube::record(api, spec, wrote, &record).await?;
    if let Some(r) = &revision {
        print(&format!("revision {}: {}\n", r.number, r.change))?;
    }
    let waited = wait_for_spark(api, cluster, objects, args).await;
    if let Some(mut revision) = revision {
        let (result, message) = match &waited {
            Ok(()) if args.no_wait => (RevisionResult::Applied, None),
            Ok(()) => (RevisionResult::Deployed, None),
            Err(e) => match e.downcast_ref::<KubeError>() {
                Some(KubeError::TimedOut(_)) => (RevisionResult::TimedOut, Some(e.to_string())),
                _ => (RevisionResult::Failed, Some(e.to_string())),
            },
        };
        kube::finish(api, spec, &mut revision, result, message).await?;
    }
    waited?;
    Ok(ExitCode::SUCCESS)
}

/// After the objects were applied: the roll of pods of older templates and the wait until Spark
/// is up, or with `--no-wait` what is left to roll.
async fn wait_for_spark(
    api: &ApiServer,
    cluster: &Cluster,
    objects: &[Object],
    args: &ApplyArgs,
) -> anyhow::Result<()> {
    let spec = &cluster.spec;
    if args.no_wait {
        for stale in kube::stale_pods(api, objects).await? {
            print(&format!(
                "roll pending: {} pod(s) of {} run an older template; apply without --no-wait \
                 replaces them one at a time\n",
                stale.pods.len(),
                stale.workload
            ))?;
        }
    } else {
        let mut opts = WaitOptions {
            timeout: args.timeout,
            interval: WaitOptions::INTERVAL,
            spent: Duration::ZERO,
        };
        let started = std::time::Instant::now();
        for pod in kube::roll(api, cluster, objects, opts).await? {
            print(&format!("replaced pod {pod} (it ran an older template)\n"))?;
        }
        // One --timeout for the roll and the wait together.
        opts.spent = started.elapsed();
        kube::wait(api, cluster, objects, opts, &Progress::new()).await?;
        let workers = &spec.workers;
        let mut line = format!(
            "Spark master ALIVE with {} worker(s) in namespace {}",
            workers.expected(),
            spec.namespace
        );
        if workers.scaled_on_demand() {
            line.push_str(&format!(
                " (KEDA adds workers as applications ask for cores, up to {})",
                workers.autoscaling.max_replicas
            ));
        }
        print(&(line + "\n"))?;
    }
    Ok(())
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
        if let Some(r) = &change.restart {
            text.push_str(&format!("          restarts {}: {}\n", r.pods, r.cost));
        }
    }
    text.push_str(&format!(
        "{} (dry run: nothing was changed)\n",
        Summary::of(changes)
    ));
    text
}
