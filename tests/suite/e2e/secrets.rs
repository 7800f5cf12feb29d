//! Credentials and hostile values on real Spark, from the rendered manifests: a property from a
//! Secret (`secretConf`) reaches a driver and the history server through their private copies
//! of the configuration and appears in no rendered object; a job argument and a variable that
//! read `$(_SPARK_AUTH_SECRET)` reach the application as written, not as the secret.

use std::time::Instant;

use serde_json::Value;

use crate::common::scratch;

use super::netns::Network;
use super::pods::Pod;
use super::{Cluster, MASTER, ONE_CLUSTER, WAIT, alive, render, run, start};

const WORKER: u8 = 10;
const HISTORY: u8 = 4;
const DRIVER: u8 = 100;

const AUTH_SECRET: &str = "5be1c0a2d3e4f5061728394a5b6c7d8e9f0a1b2c3d4e5f60718293a4b5c6d7e8";
const CREDENTIAL: &str = "wJalrXUtnFEMI-example-credential";

/// Prints a digest of the credential the driver's configuration holds (never the credential),
/// its arguments and a variable, and runs a job.
const APP: &str = r#"
import hashlib, os, sys
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
value = spark.sparkContext.getConf().get("spark.hadoop.fs.s3a.secret.key", "")
print("CREDENTIAL", hashlib.sha256(value.encode()).hexdigest())
print("ARGS", sys.argv[1:])
print("NOTE", os.environ.get("NOTE"))
print("RESULT", spark.range(1, 11).selectExpr("sum(id) AS s").first()["s"])
spark.stop()
"#;

fn sha256(text: &str) -> String {
    let out = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

#[test]
#[ignore = "starts a Spark cluster in network namespaces: needs root, java and pyspark"]
fn credentials_come_from_secrets_and_values_reach_spark_as_written() {
    let list = render(&[
        "workers.replicas=1",
        "sparkConf.spark.executor.memory=512m",
        "security.authenticate=true",
        "secretConf.spark.hadoop.fs.s3a.secret.key=s3/secret-key",
        "storage[0].name=shared",
        "storage[0].mountPath=/shared",
        "storage[0].size=1Gi",
        "history.enabled=true",
        "history.logDirectory=/shared/events",
        "history.resources.limits.memory=768Mi",
        "history.resources.requests.memory=768Mi",
        "jobs.probe.app=/shared/app.py",
        "jobs.probe.args[0]=$(_SPARK_AUTH_SECRET)",
        "jobs.probe.args[1]=$$(POD_IP) $5",
        "jobs.probe.env.NOTE=$(_SPARK_AUTH_SECRET)",
        "jobs.probe.schedule=@daily",
    ]);
    // The values are in the Secrets only: the rendered objects refer to them.
    let text = list.to_string();
    assert!(!text.contains(CREDENTIAL) && !text.contains(AUTH_SECRET));
    assert!(text.contains("\"secretKeyRef\":{\"key\":\"secret-key\",\"name\":\"s3\"}"));
    let given = vec![
        ("spark-auth/secret".to_string(), AUTH_SECRET.to_string()),
        ("s3/secret-key".to_string(), CREDENTIAL.to_string()),
    ];
    let dir = scratch("secrets");
    let _one_cluster_at_a_time = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Network::new("s", 0);
    net.hosts.push((net.ip(MASTER), "spark-master".into()));
    for (name, host) in [
        ("master", MASTER),
        ("worker0", WORKER),
        ("history", HISTORY),
        ("driver", DRIVER),
    ] {
        net.add_host(name, host);
    }
    let mut master = Pod::from_list(&list, "master");
    let mut worker = Pod::from_list(&list, "worker");
    master.secrets = given.clone();
    worker.secrets = given.clone();
    let mut cluster = Cluster {
        net,
        dir: dir.clone(),
        master,
        worker,
    };
    let shared = dir.join("claims/spark-shared");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::write(shared.join("app.py"), APP).unwrap();
    cluster.start_master();
    cluster.start_worker(0);
    let mut history = Pod::from_list(&list, "history");
    history.secrets = given.clone();
    start(&mut cluster, "history", HISTORY, &history, &[]);
    cluster.wait_for("the worker ALIVE", |j| {
        j["status"] == "ALIVE" && alive(j) == 1
    });

    let mut driver = Pod::container_of(&list, "CronJob", "spark-probe", "driver");
    driver.secrets = given.clone();
    let started = Instant::now();
    let (code, output) = run(&cluster, "driver", DRIVER, &driver, &[]);
    assert_eq!(code, Some(0), "{output}\n{}", cluster.logs());
    assert!(output.contains("RESULT 55"), "{output}");
    assert!(
        output.contains(&format!("CREDENTIAL {}", sha256(CREDENTIAL))),
        "the driver's configuration holds the credential from its Secret: {output}"
    );
    assert!(
        output.contains("ARGS ['$(_SPARK_AUTH_SECRET)', '$$(POD_IP) $5']"),
        "{output}"
    );
    assert!(output.contains("NOTE $(_SPARK_AUTH_SECRET)"), "{output}");
    assert!(
        !output.contains(AUTH_SECRET) && !output.contains(CREDENTIAL),
        "{output}"
    );
    println!(
        "driver with a credential from a Secret: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The history server: its JVM reads the credential from its private configuration and has
    // no variable holding it.
    let history_jvm = wait_for_jvm(&cluster.net, "history", "HistoryServer");
    let environ = std::fs::read(format!("/proc/{history_jvm}/environ")).unwrap();
    let environ = String::from_utf8_lossy(&environ);
    assert!(
        !environ.contains(CREDENTIAL),
        "the credential is in no variable"
    );
    assert!(!environ.contains("SPARKUP_SECRET_CONF"), "{environ}");
    let conf_dir = environ
        .split('\0')
        .find_map(|v| v.strip_prefix("SPARK_CONF_DIR="))
        .expect("SPARK_CONF_DIR");
    let conf = std::fs::read_to_string(format!("{conf_dir}/spark-defaults.conf")).unwrap();
    assert!(
        conf.contains(&format!("spark.hadoop.fs.s3a.secret.key {CREDENTIAL}\n")),
        "{conf}"
    );
    let mode = std::fs::metadata(format!("{conf_dir}/spark-defaults.conf")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(mode.permissions().mode() & 0o777, 0o600);
    // Its JVM runs before its UI listens: on a busy machine, seconds before.
    let url = format!("http://{}:18080/api/v1/version", cluster.net.ip(HISTORY));
    let asked = Instant::now();
    let answers = || {
        cluster
            .net
            .run_in("driver", &["curl", "-sf", "--max-time", "5", &url])
            .and_then(|b| serde_json::from_str::<Value>(&b).ok())
            .is_some()
    };
    while !answers() {
        assert!(
            asked.elapsed() < super::WAIT,
            "the history server answers\n{}",
            cluster.logs()
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    drop(cluster);
}

/// The JVM in host `name` whose command line names `class`, once it runs.
fn wait_for_jvm(net: &Network, name: &str, class: &str) -> u32 {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        for pid in net.pids(name) {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmdline = String::from_utf8_lossy(&cmdline);
            if cmdline.contains("java") && cmdline.contains(class) {
                return pid;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    panic!("no {class} JVM in {name}");
}
