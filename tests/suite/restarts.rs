//! Which pods a change restarts: for each kind of change, the pod templates that differ from
//! the base cluster's (a Deployment rolls its pods when its template changes; a CronJob's next
//! run uses the new one). A setting only applications read restarts no daemon.

use serde_json::Value;

use crate::common::sparkup;

/// Every role: master, workers, the history and Connect servers, a scheduled job.
const BASE: &[&str] = &[
    "--profile",
    "dev",
    "--set",
    "history.enabled=true",
    "--set",
    "history.logDirectory=s3a://events/",
    "--set",
    "connect.enabled=true",
    "--set",
    "jobs.nightly.app=/code/etl.py",
    "--set",
    "jobs.nightly.schedule=@daily",
];

/// The pod template of each workload, by `Kind/name`.
fn templates(extra: &[&str]) -> Vec<(String, Value)> {
    let mut args = vec!["render", "-o", "json"];
    args.extend_from_slice(BASE);
    for set in extra {
        args.extend(["--set", set]);
    }
    let run = sparkup(&args);
    assert_eq!(run.code, Some(0), "{extra:?}: {}", run.stderr);
    let list: Value = serde_json::from_str(&run.stdout).unwrap();
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| {
            let template = item
                .pointer("/spec/template")
                .or_else(|| item.pointer("/spec/jobTemplate/spec/template"))?;
            let id = format!(
                "{}/{}",
                item["kind"].as_str()?,
                item["metadata"]["name"].as_str()?
            );
            Some((id, template.clone()))
        })
        .collect()
}

#[test]
fn each_change_restarts_only_the_roles_that_read_it() {
    let base = templates(&[]);
    let changes: &[(&str, &[&str])] = &[
        (
            "an application property",
            &["sparkConf.spark.executor.memory=512m"],
        ),
        (
            "a driver timeout",
            &["sparkConf.spark.network.timeout=300s"],
        ),
        (
            "a SQL setting",
            &["sparkConf.spark.sql.shuffle.partitions=64"],
        ),
        (
            "a master property",
            &["sparkConf.spark.deploy.spreadOut=false"],
        ),
        (
            "a worker property",
            &["sparkConf.spark.worker.cleanup.enabled=true"],
        ),
        ("worker resources", &["workers.resources.limits.memory=6Gi"]),
        ("workers' GPUs", &["workers.gpus=1"]),
        ("the image", &["image.tag=4.1.3"]),
        ("an env var", &["env.TZ=UTC"]),
        ("a history setting", &["history.cleaner.maxAge=14d"]),
        (
            "a credential for S3",
            &["secretConf.spark.hadoop.fs.s3a.secret.key=s3/secret-key"],
        ),
        ("authentication", &["security.authenticate=true"]),
        (
            "a job's own property",
            &["jobs.nightly.conf.spark.executor.cores=1"],
        ),
        (
            "a workers' pod setting",
            &["workers.pod.priorityClassName=spark-batch"],
        ),
        (
            "a drivers' pod variable",
            &["drivers.pod.env.STAGE=nightly"],
        ),
        ("a pod setting shared by every role", &["pod.env.TZ=UTC"]),
    ];
    let mut table = String::new();
    for (what, sets) in changes {
        let changed: Vec<String> = templates(sets)
            .into_iter()
            .zip(&base)
            .filter(|((_, after), (_, before))| after != before)
            .map(|((id, _), _)| id)
            .collect();
        let restarts = match changed.is_empty() {
            true => "(nothing)".to_string(),
            false => changed.join(", "),
        };
        table.push_str(&format!("{what} ({}): {restarts}\n", sets.join(" ")));
    }
    // The contract in words, beside the snapshot.
    let line = |what: &str| {
        table
            .lines()
            .find(|l| l.starts_with(what))
            .unwrap()
            .to_string()
    };
    for application in [
        "an application property",
        "a driver timeout",
        "a SQL setting",
    ] {
        let line = line(application);
        assert!(
            !line.contains("spark-master") && !line.contains("spark-worker"),
            "{line}"
        );
        assert!(!line.contains("spark-history"), "{line}");
    }
    assert!(!line("a master property").contains("spark-worker"));
    assert_eq!(
        line("workers' GPUs"),
        "workers' GPUs (workers.gpus=1): Deployment/spark-worker"
    );
    assert!(!line("a worker property").contains("Deployment/spark-master"));
    assert!(line("the image").contains("Deployment/spark-master"));
    assert_eq!(
        line("a workers' pod setting"),
        "a workers' pod setting (workers.pod.priorityClassName=spark-batch): Deployment/spark-worker"
    );
    assert_eq!(
        line("a drivers' pod variable"),
        "a drivers' pod variable (drivers.pod.env.STAGE=nightly): CronJob/spark-nightly"
    );
    assert!(line("a pod setting shared by every role").contains("Deployment/spark-master"));
    insta::assert_snapshot!(table);
}
