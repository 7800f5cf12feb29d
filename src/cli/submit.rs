//! `sparkup submit`: the flags become a [`SubmitRequest`], the library builds the run (refusing
//! bad input before any connection), creates it and follows the driver; this prints.

use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use clap::Args;

use super::args::{EXIT_TIMED_OUT, KubeArgs, parse_duration};
use crate::kube::{self, Outcome, SubmitOptions};
use crate::render::{self, RenderOptions, SubmitRequest};
use crate::values;
/// The exit code of a run stopped with Ctrl-C, as a shell reports SIGINT.
const EXIT_INTERRUPTED: u8 = 130;

#[derive(Debug, Args)]
pub struct SubmitArgs {
    #[command(flatten)]
    pub kube: KubeArgs,
    /// Run the application defined under `jobs.NAME` now (as `kubectl create job --from` would)
    #[arg(long, value_name = "NAME", conflicts_with = "app")]
    pub job: Option<String>,
    /// The application's name in Spark and in the Job's name (default: the job's or the file's)
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Main class of a jar application
    #[arg(long, value_name = "CLASS")]
    pub class: Option<String>,
    /// A Spark property for this run; repeatable, wins over the values
    #[arg(long = "conf", value_name = "KEY=VALUE")]
    pub conf: Vec<String>,
    /// Maven coordinates to resolve, comma-separated (spark.jars.packages); cached on a
    /// writable claim when there is one
    #[arg(long, value_name = "COORDINATES")]
    pub packages: Option<String>,
    /// Create the Job and return: print its name and how to follow it
    #[arg(long)]
    pub detach: bool,
    /// Stop the run (delete its Job) after this long, e.g. 30m
    #[arg(long, value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// The application: a path on a claim (/code/app.py), a URL Spark can fetch, or a local
    /// file, which is shipped in a ConfigMap (up to 1 MiB)
    #[arg(value_name = "APP", required_unless_present = "job")]
    pub app: Option<String>,
    /// Arguments for the application
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub args: Vec<String>,
}

impl SubmitArgs {
    /// The run the flags ask for.
    fn request(&self) -> SubmitRequest {
        SubmitRequest {
            job: self.job.clone(),
            app: self.app.clone(),
            args: self.args.clone(),
            name: self.name.clone(),
            class: self.class.clone(),
            conf: self.conf.clone(),
            packages: self.packages.clone(),
        }
    }
}

/// Builds the run (refusing bad input), then connects, creates it and follows the driver.
pub(super) fn submit_command(args: &SubmitArgs) -> anyhow::Result<ExitCode> {
    let cluster = values::load(&args.kube.values().options())?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let opts = RenderOptions {
        templates: args.kube.templates.clone(),
    };
    let submission = render::submission(&cluster, &opts, &args.request(), now)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let namespace = cluster.spec.namespace.clone();
    let job = submission.job.name.clone();
    let outcome = runtime.block_on(async {
        let api = kube::connect(&args.kube.connect_options()).await?;
        let opts = SubmitOptions {
            detach: args.detach,
            timeout: args.timeout,
            ..Default::default()
        };
        let stop = async {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        let mut stdout = std::io::stdout();
        let mut note = |text: &str| eprintln!("sparkup: {text}");
        kube::submit(
            &api,
            &cluster,
            &submission,
            &opts,
            stop,
            &mut stdout,
            &mut note,
        )
        .await
    })?;
    Ok(match outcome {
        Outcome::Detached => {
            println!("job.batch/{job} created in namespace {namespace}");
            println!("follow it:  kubectl logs -n {namespace} -f job/{job} -c driver");
            println!("stop it:    kubectl delete -n {namespace} job/{job}");
            ExitCode::SUCCESS
        }
        Outcome::Finished(code) => ExitCode::from(u8::try_from(code.clamp(0, 255)).unwrap_or(1)),
        Outcome::Interrupted => {
            eprintln!("sparkup: interrupted: deleted job/{job}, which stops the application");
            ExitCode::from(EXIT_INTERRUPTED)
        }
        Outcome::TimedOut => {
            eprintln!("sparkup: --timeout ran out: deleted job/{job}, which stops the application");
            ExitCode::from(EXIT_TIMED_OUT)
        }
    })
}
