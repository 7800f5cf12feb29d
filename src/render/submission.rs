//! One run of an application, as `sparkup submit` creates it: the Job with a client-mode driver,
//! and a ConfigMap for a local application file.
//!
//! Everything that can be refused is refused here, before any connection: the job's name, the
//! application's path, each `--conf`, and executors larger than any worker offers.

use std::path::Path;
use std::time::Duration;

use super::manifests::Object;
use super::model::jobs::SHIPPED_DIR;
use super::{JobRun, RenderOptions, job_run, owned};
use crate::error::{Error, ValueError, quote};
use crate::spark::conf as spark_conf;
use crate::spark::fit;
use crate::spark::secrets;
use crate::values::spec::JobSpec;
use crate::values::{self, Cluster};

/// What a ConfigMap may hold (the API server's limit is 1 MiB), less room for its metadata.
const MAX_SHIPPED_BYTES: u64 = 1024 * 1024 - 16 * 1024;
/// A run's Job stays this long after it ends, for `kubectl logs`, then goes.
const RUN_TTL_SECONDS: u32 = 24 * 3600;
/// Job names stay short enough for the pod names the Job controller derives from them.
const MAX_JOB_NAME: usize = 57;

/// What to run, as a user asked for it.
#[derive(Debug, Clone, Default)]
pub struct SubmitRequest {
    /// The application defined under `jobs.<name>`.
    pub job: Option<String>,
    /// The application: a path on a claim, a URL, or a local file to ship.
    pub app: Option<String>,
    /// Arguments for the application (they replace a defined job's).
    pub args: Vec<String>,
    /// The application's name in Spark and in the Job's name.
    pub name: Option<String>,
    /// Main class of a jar application.
    pub class: Option<String>,
    /// Spark properties for this run, `KEY=VALUE`, over the values'.
    pub conf: Vec<String>,
    /// Maven coordinates to resolve, comma-separated.
    pub packages: Option<String>,
}

/// What `submit` creates: the Job, and a ConfigMap with a local application file it mounts.
#[derive(Debug, Clone)]
pub struct Submission {
    pub job: Object,
    pub shipped: Option<Object>,
}

/// The Job (and a ConfigMap for a local file) for this run, or why it cannot run; `now` names
/// the Job.
pub fn submission(
    cluster: &Cluster,
    opts: &RenderOptions,
    request: &SubmitRequest,
    now: Duration,
) -> Result<Submission, Error> {
    let (key, mut job) = chosen_job(cluster, request)?;
    let mut problems = Vec::new();
    add_conf(cluster, request, &mut job, &mut problems);
    if let Some(packages) = &request.packages {
        add_packages(cluster, &mut job, packages);
    }
    check_fit(cluster, request, &job, &mut problems);
    if !problems.is_empty() {
        return Err(Error::Values(problems));
    }
    let name = job_name(&cluster.spec.name, &key, now);
    let shipped = ship_app(cluster, &mut job, &name)?;
    let run = JobRun {
        key: &key,
        job: &job,
        name: &name,
        ttl_seconds_after_finished: Some(RUN_TTL_SECONDS),
        shipped: shipped.as_ref().map(|s| s.name.as_str()),
    };
    let job = job_run(cluster, opts, &run)?;
    Ok(Submission { job, shipped })
}

/// The job's key and its spec: a job defined under `jobs`, or the application given.
fn chosen_job(cluster: &Cluster, request: &SubmitRequest) -> Result<(String, JobSpec), Error> {
    let spec = &cluster.spec;
    let (key, mut job) = match (&request.job, &request.app) {
        (Some(name), _) => {
            let mut job = spec.jobs.get(name).cloned().ok_or_else(|| {
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
            if !request.args.is_empty() {
                job.args = request.args.clone();
            }
            (name.clone(), job)
        }
        (None, Some(app)) => {
            let job = JobSpec {
                app: app.clone(),
                args: request.args.clone(),
                ..JobSpec::default()
            };
            let stem = Path::new(app)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("app");
            (name_part(request.name.as_deref().unwrap_or(stem)), job)
        }
        (None, None) => {
            return Err(ValueError::new("APP", "missing: the application to run").into());
        }
    };
    if let Some(class) = &request.class {
        let valid = !class.is_empty()
            && class
                .chars()
                .all(|c| c.is_alphanumeric() || "._$".contains(c));
        if !valid {
            return Err(ValueError::invalid(
                "--class",
                &quote(class),
                "a Java class name such as com.example.Etl",
            )
            .into());
        }
        job.main_class = Some(class.clone());
    }
    Ok((key, job))
}

/// Each `--conf KEY=VALUE` into the job's properties, or a problem naming it: the same rules as
/// for the values' Spark properties.
fn add_conf(
    cluster: &Cluster,
    request: &SubmitRequest,
    job: &mut JobSpec,
    problems: &mut Vec<ValueError>,
) {
    let settled = cluster.spec.settled();
    for entry in &request.conf {
        match entry.split_once('=') {
            Some((key, value)) => match spark_conf::check_entry(key, value)
                .and_then(|()| secrets::check_property(key, value, settled))
            {
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
}

/// `spark.jars.packages`, resolved once into a shared claim, not again by every run.
fn add_packages(cluster: &Cluster, job: &mut JobSpec, packages: &str) {
    job.conf
        .insert("spark.jars.packages".into(), packages.to_string());
    if let Some(claim) = cluster.spec.storage.iter().find(|s| !s.read_only)
        && !job.conf.contains_key("spark.jars.ivy")
    {
        job.conf.insert(
            "spark.jars.ivy".into(),
            format!("{}/.ivy2", claim.mount_path),
        );
    }
}

/// Executors larger than any worker offers, and more cores than the cluster has, each named at
/// the place it was given.
fn check_fit(
    cluster: &Cluster,
    request: &SubmitRequest,
    job: &JobSpec,
    problems: &mut Vec<ValueError>,
) {
    let mut conf = cluster.spec.spark_conf.clone();
    conf.extend(job.conf.clone());
    let capacity = values::sizing_capacity(cluster, job);
    for misfit in fit::check(&conf, &capacity) {
        let given = request.conf.iter().any(|c| c.starts_with(misfit.key));
        let origin = match (job.conf.contains_key(misfit.key), &request.job) {
            (true, Some(name)) if !given => format!("jobs.{name}.conf.{}", misfit.key),
            (true, _) => format!("--conf {}", misfit.key),
            (false, _) => format!("sparkConf.{}", misfit.key),
        };
        problems.push(ValueError::invalid(
            origin,
            &quote(&misfit.value),
            misfit.expected,
        ));
    }
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

/// A name usable in object names and as a label value (at most 63 characters): lowercase
/// letters, digits and '-'.
fn name_part(text: &str) -> String {
    const MAX_LABEL_VALUE: usize = 63;
    let mut out = String::new();
    for c in text.chars() {
        match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9') => out.push(c),
            _ if !out.ends_with('-') => out.push('-'),
            _ => {}
        }
    }
    let out: String = out
        .trim_matches('-')
        .chars()
        .take(MAX_LABEL_VALUE)
        .collect();
    let out = out.trim_end_matches('-').to_string();
    match out.is_empty() {
        true => "app".into(),
        false => out,
    }
}

/// Where the driver finds the application: a URL or a path on a claim as they are; a local file
/// is shipped in a ConfigMap that the Job mounts at [`SHIPPED_DIR`].
fn ship_app(cluster: &Cluster, job: &mut JobSpec, run: &str) -> Result<Option<Object>, Error> {
    let spec = &cluster.spec;
    let app = job.app.clone();
    let on_claim = spec
        .storage
        .iter()
        .any(|s| app.starts_with(&format!("{}/", s.mount_path)));
    if on_claim && app.split('/').any(|segment| segment == "..") {
        // `/code/../etc/x` is no file on the claim, whatever its prefix.
        return Err(ValueError::invalid(
            "APP",
            &quote(&app),
            "a path on a claim without '..' segments",
        )
        .into());
    }
    if app.contains("://") || app.starts_with("local:") || on_claim {
        return Ok(None);
    }
    let bytes = read_local_app(cluster, &app)?;
    let file = Path::new(&app)
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
    Ok(Some(owned::shipped_app(spec, &name, &file, bytes)))
}

/// The bytes of a local application file that fits in a ConfigMap.
fn read_local_app(cluster: &Cluster, app: &str) -> Result<Vec<u8>, Error> {
    let spec = &cluster.spec;
    let Ok((is_file, size)) = std::fs::metadata(app).map(|m| (m.is_file(), m.len())) else {
        let mounts: Vec<&str> = spec.storage.iter().map(|s| s.mount_path.as_str()).collect();
        let claims = match mounts.is_empty() {
            true => "no claim is mounted".to_string(),
            false => format!("claims are mounted at {}", mounts.join(", ")),
        };
        return Err(ValueError::invalid(
            "APP",
            &quote(app),
            format!(
                "a local file to ship, a path on a claim ({claims}), or a URL Spark can fetch \
                 (https://, s3a://, local:///path/in/the/image)"
            ),
        )
        .into());
    };
    if !is_file {
        return Err(ValueError::invalid("APP", &quote(app), "a file, not a folder").into());
    }
    if size > MAX_SHIPPED_BYTES {
        return Err(ValueError::invalid(
            "APP",
            &quote(app),
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
    std::fs::read(app).map_err(|e| Error::source(format!("APP {}", quote(app)), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cluster(sets: &[&str]) -> Cluster {
        values::load(&crate::values::ValuesOptions {
            profile: "default".into(),
            files: vec![],
            sets: sets.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap()
    }

    fn app(path: &str) -> SubmitRequest {
        SubmitRequest {
            app: Some(path.into()),
            ..Default::default()
        }
    }

    fn build(cluster: &Cluster, request: &SubmitRequest) -> Result<Submission, Error> {
        submission(cluster, &RenderOptions::default(), request, Duration::ZERO)
    }

    #[test]
    fn a_local_file_over_the_configmap_limit_is_refused_with_its_size() {
        let dir = std::env::temp_dir().join(format!("sparkup-ship-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let big = dir.join("big.jar");
        std::fs::write(&big, vec![0u8; 2 * 1024 * 1024]).unwrap();
        let err = build(&cluster(&[]), &app(big.to_str().unwrap()))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("APP: invalid value"), "{err}");
        assert!(
            err.contains("a local file of at most 1008 KiB (2048 KiB here)"),
            "{err}"
        );
        let small = dir.join("job.jar");
        std::fs::write(&small, vec![1u8; 1000]).unwrap();
        let request = SubmitRequest {
            class: Some("a.B".into()),
            ..app(small.to_str().unwrap())
        };
        let run = build(&cluster(&[]), &request).unwrap();
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
        assert!(
            pod["containers"][0]["volumeMounts"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["name"] == "app" && m["mountPath"] == SHIPPED_DIR)
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
        let request = SubmitRequest {
            packages: Some("org.example:lib:1.0".into()),
            ..app("/code/app.py")
        };
        let run = build(&cluster(&sets), &request).unwrap();
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

    /// `--conf` follows the rules of the values' Spark properties: the shared secret, switching
    /// authentication off and a credential as plain text are refused, the value never shown.
    #[test]
    fn submit_conf_cannot_undo_security_or_carry_a_credential() {
        let cluster = cluster(&["security.authenticate=true"]);
        let request = SubmitRequest {
            conf: vec![
                "spark.authenticate.secret=hunter2".into(),
                "spark.authenticate=false".into(),
                "spark.hadoop.fs.s3a.secret.key=hunter2".into(),
            ],
            ..app("s3a://bucket/app.py")
        };
        let err = build(&cluster, &request).unwrap_err().to_string();
        assert!(
            err.contains(
                "--conf spark.authenticate.secret: not allowed here: set security.authenticate"
            ),
            "{err}"
        );
        assert!(
            err.contains("--conf spark.authenticate: not allowed here"),
            "{err}"
        );
        assert!(
            err.contains("--conf spark.hadoop.fs.s3a.secret.key: a credential"),
            "{err}"
        );
        assert!(!err.contains("hunter2"), "{err}");
    }

    /// A run's GPUs are checked against the workers it can use: the standing workers', or a
    /// job's extra workers' when they have more.
    #[test]
    fn a_run_asking_for_more_gpus_than_its_workers_have_is_refused() {
        let cluster = cluster(&[
            "workers.gpus=1",
            "jobs.train.app=local:///opt/app/train.py",
            "jobs.train.workers=1",
            "jobs.train.workerGpus=2",
        ]);
        let two = |job: Option<&str>| SubmitRequest {
            job: job.map(String::from),
            conf: vec!["spark.executor.resource.gpu.amount=2".into()],
            ..app("/code/infer.py")
        };
        let err = build(&cluster, &two(None)).unwrap_err().to_string();
        assert_eq!(
            err,
            "--conf spark.executor.resource.gpu.amount: invalid value \"2\": expected at most \
             1, the GPUs one worker offers (workers.gpus): a larger executor never starts and the \
             application waits forever"
        );
        let run = SubmitRequest {
            app: None,
            ..two(Some("train"))
        };
        if let Err(e) = build(&cluster, &run) {
            panic!("{e}");
        }
        let none = self::cluster(&[]);
        let err = build(&none, &two(None)).unwrap_err().to_string();
        assert!(err.contains("no worker offers a GPU"), "{err}");
    }

    /// Everything a run can be refused for is refused before any request: a class name that
    /// Java would not take, a claim path that leaves the claim, a name too long for a label.
    #[test]
    fn a_bad_class_or_a_path_leaving_its_claim_is_refused_before_connecting() {
        let sets = [
            "storage[0].name=code",
            "storage[0].mountPath=/code",
            "storage[0].size=1Gi",
        ];
        let cluster = cluster(&sets);
        let request = SubmitRequest {
            class: Some("a b".into()),
            ..app("/code/etl.jar")
        };
        let err = build(&cluster, &request).unwrap_err().to_string();
        assert!(err.starts_with("--class: invalid value \"a b\""), "{err}");
        let err = build(&cluster, &app("/code/../etc/passwd"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("without '..' segments"), "{err}");
        let long = SubmitRequest {
            name: Some("n".repeat(80)),
            ..app("/code/etl.py")
        };
        let run = build(&cluster, &long).unwrap();
        let label = run.job.value["metadata"]["labels"]["sparkup.io/job"]
            .as_str()
            .unwrap();
        assert_eq!(label.len(), 63, "{label}");
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
