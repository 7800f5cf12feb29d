//! Spark's shared-secret authentication from the rendered manifests, on real Spark: the daemons
//! and a driver holding the Secret's value form a cluster and run a job; a driver with another
//! secret is refused by the master and never runs.

use std::time::Instant;

use crate::common::scratch;

use super::netns::Network;
use super::pods::Pod;
use super::{Cluster, DRIVER, EXPECTED, MASTER, ONE_CLUSTER, WAIT, alive, build_job, render};

const INTRUDER: u8 = 102;
const WORKER: u8 = 10;

#[test]
#[ignore = "starts a Spark cluster in network namespaces: needs root, java and pyspark"]
fn only_drivers_with_the_secret_run_on_an_authenticated_cluster() {
    let list = render(&[
        "workers.replicas=1",
        "sparkConf.spark.executor.memory=512m",
        "security.authenticate=true",
        "jobs.sum.app=/jobs/sum-job.jar",
        "jobs.sum.class=SumJob",
        "jobs.sum.args[0]=1000",
        "jobs.sum.schedule=@hourly",
        "storage[0].name=jobs",
        "storage[0].mountPath=/jobs",
        "storage[0].size=1Gi",
    ]);
    // The secret is in no rendered text: the pods read it from the Secret.
    let text = list.to_string();
    assert!(text.contains("\"secretKeyRef\":{\"key\":\"secret\",\"name\":\"spark-auth\"}"));
    let secret = "7f3c0d1e9a8b4c2d6e5f10213243546576879a0b1c2d3e4f5061728394a5b6c7";
    let given = vec![("spark-auth/secret".to_string(), secret.to_string())];
    let dir = scratch("auth");
    let _one_cluster_at_a_time = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Network::new("u", 0);
    net.hosts.push((net.ip(MASTER), "spark-master".into()));
    net.add_host("master", MASTER);
    net.add_host("worker0", WORKER);
    net.add_host("driver", DRIVER);
    net.add_host("intruder", INTRUDER);
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
    let jar = build_job(&dir);
    let claim = dir.join("claims/spark-jobs");
    std::fs::create_dir_all(&claim).unwrap();
    std::fs::copy(&jar, claim.join("sum-job.jar")).unwrap();
    cluster.start_master();
    cluster.start_worker(0);
    // The worker authenticated itself to the master, or it would not be ALIVE.
    cluster.wait_for("the worker ALIVE", |j| {
        j["status"] == "ALIVE" && alive(j) == 1
    });

    let run = |pod: &Pod, name: &str, host: u8, limit: std::time::Duration| {
        let pod_dir = dir.join(name);
        let claims = dir.join("claims");
        let env = pod.environment(&cluster.net.ip(host), &pod_dir, &claims);
        let mut argv = pod.command(&pod_dir, &claims);
        argv.extend(pod.args_in(&pod_dir, &claims));
        let log = dir.join(format!("{name}.log"));
        let code = cluster
            .net
            .run_to_end(name, Some(name), &env, &argv, &log, limit);
        (code, std::fs::read_to_string(&log).unwrap_or_default())
    };
    let mut driver = Pod::container_of(&list, "CronJob", "spark-sum", "driver");
    driver.secrets = given.clone();
    let started = Instant::now();
    let (code, output) = run(&driver, "driver", DRIVER, WAIT);
    assert_eq!(code, Some(0), "{output}\n{}", cluster.logs());
    assert!(output.contains(EXPECTED), "{output}");
    println!(
        "authenticated job: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // Another secret: the master refuses the connection, the application never registers.
    let mut intruder = Pod::container_of(&list, "CronJob", "spark-sum", "driver");
    intruder.secrets = vec![("spark-auth/secret".into(), "not-the-secret".into())];
    let started = Instant::now();
    // The standalone client tries to register three times, 20 s apart: long enough to see it
    // refused, short of the test's usual limit.
    let (code, output) = run(
        &intruder,
        "intruder",
        INTRUDER,
        std::time::Duration::from_secs(80),
    );
    // It gives up after the standalone client's three 20-second registration attempts and exits
    // non-zero, or still hangs on at the test's limit (then it is killed): never a success.
    assert_ne!(code, Some(0), "{output}");
    assert!(!output.contains("RESULT"), "{output}");
    let master_log = std::fs::read_to_string(dir.join("master.log")).unwrap_or_default();
    let json = cluster.master_json().unwrap();
    let registered = json["completedapps"]
        .as_array()
        .into_iter()
        .chain(json["activeapps"].as_array())
        .flatten()
        .count();
    assert_eq!(
        registered, 1,
        "only the authenticated driver registered: {json}"
    );
    println!(
        "driver with a wrong secret refused, gave up after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(
        master_log.matches("Registering app").count(),
        1,
        "{master_log}"
    );
    drop(cluster);
    std::fs::remove_dir_all(&dir).ok();
}
