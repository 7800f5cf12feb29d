//! End to end: a real Spark standalone cluster started from exactly what sparkup renders.
//!
//! Spark comes from the `pyspark` package and the machine's Java 17; each pod is a network
//! namespace (see `e2e/netns.rs`). The test renders the manifests, turns each pod template into a
//! process running `docker/entrypoint.sh` with the rendered args and environment, and checks the
//! cluster through the master's `/json/` endpoint, read from inside a namespace.
//!
//! Needs root, `ip` (iproute2), curl, java/javac and pyspark; ignored by a plain `cargo test`,
//! run by the README's test command.

#[path = "e2e/netns.rs"]
mod netns;
#[path = "e2e/pods.rs"]
mod pods;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use netns::{Network, scratch, sh};
use pods::Pod;
use serde_json::Value;

const MASTER: u8 = 2;
const DRIVER: u8 = 100;
const WORKERS: usize = 2;
const WAIT: Duration = Duration::from_secs(120);
/// Sum of squares of 1..=1000: n(n+1)(2n+1)/6.
const EXPECTED: &str = "RESULT 333833500";

fn worker_host(i: usize) -> u8 {
    10 + i as u8
}

fn entrypoint() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docker/entrypoint.sh")
        .display()
        .to_string()
}

/// The rendered manifests as a JSON List, through the same stages as `sparkup render -o json`.
fn render(sets: &[&str]) -> Value {
    let mut args = vec!["render", "-o", "json", "--profile", "dev"];
    for set in sets {
        args.extend(["--set", set]);
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_sparkup"))
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
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
        let env = pod.environment(&self.net.ip(host), &pod_dir, &self.dir.join("claims"));
        let mut argv = vec!["bash".to_string(), entrypoint()];
        argv.extend(args);
        let log = self.dir.join(format!("{name}.log"));
        self.net.spawn(name, &env, &argv, &log);
    }

    fn start_master(&mut self) {
        let args = self.master.args();
        self.start_pod("master", true, MASTER, args);
    }

    fn start_worker(&mut self, i: usize) {
        let args = self.worker.args();
        self.start_pod(&format!("worker{i}"), false, worker_host(i), args);
    }

    /// The master's /json/, fetched by curl inside the driver's namespace.
    fn master_json(&self) -> Option<Value> {
        let url = format!("http://{}:8080/json/", self.net.ip(MASTER));
        let body = self
            .net
            .run_in("driver", &["curl", "-sf", "--max-time", "3", &url])?;
        serde_json::from_str(&body).ok()
    }

    /// Polls until `check` holds, or fails the test with every daemon's log.
    fn wait_for(&self, what: &str, check: impl Fn(&Value) -> bool) -> Duration {
        let start = Instant::now();
        while start.elapsed() < WAIT {
            if self.master_json().is_some_and(|j| check(&j)) {
                return start.elapsed();
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!(
            "timed out after {WAIT:?} waiting for {what}; last /json/: {:?}\n{}",
            self.master_json(),
            self.logs()
        );
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for entry in std::fs::read_dir(&self.dir).unwrap().flatten() {
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
}

fn workers_on(json: &Value, host: &str) -> Vec<Value> {
    json["workers"]
        .as_array()
        .map(|w| w.iter().filter(|w| w["host"] == host).cloned().collect())
        .unwrap_or_default()
}

fn alive(json: &Value) -> usize {
    json["aliveworkers"].as_u64().unwrap_or(0) as usize
}

/// Compiles the job with the machine's javac against the Spark jars.
fn build_job(dir: &Path) -> PathBuf {
    let classes = dir.join("classes");
    std::fs::create_dir_all(&classes).unwrap();
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/e2e/SumJob.java");
    let classpath = format!("{}/jars/*", pods::spark_home());
    sh(&[
        "javac",
        "-d",
        classes.to_str().unwrap(),
        "-cp",
        &classpath,
        source.to_str().unwrap(),
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
        "sparkConf.spark.executor.memory=512m",
        "sparkConf.spark.deploy.recoveryMode=FILESYSTEM",
        "sparkConf.spark.deploy.recoveryDirectory=/var/lib/spark-state/recovery",
        "storage[0].name=state",
        "storage[0].mountPath=/var/lib/spark-state",
        "storage[0].size=1Gi",
    ]);
    let dir = scratch("k8s");
    let mut net = Network::new("k");
    net.hosts.push((net.ip(MASTER), "spark-master".into()));
    net.add_host("master", MASTER);
    net.add_host("driver", DRIVER);
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
        driver_log.contains(EXPECTED),
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

    // A restarted master recovers its workers from the recovery directory on the claim.
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
    assert!(
        std::fs::read_dir(dir.join("claims/spark-state/recovery")).is_ok_and(|d| d.count() > 0),
        "the master wrote no recovery state"
    );
    drop(cluster);
    std::fs::remove_dir_all(&dir).ok();
}
