//! A change that rolls every worker, on real Spark, from the rendered manifests: an application
//! setting leaves the master's and the workers' pod templates as they were (no daemon restarts,
//! a running job carries on); a worker setting changes the workers' template, and a job running
//! while every worker is replaced, one at a time, each decommissioning on SIGTERM as a kubelet
//! stops it, finishes with the right result.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::scratch;

use super::netns::Network;
use super::pods::Pod;
use super::{Cluster, MASTER, ONE_CLUSTER, WAIT, alive, render, wait_for_log, worker_host};

const DRIVER: u8 = 100;
/// Replacement worker `i` runs on host `NEW_WORKER + i`.
const NEW_WORKER: u8 = 20;

/// 60 tasks of a second, on two one-core workers: half a minute or more, across the roll.
const APP: &str = r#"
import time
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("outlives-the-roll").getOrCreate()
def slow(x):
    time.sleep(1)
    return x
total = spark.sparkContext.parallelize(range(1, 61), 60).map(slow).sum()
print("ROLLED", total)
spark.stop()
"#;

const BASE: &[&str] = &[
    "workers.replicas=2",
    "workers.decommission=true",
    "sparkConf.spark.executor.memory=512m",
    "sparkConf.spark.worker.timeout=4",
];

/// The pod template of the workload of `component`.
fn template(list: &Value, component: &str) -> Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["metadata"]["labels"]["app.kubernetes.io/component"] == component)
        .find_map(|i| i.pointer("/spec/template").cloned())
        .unwrap_or_else(|| panic!("no {component} workload"))
}

fn rendered(extra: &[&str]) -> Value {
    let mut sets = BASE.to_vec();
    sets.extend_from_slice(extra);
    render(&sets)
}

#[test]
#[ignore = "starts a Spark cluster in network namespaces: needs root, java and pyspark"]
fn a_job_outlives_a_change_of_settings_and_a_roll_of_every_worker() {
    let list = rendered(&[]);
    let app_change = rendered(&["sparkConf.spark.sql.shuffle.partitions=64"]);
    let worker_change = rendered(&["sparkConf.spark.worker.cleanup.enabled=true"]);
    // An application setting: no daemon's pod template changes, so no daemon restarts.
    for role in ["master", "worker"] {
        assert_eq!(template(&list, role), template(&app_change, role), "{role}");
    }
    // A worker setting: the workers' template changes, the master's does not.
    assert_eq!(
        template(&list, "master"),
        template(&worker_change, "master")
    );
    assert_ne!(
        template(&list, "worker"),
        template(&worker_change, "worker")
    );

    let dir = scratch("rolls");
    let _one_cluster_at_a_time = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Network::new("r", 1);
    net.hosts.push((net.ip(MASTER), "spark-master".into()));
    net.add_host("master", MASTER);
    net.add_host("driver", DRIVER);
    for i in 0..2 {
        net.add_host(&format!("worker{i}"), worker_host(i));
        net.add_host(&format!("new{i}"), NEW_WORKER + i as u8);
    }
    let mut cluster = Cluster {
        net,
        dir: dir.clone(),
        master: Pod::from_list(&list, "master"),
        worker: Pod::from_list(&list, "worker"),
    };
    cluster.start_master();
    cluster.start_worker(0);
    cluster.start_worker(1);
    cluster.wait_for("two workers ALIVE", |j| {
        j["status"] == "ALIVE" && alive(j) == 2
    });

    let app = dir.join("rolled.py");
    std::fs::write(&app, APP).unwrap();
    cluster.start_pod(
        "driver",
        true,
        DRIVER,
        vec!["submit".into(), app.display().to_string()],
    );
    cluster.wait_for("the job running on both workers", |j| {
        j["activeapps"].as_array().is_some_and(|apps| {
            apps.iter()
                .any(|a| a["name"] == "outlives-the-roll" && a["state"] == "RUNNING")
        }) && j["workers"].as_array().is_some_and(|w| {
            w.iter()
                .filter(|w| w["coresused"].as_u64() == Some(1))
                .count()
                == 2
        })
    });

    // Without recovery, apply refuses to replace this master while the job runs: the API
    // server's service proxy answers with the real master's /json/ (the fake's, with what the
    // master said), and nothing is changed.
    refuses_to_lose(&cluster);

    // The roll, as a Deployment with maxUnavailable 1 and a disruption budget does it: a new
    // worker from the new template, then the old one stopped with SIGTERM; the next after it
    // has gone.
    let started = Instant::now();
    cluster.worker = Pod::from_list(&worker_change, "worker");
    let args = cluster.worker.args();
    for i in 0..2 {
        let new = format!("new{i}");
        cluster.start_pod(&new, false, NEW_WORKER + i as u8, args.clone());
        cluster.wait_for("the new worker ALIVE", |j| alive(j) == 3);
        let old = format!("worker{i}");
        cluster.net.signal(&old, "TERM");
        let gone = Instant::now();
        while cluster.net.running(&old) {
            assert!(
                gone.elapsed() < WAIT,
                "worker {i} never stopped\n{}",
                cluster.logs()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        cluster.wait_for("the old worker gone", |j| alive(j) == 2);
    }
    println!(
        "every worker replaced in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let log = dir.join("driver.log");
    wait_for_log(&cluster, &log, "ROLLED ");
    let output = std::fs::read_to_string(&log).unwrap();
    assert!(
        output.contains("ROLLED 1830"),
        "{output}\n{}",
        cluster.logs()
    );
    println!(
        "the job finished {:.1} s after the roll began",
        started.elapsed().as_secs_f64()
    );
    drop(cluster);
}

/// `apply` of a change that replaces the master, against a fake API server holding the
/// applied cluster and answering the service proxy with the running master's own `/json/`:
/// refused, naming the running application, nothing changed.
fn refuses_to_lose(cluster: &Cluster) {
    use sparkup::kube as k8s;
    let json = super::master_json(&cluster.net).expect("the master's /json/");
    let app_id = json["activeapps"][0]["id"].as_str().unwrap().to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let fake = crate::cluster::fake::Fake::new().with_namespace("default");
        let api = fake.api().await;
        let load = |extra: &[&str]| {
            let mut sets = BASE.to_vec();
            sets.extend_from_slice(extra);
            let cluster = crate::common::load("dev", &sets);
            let objects = sparkup::render::render(&cluster, &Default::default()).unwrap();
            (cluster, objects)
        };
        let serial = k8s::ApplyOptions {
            concurrency: 1,
            ..Default::default()
        };
        let (applied, objects) = load(&[]);
        k8s::apply(&api, &applied.spec, &objects, serial)
            .await
            .unwrap();
        fake.state().spark = Some(json.clone());
        let before = fake.state().objects.clone();
        let (changed, objects) = load(&["sparkConf.spark.deploy.spreadOut=false"]);
        let err = k8s::apply(&api, &changed.spec, &objects, serial)
            .await
            .unwrap_err();
        assert!(matches!(err, k8s::KubeError::WouldLose(_)), "{err}");
        assert!(err.to_string().contains(&app_id), "{err}");
        assert_eq!(fake.state().objects, before, "nothing was changed");
        println!("apply refused to replace the master of {app_id}");
    });
}
