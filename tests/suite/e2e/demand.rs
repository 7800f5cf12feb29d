//! Demand scaling on real Spark: the value KEDA would read from the live master, through the
//! rendered ScaledObject's own URL path, GJSON path and formula, and the workers KEDA's and the
//! HPA's documented algorithm would then want, at each state of a cluster that starts with no
//! worker: nothing to do; an application waiting with no worker; one running and one waiting;
//! the second finished, the first still running, so the scaler takes workers away, one of them
//! holding the running application's cached blocks (it decommissions: nothing is lost); and
//! everything done. The workers the test starts and stops are the ones the algorithm asks for.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::scratch;

use super::netns::Network;
use super::pods::Pod;
use super::{
    Cluster, MASTER, ONE_CLUSTER, WAIT, alive, build_job, render, wait_for_log, wait_gone,
    worker_host, workers_on,
};

const WORKERS: usize = 4;
const CACHING_DRIVER: u8 = 100;
const SECOND_DRIVER: u8 = 101;

/// Two cores' worth of short tasks: it runs once two workers have room for it.
const SECOND_APP: &str = r#"
import time
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("second").getOrCreate()
def slow(x):
    time.sleep(2)
    return x
total = spark.sparkContext.parallelize(range(1, 5), 4).map(slow).sum()
print("SECOND", total)
spark.stop()
"#;

/// What the rendered ScaledObject tells KEDA.
#[derive(Debug)]
struct Scaler {
    path: String,
    value_location: String,
    trigger: String,
    formula: String,
    target: f64,
    activation: f64,
    min: u32,
    max: u32,
}

impl Scaler {
    fn from_list(list: &Value) -> Scaler {
        let so = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == "ScaledObject")
            .expect("a ScaledObject")
            .clone();
        let trigger = &so["spec"]["triggers"][0];
        assert_eq!(trigger["type"], "metrics-api");
        let url = trigger["metadata"]["url"].as_str().unwrap();
        // The master's Service from KEDA's namespace; the test's stand-in is the master's IP.
        let rest = url
            .strip_prefix("http://spark-master.default.svc:8080")
            .unwrap_or_else(|| panic!("unexpected URL {url}"));
        let modifiers = &so["spec"]["advanced"]["scalingModifiers"];
        assert_eq!(modifiers["metricType"], "AverageValue");
        let number = |v: &Value| v.as_str().unwrap().parse::<f64>().unwrap();
        Scaler {
            path: rest.to_string(),
            value_location: trigger["metadata"]["valueLocation"]
                .as_str()
                .unwrap()
                .into(),
            trigger: trigger["name"].as_str().unwrap().into(),
            formula: modifiers["formula"].as_str().unwrap().into(),
            target: number(&modifiers["target"]),
            activation: number(&modifiers["activationTarget"]),
            min: so["spec"]["minReplicaCount"].as_u64().unwrap() as u32,
            max: so["spec"]["maxReplicaCount"].as_u64().unwrap() as u32,
        }
    }

    /// The formula's value over what the trigger read from `json`.
    fn value(&self, json: &Value) -> f64 {
        let read = gjson(json, &self.value_location);
        formula(&self.formula, &self.trigger, read)
    }

    /// The workers KEDA and the HPA settle on from `current`, reading `value` every time.
    fn replicas(&self, value: f64, current: u32) -> u32 {
        // KEDA: at or below the activation target the scaler is inactive, and KEDA sets the
        // workload to minReplicaCount (after the cooldown); above it, at least one replica,
        // and the HPA takes over.
        if value <= self.activation {
            return self.min;
        }
        let mut replicas = current.max(self.min).max(1);
        loop {
            let next = hpa(value, self.target, replicas).clamp(self.min.max(1), self.max);
            if next == replicas {
                return replicas;
            }
            replicas = next;
        }
    }
}

/// A GJSON path as KEDA's library reads it, for the syntax a path of plain keys and `#` uses:
/// keys separated by dots, `#` the length of an array. Anything else fails the test rather than
/// being read differently from GJSON.
fn gjson(json: &Value, path: &str) -> f64 {
    assert!(
        path.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '#'),
        "this test reads only plain keys and # in a GJSON path: {path}"
    );
    let mut at = json.clone();
    for part in path.split('.') {
        at = match (part, &at) {
            ("#", Value::Array(items)) => Value::from(items.len()),
            (key, Value::Object(map)) => map.get(key).cloned().unwrap_or(Value::Null),
            _ => Value::Null,
        };
    }
    // KEDA's metrics-api needs a number (or a string holding a quantity).
    at.as_f64()
        .unwrap_or_else(|| panic!("{path} is no number in {json}"))
}

/// The formula KEDA evaluates (expr-lang), in the one shape sparkup renders: `TRIGGER * N`.
fn formula(text: &str, trigger: &str, value: f64) -> f64 {
    let (name, factor) = text
        .split_once(" * ")
        .unwrap_or_else(|| panic!("unexpected formula {text}"));
    assert_eq!(name, trigger, "the formula names the trigger");
    value * factor.parse::<f64>().unwrap()
}

/// The HPA's rule for an external metric with an `AverageValue` target, from `current`
/// replicas: the ratio of the per-replica value to the target, with its 10% tolerance.
fn hpa(value: f64, target: f64, current: u32) -> u32 {
    let ratio = value / (target * f64::from(current));
    if (ratio - 1.0).abs() <= 0.1 {
        return current;
    }
    (ratio * f64::from(current)).ceil() as u32
}

#[test]
fn the_algorithm_is_the_hpas() {
    // 2 cores wanted of 1-core workers, from 1 replica: 2.
    assert_eq!(hpa(2.0, 1.0, 1), 2);
    // Within the tolerance nothing moves.
    assert_eq!(hpa(10.5, 1.0, 10), 10);
    assert_eq!(
        gjson(&serde_json::json!({"a": {"b": [1, 2, 3]}}), "a.b.#"),
        3.0
    );
    assert_eq!(formula("apps * 2", "apps", 3.0), 6.0);
}

#[test]
#[ignore = "starts a Spark cluster in network namespaces: needs root, java and pyspark"]
fn demand_scaling_asks_for_what_the_applications_need() {
    // One-core workers, two cores per application: an application needs two workers.
    let list = render(&[
        "workers.autoscaling.enabled=true",
        "workers.autoscaling.mode=demand",
        "workers.autoscaling.minReplicas=0",
        &format!("workers.autoscaling.maxReplicas={WORKERS}"),
        "sparkConf.spark.cores.max=2",
        "sparkConf.spark.executor.memory=512m",
        "sparkConf.spark.worker.timeout=4",
        "workers.decommission=true",
    ]);
    let scaler = Scaler::from_list(&list);
    assert_eq!(
        (scaler.target, scaler.min, scaler.max),
        (1.0, 0, 4),
        "{scaler:?}"
    );
    let dir = scratch("demand");
    let _one_cluster_at_a_time = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Network::new("d", 0);
    net.hosts.push((net.ip(MASTER), "spark-master".into()));
    net.add_host("master", MASTER);
    net.add_host("caching", CACHING_DRIVER);
    net.add_host("second", SECOND_DRIVER);
    net.add_host("driver", 102);
    for i in 0..WORKERS {
        net.add_host(&format!("worker{i}"), worker_host(i));
    }
    let mut cluster = Cluster {
        net,
        dir: dir.clone(),
        master: Pod::from_list(&list, "master"),
        worker: Pod::from_list(&list, "worker"),
    };
    let url = format!("http://{}:8080{}", cluster.net.ip(MASTER), scaler.path);
    // What KEDA reads, from a pod of the cluster's network, and the workers it would want.
    let read = |cluster: &Cluster, current: u32| -> (f64, u32) {
        let body = cluster
            .net
            .run_in("driver", &["curl", "-sf", "--max-time", "3", &url])
            .expect("the master's /json/");
        let json: Value = serde_json::from_str(&body).unwrap();
        let value = scaler.value(&json);
        (value, scaler.replicas(value, current))
    };
    let apps_in = |state: &'static str| {
        move |j: &Value| {
            j["activeapps"]
                .as_array()
                .is_some_and(|a| a.iter().any(|app| app["state"] == state))
        }
    };

    // No application, no worker: nothing wanted.
    cluster.start_master();
    cluster.wait_for("the master ALIVE", |j| j["status"] == "ALIVE");
    assert_eq!(read(&cluster, 0), (0.0, 0), "no application");

    // An application that caches blocks waits with no worker: two workers wanted.
    let jar = build_job(&dir);
    let started = Instant::now();
    let args = [
        "submit",
        "--class",
        "DecomJob",
        jar.to_str().unwrap(),
        "2",
        "400",
    ];
    cluster.start_pod(
        "caching",
        true,
        CACHING_DRIVER,
        args.map(String::from).to_vec(),
    );
    cluster.wait_for("the first application WAITING", apps_in("WAITING"));
    assert_eq!(
        read(&cluster, 0),
        (2.0, 2),
        "one application waiting, no worker"
    );
    for i in 0..2 {
        cluster.start_worker(i);
    }
    wait_for_log(
        &cluster,
        &dir.join("caching.log"),
        "CACHED 8 on 2 executors",
    );
    assert_eq!(read(&cluster, 2), (2.0, 2), "one application running");

    // A second application waits while the first holds every core: four workers wanted.
    let second = dir.join("second.py");
    std::fs::write(&second, SECOND_APP).unwrap();
    let args = vec!["submit".into(), second.display().to_string()];
    cluster.start_pod("second", true, SECOND_DRIVER, args);
    cluster.wait_for("the second application WAITING", apps_in("WAITING"));
    assert_eq!(read(&cluster, 2), (4.0, 4), "one running, one waiting");
    for i in 2..4 {
        cluster.start_worker(i);
    }
    cluster.wait_for("four workers, both applications running", |j| {
        alive(j) == WORKERS && !apps_in("WAITING")(j)
    });
    assert_eq!(read(&cluster, 4), (4.0, 4), "both running");

    // The second finishes; the first still runs: two workers wanted, two go. The HPA's
    // controller picks which: here an idle one and one holding the first's cached blocks, which
    // decommissions on SIGTERM and hands its blocks over.
    wait_for_log(&cluster, &dir.join("second.log"), "SECOND 10");
    cluster.wait_for("the second application finished", |j| {
        j["activeapps"].as_array().is_some_and(|a| a.len() == 1)
    });
    assert_eq!(
        read(&cluster, 4),
        (2.0, 2),
        "one running after the other finished"
    );
    let idle = Instant::now();
    cluster.net.signal("worker3", "TERM");
    let terminated = Instant::now();
    let leaving_ip = cluster.net.ip(worker_host(0));
    cluster.net.signal("worker0", "TERM");
    wait_for_log(&cluster, &dir.join("caching.log"), "MIGRATED");
    let caching = std::fs::read_to_string(dir.join("caching.log")).unwrap();
    assert!(
        caching.contains("MIGRATED 8 8"),
        "cached blocks were lost in the scale-in:\n{caching}\n{}",
        cluster.logs()
    );
    assert!(
        started.elapsed() < Duration::from_secs(400),
        "the application stopped waiting for a lost executor"
    );
    let idle_gone = wait_gone(&cluster, "worker3", idle);
    let gone = wait_gone(&cluster, "worker0", terminated);
    cluster.wait_for("the decommissioned worker to leave", |j| {
        workers_on(j, &leaving_ip)
            .iter()
            .all(|w| w["state"] == "DECOMMISSIONED" || w["state"] == "DEAD")
    });
    println!(
        "scale-in: idle worker gone {:.1} s after SIGTERM, the one with cached blocks {:.1} s \
         (blocks moved, nothing recomputed)",
        idle_gone.as_secs_f64(),
        gone.as_secs_f64()
    );

    // Everything done: nothing wanted, the last workers go.
    cluster.wait_for("no application left", |j| {
        j["activeapps"].as_array().is_some_and(Vec::is_empty)
    });
    assert_eq!(read(&cluster, 2), (0.0, 0), "all finished");
    let last = Instant::now();
    for name in ["worker1", "worker2"] {
        cluster.net.signal(name, "TERM");
    }
    for name in ["worker1", "worker2"] {
        wait_gone(&cluster, name, last);
    }
    assert!(last.elapsed() < WAIT);
}
