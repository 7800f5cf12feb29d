//! Command-line parsing: flags become option structs, then each command calls the stages.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Args, Parser, Subcommand};

use crate::manifests::{self, Object};
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
fn print(text: &str) -> anyhow::Result<ExitCode> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing to stdout"),
        _ => Ok(ExitCode::SUCCESS),
    }
}
