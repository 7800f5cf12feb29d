//! The `sparkup` command line: flags become option structs, each command calls the library's
//! stages and prints what they return. All terminal output is written here.

#[cfg(feature = "kube")]
mod apply;
mod args;
#[cfg(feature = "kube")]
mod delete;
#[cfg(feature = "kube")]
mod diff;
#[cfg(feature = "kube")]
mod history;
#[cfg(feature = "kube")]
mod kube;
#[cfg(feature = "kube")]
mod logs;
mod print;
mod render;
#[cfg(feature = "kube")]
mod status;
#[cfg(feature = "kube")]
mod submit;
#[cfg(feature = "kube")]
mod ui;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::values::profiles;
#[cfg(feature = "kube")]
use apply::ApplyArgs;
use args::{ComposeArgs, RenderArgs, SchemaArgs, ValuesCommandArgs};
#[cfg(feature = "kube")]
use delete::DeleteArgs;
#[cfg(feature = "kube")]
use diff::DiffArgs;
#[cfg(feature = "kube")]
use history::{HistoryArgs, RollbackArgs};
#[cfg(feature = "kube")]
use logs::LogsArgs;
use print::EXIT_ERROR;
#[cfg(feature = "kube")]
use status::StatusArgs;
#[cfg(feature = "kube")]
use submit::SubmitArgs;
#[cfg(feature = "kube")]
use ui::UiArgs;

/// Parses the command line, runs the command, and reports an error on stderr with its causes.
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("caused by: {cause}");
            }
            ExitCode::from(exit_code(&e))
        }
    }
}

/// The exit code for an error: 3 when `apply` applied everything but the cluster was not up in
/// time, 2 for everything else (bad input, an API error, a workload that cannot start).
pub(crate) fn exit_code(error: &anyhow::Error) -> u8 {
    #[cfg(feature = "kube")]
    if let Some(crate::kube::KubeError::TimedOut(_)) = error.downcast_ref() {
        return args::EXIT_TIMED_OUT;
    }
    let _ = error;
    EXIT_ERROR
}
use print::print;

#[derive(Debug, Parser)]
#[command(
    name = "sparkup",
    version,
    about = "Deploy a standalone Apache Spark cluster onto Kubernetes, or export it as docker-compose",
    long_about = None,
    after_help = "Values are layered: built-in defaults, then --profile, then each -f file, then each --set.\n\
                  Run `sparkup values --profile dev` to see what a cluster would use."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
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
    #[cfg(feature = "kube")]
    /// Make the cluster match: server-side apply, prune, wait until Spark is up
    #[command(after_help = "Examples:\n  \
        sparkup apply --profile prod -f site.yaml\n  \
        sparkup apply --profile dev -n spark-dev --timeout 5m\n  \
        sparkup apply --profile prod --dry-run")]
    Apply(ApplyArgs),
    #[cfg(feature = "kube")]
    /// Show what an apply would change (exit 0: nothing, 1: changes, 2: error)
    #[command(after_help = "Examples:\n  \
        sparkup diff --profile prod -f site.yaml\n  \
        sparkup diff --profile prod -o json > plan.json\n  \
        sparkup diff --profile prod --revision 3      # what `rollback 3` would change")]
    Diff(DiffArgs),
    #[cfg(feature = "kube")]
    /// List the revisions every apply recorded, or show one with its values
    #[command(after_help = "Examples:\n  \
        sparkup history -n spark\n  \
        sparkup history -n spark 3                    # revision 3: result, values against 2\n  \
        sparkup history -n spark 3 -o values > site.yaml\n  \
        sparkup history -n spark -o json")]
    History(HistoryArgs),
    #[cfg(feature = "kube")]
    /// Apply a revision's values again (default: the one before the newest), as apply does
    #[command(after_help = "Examples:\n  \
        sparkup rollback -n spark                     # back to the revision before the newest\n  \
        sparkup rollback -n spark 3 --dry-run\n  \
        sparkup rollback -n spark 3 --timeout 5m\n\n\
        The revision's values are applied as a new revision; the values given with -p, -f and\n\
        --set only name the instance (its name and namespace).")]
    Rollback(RollbackArgs),
    #[cfg(feature = "kube")]
    /// Print the logs of a role's pods, a job's newest run or one run, each line after its pod
    #[command(
        mut_arg("files", |a| a.short(None)),
        after_help = "Examples:\n  \
        sparkup logs -n spark worker                  # every worker's log\n  \
        sparkup logs -n spark master -f               # follow the master's\n  \
        sparkup logs -n spark -f --since 10m          # every pod, new ones too\n  \
        sparkup logs -n spark job nightly --workers   # its newest run, extra workers too\n  \
        sparkup logs -n spark spark-nightly-29012345 --tail 100\n\n\
        -f follows here: give values files with --values FILE.")]
    Logs(LogsArgs),
    #[cfg(feature = "kube")]
    /// Show the instance's objects and Spark's view of the cluster (exit 1 when not healthy)
    #[command(after_help = "Example:\n  sparkup status --profile prod -n spark")]
    Status(StatusArgs),
    #[cfg(feature = "kube")]
    /// Delete the instance's objects; PersistentVolumeClaims stay unless --purge
    #[command(after_help = "Examples:\n  \
        sparkup delete --profile dev -n spark-dev\n  \
        sparkup delete --profile dev -n spark-dev --purge")]
    Delete(DeleteArgs),
    #[cfg(feature = "kube")]
    /// Run an application on the cluster as a Job: follow the driver's log, exit with its code
    #[command(after_help = "Examples:\n  \
        sparkup submit -p prod /code/etl.py --day 2026-11-21\n  \
        sparkup submit -p prod --class com.example.Etl /code/etl.jar\n  \
        sparkup submit -p dev ./wordcount.py --conf spark.executor.memory=512m\n  \
        sparkup submit -p prod --job nightly --detach\n\n\
        Exit code: the driver's; 2 for bad input or an API error, 3 when --timeout ran out,\n\
        130 when interrupted (the Job is deleted, which stops the application).")]
    Submit(SubmitArgs),
    #[cfg(feature = "kube")]
    /// Open a UI on localhost through the API server, as kubectl port-forward does
    #[command(after_help = "Examples:\n  \
        sparkup ui --profile prod -n spark            # the master's UI on http://127.0.0.1:8080/\n  \
        sparkup ui history --profile prod -n spark\n  \
        sparkup ui master --local-port 0              # any free local port")]
    Ui(UiArgs),
    /// Print the fully merged values, with every default
    #[command(after_help = "Examples:\n  \
        sparkup values --profile prod\n  \
        sparkup values -f site.yaml --set workers.replicas=3")]
    Values(ValuesCommandArgs),
    /// Print the JSON Schema of values files, for editors and CI
    #[command(after_help = "Examples:\n  \
        sparkup schema > values.schema.json\n  \
        check-jsonschema --schemafile values.schema.json site.yaml\n\n\
        With `# yaml-language-server: $schema=./values.schema.json` as a values file's first line,\n\
        editors with the YAML language server complete and check its keys.")]
    Schema(SchemaArgs),
    /// List the built-in profiles
    #[command(after_help = "Example:\n  sparkup profiles")]
    Profiles,
    /// Print a shell completion script
    #[command(after_help = "Examples:\n  \
        sparkup completions bash > ~/.local/share/bash-completion/completions/sparkup\n  \
        sparkup completions zsh > \"${fpath[1]}/_sparkup\"\n  \
        sparkup completions fish > ~/.config/fish/completions/sparkup.fish")]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Render(args) => render::render_command(&args),
        Command::Values(args) => render::values_command(&args),
        Command::Schema(args) => render::schema_command(&args),
        Command::Compose(args) => render::compose_command(&args),
        #[cfg(feature = "kube")]
        Command::Apply(args) => kube::run(&args.kube, kube::Operation::Apply(&args)),
        #[cfg(feature = "kube")]
        Command::Diff(args) => kube::run(&args.kube, kube::Operation::Diff(&args)),
        #[cfg(feature = "kube")]
        Command::History(args) => kube::run(&args.kube, kube::Operation::History(&args)),
        #[cfg(feature = "kube")]
        Command::Rollback(args) => kube::run(&args.apply.kube, kube::Operation::Rollback(&args)),
        #[cfg(feature = "kube")]
        Command::Logs(args) => kube::run(&args.kube, kube::Operation::Logs(&args)),
        #[cfg(feature = "kube")]
        Command::Status(args) => kube::run(&args.kube, kube::Operation::Status),
        #[cfg(feature = "kube")]
        Command::Delete(args) => {
            kube::run(&args.kube, kube::Operation::Delete { purge: args.purge })
        }
        #[cfg(feature = "kube")]
        Command::Submit(args) => submit::submit_command(&args),
        #[cfg(feature = "kube")]
        Command::Ui(args) => ui::ui_command(&args),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "sparkup", &mut script);
            print(&String::from_utf8_lossy(&script))
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
