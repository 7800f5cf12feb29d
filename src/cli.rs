//! Command-line parsing: flags become option structs, then each command calls the stages.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::connect::{ConnectOptions, connect};
use crate::manifests::{self, Object};
use crate::ops;
use crate::output::{self, Format, OutputOptions};
use crate::profiles;
use crate::render::{self, RenderOptions};
use crate::values::{self, Cluster, ValuesOptions};

#[derive(Debug, Parser)]
#[command(
    name = "sparkup",
    version,
    about = "Deploy a standalone Apache Spark cluster onto Kubernetes, or export it as docker-compose",
    long_about = None,
    after_help = "Values are layered: built-in defaults, then --profile, then each -f file, then each --set.\n\
                  Run `sparkup values --profile dev` to see what a cluster would use."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render the cluster's Kubernetes manifests
    #[command(after_help = "Examples:\n  \
        sparkup render --profile dev\n  \
        sparkup render --profile prod -f site.yaml --set workers.replicas=8\n  \
        sparkup render --profile prod --output-dir manifests/ && kubectl apply -k manifests/\n  \
        sparkup render -o json --set sparkConf.spark.executor.memory=2g")]
    Render(RenderArgs),
    /// Write the same cluster as a docker-compose file
    #[command(after_help = "Examples:\n  \
        sparkup compose --profile dev -o compose.yaml && docker compose -f compose.yaml up\n  \
        sparkup compose --set workers.replicas=3 | docker compose -f - up")]
    Compose(ComposeArgs),
    /// Make the cluster match: server-side apply, prune, wait until Spark is up
    #[command(after_help = "Examples:\n  \
        sparkup apply --profile prod -f site.yaml\n  \
        sparkup apply --profile dev -n spark-dev --timeout 5m\n  \
        sparkup apply --profile prod --dry-run")]
    Apply(ApplyArgs),
    /// Show what an apply would change (exit 0: nothing, 1: changes, 2: error)
    #[command(after_help = "Examples:\n  \
        sparkup diff --profile prod -f site.yaml\n  \
        sparkup diff --profile prod -o json > plan.json")]
    Diff(DiffArgs),
    /// Show the instance's objects and Spark's view of the cluster (exit 1 when not healthy)
    #[command(after_help = "Example:\n  sparkup status --profile prod -n spark")]
    Status(StatusArgs),
    /// Delete the instance's objects; PersistentVolumeClaims stay unless --purge
    #[command(after_help = "Examples:\n  \
        sparkup delete --profile dev -n spark-dev\n  \
        sparkup delete --profile dev -n spark-dev --purge")]
    Delete(DeleteArgs),
    /// Print the fully merged values, with every default
    #[command(after_help = "Examples:\n  \
        sparkup values --profile prod\n  \
        sparkup values -f site.yaml --set workers.replicas=3")]
    Values(ValuesCommandArgs),
    /// List the built-in profiles
    #[command(after_help = "Example:\n  sparkup profiles")]
    Profiles,
}

/// Where the values come from; shared by every command that builds a cluster.
#[derive(Debug, Args, Clone)]
pub struct ValuesArgs {
    /// Built-in profile to start from (see `sparkup profiles`)
    #[arg(long, short = 'p', default_value = "default", value_name = "NAME")]
    pub profile: String,
    /// Values file merged over the profile; repeatable, later files win; `-` reads stdin
    #[arg(long = "values", short = 'f', value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Override one value, e.g. workers.replicas=3 or sparkConf.spark.executor.memory=2g;
    /// repeatable, applied last; `null` restores the default
    #[arg(long = "set", value_name = "PATH=VALUE")]
    pub sets: Vec<String>,
}

impl ValuesArgs {
    pub fn options(&self) -> ValuesOptions {
        ValuesOptions {
            profile: self.profile.clone(),
            files: self.files.clone(),
            sets: self.sets.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Output format: multi-document YAML or a JSON List
    #[arg(long, short = 'o', value_enum, default_value = "yaml")]
    pub output: Format,
    /// Write one file per object and a kustomization.yaml into this folder instead of stdout
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    /// Use the templates in this folder instead of the built-in ones of the same name
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// Print Secret data instead of masking it
    #[arg(long)]
    pub show_secrets: bool,
}

/// Values, templates and the cluster to talk to.
#[derive(Debug, Args)]
pub struct ClusterArgs {
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
}

impl ClusterArgs {
    /// The values with `-n` applied last, as a `--set` would be.
    fn values(&self) -> ValuesArgs {
        let mut values = self.values.clone();
        if let Some(ns) = &self.namespace {
            values.sets.push(format!("namespace={ns}"));
        }
        values
    }

    fn connect_options(&self) -> ConnectOptions {
        ConnectOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
        }
    }
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
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
    pub cluster: ClusterArgs,
    /// Print Secret data instead of masking it
    #[arg(long)]
    pub show_secrets: bool,
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
    pub cluster: ClusterArgs,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Also delete the PersistentVolumeClaims (and so their data)
    #[arg(long)]
    pub purge: bool,
}

/// `90`, `90s`, `10m`, `1h`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let (number, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let n: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?}: expected e.g. 90s, 10m or 1h"))?;
    let seconds = match unit {
        "" | "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => {
            return Err(format!(
                "invalid duration {text:?}: expected e.g. 90s, 10m or 1h"
            ));
        }
    };
    Ok(Duration::from_secs(seconds))
}

#[derive(Debug, Args)]
pub struct ComposeArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Write the compose file here instead of stdout
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Use DIR/compose.yml instead of the built-in compose template
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValuesCommandArgs {
    #[command(flatten)]
    pub values: ValuesArgs,
    /// Output format
    #[arg(long, short = 'o', value_enum, default_value = "yaml")]
    pub output: Format,
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Render(args) => render_command(&args),
        Command::Values(args) => values_command(&args),
        Command::Compose(args) => compose_command(&args),
        Command::Apply(args) => cluster_command(&args.cluster, Operation::Apply(&args)),
        Command::Diff(args) => cluster_command(&args.cluster, Operation::Diff(&args)),
        Command::Status(args) => cluster_command(&args.cluster, Operation::Status),
        Command::Delete(args) => {
            cluster_command(&args.cluster, Operation::Delete { purge: args.purge })
        }
        Command::Profiles => {
            let mut text = String::new();
            for name in profiles::names() {
                text.push_str(name);
                text.push('\n');
            }
            print(&text)
        }
    }
}

/// Values, render and manifests: what every command that shows or applies objects starts with.
pub fn build_objects(
    values: &ValuesArgs,
    templates: Option<PathBuf>,
) -> anyhow::Result<(Cluster, Vec<Object>)> {
    let cluster = values::load(&values.options())?;
    let rendered = render::render(&cluster, &RenderOptions { templates })?;
    let objects = manifests::build(&rendered, &cluster.spec)?;
    Ok((cluster, objects))
}

fn render_command(args: &RenderArgs) -> anyhow::Result<ExitCode> {
    let (_, objects) = build_objects(&args.values, args.templates.clone())?;
    let opts = OutputOptions {
        show_secrets: args.show_secrets,
    };
    match &args.output_dir {
        Some(dir) => {
            let files = output::write_dir(dir, &objects, args.output, opts)?;
            eprintln!(
                "wrote {} objects and kustomization.yaml to {}",
                files.len(),
                dir.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        None => print(&output::format_all(&objects, args.output, opts)?),
    }
}

/// What a cluster command does once it is connected.
enum Operation<'a> {
    Apply(&'a ApplyArgs),
    Diff(&'a DiffArgs),
    Status,
    Delete { purge: bool },
}

/// Builds the objects first (bad values stop here, before any connection), then connects and
/// runs the operation on a single-threaded runtime.
fn cluster_command(args: &ClusterArgs, operation: Operation) -> anyhow::Result<ExitCode> {
    let (cluster, objects) = build_objects(&args.values(), args.templates.clone())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let api = connect(&args.connect_options()).await?;
        match operation {
            Operation::Apply(a) => ops::apply_command(&api, &cluster, &objects, a).await,
            Operation::Diff(d) => ops::diff_command(&api, &cluster, &objects, d).await,
            Operation::Status => ops::status_command(&api, &cluster, &objects).await,
            Operation::Delete { purge } => {
                ops::delete_command(&api, &cluster, &objects, purge).await
            }
        }
    })
}

fn compose_command(args: &ComposeArgs) -> anyhow::Result<ExitCode> {
    let cluster = values::load(&args.values.options())?;
    let opts = RenderOptions {
        templates: args.templates.clone(),
    };
    let text = crate::compose::build(&cluster, &opts)?;
    if !cluster.spec.env_from.is_empty() {
        eprintln!(
            "warning: envFrom names Kubernetes Secrets and ConfigMaps, which docker-compose cannot \
             read: set those variables under `env` for compose"
        );
    }
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
            Ok(ExitCode::SUCCESS)
        }
        None => print(&text),
    }
}

fn values_command(args: &ValuesCommandArgs) -> anyhow::Result<ExitCode> {
    let cluster = values::load(&args.values.options())?;
    let value = serde_json::to_value(&cluster.spec).context("serializing values")?;
    let text = match args.output {
        Format::Yaml => output::to_yaml(&value)?,
        Format::Json => serde_json::to_string_pretty(&value)? + "\n",
    };
    print(&text)
}

/// Writes to stdout; a closed pipe (`sparkup render | head`) is not an error.
pub fn print(text: &str) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing to stdout"),
        _ => Ok(ExitCode::SUCCESS),
    }
}
