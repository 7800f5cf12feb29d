//! End to end: a real Spark standalone cluster started from exactly what sparkup renders.
//!
//! Spark comes from the `pyspark` package and the machine's Java 17; each pod is a network
//! namespace (see `e2e/netns.rs`). The test renders the manifests, turns each pod template into a
//! process running its rendered command (the launcher from the rendered ConfigMap), args and
//! environment, and checks the cluster through the master's `/json/` endpoint, read from inside
//! a namespace. This is what containers cannot show cheaply: the Kubernetes manifests' own
//! environment, downward API and volumes; `containers.rs` runs the compose file in Docker.
//!
//! Needs root, `ip` (iproute2), iptables, curl, java/javac and pyspark; ignored by a plain
//! `cargo test`, run by the README's test command.

mod apps;
mod auth;
mod demand;
mod dependencies;
mod gpu;
pub(crate) mod netns;
pub(crate) mod pods;
mod rolls;
mod secrets;
mod tls;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use netns::{Network, sh};
use pods::Pod;
use serde_json::Value;

use crate::common::scratch;

/// Two Spark clusters at once would only compete for the machine's two cores.
pub(crate) static ONE_CLUSTER: std::sync::Mutex<()> = std::sync::Mutex::new(());

const MASTER: u8 = 2;
const DRIVER: u8 = 100;
const DECOM_DRIVER: u8 = 101;
const SLOW_DRIVER: u8 = 102;

/// A job long enough to outlive a master restart: 24 tasks of a second each.
const SLOW_APP: &str = r#"
import time
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("outlives-the-master").getOrCreate()
def slow(x):
    time.sleep(1)
    return x * x
total = spark.sparkContext.parallelize(range(1, 25), 24).map(slow).sum()
print("SLOW", total)
spark.stop()
"#;
pub(crate) const WORKERS: usize = 2;
pub(crate) const WAIT: Duration = Duration::from_secs(120);
/// Sum of squares of 1..=1000: n(n+1)(2n+1)/6.
pub(crate) const EXPECTED: &str = "RESULT 333833500";
/// 1..=1000 summed through a shuffle by residue mod 7: 7 keys, n(n+1)/2 in all.
pub(crate) const EXPECTED_SHUFFLE: &str = "SHUFFLE 7 500500";

fn worker_host(i: usize) -> u8 {
    10 + i as u8
}

/// Runs sparkup with `args` and returns its standard output; any failure fails the test.
pub(crate) fn sparkup_output(args: &[&str]) -> String {
    crate::common::stdout_of(std::process::Command::new(env!("CARGO_BIN_EXE_sparkup")).args(args))
}

/// The rendered manifests as a JSON List, through the same stages as `sparkup render -o json`.
fn render(sets: &[&str]) -> Value {
    let mut args = vec!["render", "-o", "json", "--profile", "dev"];
    for set in sets {
        args.extend(["--set", set]);
    }
    serde_json::from_str(&sparkup_output(&args)).unwrap()
}

/// The cluster under test: the network, the rendered pods and where their logs go.
struct Cluster {
    net: Network,
    dir: PathBuf,
    master: Pod,
    worker: Pod,
}

impl Cluster {
    fn start_pod(&mut self, name: &str, pod_is_master: bool, host: u8, args: Vec<String>) {
        let pod = if pod_is_master {
            &self.master
        } else {
            &self.worker
        };
        let pod_dir = self.dir.join(name);
        let claims = self.dir.join("claims");
        let env = pod.environment(&self.net.ip(host), &pod_dir, &claims);
        let mut argv = pod.command(&pod_dir, &claims);
        argv.extend(args);
        let log = self.dir.join(format!("{name}.log"));
        // A pod has a host name of its own, which the kubelet maps to its IP in /etc/hosts.
        self.net.spawn_as(name, Some(name), &env, &argv, &log);
    }

    fn start_master(&mut self) {
        let args = self.master.args();
        self.start_pod("master", true, MASTER, args);
    }

    fn start_worker(&mut self, i: usize) {
        let args = self.worker.args();
        self.start_pod(&format!("worker{i}"), false, worker_host(i), args);
    }

    fn master_json(&self) -> Option<Value> {
        master_json(&self.net)
    }

    fn wait_for(&self, what: &str, check: impl Fn(&Value) -> bool) -> Duration {
        wait_for(&self.net, &self.dir, what, check)
    }

    fn logs(&self) -> String {
        logs(&self.dir)
    }
}

/// The master's /json/, fetched by curl inside the driver's namespace.
fn master_json(net: &Network) -> Option<Value> {
    master_json_at(net, MASTER)
}

fn master_json_at(net: &Network, master: u8) -> Option<Value> {
    let url = format!("http://{}:8080/json/", net.ip(master));
    let body = net.run_in("driver", &["curl", "-sf", "--max-time", "3", &url])?;
    serde_json::from_str(&body).ok()
}

/// Polls until `check` holds, or fails the test with every daemon's log.
fn wait_for(net: &Network, dir: &Path, what: &str, check: impl Fn(&Value) -> bool) -> Duration {
    wait_for_at(net, dir, MASTER, what, check)
}

/// Like `wait_for`, with the master at `.master`.
fn wait_for_at(
    net: &Network,
    dir: &Path,
    master: u8,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Duration {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if master_json_at(net, master).is_some_and(|j| check(&j)) {
            return start.elapsed();
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!(
        "timed out after {WAIT:?} waiting for {what}; last /json/: {:?}\n{}",
        master_json_at(net, master),
        logs(dir)
    );
}

/// Waits until `log` holds `text`, or fails the test with every daemon's log.
fn wait_for_log(cluster: &Cluster, log: &Path, text: &str) {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if std::fs::read_to_string(log).is_ok_and(|l| l.contains(text)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    panic!(
        "timed out waiting for {text:?} in {}\n{}",
        log.display(),
        cluster.logs()
    );
}

/// Waits until no process runs in host `name`; returns the time since `since`.
fn wait_gone(cluster: &Cluster, name: &str, since: Instant) -> Duration {
    while cluster.net.running(name) {
        assert!(
            since.elapsed() < WAIT,
            "{name} still runs\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    since.elapsed()
}

/// The last lines of every daemon's log, for a failure message.
/// Starts `pod`'s container in host `name` (its args, or `args`), as the kubelet would.
fn start(cluster: &mut Cluster, name: &str, host: u8, pod: &Pod, labels: &[(&str, &str)]) {
    let pod_dir = cluster.dir.join(name);
    let claims = cluster.dir.join("claims");
    let ip = cluster.net.ip(host);
    let env = pod.environment_with(&ip, labels, &pod_dir, &claims);
    let mut argv = pod.command(&pod_dir, &claims);
    argv.extend(pod.args_in(&pod_dir, &claims));
    let log = cluster.dir.join(format!(
        "{name}-{}.log",
        pod.container["name"].as_str().unwrap()
    ));
    cluster.net.spawn_as(name, Some(name), &env, &argv, &log);
}

/// Runs `pod`'s exec probe `probe` in host `name` as the kubelet would, in the container's
/// environment, until it passes; how long that took.
fn wait_probe(
    cluster: &Cluster,
    name: &str,
    host: u8,
    pod: &Pod,
    probe: &str,
    labels: &[(&str, &str)],
) -> Duration {
    let pod_dir = cluster.dir.join(name);
    let claims = cluster.dir.join("claims");
    let env = pod.environment_with(&cluster.net.ip(host), labels, &pod_dir, &claims);
    let argv = pod
        .probe_command(probe, &pod_dir, &claims)
        .unwrap_or_else(|| panic!("{probe} of {name} runs no command"));
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let start = Instant::now();
    while cluster.net.run_as(name, Some(name), &env, &argv).is_none() {
        assert!(
            start.elapsed() < WAIT,
            "{probe} of {name} never passed\n{}",
            logs(&cluster.dir)
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    start.elapsed()
}

/// Runs `pod`'s container in host `name` to its end; its exit code and output.
fn run(
    cluster: &Cluster,
    name: &str,
    host: u8,
    pod: &Pod,
    labels: &[(&str, &str)],
) -> (Option<i32>, String) {
    let pod_dir = cluster.dir.join(name);
    let claims = cluster.dir.join("claims");
    let env = pod.environment_with(&cluster.net.ip(host), labels, &pod_dir, &claims);
    let mut argv = pod.command(&pod_dir, &claims);
    argv.extend(pod.args_in(&pod_dir, &claims));
    let log = cluster.dir.join(format!("{name}-driver.log"));
    let code = cluster
        .net
        .run_to_end(name, Some(name), &env, &argv, &log, WAIT);
    (code, std::fs::read_to_string(&log).unwrap_or_default())
}

fn logs(dir: &Path) -> String {
    let mut out = String::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "log") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let tail: Vec<&str> = text.lines().rev().take(60).collect();
            out.push_str(&format!("==== {}\n", path.display()));
            for line in tail.into_iter().rev() {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// The workers the master lists at `host`.
pub(crate) fn workers_on(json: &Value, host: &str) -> Vec<Value> {
    json["workers"]
        .as_array()
        .map(|w| w.iter().filter(|w| w["host"] == host).cloned().collect())
        .unwrap_or_default()
}

/// How many workers the master has ALIVE.
pub(crate) fn alive(json: &Value) -> usize {
    json["aliveworkers"].as_u64().unwrap_or(0) as usize
}

/// Compiles the job with the machine's javac against the Spark jars.
pub(crate) fn build_job(dir: &Path) -> PathBuf {
    let classes = dir.join("classes");
    std::fs::create_dir_all(&classes).unwrap();
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/suite/e2e");
    let classpath = format!("{}/jars/*", pods::spark_home());
    sh(&[
        "javac",
        "-d",
        classes.to_str().unwrap(),
        "-cp",
        &classpath,
        sources.join("SumJob.java").to_str().unwrap(),
        sources.join("DecomJob.java").to_str().unwrap(),
    ]);
    let jar = dir.join("sum-job.jar");
    sh(&[
        "jar",
        "cf",
        jar.to_str().unwrap(),
        "-C",
        classes.to_str().unwrap(),
        ".",
    ]);
    jar
}

#[test]
#[ignore = "starts a Spark cluster in network namespaces: needs root, java and pyspark"]
fn rendered_manifests_form_a_working_spark_cluster() {
    let list = render(&[
        &format!("workers.replicas={WORKERS}"),
        "sparkConf.spark.worker.timeout=4",
        "workers.decommission=true",
        "sparkConf.spark.executor.memory=512m",
        "metrics.enabled=true",
        "master.recovery=filesystem",
        "master.recoveryDirectory=/var/lib/spark-state/recovery",
        "storage[0].name=state",
        "storage[0].mountPath=/var/lib/spark-state",
        "storage[0].size=1Gi",
    ]);
    let dir = scratch("k8s");
    let _one_cluster_at_a_time = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Network::new("k", 0);
    net.hosts.push((net.ip(MASTER), "spark-master".into()));
    net.add_host("master", MASTER);
    net.add_host("driver", DRIVER);
    net.add_host("decom", DECOM_DRIVER);
    net.add_host("slow", SLOW_DRIVER);
    for i in 0..WORKERS {
        net.add_host(&format!("worker{i}"), worker_host(i));
    }
    let mut cluster = Cluster {
        net,
        dir: dir.clone(),
        master: Pod::from_list(&list, "master"),
        worker: Pod::from_list(&list, "worker"),
    };
    let rendered_env: std::collections::BTreeMap<String, String> = cluster
        .worker
        .environment("0.0.0.0", &dir.join("probe"), &dir.join("claims"))
        .into_iter()
        .collect();
    let cores: u64 = rendered_env["SPARK_WORKER_CORES"].parse().unwrap();
    let memory_mib: u64 = rendered_env["SPARK_WORKER_MEMORY"]
        .trim_end_matches('m')
        .parse()
        .unwrap();

    let start = Instant::now();
    cluster.start_master();
    for i in 0..WORKERS {
        cluster.start_worker(i);
    }
    cluster.wait_for("all workers ALIVE", |j| {
        j["status"] == "ALIVE" && alive(j) == WORKERS
    });
    println!(
        "time to all {WORKERS} workers ALIVE: {:.1} s",
        start.elapsed().as_secs_f64()
    );

    // The master UI also answers on localhost inside its pod, where `kubectl port-forward`
    // connects, while the master advertises its pod IP.
    let local = cluster.net.run_in(
        "master",
        &[
            "curl",
            "-sf",
            "--max-time",
            "3",
            "http://127.0.0.1:8080/json/",
        ],
    );
    let local: Value = serde_json::from_str(&local.expect("the UI answers on localhost")).unwrap();
    assert_eq!(
        local["url"],
        format!("spark://{}:7077", cluster.net.ip(MASTER)),
        "{local}"
    );

    // Each worker registered with its own pod IP and exactly the rendered cores and memory.
    let json = cluster.master_json().unwrap();
    for i in 0..WORKERS {
        let ip = cluster.net.ip(worker_host(i));
        let mine = workers_on(&json, &ip);
        assert_eq!(mine.len(), 1, "worker {i} at {ip}: {json}");
        assert_eq!(mine[0]["state"], "ALIVE");
        assert_eq!(mine[0]["cores"].as_u64(), Some(cores), "{}", mine[0]);
        assert_eq!(mine[0]["memory"].as_u64(), Some(memory_mib), "{}", mine[0]);
    }

    // Spark's Prometheus text, from the ports and paths the pods' annotations name, agrees with
    // the master's /json/.
    let scrape = |pod: &Pod, host: u8| {
        let port = pod.annotation("prometheus.io/port");
        let path = pod.annotation("prometheus.io/path");
        let url = format!("http://{}:{port}{path}", cluster.net.ip(host));
        cluster
            .net
            .run_in("driver", &["curl", "-sf", "--max-time", "3", &url])
            .unwrap_or_else(|| panic!("no metrics at {url}"))
    };
    let gauge = |text: &str, name: &str| -> u64 {
        text.lines()
            .find(|l| l.starts_with(&format!("metrics_{name}_Value")))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("no gauge {name} in:\n{text}")) as u64
    };
    let master_metrics = scrape(&cluster.master, MASTER);
    assert_eq!(
        gauge(&master_metrics, "master_aliveWorkers"),
        alive(&json) as u64,
        "{master_metrics}"
    );
    let worker_metrics = scrape(&cluster.worker, worker_host(0));
    let mine = &workers_on(&json, &cluster.net.ip(worker_host(0)))[0];
    assert_eq!(
        gauge(&worker_metrics, "worker_coresFree") + gauge(&worker_metrics, "worker_coresUsed"),
        mine["cores"].as_u64().unwrap(),
        "{worker_metrics}"
    );
    assert_eq!(
        gauge(&worker_metrics, "worker_memFree_MB") + gauge(&worker_metrics, "worker_memUsed_MB"),
        mine["memory"].as_u64().unwrap(),
        "{worker_metrics}"
    );
    println!("Prometheus gauges of the master and a worker agree with /json/");

    // A client-mode driver in its own pod runs a job on the executors and gets the right answer.
    let jar = build_job(&dir);
    let mut args = vec!["submit".to_string(), "--class".into(), "SumJob".into()];
    args.extend([jar.display().to_string(), "1000".into()]);
    cluster.start_pod("driver", true, DRIVER, args);
    cluster.wait_for("the job to finish", |j| {
        j["completedapps"].as_array().is_some_and(|apps| {
            apps.iter()
                .any(|a| a["name"] == "sparkup-e2e" && a["state"] == "FINISHED")
        })
    });
    let driver_log = std::fs::read_to_string(dir.join("driver.log")).unwrap();
    assert!(
        driver_log.contains(EXPECTED) && driver_log.contains(EXPECTED_SHUFFLE),
        "driver output:\n{driver_log}\n{}",
        cluster.logs()
    );

    // A killed worker is marked DEAD; restarted, it registers again.
    let dead_ip = cluster.net.ip(worker_host(0));
    cluster.net.kill("worker0");
    cluster.wait_for("the killed worker to be DEAD", |j| {
        workers_on(j, &dead_ip).iter().any(|w| w["state"] == "DEAD") && alive(j) == WORKERS - 1
    });
    cluster.start_worker(0);
    cluster.wait_for("the restarted worker to be ALIVE", |j| {
        workers_on(j, &dead_ip)
            .iter()
            .any(|w| w["state"] == "ALIVE")
            && alive(j) == WORKERS
    });

    // A restarted master recovers its workers from the recovery directory on the claim, and an
    // application that was running when the master went finishes with the right result.
    let slow = dir.join("slow.py");
    std::fs::write(&slow, SLOW_APP).unwrap();
    cluster.start_pod(
        "slow",
        true,
        SLOW_DRIVER,
        vec!["submit".into(), slow.display().to_string()],
    );
    cluster.wait_for("the long job running", |j| {
        j["activeapps"].as_array().is_some_and(|apps| {
            apps.iter()
                .any(|a| a["name"] == "outlives-the-master" && a["state"] == "RUNNING")
        })
    });
    std::thread::sleep(Duration::from_secs(3));
    // The daemons run with the client compiler alone; executors, with the application's options.
    let java = |class: &str| {
        cluster
            .net
            .pids("worker0")
            .into_iter()
            .filter_map(|pid| std::fs::read(format!("/proc/{pid}/cmdline")).ok())
            .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
            .find(|c| c.contains(class))
            .unwrap_or_else(|| panic!("no {class} in worker0"))
    };
    assert!(java("deploy.worker.Worker").contains("-XX:TieredStopAtLevel=1"));
    assert!(!java("CoarseGrainedExecutorBackend").contains("TieredStopAtLevel"));
    cluster.net.kill("master");
    let restart = Instant::now();
    cluster.start_master();
    cluster.wait_for("the restarted master to have its workers back", |j| {
        j["status"] == "ALIVE" && alive(j) == WORKERS
    });
    println!(
        "master restart to all workers ALIVE: {:.1} s",
        restart.elapsed().as_secs_f64()
    );
    let slow_log = dir.join("slow.log");
    wait_for_log(&cluster, &slow_log, "SLOW ");
    let output = std::fs::read_to_string(&slow_log).unwrap();
    // The sum of squares of 1..=24.
    assert!(output.contains("SLOW 4900"), "{output}\n{}", cluster.logs());
    cluster.wait_for("the recovered master to know the application", |j| {
        let known = |key: &str| {
            j[key]
                .as_array()
                .is_some_and(|apps| apps.iter().any(|a| a["name"] == "outlives-the-master"))
        };
        known("activeapps") || known("completedapps")
    });
    println!(
        "a job running across a master restart finished: {:.1} s after the restart",
        restart.elapsed().as_secs_f64()
    );
    assert!(
        std::fs::read_dir(dir.join("claims/spark-state/recovery")).is_ok_and(|d| d.count() > 0),
        "the master wrote no recovery state"
    );

    // With decommissioning on, SIGTERM (what a kubelet sends) makes a worker decommission: an
    // application's cached blocks move off it, so nothing is computed again, and the worker
    // stops once its executor has gone.
    let mut args = vec!["submit".to_string(), "--class".into(), "DecomJob".into()];
    args.extend([jar.display().to_string(), WORKERS.to_string()]);
    cluster.start_pod("decom", true, DECOM_DRIVER, args);
    let decom_log = dir.join("decom.log");
    wait_for_log(&cluster, &decom_log, "CACHED 8 on 2 executors");
    let leaving_ip = cluster.net.ip(worker_host(1));
    let terminated = Instant::now();
    cluster.net.signal("worker1", "TERM");
    wait_for_log(&cluster, &decom_log, "MIGRATED");
    let driver_log = std::fs::read_to_string(&decom_log).unwrap();
    assert!(
        driver_log.contains("MIGRATED 8 8"),
        "the cached blocks did not survive the decommission:\n{driver_log}\n{}",
        cluster.logs()
    );
    let gone = wait_gone(&cluster, "worker1", terminated);
    println!(
        "worker with cached blocks decommissioned, blocks moved, exited {:.1} s after SIGTERM",
        gone.as_secs_f64()
    );
    cluster.wait_for("the decommissioned worker to leave", |j| {
        workers_on(j, &leaving_ip)
            .iter()
            .all(|w| w["state"] == "DECOMMISSIONED" || w["state"] == "DEAD")
    });

    // A worker with nothing to move stops promptly instead of waiting out its grace period.
    let terminated = Instant::now();
    cluster.net.signal("worker0", "TERM");
    let gone = wait_gone(&cluster, "worker0", terminated);
    println!(
        "idle decommissioned worker exited {:.1} s after SIGTERM",
        gone.as_secs_f64()
    );
    assert!(
        gone < Duration::from_secs(30),
        "took {gone:?}, the grace period is 60 s\n{}",
        cluster.logs()
    );
    let log = std::fs::read_to_string(dir.join("worker0.log")).unwrap();
    assert!(
        log.contains("decommissioned worker runs no executor"),
        "{log}"
    );
    drop(cluster);
    std::fs::remove_dir_all(&dir).ok();
}

/// The master Service's stand-in address ("ClusterIP"): no host has it; each client routes it to
/// the current master pod, as kube-proxy does.
const SERVICE: u8 = 250;
const NEW_MASTER: u8 = 3;

/// A Deployment replacing the master pod: a new pod with a new IP, no recovery state. Workers
/// must find it through the Service name, not the old pod IP the old master advertised.
#[test]
#[ignore = "starts a Spark cluster in network namespaces: needs root, java, iptables and pyspark"]
fn a_replaced_master_pod_gets_its_workers_back_through_the_service() {
    let list = render(&[
        &format!("workers.replicas={WORKERS}"),
        "sparkConf.spark.worker.timeout=4",
    ]);
    let dir = scratch("replace");
    let _one_cluster_at_a_time = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Network::new("r", 0);
    net.hosts.push((net.ip(SERVICE), "spark-master".into()));
    net.add_host("master", MASTER);
    net.add_host("master-new", NEW_MASTER);
    let mut clients = Vec::new();
    for i in 0..WORKERS {
        net.add_host(&format!("worker{i}"), worker_host(i));
        clients.push(format!("worker{i}"));
    }
    net.add_host("driver", DRIVER);
    let clients: Vec<&str> = clients.iter().map(String::as_str).collect();
    net.route_service(&clients, &net.ip(SERVICE), &net.ip(MASTER));
    let mut cluster = Cluster {
        net,
        dir: dir.clone(),
        master: Pod::from_list(&list, "master"),
        worker: Pod::from_list(&list, "worker"),
    };
    cluster.start_master();
    for i in 0..WORKERS {
        cluster.start_worker(i);
    }
    cluster.wait_for("all workers ALIVE", |j| {
        j["status"] == "ALIVE" && alive(j) == WORKERS
    });

    cluster.net.kill("master");
    let replaced = Instant::now();
    let args = cluster.master.args();
    cluster.start_pod("master-new", true, NEW_MASTER, args);
    let (service, new_master) = (cluster.net.ip(SERVICE), cluster.net.ip(NEW_MASTER));
    cluster.net.route_service(&clients, &service, &new_master);
    wait_for_at(
        &cluster.net,
        &dir,
        NEW_MASTER,
        "the workers to register with the new master pod",
        |j| j["status"] == "ALIVE" && alive(j) == WORKERS,
    );
    println!(
        "master pod replaced (new IP) to all {WORKERS} workers ALIVE: {:.1} s",
        replaced.elapsed().as_secs_f64()
    );
    let json = master_json_at(&cluster.net, NEW_MASTER).unwrap();
    assert_eq!(json["url"], format!("spark://{new_master}:7077"), "{json}");
    drop(cluster);
    std::fs::remove_dir_all(&dir).ok();
}

/// A compose service as a process: configs, tmpfs and volumes become folders.
struct Service {
    hostname: String,
    argv: Vec<String>,
    env: Vec<(String, String)>,
    healthcheck: Vec<String>,
}

/// A value as compose passes it on: `$$` is a literal `$` (sparkup escapes every `$`).
pub(crate) fn unescape(value: &str) -> String {
    value.replace("$$", "$")
}

fn compose_service(doc: &Value, name: &str, dir: &Path) -> Service {
    let service = &doc["services"][name];
    let home = dir.join(name);
    let mut mounts: Vec<(String, PathBuf)> = Vec::new();
    for config in service["configs"].as_array().cloned().unwrap_or_default() {
        let source = config["source"].as_str().unwrap();
        let target = Path::new(config["target"].as_str().unwrap());
        let folder = home.join("configs").join(source);
        std::fs::create_dir_all(&folder).unwrap();
        let content = doc["configs"][source]["content"]
            .as_str()
            .expect("inline config content");
        std::fs::write(folder.join(target.file_name().unwrap()), unescape(content)).unwrap();
        mounts.push((target.parent().unwrap().display().to_string(), folder));
    }
    for (i, tmpfs) in service["tmpfs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let folder = home.join(format!("tmpfs{i}"));
        std::fs::create_dir_all(&folder).unwrap();
        let path = tmpfs.as_str().unwrap().split(':').next().unwrap();
        mounts.push((path.to_string(), folder));
    }
    mounts.sort_by_key(|(path, _)| std::cmp::Reverse(path.len()));
    let mut env = pods::machine_env(&home);
    for (key, value) in service["environment"].as_object().unwrap() {
        let value = unescape(value.as_str().unwrap());
        env.push((key.clone(), pods::rewrite_paths(&value, &mounts)));
    }
    let words = |value: &Value| -> Vec<String> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|v| pods::rewrite_paths(&unescape(v.as_str().unwrap()), &mounts))
            .collect()
    };
    let mut argv = words(&service["entrypoint"]);
    argv.extend(words(&service["command"]));
    let healthcheck = words(&service["healthcheck"]["test"])
        .into_iter()
        .skip(1) // "CMD"
        .collect();
    Service {
        hostname: service["hostname"].as_str().unwrap().to_string(),
        argv,
        env,
        healthcheck,
    }
}

#[test]
#[ignore = "starts a Spark cluster in network namespaces: needs root, java and pyspark"]
fn compose_file_forms_a_working_spark_cluster() {
    let replicas = format!("workers.replicas={WORKERS}");
    let text = sparkup_output(&["compose", "--profile", "dev", "--set", &replicas]);
    let mut docs: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let doc = docs.pop().unwrap();
    let names: Vec<String> = doc["services"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(names.len(), WORKERS + 1, "{names:?}");

    let dir = scratch("compose");
    let _one_cluster_at_a_time = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Network::new("c", 1);
    let services: Vec<(u8, Service)> = names
        .iter()
        .map(|name| {
            let host = if name.ends_with("-master") {
                MASTER
            } else {
                10 + names.iter().position(|n| n == name).unwrap() as u8
            };
            (host, compose_service(&doc, name, &dir))
        })
        .collect();
    // Compose's DNS: every service's host name resolves to its container's address.
    for (host, service) in &services {
        net.hosts.push((net.ip(*host), service.hostname.clone()));
    }
    net.add_host("driver", DRIVER);
    let start = Instant::now();
    for (host, service) in &services {
        let ns = format!("h{host}");
        net.add_host(&ns, *host);
        let log = dir.join(format!("{}.log", service.hostname));
        net.spawn_as(
            &ns,
            Some(&service.hostname),
            &service.env,
            &service.argv,
            &log,
        );
    }
    wait_for(&net, &dir, "all compose workers ALIVE", |j| {
        j["status"] == "ALIVE" && alive(j) == WORKERS
    });
    println!(
        "compose: time to all {WORKERS} workers ALIVE: {:.1} s",
        start.elapsed().as_secs_f64()
    );

    // Without POD_IP every daemon advertised its container's own address, with the sizing the
    // compose file sets.
    let json = master_json(&net).unwrap();
    for (host, service) in services.iter().filter(|(h, _)| *h != MASTER) {
        let mine = workers_on(&json, &net.ip(*host));
        assert_eq!(mine.len(), 1, "{}: {json}", service.hostname);
        let env: std::collections::BTreeMap<_, _> = service.env.iter().cloned().collect();
        assert_eq!(
            mine[0]["cores"].as_u64(),
            env["SPARK_WORKER_CORES"].parse().ok()
        );
        let memory = env["SPARK_WORKER_MEMORY"]
            .trim_end_matches('m')
            .parse()
            .ok();
        assert_eq!(mine[0]["memory"].as_u64(), memory);
    }
    // The compose health checks pass against the running daemons.
    for (host, service) in &services {
        let args: Vec<&str> = service.healthcheck.iter().map(String::as_str).collect();
        let healthy = net.run_as(
            &format!("h{host}"),
            Some(&service.hostname),
            &service.env,
            &args,
        );
        assert!(
            healthy.is_some(),
            "{} health check failed",
            service.hostname
        );
    }
    drop(net);
    std::fs::remove_dir_all(&dir).ok();
}
