//! The cluster's Java dependencies on real Spark, offline: the test makes a Maven repository on
//! the claim (a jar built with javac and its POM), the rendered resolver Job's container resolves
//! it with Spark's own resolver onto the claim (a second run finds it there and does nothing),
//! the workers' init container finds it, the history server runs a provider class from it, and a
//! driver calls a class from it and its executors run a UDF from it, without resolving anything
//! when it starts.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::scratch;

use super::netns::{Network, sh};
use super::pods::{Pod, spark_home};
use super::{Cluster, MASTER, ONE_CLUSTER, WAIT, alive, render, run, start, wait_for_log};

const HISTORY: u8 = 3;
const RESOLVER: u8 = 101;
const COORDINATES: &str = "com.example:sparkup-dep:1.0";

/// A driver that calls the dependency's class and runs its UDF on the executors.
const APP: &str = r#"
from pyspark.sql import SparkSession

spark = SparkSession.builder.appName("dependencies").getOrCreate()
print("DRIVER", spark._jvm.dep.Hello.hi())
spark.udf.registerJavaFunction("hi", "dep.HiUdf", "string")
print("EXECUTOR", spark.sql("SELECT hi(id) FROM range(1)").collect()[0][0])
spark.stop()
"#;

/// A Maven repository at `root` holding the test's jar and its POM.
fn maven_repository(dir: &Path, root: &Path) {
    let classes = dir.join("dep-classes");
    std::fs::create_dir_all(&classes).unwrap();
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/suite/e2e/dep");
    let mut javac = vec![
        "javac".to_string(),
        "-d".into(),
        classes.display().to_string(),
        "-cp".into(),
        format!("{}/jars/*", spark_home()),
    ];
    for file in ["Hello.java", "HiUdf.java", "LoudProvider.java"] {
        javac.push(sources.join(file).display().to_string());
    }
    sh(&javac.iter().map(String::as_str).collect::<Vec<_>>());
    let folder = root.join("com/example/sparkup-dep/1.0");
    std::fs::create_dir_all(&folder).unwrap();
    let jar = folder.join("sparkup-dep-1.0.jar");
    sh(&[
        "jar",
        "cf",
        jar.to_str().unwrap(),
        "-C",
        classes.to_str().unwrap(),
        ".",
    ]);
    std::fs::write(
        folder.join("sparkup-dep-1.0.pom"),
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<project xmlns=\"http://maven.apache.org/POM/4.0.0\">\
         <modelVersion>4.0.0</modelVersion><groupId>com.example</groupId>\
         <artifactId>sparkup-dep</artifactId><version>1.0</version><packaging>jar</packaging>\
         </project>\n",
    )
    .unwrap();
}

#[test]
#[ignore = "starts a Spark cluster in network namespaces: needs root, java and pyspark"]
fn dependencies_are_resolved_once_and_loaded_everywhere() {
    let list = render(&[
        "storage[0].name=data",
        "storage[0].mountPath=/data",
        "storage[0].size=1Gi",
        &format!("dependencies.packages[0]={COORDINATES}"),
        "dependencies.repositories[0]=file:/data/m2",
        "history.enabled=true",
        "history.logDirectory=/data/events",
        "history.resources.limits.memory=768Mi",
        "history.resources.requests.memory=768Mi",
        "sparkConf.spark.history.provider=dep.LoudProvider",
        "sparkConf.spark.executor.memory=512m",
    ]);
    let job = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "Job")
        .and_then(|o| o["metadata"]["name"].as_str())
        .expect("the resolver Job")
        .to_string();
    let dir = scratch("dependencies");
    let _one_cluster_at_a_time = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Network::new("j", 0);
    net.hosts.push((net.ip(MASTER), "spark-master".into()));
    for (name, host) in [
        ("master", MASTER),
        ("worker0", super::worker_host(0)),
        ("history", HISTORY),
        ("resolver", RESOLVER),
        ("driver", 100),
        ("again", 102),
    ] {
        net.add_host(name, host);
    }
    let mut cluster = Cluster {
        net,
        dir: dir.clone(),
        master: Pod::from_list(&list, "master"),
        worker: Pod::from_list(&list, "worker"),
    };
    let claim = dir.join("claims/spark-data");
    maven_repository(&dir, &claim.join("m2"));

    // The resolver Job's container: Spark's resolver fetches the package onto the claim.
    let resolver = Pod::container_of(&list, "Job", &job, "resolve");
    let started = Instant::now();
    let (code, output) = run(&cluster, "resolver", RESOLVER, &resolver, &[]);
    assert_eq!(code, Some(0), "{output}\n{}", cluster.logs());
    let took = started.elapsed();
    let folder = std::fs::read_dir(claim.join(".sparkup/dependencies"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.join("complete").is_file())
        .unwrap_or_else(|| panic!("no complete folder on the claim: {output}"));
    let listed = std::fs::read_to_string(folder.join("complete")).unwrap();
    assert_eq!(listed.trim(), "com.example_sparkup-dep-1.0.jar", "{output}");
    // A second run (the Job's pod again, a re-apply) finds the folder and resolves nothing.
    let again = Instant::now();
    let (code, second) = run(&cluster, "resolver", RESOLVER, &resolver, &[]);
    assert_eq!(code, Some(0), "{second}");
    assert!(second.contains("dependencies already resolved"), "{second}");
    assert!(!second.contains("resolving"), "{second}");
    println!(
        "resolved {COORDINATES} in {:.1} s; the second run took {:.1} s and resolved nothing",
        took.as_secs_f64(),
        again.elapsed().as_secs_f64()
    );

    // The workers' init container finds the folder at once; the daemons start.
    let wait = Pod::container_of(&list, "Deployment", "spark-worker", "dependencies");
    let (code, waited) = run(&cluster, "worker0", super::worker_host(0), &wait, &[]);
    assert_eq!(code, Some(0), "{waited}");
    cluster.start_master();
    cluster.start_worker(0);
    cluster.wait_for("the worker ALIVE", |j| alive(j) == 1);

    // The history server runs its provider from the dependencies.
    let history = Pod::from_list(&list, "history");
    start(&mut cluster, "history", HISTORY, &history, &[]);
    wait_for_log(
        &cluster,
        &dir.join("history-spark.log"),
        "DEPENDENCY PROVIDER LOADED",
    );

    // A driver calls the dependency's class; its executor runs the dependency's UDF; nothing is
    // resolved when it starts, the first time or the second.
    let app = claim.join("app.py");
    std::fs::write(&app, APP).unwrap();
    for name in ["driver", "again"] {
        let args = vec!["submit".to_string(), "/data/app.py".into()];
        let args = args
            .into_iter()
            .map(|a| a.replace("/data", claim.to_str().unwrap()))
            .collect();
        let host = if name == "driver" { 100 } else { 102 };
        cluster.start_pod(name, true, host, args);
        let log = dir.join(format!("{name}.log"));
        wait_for_log(&cluster, &log, "EXECUTOR ");
        let output = std::fs::read_to_string(&log).unwrap();
        assert!(output.contains("DRIVER HELLO"), "{output}");
        assert!(output.contains("EXECUTOR HELLO 0"), "{output}");
        assert!(
            !output.contains(":: resolving dependencies ::"),
            "a driver resolved again:\n{output}"
        );
    }

    // The history server lists both runs: its provider works.
    let url = format!(
        "http://{}:18080/api/v1/applications",
        cluster.net.ip(HISTORY)
    );
    let start_at = Instant::now();
    loop {
        let body = cluster
            .net
            .run_in("driver", &["curl", "-sf", "--max-time", "3", &url]);
        let apps = body
            .and_then(|b| serde_json::from_str::<Value>(&b).ok())
            .and_then(|j| j.as_array().map(Vec::len))
            .unwrap_or(0);
        if apps >= 2 {
            break;
        }
        assert!(
            start_at.elapsed() < WAIT,
            "the history server lists no runs\n{}",
            cluster.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}
