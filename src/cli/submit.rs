//! `sparkup submit`: one run of an application on the cluster, as a Job with a client-mode
//! driver. Everything that can be refused is refused before a connection: the values, the
//! application's path, its `--conf`, and executors larger than any worker offers.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use base64::Engine as _;
use clap::Args;
use serde_json::json;

use super::kube::{EXIT_TIMED_OUT, KubeArgs, parse_duration};
use crate::error::{Error, ValueError, quote};
use crate::kube::{self, Outcome, Submission, SubmitOptions};
use crate::render::labels::instance_labels;
use crate::render::{self, Object, RenderOptions};
use crate::spark::conf as spark_conf;
use crate::spark::fit;
use crate::values::spec::JobSpec;
use crate::values::{self, Cluster};

/// Where a shipped local application lands in the driver's container.
const SHIPPED_DIR: &str = "/opt/sparkup/app";
/// What a ConfigMap may hold (the API server's limit is 1 MiB), less room for its metadata.
const MAX_SHIPPED_BYTES: u64 = 1024 * 1024 - 16 * 1024;
/// A run's Job stays this long after it ends, for `kubectl logs`, then goes.
const RUN_TTL_SECONDS: u32 = 24 * 3600;
/// Job names stay short enough for the pod names the Job controller derives from them.
const MAX_JOB_NAME: usize = 57;
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

/// Builds the run (refusing bad input), then connects, creates it and follows the driver.
pub(super) fn submit_command(args: &SubmitArgs) -> anyhow::Result<ExitCode> {
    let cluster = values::load(&args.kube.values().options())?;
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let submission = build(&cluster, args, now)?;
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

/// The Job (and a ConfigMap for a local file) for this run, or why it cannot run.
pub fn build(cluster: &Cluster, args: &SubmitArgs, now: Duration) -> Result<Submission, Error> {
    let spec = &cluster.spec;
    let (key, mut job) = match (&args.job, &args.app) {
        (Some(name), _) => {
            let job = spec.jobs.get(name).cloned().ok_or_else(|| {
                let defined: Vec<&str> = spec.jobs.keys().map(String::as_str).collect();
                let expected = match defined.is_empty() {
                    true => "a job defined under `jobs` (none is)".to_string(),
                    false => format!(
                        "one of the jobs defined under `jobs`: {}",
                        defined.join(", ")
                    ),
                };
                ValueError::invalid("--job", &quote(name), expected)
            })?;
            (name.clone(), job)
        }
        (None, Some(app)) => {
            let job = JobSpec {
                app: app.clone(),
                args: args.args.clone(),
                ..JobSpec::default()
            };
            let stem = Path::new(app)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("app");
            (name_part(args.name.as_deref().unwrap_or(stem)), job)
        }
        (None, None) => {
            return Err(ValueError::new("APP", "missing: the application to run").into());
        }
    };
    if args.job.is_some() && !args.args.is_empty() {
        job.args = args.args.clone();
    }
    if let Some(class) = &args.class {
        job.main_class = Some(class.clone());
    }
    let mut problems = Vec::new();
    for entry in &args.conf {
        match entry.split_once('=') {
            Some((key, value)) => match spark_conf::check_entry(key, value) {
                Ok(()) => {
                    job.conf.insert(key.to_string(), value.to_string());
                }
                Err(e) => problems.push(ValueError::new(format!("--conf {key}"), e)),
            },
            None => problems.push(ValueError::invalid(
                "--conf",
                &quote(entry),
                "KEY=VALUE, e.g. spark.executor.memory=2g",
            )),
        }
    }
    if let Some(packages) = &args.packages {
        job.conf
            .insert("spark.jars.packages".into(), packages.clone());
        // Resolved once into a shared claim, not again by every run.
        if let Some(claim) = spec.storage.iter().find(|s| !s.read_only)
            && !job.conf.contains_key("spark.jars.ivy")
        {
            job.conf.insert(
                "spark.jars.ivy".into(),
                format!("{}/.ivy2", claim.mount_path),
            );
        }
    }
    let mut conf = spec.spark_conf.clone();
    conf.extend(job.conf.clone());
    let capacity = values::sizing_capacity(cluster, job.workers);
    for misfit in fit::check(&conf, &capacity) {
        let origin = match (job.conf.contains_key(misfit.key), &args.job) {
            (true, Some(name)) if !args.conf.iter().any(|c| c.starts_with(misfit.key)) => {
                format!("jobs.{name}.conf.{}", misfit.key)
            }
            (true, _) => format!("--conf {}", misfit.key),
            (false, _) => format!("sparkConf.{}", misfit.key),
        };
        problems.push(ValueError::invalid(
            origin,
            &quote(&misfit.value),
            misfit.expected,
        ));
    }
    if !problems.is_empty() {
        return Err(Error::Values(problems));
    }
    let name = job_name(&spec.name, &key, now);
    let shipped = resolve_app(cluster, &mut job, &name)?;
    let opts = RenderOptions {
        templates: args.kube.templates.clone(),
    };
    let mut run = render::job_run(cluster, &opts, &key, &job, &name, Some(RUN_TTL_SECONDS))?;
    if let Some(shipped) = &shipped {
        mount_shipped(&mut run, &shipped.name);
    }
    Ok(Submission { job: run, shipped })
}

/// A Job name: `<instance>-<key>-<minute>-<suffix>`, the minute it was submitted (which the
/// launcher reports as the run's scheduled time) and a suffix for runs in the same minute.
fn job_name(instance: &str, key: &str, now: Duration) -> String {
    let minutes = now.as_secs() / 60;
    let mut suffix = String::new();
    let mut n = now.subsec_nanos() ^ std::process::id().rotate_left(16);
    for _ in 0..4 {
        suffix.push(char::from_digit(n % 36, 36).unwrap_or('0'));
        n /= 36;
    }
    let tail = format!("-{minutes}-{suffix}");
    let room = MAX_JOB_NAME.saturating_sub(instance.len() + tail.len() + 1);
    let key = key[..key.len().min(room)].trim_end_matches('-');
    match key.is_empty() {
        true => format!("{instance}{tail}"),
        false => format!("{instance}-{key}{tail}"),
    }
}

/// A name usable in object names: lowercase letters, digits and '-'.
fn name_part(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => out.push(c),
            _ if !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    let out = out.trim_matches('-').to_string();
    match out.is_empty() {
        true => "app".into(),
        false => out,
    }
}

/// Where the driver finds the application: a URL or a path on a claim as they are; a local file
/// is shipped in a ConfigMap that the Job mounts.
fn resolve_app(cluster: &Cluster, job: &mut JobSpec, run: &str) -> Result<Option<Object>, Error> {
    let spec = &cluster.spec;
    let app = job.app.clone();
    if app.contains("://") || app.starts_with("local:") {
        return Ok(None);
    }
    let on_claim = spec
        .storage
        .iter()
        .any(|s| app.starts_with(&format!("{}/", s.mount_path)));
    if on_claim {
        return Ok(None);
    }
    let path = Path::new(&app);
    let Ok(meta) = std::fs::metadata(path).map(|m| (m.is_file(), m.len())) else {
        let mounts: Vec<&str> = spec.storage.iter().map(|s| s.mount_path.as_str()).collect();
        let claims = match mounts.is_empty() {
            true => "no claim is mounted".to_string(),
            false => format!("claims are mounted at {}", mounts.join(", ")),
        };
        return Err(ValueError::invalid(
            "APP",
            &quote(&app),
            format!(
                "a local file to ship, a path on a claim ({claims}), or a URL Spark can fetch \
                 (https://, s3a://, local:///path/in/the/image)"
            ),
        )
        .into());
    };
    let (is_file, size) = meta;
    if !is_file {
        return Err(ValueError::invalid("APP", &quote(&app), "a file, not a folder").into());
    }
    if size > MAX_SHIPPED_BYTES {
        return Err(ValueError::invalid(
            "APP",
            &quote(&app),
            format!(
                "a local file of at most {} KiB ({} KiB here): sparkup ships a local file in a \
                 ConfigMap, which the API server limits to 1 MiB; put larger applications on a \
                 claim (storage) or at a URL Spark can fetch",
                MAX_SHIPPED_BYTES / 1024,
                size.div_ceil(1024)
            ),
        )
        .into());
    }
    let bytes =
        std::fs::read(path).map_err(|e| Error::source(format!("APP {}", quote(&app)), e))?;
    let file = path
        .file_name()
        .and_then(|f| f.to_str())
        .map(|f| {
            f.chars()
                .map(|c| match c.is_ascii_alphanumeric() || "-._".contains(c) {
                    true => c,
                    false => '_',
                })
                .collect::<String>()
        })
        .filter(|f| !f.trim_matches('.').is_empty())
        .unwrap_or_else(|| "app".into());
    job.app = format!("{SHIPPED_DIR}/{file}");
    let name = format!("{run}-app");
    let value = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": spec.namespace,
            "labels": instance_labels(&spec.name, "job"),
        },
        "binaryData": {file: base64::engine::general_purpose::STANDARD.encode(&bytes)},
    });
    Ok(Some(Object {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        name,
        value,
    }))
}

/// Mounts the shipped application's ConfigMap into the driver's container.
fn mount_shipped(run: &mut Object, config_map: &str) {
    let Some(pod) = run.value.pointer_mut("/spec/template/spec") else {
        return;
    };
    if let Some(volumes) = pod["volumes"].as_array_mut() {
        volumes.push(json!({"name": "app", "configMap": {"name": config_map}}));
    }
    if let Some(mounts) = pod["containers"][0]["volumeMounts"].as_array_mut() {
        mounts.push(json!({"name": "app", "mountPath": SHIPPED_DIR, "readOnly": true}));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrapper {
        #[command(flatten)]
        submit: SubmitArgs,
    }

    fn args(tail: &[&str]) -> SubmitArgs {
        let mut argv = vec!["submit"];
        argv.extend_from_slice(tail);
        Wrapper::try_parse_from(argv).unwrap().submit
    }

    fn cluster(sets: &[&str]) -> Cluster {
        values::load(&crate::values::ValuesOptions {
            profile: "default".into(),
            files: vec![],
            sets: sets.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap()
    }

    #[test]
    fn a_local_file_over_the_configmap_limit_is_refused_with_its_size() {
        let dir = std::env::temp_dir().join(format!("sparkup-ship-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.jar");
        std::fs::write(&big, vec![0u8; 2 * 1024 * 1024]).unwrap();
        let err = build(
            &cluster(&[]),
            &args(&[big.to_str().unwrap()]),
            Duration::ZERO,
        )
        .unwrap_err()
        .to_string();
        assert!(err.starts_with("APP: invalid value"), "{err}");
        assert!(
            err.contains("a local file of at most 1008 KiB (2048 KiB here)"),
            "{err}"
        );
        let small = dir.join("job.jar");
        std::fs::write(&small, vec![1u8; 1000]).unwrap();
        let run = build(
            &cluster(&[]),
            &args(&["--class", "a.B", small.to_str().unwrap()]),
            Duration::ZERO,
        )
        .unwrap();
        std::fs::remove_dir_all(&dir).ok();
        let shipped = run.shipped.expect("shipped");
        assert_eq!(
            shipped.value["binaryData"]["job.jar"]
                .as_str()
                .unwrap()
                .len(),
            1336
        );
        let pod = &run.job.value["spec"]["template"]["spec"];
        assert_eq!(
            pod["containers"][0]["args"],
            json!([
                "submit",
                "--name",
                "job",
                "--class",
                "a.B",
                "/opt/sparkup/app/job.jar"
            ])
        );
        assert!(
            pod["volumes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["configMap"]["name"] == shipped.name.as_str())
        );
    }

    #[test]
    fn packages_resolve_into_a_cache_on_a_writable_claim() {
        let sets = [
            "storage[0].name=code",
            "storage[0].mountPath=/code",
            "storage[0].size=1Gi",
            "storage[0].readOnly=true",
            "storage[1].name=data",
            "storage[1].mountPath=/data",
            "storage[1].size=1Gi",
        ];
        let tail = ["--packages", "org.example:lib:1.0", "/code/app.py"];
        let run = build(&cluster(&sets), &args(&tail), Duration::ZERO).unwrap();
        let argv = run.job.value["spec"]["template"]["spec"]["containers"][0]["args"].clone();
        let argv: Vec<&str> = argv
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert!(argv.contains(&"spark.jars.ivy=/data/.ivy2"), "{argv:?}");
        assert!(
            argv.contains(&"spark.jars.packages=org.example:lib:1.0"),
            "{argv:?}"
        );
        assert!(run.shipped.is_none(), "a path on a claim is not shipped");
    }

    #[test]
    fn job_names_fit_pod_names_and_keep_the_minute() {
        let now = Duration::from_secs(29_412_000 * 60 + 5);
        let name = job_name("spark", "etl", now);
        assert!(name.starts_with("spark-etl-29412000-"), "{name}");
        assert_eq!(name.len(), "spark-etl-29412000-".len() + 4);
        let long = job_name(&"s".repeat(40), &"k".repeat(60), now);
        assert!(long.len() <= MAX_JOB_NAME, "{long}");
        assert!(long.contains("-29412000-"), "{long}");
        assert_eq!(name_part("My_ETL job.py"), "my-etl-job-py");
        assert_eq!(name_part("__"), "app");
    }
}
