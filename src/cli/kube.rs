//! The commands that talk to a cluster: `apply`, `diff`, `status` and `delete`, what they print
//! and the exit codes they return.

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;

use super::args::ValuesArgs;
use super::print::print;
use super::render::build_objects;
use crate::kube::{
    self, Action, ApiServer, ApplyOptions, Change, ConnectOptions, DiffOptions, PlanOptions,
    Progress, Summary, WaitOptions,
};
use crate::render::Object;
use crate::values::Cluster;
/// `diff`: something would change, as `kubectl diff` has it.
const EXIT_CHANGES: u8 = 1;
/// `status`: the cluster is not healthy.
const EXIT_UNHEALTHY: u8 = 1;
/// `apply`: everything was applied, but the cluster was not up within `--timeout`.
pub(super) const EXIT_TIMED_OUT: u8 = 3;

/// Values, templates and the cluster to talk to.
#[derive(Debug, Args)]
pub struct KubeArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Namespace of every object (overrides the `namespace` value)
    #[arg(long, short = 'n', value_name = "NAMESPACE")]
    pub namespace: Option<String>,
    /// Kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or the pod's service account)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use instead of the current one
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Use the templates in this folder instead of the built-in ones of the same name
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// How long one request to the API server may take, e.g. 5s, 1m
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_request_timeout)]
    pub request_timeout: Duration,
}

impl KubeArgs {
    /// The values with `-n` applied last, as a `--set` would be.
    pub(super) fn values(&self) -> ValuesArgs {
        let mut values = self.values.clone();
        if let Some(ns) = &self.namespace {
            values.sets.push(format!("namespace={ns}"));
        }
        values
    }

    pub(super) fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            request_timeout: self.request_timeout,
        }
    }
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Take over fields that another field manager owns
    #[arg(long)]
    pub force_conflicts: bool,
    /// Also prune PersistentVolumeClaims that are no longer rendered (deletes their data)
    #[arg(long)]
    pub prune_pvcs: bool,
    /// Show what would change and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Do not wait for the rollouts and the Spark master
    #[arg(long)]
    pub no_wait: bool,
    /// How long to wait, e.g. 90s, 10m
    #[arg(long, default_value = "10m", value_parser = parse_duration)]
    pub timeout: Duration,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Print Secret data instead of masking it
    #[arg(long)]
    pub show_secrets: bool,
    /// Show what an apply with --force-conflicts would do: take over fields another manager owns
    #[arg(long)]
    pub force_conflicts: bool,
    /// Output: a unified diff, or JSON for CI
    #[arg(long, short = 'o', value_enum, default_value = "text")]
    pub output: DiffFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub kube: KubeArgs,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Also delete the PersistentVolumeClaims (and so their data)
    #[arg(long)]
    pub purge: bool,
}

/// `90`, `90s`, `10m`, `1h`: how long `apply` waits.
pub(super) fn parse_duration(text: &str) -> Result<Duration, String> {
    /// A week: longer is a mistake, not a wait.
    const MAX: Duration = Duration::from_secs(7 * 24 * 3600);
    parse_bounded(
        text,
        Duration::ZERO,
        MAX,
        "e.g. 90s, 10m or 1h, at most 168h",
    )
}

/// `500ms`, `5s`, `1m`: how long one request may take; zero would fail every request.
fn parse_request_timeout(text: &str) -> Result<Duration, String> {
    const MAX: Duration = Duration::from_secs(3600);
    let min = Duration::from_millis(1);
    parse_bounded(
        text,
        min,
        MAX,
        "e.g. 500ms, 5s or 1m, more than 0 and at most 1h",
    )
}

fn parse_bounded(text: &str, min: Duration, max: Duration, hint: &str) -> Result<Duration, String> {
    let expected = || format!("invalid duration {text:?}: expected {hint}");
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number.parse().map_err(|_| expected())?;
    let millis = match unit {
        "ms" => 1,
        "" | "s" => 1000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => return Err(expected()),
    };
    match n.checked_mul(millis).map(Duration::from_millis) {
        Some(d) if d >= min && d <= max => Ok(d),
        _ => Err(expected()),
    }
}

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
        let opts = PlanOptions {
            force_conflicts: args.force_conflicts,
        };
        let changes = kube::plan(api, spec, objects, opts).await?;
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
    if let Some(secret) = &report.secret_created {
        text.push_str(&format!(
            "created {secret} (a random authentication secret; sparkup never changes it)\n"
        ));
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
            interval: Duration::from_secs(2),
        };
        let started = std::time::Instant::now();
        for pod in kube::roll(api, cluster, objects, opts).await? {
            print(&format!("replaced pod {pod} (it ran an older template)\n"))?;
        }
        // One --timeout for the roll and the wait together.
        opts.timeout = opts.timeout.saturating_sub(started.elapsed());
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
        let what = match id.starts_with("Secret/") {
            true => "the authentication secret",
            false => "holds data",
        };
        text.push_str(&format!("kept    {id} ({what}; --purge deletes it)\n"));
    }
    if report.deleted.is_empty() && report.kept.is_empty() {
        text.push_str(&format!(
            "nothing to delete for {} in namespace {}\n",
            cluster.spec.name, cluster.spec.namespace
        ));
    }
    print(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `apply --timeout 18446744073709551615` used to panic after the objects were applied.
    #[test]
    fn durations_are_bounded_and_never_overflow() {
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("10m"), Ok(Duration::from_secs(600)));
        assert_eq!(
            parse_duration("168h"),
            Ok(Duration::from_secs(7 * 24 * 3600))
        );
        for bad in [
            "18446744073709551615",
            "18446744073709551615h",
            "169h",
            "1d",
            "",
            "m",
            "-1",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_request_timeout_is_more_than_zero_and_at_most_an_hour() {
        assert_eq!(
            parse_request_timeout("250ms"),
            Ok(Duration::from_millis(250))
        );
        assert_eq!(parse_request_timeout("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_request_timeout("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["0", "0ms", "61m", "2h", "1.5s", "18446744073709551615ms"] {
            let err = parse_request_timeout(bad).unwrap_err();
            assert!(err.contains("more than 0 and at most 1h"), "{bad:?}: {err}");
        }
    }
}
