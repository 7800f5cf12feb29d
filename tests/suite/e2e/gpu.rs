//! GPU workers on real Spark, without a GPU: the rendered worker runs sparkup's own discovery
//! script from the rendered ConfigMap, with a stand-in `nvidia-smi` on its PATH (as NVIDIA's
//! container toolkit would mount the real one) that lists two GPUs. The master's `/json/` shows
//! the worker offering both; an application asking for one GPU per executor and per task gets an
//! executor holding one of them, which its task sees in `TaskContext.resources()`, while the
//! master counts that GPU as used.

use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use crate::common::scratch;

use super::netns::Network;
use super::pods::Pod;
use super::{Cluster, DRIVER, MASTER, ONE_CLUSTER, alive, render, wait_for_log};

const WORKER: u8 = 10;

/// Prints the GPU addresses each task was given, then holds its executor a while so that the
/// test reads the master's view of the GPU in use.
const GPU_APP: &str = r#"
import time
from pyspark import TaskContext
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("gpu").getOrCreate()
def addresses(_):
    return TaskContext.get().resources()["gpu"].addresses
seen = spark.sparkContext.parallelize(range(2), 2).map(addresses).collect()
print("GPU ADDRESSES", sorted({a for task in seen for a in task}), "PER TASK", [len(t) for t in seen])
time.sleep(8)
spark.stop()
"#;

/// An `nvidia-smi` that answers `--query-gpu=index --format=csv,noheader` as a node with two
/// GPUs would.
fn fake_nvidia_smi(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let tool = dir.join("nvidia-smi");
    std::fs::write(&tool, "#!/bin/sh\nprintf '0\\n1\\n'\n").unwrap();
    sh_chmod(&tool);
}

fn sh_chmod(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// The GPU addresses of `key` (`resources`, `resourcesused`) of the only worker.
fn worker_gpus(json: &Value, key: &str) -> Vec<String> {
    json["workers"][0][key]["gpu"]["addresses"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
#[ignore = "starts a Spark cluster in network namespaces: needs root, java and pyspark"]
fn a_gpu_worker_hands_an_executor_the_gpu_it_asked_for() {
    let list = render(&[
        "workers.replicas=1",
        "workers.gpus=2",
        "sparkConf.spark.executor.memory=512m",
    ]);
    let dir = scratch("gpu");
    let _one_cluster_at_a_time = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Network::new("g", 0);
    net.hosts.push((net.ip(MASTER), "spark-master".into()));
    net.add_host("master", MASTER);
    net.add_host("worker0", WORKER);
    net.add_host("driver", DRIVER);
    let mut cluster = Cluster {
        net,
        dir: dir.clone(),
        master: Pod::from_list(&list, "master"),
        worker: Pod::from_list(&list, "worker"),
    };
    let limits = &cluster.worker.container["resources"]["limits"];
    assert_eq!(limits["nvidia.com/gpu"], "2", "{limits}");
    let started = Instant::now();
    cluster.start_master();

    // The worker as rendered, with nvidia-smi where the container toolkit would put it.
    let tools = dir.join("gpu-tools");
    fake_nvidia_smi(&tools);
    let pod_dir = dir.join("worker0");
    let claims = dir.join("claims");
    let mut env = cluster
        .worker
        .environment(&cluster.net.ip(WORKER), &pod_dir, &claims);
    let rendered: std::collections::BTreeMap<_, _> = env.iter().cloned().collect();
    assert_eq!(rendered["SPARKUP_WORKER_GPUS"], "2");
    for (name, value) in &mut env {
        if name == "PATH" {
            *value = format!("{}:{value}", tools.display());
        }
    }
    let mut argv = cluster.worker.command(&pod_dir, &claims);
    argv.extend(cluster.worker.args());
    let log = dir.join("worker0.log");
    cluster
        .net
        .spawn_as("worker0", Some("worker0"), &env, &argv, &log);
    cluster.wait_for("the worker ALIVE with its GPUs", |j| {
        alive(j) == 1 && !worker_gpus(j, "resources").is_empty()
    });
    let json = cluster.master_json().unwrap();
    println!(
        "worker ALIVE with its GPUs: {:.1} s; /json/ resources: {}",
        started.elapsed().as_secs_f64(),
        json["workers"][0]["resources"]
    );
    assert_eq!(worker_gpus(&json, "resources"), ["0", "1"], "{json}");

    // An application asking for one GPU per executor and per task.
    let app = dir.join("gpu.py");
    std::fs::write(&app, GPU_APP).unwrap();
    let args = [
        "submit",
        "--conf",
        "spark.executor.resource.gpu.amount=1",
        "--conf",
        "spark.task.resource.gpu.amount=1",
        app.to_str().unwrap(),
    ];
    let ran = Instant::now();
    cluster.start_pod("driver", true, DRIVER, args.map(String::from).to_vec());
    let driver_log = dir.join("driver.log");
    wait_for_log(&cluster, &driver_log, "GPU ADDRESSES");
    let output = std::fs::read_to_string(&driver_log).unwrap();
    let line = output
        .lines()
        .find(|l| l.starts_with("GPU ADDRESSES"))
        .unwrap()
        .to_string();
    println!(
        "the executor's GPU, seen by its tasks after {:.1} s: {line}",
        ran.elapsed().as_secs_f64()
    );
    assert!(
        line == "GPU ADDRESSES ['0'] PER TASK [1, 1]"
            || line == "GPU ADDRESSES ['1'] PER TASK [1, 1]",
        "{line}\n{}",
        cluster.logs()
    );
    // While the executor runs, the master counts its GPU as used, and only that one.
    let json = cluster.master_json().unwrap();
    let used = worker_gpus(&json, "resourcesused");
    println!(
        "/json/ resourcesused: {}",
        json["workers"][0]["resourcesused"]
    );
    assert_eq!(used.len(), 1, "{json}");
    assert!(line.contains(&format!("['{}']", used[0])), "{line} {json}");
    cluster.wait_for("the application to finish", |j| {
        j["completedapps"]
            .as_array()
            .is_some_and(|apps| apps.iter().any(|a| a["name"] == "gpu"))
    });
    drop(cluster);
    std::fs::remove_dir_all(&dir).ok();
}
