//! From a validated cluster to Kubernetes objects, or to a docker-compose file.
//!
//! Pure: the spec and the templates go in, typed, labelled, ordered objects come out
//! ([`render`]), or the compose file ([`compose`], or [`compose_dir`] for a folder any
//! docker-compose runs); [`format_all`], [`write_dir`] and [`write_compose_dir`] print them.
//! The only I/O is reading a user's `--templates` folder and writing `--output-dir`.

pub(crate) mod compose;
mod compose_dir;
mod compose_pods;
pub(crate) mod kinds;
pub(crate) mod labels;
pub(crate) mod manifests;
pub(crate) mod model;
pub(crate) mod output;
pub(crate) mod owned;
mod read_back;
#[cfg(feature = "kube")]
mod submission;
pub(crate) mod templates;

use std::path::PathBuf;

use crate::error::Error;
use crate::values::Cluster;
use crate::values::spec::JobSpec;
pub use compose::Compose;
pub use compose_dir::{COMPOSE_FILE, ComposeDir, DirFile, write_compose_dir};
pub use manifests::Object;
pub use model::Component;
pub use output::{Format, format_all, to_yaml, write_dir};
#[cfg(feature = "kube")]
pub use submission::{Submission, SubmitRequest, submission};

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// A folder of templates that replace the built-in ones of the same name; its other
    /// `*.yaml` files are rendered too.
    pub templates: Option<PathBuf>,
}

/// The cluster's Kubernetes objects: templates rendered, every document checked against its
/// Kubernetes type, labelled, and in apply order.
pub fn render(cluster: &Cluster, opts: &RenderOptions) -> Result<Vec<Object>, Error> {
    let rendered = templates::render(cluster, opts)?;
    manifests::build(&rendered, &cluster.spec)
}

/// One run of a job, as `sparkup submit` creates it.
#[derive(Debug, Clone, Copy)]
pub struct JobRun<'a> {
    /// The job's key under `jobs`, or the name of an application given on the command line.
    pub key: &'a str,
    pub job: &'a JobSpec,
    /// The Job's name.
    pub name: &'a str,
    pub ttl_seconds_after_finished: Option<u32>,
    /// The ConfigMap that holds a shipped local application, mounted into the driver.
    pub shipped: Option<&'a str>,
}

/// One run of a job, rendered from `job.yaml` with the cluster's context, checked and labelled
/// like the cluster's objects but no member of its ApplySet, so that an apply never prunes a run
/// in progress.
pub fn job_run(cluster: &Cluster, opts: &RenderOptions, run: &JobRun) -> Result<Object, Error> {
    let mut context = model::Context::new(cluster);
    context.escape_for_kubelet();
    let parts = model::jobs::JobParts {
        key: run.key,
        job: run.job,
        name: run.name.to_string(),
        ttl_seconds_after_finished: run.ttl_seconds_after_finished,
        shipped: run.shipped.map(str::to_string),
    };
    let mut template = model::jobs::job_template(cluster, &context.config, parts);
    template.pod.escape_for_kubelet();
    let rendered = templates::render_job(
        &model::JobContext {
            cluster: &context,
            job: &template,
        },
        opts,
    )?;
    manifests::build_run(&rendered, &cluster.spec)
}

/// The same cluster as a docker-compose file, with what compose could not express.
pub fn compose(cluster: &Cluster, opts: &RenderOptions) -> Result<Compose, Error> {
    compose::build(cluster, opts)
}

/// The same cluster as a folder: `compose.yaml` and the files it mounts instead of inline
/// configs, which docker-compose 1.29 runs as well as docker compose v2.
pub fn compose_dir(cluster: &Cluster, opts: &RenderOptions) -> Result<ComposeDir, Error> {
    compose::build_dir(cluster, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::values::ValuesOptions;

    fn objects(sets: &[&str]) -> Vec<Object> {
        let cluster = crate::load(&ValuesOptions {
            profile: "default".into(),
            files: vec![],
            sets: sets.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap();
        render(&cluster, &RenderOptions::default()).unwrap()
    }

    fn find<'a>(objects: &'a [Object], id: &str) -> Option<&'a Object> {
        objects.iter().find(|o| o.id() == id)
    }

    /// Only the instance's pods reach the master's RPC port; the UIs also the namespace.
    #[test]
    fn network_policies_keep_the_rpc_ports_to_the_instance() {
        let objects = objects(&["networkPolicy.enabled=true", "connect.enabled=true"]);
        let internal = find(&objects, "NetworkPolicy/spark-internal").expect("a policy");
        let instance = serde_json::json!({
            "app.kubernetes.io/instance": "spark", "app.kubernetes.io/name": "spark"
        });
        assert_eq!(
            internal.value["spec"]["podSelector"]["matchLabels"],
            instance
        );
        let from = &internal.value["spec"]["ingress"][0]["from"];
        assert_eq!(
            from,
            &serde_json::json!([{"podSelector": {"matchLabels": instance}}])
        );
        assert!(internal.value["spec"]["ingress"][0].get("ports").is_none());
        let ui = find(&objects, "NetworkPolicy/spark-ui").unwrap();
        let ports: Vec<u64> = ui.value["spec"]["ingress"][0]["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["port"].as_u64().unwrap())
            .collect();
        assert_eq!(ports, [4040, 8080, 8081, 15002]);
        assert!(!ports.contains(&7077) && !ports.contains(&7078));
        assert_eq!(
            ui.value["spec"]["ingress"][0]["from"][0],
            serde_json::json!({"podSelector": {}})
        );
        // Egress stays open: DNS and object stores keep working.
        assert_eq!(
            ui.value["spec"]["policyTypes"],
            serde_json::json!(["Ingress"])
        );
    }

    /// A drain takes one worker at a time, when there is more than one; an autoscaler owns the
    /// worker count, so sparkup stops applying `replicas`.
    #[test]
    fn disruption_budget_and_autoscaler_follow_the_worker_count() {
        let two = objects(&[]);
        let pdb = find(&two, "PodDisruptionBudget/spark-worker").expect("a budget");
        assert_eq!(pdb.value["spec"]["maxUnavailable"], 1);
        assert_eq!(
            pdb.value["spec"]["selector"]["matchLabels"]["app.kubernetes.io/component"],
            "worker"
        );
        assert!(
            find(
                &objects(&["workers.replicas=1"]),
                "PodDisruptionBudget/spark-worker"
            )
            .is_none()
        );
        assert!(
            find(
                &objects(&["workers.disruptionBudget=false"]),
                "PodDisruptionBudget/spark-worker"
            )
            .is_none()
        );

        let scaled = objects(&["workers.autoscaling.enabled=true", "workers.replicas=1"]);
        let hpa = find(&scaled, "HorizontalPodAutoscaler/spark-worker").expect("an autoscaler");
        assert_eq!(hpa.value["spec"]["scaleTargetRef"]["kind"], "Deployment");
        assert_eq!(hpa.value["spec"]["minReplicas"], 2);
        let workers = find(&scaled, "Deployment/spark-worker").unwrap();
        assert!(
            workers.value["spec"].get("replicas").is_none(),
            "{}",
            workers.value["spec"]
        );
        // The autoscaler's minimum of two makes the budget worth having.
        assert!(find(&scaled, "PodDisruptionBudget/spark-worker").is_some());
    }

    /// The CronJob controller gives each Job only its template's labels: those must select the
    /// run as `status` does, by the instance and the job component.
    #[test]
    fn a_scheduled_jobs_runs_carry_the_instance_labels() {
        let objects = objects(&[
            "jobs.nightly.app=/code/etl.py",
            "jobs.nightly.schedule=0 2 * * *",
        ]);
        let cronjob = find(&objects, "CronJob/spark-nightly").expect("a CronJob");
        let labels = &cronjob.value["spec"]["jobTemplate"]["metadata"]["labels"];
        for (key, value) in Component::Job.selector("spark") {
            assert_eq!(labels[&key], value.as_str(), "{labels}");
        }
        assert_eq!(labels["sparkup.io/job"], "nightly");
        assert!(
            labels.get(crate::applyset::LABEL_PART_OF).is_none(),
            "a run is no member of the ApplySet: {labels}"
        );
    }

    /// The kubelet expands `$(VAR)` in arguments and variables: every `$` of a user's value is
    /// doubled, so `$(_SPARK_AUTH_SECRET)` reaches the driver as text, not as the secret; the
    /// pod IP reference sparkup itself writes stays one.
    #[test]
    fn user_values_reach_the_process_as_written() {
        let sets = [
            "security.authenticate=true",
            "connect.enabled=true",
            "connect.conf.spark.app.note=$(_SPARK_AUTH_SECRET)",
            "env.NOTE=$(POD_IP) costs $5",
            "jobs.etl.app=/code/etl.py",
            "jobs.etl.schedule=@daily",
            "jobs.etl.args[0]=$(_SPARK_AUTH_SECRET)",
        ];
        let objects = objects(&sets);
        let container = |id: &str| {
            find(&objects, id)
                .unwrap()
                .value
                .pointer("/spec/template/spec/containers/0")
                .or_else(|| {
                    find(&objects, id)
                        .unwrap()
                        .value
                        .pointer("/spec/jobTemplate/spec/template/spec/containers/0")
                })
                .cloned()
                .unwrap()
        };
        let env = |c: &serde_json::Value, name: &str| {
            c["env"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["name"] == name)
                .unwrap()["value"]
                .clone()
        };
        let driver = container("CronJob/spark-etl");
        assert_eq!(
            driver["args"].as_array().unwrap().last().unwrap(),
            "$$(_SPARK_AUTH_SECRET)"
        );
        assert_eq!(env(&driver, "NOTE"), "$$(POD_IP) costs $$5");
        assert_eq!(env(&driver, "SPARK_PUBLIC_DNS"), "$(POD_IP)");
        let connect = container("Deployment/spark-connect");
        assert!(
            connect["args"]
                .as_array()
                .unwrap()
                .contains(&serde_json::json!("spark.app.note=$$(_SPARK_AUTH_SECRET)")),
            "{}",
            connect["args"]
        );
        // docker compose expands no $(VAR): it gets the values as they are ($ doubled for its
        // own ${VAR} interpolation only).
        let cluster = crate::load(&ValuesOptions {
            profile: "default".into(),
            files: vec![],
            sets: sets.iter().map(|s| s.to_string()).collect(),
        })
        .unwrap();
        let text = compose(&cluster, &RenderOptions::default()).unwrap().text;
        assert!(text.contains("NOTE: $$(POD_IP) costs $$5"), "{text}");
    }

    #[test]
    fn a_run_is_a_job_of_the_instance_but_no_member_of_its_applyset() {
        let cluster = crate::load(&ValuesOptions {
            profile: "dev".into(),
            files: vec![],
            sets: vec!["sparkConf.spark.executor.memory=512m".into()],
        })
        .unwrap();
        let job = JobSpec {
            app: "/code/etl.py".into(),
            args: vec!["--day".into(), "2026-11-21".into()],
            workers: 1,
            ..JobSpec::default()
        };
        let run = JobRun {
            key: "etl",
            job: &job,
            name: "spark-etl-1",
            ttl_seconds_after_finished: Some(60),
            shipped: None,
        };
        let run = job_run(&cluster, &RenderOptions::default(), &run).unwrap();
        assert_eq!(run.id(), "Job/spark-etl-1");
        let labels = &run.value["metadata"]["labels"];
        assert_eq!(labels["sparkup.io/job"], "etl");
        assert_eq!(labels["app.kubernetes.io/instance"], "spark");
        assert!(
            labels.get(crate::applyset::LABEL_PART_OF).is_none(),
            "{labels}"
        );
        let spec = &run.value["spec"];
        assert_eq!(spec["ttlSecondsAfterFinished"], 60);
        assert_eq!(spec["backoffLimit"], 0);
        let pod = &spec["template"]["spec"];
        assert_eq!(pod["restartPolicy"], "Never");
        assert_eq!(
            pod["containers"][0]["args"],
            serde_json::json!([
                "submit",
                "--name",
                "etl",
                "/code/etl.py",
                "--day",
                "2026-11-21"
            ])
        );
        assert_eq!(pod["initContainers"][0]["restartPolicy"], "Always");
        assert_eq!(pod["initContainers"][0]["name"], "worker-1");
    }

    /// A run of `sparkup submit` (no job of the values) takes what `drivers.pod` gives every
    /// driver; the daemons do not.
    #[test]
    fn an_adhoc_runs_driver_takes_the_drivers_pod_values() {
        let cluster = crate::load(&ValuesOptions {
            profile: "default".into(),
            files: vec![],
            sets: vec![
                "drivers.pod.priorityClassName=spark-batch".into(),
                "drivers.pod.env.STAGE=adhoc".into(),
            ],
        })
        .unwrap();
        let job = JobSpec {
            app: "/code/app.py".into(),
            ..JobSpec::default()
        };
        let run = JobRun {
            key: "app",
            job: &job,
            name: "spark-app-1",
            ttl_seconds_after_finished: None,
            shipped: None,
        };
        let run = job_run(&cluster, &RenderOptions::default(), &run).unwrap();
        let pod = &run.value["spec"]["template"]["spec"];
        assert_eq!(pod["priorityClassName"], "spark-batch");
        let env = pod["containers"][0]["env"].to_string();
        assert!(env.contains(r#""name":"STAGE","value":"adhoc""#), "{env}");
        let master = render(&cluster, &RenderOptions::default()).unwrap();
        let master = find(&master, "Deployment/spark-master").unwrap();
        assert!(master.value["spec"]["template"]["spec"]["priorityClassName"].is_null());
    }
}
