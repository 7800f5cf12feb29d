//! Applications on a real cluster, from the rendered manifests: a scheduled job's driver with an
//! extra worker of its own, a failing job, the history server reading both event logs, and a
//! Spark Connect client running a DataFrame aggregation through the Connect server.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::scratch;

use super::netns::Network;
use super::pods::Pod;
use super::{
    Cluster, EXPECTED, MASTER, ONE_CLUSTER, WAIT, alive, logs, master_json, render, run, start,
    wait_probe, workers_on,
};

const HISTORY: u8 = 4;
const CONNECT: u8 = 5;
const JOB: u8 = 20;
const FAILING: u8 = 21;
const CLIENT: u8 = 100;
const WORKER: u8 = 10;

/// A CronJob names the Job it starts after the minute it was due; the pod carries that name.
const SCHEDULED_JOB: &str = "spark-sum-29412000";
const SCHEDULED_AT: &str = "2025-12-03T00:00:00Z";

/// The application the jobs run, from the shared claim.
const APP: &str = r#"
import os, sys
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
print("SCHEDULED", os.environ["SPARKUP_SCHEDULED_TIME"], spark.conf.get("spark.sparkup.scheduledTime"))
if sys.argv[1:] == ["fail"]:
    raise SystemExit("failing on purpose")
n = int(sys.argv[1])
total = spark.range(1, n + 1).selectExpr("sum(id * id) AS s").first()["s"]
print("RESULT", total)
spark.stop()
"#;

/// Connect's client from PyPI: a DataFrame aggregation runs on the cluster's executors.
const CONNECT_CLIENT: &str = r#"
import sys
from pyspark.sql import SparkSession

spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
row = spark.range(1, 1001).selectExpr("sum(id * id) AS s").collect()[0]
print("CONNECT", row["s"])
"#;

/// Polls `url` from the client host until `check` holds on its JSON.
fn wait_json(cluster: &Cluster, what: &str, url: &str, check: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        let body = cluster
            .net
            .run_in("driver", &["curl", "-sf", "--max-time", "3", url]);
        if let Some(json) = body.and_then(|b| serde_json::from_str::<Value>(&b).ok())
            && check(&json)
        {
            return json;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    panic!(
        "timed out waiting for {what} at {url}\n{}",
        logs(&cluster.dir)
    );
}

fn wait_master(cluster: &Cluster, what: &str, check: impl Fn(&Value) -> bool) {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if master_json(&cluster.net).is_some_and(|j| check(&j)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!(
        "timed out waiting for {what}; last /json/: {:?}\n{}",
        master_json(&cluster.net),
        logs(&cluster.dir)
    );
}

#[test]
#[ignore = "starts a Spark cluster in network namespaces: needs root, java and pyspark[connect]"]
fn jobs_history_and_connect_run_from_the_rendered_manifests() {
    let list = render(&[
        "workers.replicas=1",
        "sparkConf.spark.executor.memory=512m",
        "sparkConf.spark.worker.timeout=4",
        "storage[0].name=shared",
        "storage[0].mountPath=/shared",
        "storage[0].size=1Gi",
        "history.enabled=true",
        "history.logDirectory=/shared/events",
        "history.resources.limits.memory=768Mi",
        "history.resources.requests.memory=768Mi",
        "connect.enabled=true",
        "connect.resources.limits.memory=1Gi",
        "connect.resources.requests.memory=1Gi",
        "jobs.sum.app=/shared/app.py",
        "jobs.sum.args[0]=1000",
        "jobs.sum.schedule=0 0 * * *",
        "jobs.sum.workers=1",
        "jobs.fail.app=/shared/app.py",
        "jobs.fail.args[0]=fail",
        "jobs.fail.schedule=@daily",
    ]);
    let dir = scratch("apps");
    let _one_cluster_at_a_time = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Network::new("a", 1);
    net.hosts.push((net.ip(MASTER), "spark-master".into()));
    for (name, host) in [
        ("master", MASTER),
        ("worker0", WORKER),
        ("history", HISTORY),
        ("connect", CONNECT),
        ("job", JOB),
        ("failing", FAILING),
        ("driver", CLIENT),
    ] {
        net.add_host(name, host);
    }
    let mut cluster = Cluster {
        net,
        dir: dir.clone(),
        master: Pod::from_list(&list, "master"),
        worker: Pod::from_list(&list, "worker"),
    };
    let shared = dir.join("claims/spark-shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(shared.join("app.py"), APP).unwrap();
    cluster.start_master();
    cluster.start_worker(0);
    let history = Pod::from_list(&list, "history");
    start(&mut cluster, "history", HISTORY, &history, &[]);
    wait_master(&cluster, "the worker ALIVE", |j| {
        j["status"] == "ALIVE" && alive(j) == 1
    });

    // The scheduled job: its extra worker starts first (its startup probe holds the driver back
    // until the worker is registered), and takes part in the run.
    let job_ip = cluster.net.ip(JOB);
    let labels = [("batch.kubernetes.io/job-name", SCHEDULED_JOB)];
    let sidecar = Pod::container_of(&list, "CronJob", "spark-sum", "worker-1");
    start(&mut cluster, "job", JOB, &sidecar, &labels);
    // The probe the kubelet runs before it starts the driver: the worker registered.
    wait_probe(&cluster, "job", JOB, &sidecar, "startupProbe", &labels);
    wait_master(
        &cluster,
        "the extra worker ALIVE beside the standing one",
        |j| alive(j) == 2 && workers_on(j, &job_ip).iter().any(|w| w["state"] == "ALIVE"),
    );
    let driver = Pod::container_of(&list, "CronJob", "spark-sum", "driver");
    let started = Instant::now();
    let (code, output) = run(&cluster, "job", JOB, &driver, &labels);
    println!(
        "scheduled job with an extra worker: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(code, Some(0), "{output}\n{}", logs(&dir));
    assert!(output.contains(EXPECTED), "{output}");
    assert!(
        output.contains(&format!("SCHEDULED {SCHEDULED_AT} {SCHEDULED_AT}")),
        "{output}"
    );
    // The application had executors on both workers' hosts.
    let json = master_json(&cluster.net).unwrap();
    let finished = json["completedapps"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!finished.is_empty(), "{json}");
    // The driver is done: the kubelet stops the sidecar, which leaves the cluster.
    cluster.net.signal("job", "TERM");
    wait_master(&cluster, "the extra worker DEAD after the run", |j| {
        alive(j) == 1
            && workers_on(j, &job_ip)
                .iter()
                .all(|w| w["state"] == "DEAD" || w["state"] == "DECOMMISSIONED")
    });

    // A failing application fails its Job.
    let failing = Pod::container_of(&list, "CronJob", "spark-fail", "driver");
    let (code, output) = run(
        &cluster,
        "failing",
        FAILING,
        &failing,
        &[("batch.kubernetes.io/job-name", "spark-fail-manual")],
    );
    assert!(matches!(code, Some(c) if c != 0), "exit {code:?}: {output}");
    assert!(output.contains("failing on purpose"), "{output}");

    // Both runs wrote their event logs to the claim; the history server lists them.
    let url = format!(
        "http://{}:18080/api/v1/applications",
        cluster.net.ip(HISTORY)
    );
    let completed = |j: &Value| {
        j.as_array().map_or(0, |a| {
            a.iter()
                .filter(|a| a["attempts"][0]["completed"] == true)
                .count()
        })
    };
    let apps = wait_json(
        &cluster,
        "both runs completed in the history server",
        &url,
        |j| completed(j) >= 2,
    );
    let names: Vec<&str> = apps
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert!(names.contains(&"sum") && names.contains(&"fail"), "{apps}");
    assert!(
        std::fs::read_dir(shared.join("events")).is_ok_and(|d| d.count() >= 2),
        "no event logs on the claim"
    );

    // Spark Connect: a long-running driver; a client from PyPI runs an aggregation through it.
    let connect = Pod::from_list(&list, "connect");
    start(&mut cluster, "connect", CONNECT, &connect, &[]);
    let remote = format!("sc://{}:15002", cluster.net.ip(CONNECT));
    let client = dir.join("client.py");
    std::fs::write(&client, CONNECT_CLIENT).unwrap();
    let env = [(
        "PATH".to_string(),
        std::env::var("PATH").unwrap_or_default(),
    )];
    let start_at = Instant::now();
    let mut answer = None;
    while start_at.elapsed() < WAIT && answer.is_none() {
        answer = cluster.net.run_as(
            "driver",
            None,
            &env,
            &["python3", client.to_str().unwrap(), &remote],
        );
        if answer.is_none() {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
    let answer = answer.unwrap_or_else(|| panic!("no answer from {remote}\n{}", logs(&dir)));
    assert!(answer.contains("CONNECT 333833500"), "{answer}");
    println!(
        "Spark Connect aggregation answered {:.1} s after the server started",
        start_at.elapsed().as_secs_f64()
    );
    drop(cluster);
    std::fs::remove_dir_all(&dir).ok();
}
