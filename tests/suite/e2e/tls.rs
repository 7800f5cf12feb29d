//! `security.tls` on real Spark, from the rendered manifests: a keystore made with `keytool` as
//! cert-manager lays it out (`keystore.p12`, `truststore.p12`, one password in another Secret),
//! the master's and a worker's UIs answering over HTTPS on their usual ports with that
//! certificate, the daemons' probes passing, and a job running with RPC over TLS too. The
//! password is in no rendered object.

use std::path::Path;
use std::time::Instant;

use serde_json::Value;

use crate::common::scratch;

use super::netns::{Network, sh};
use super::pods::Pod;
use super::{Cluster, DRIVER, EXPECTED, MASTER, ONE_CLUSTER, alive, build_job, render, wait_probe};

const WORKER: u8 = 10;
const PASSWORD: &str = "k3ystore-pass-0b1c2d3e";

/// A PKCS12 keystore whose certificate names the master's and the worker's addresses, a
/// truststore holding that certificate, and the certificate as PEM for clients.
fn keystores(dir: &Path, addresses: &[String]) {
    std::fs::create_dir_all(dir).unwrap();
    let file = |name: &str| dir.join(name).to_str().unwrap().to_string();
    let san: Vec<String> = addresses.iter().map(|a| format!("ip:{a}")).collect();
    let san = format!("SAN={}", san.join(","));
    sh(&[
        "keytool",
        "-genkeypair",
        "-alias",
        "spark",
        "-keyalg",
        "RSA",
        "-keysize",
        "2048",
        "-validity",
        "2",
        "-dname",
        "CN=spark",
        "-ext",
        &san,
        "-storetype",
        "PKCS12",
        "-keystore",
        &file("keystore.p12"),
        "-storepass",
        PASSWORD,
        "-keypass",
        PASSWORD,
    ]);
    sh(&[
        "keytool",
        "-exportcert",
        "-rfc",
        "-alias",
        "spark",
        "-keystore",
        &file("keystore.p12"),
        "-storepass",
        PASSWORD,
        "-file",
        &file("ca.crt"),
    ]);
    sh(&[
        "keytool",
        "-importcert",
        "-noprompt",
        "-alias",
        "ca",
        "-file",
        &file("ca.crt"),
        "-storetype",
        "PKCS12",
        "-keystore",
        &file("truststore.p12"),
        "-storepass",
        PASSWORD,
    ]);
}

/// GET `url` from inside the driver's namespace, trusting only the test's certificate.
fn https_json(net: &Network, ca: &Path, url: &str) -> Option<Value> {
    let ca = ca.to_str().unwrap();
    let body = net.run_in(
        "driver",
        &["curl", "-sf", "--max-time", "3", "--cacert", ca, url],
    )?;
    serde_json::from_str(&body).ok()
}

#[test]
#[ignore = "starts a Spark cluster in network namespaces: needs root, java, keytool and pyspark"]
fn uis_answer_over_https_and_a_job_runs_with_rpc_over_tls() {
    let list = render(&[
        "workers.replicas=1",
        "sparkConf.spark.executor.memory=512m",
        "security.tls.enabled=true",
        "security.tls.secretName=spark-tls",
        "security.tls.password=spark-tls-password/password",
        "security.tls.rpc=true",
        "jobs.sum.app=/jobs/sum-job.jar",
        "jobs.sum.class=SumJob",
        "jobs.sum.args[0]=1000",
        "jobs.sum.schedule=@hourly",
        "storage[0].name=jobs",
        "storage[0].mountPath=/jobs",
        "storage[0].size=1Gi",
    ]);
    assert!(!list.to_string().contains(PASSWORD));
    let dir = scratch("tls");
    let _one_cluster_at_a_time = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let mut net = Network::new("t", 0);
    net.hosts.push((net.ip(MASTER), "spark-master".into()));
    net.add_host("master", MASTER);
    net.add_host("worker0", WORKER);
    net.add_host("driver", DRIVER);
    let tls = dir.join("tls");
    keystores(&tls, &[net.ip(MASTER), net.ip(WORKER)]);
    let ca = tls.join("ca.crt");
    let given = vec![(
        "spark-tls-password/password".to_string(),
        PASSWORD.to_string(),
    )];
    let volumes = vec![("spark-tls".to_string(), tls.clone())];
    let with_tls = |mut pod: Pod| {
        pod.secrets = given.clone();
        pod.secret_volumes = volumes.clone();
        pod
    };
    let mut cluster = Cluster {
        net,
        dir: dir.clone(),
        master: with_tls(Pod::from_list(&list, "master")),
        worker: with_tls(Pod::from_list(&list, "worker")),
    };
    let jar = build_job(&dir);
    let claim = dir.join("claims/spark-jobs");
    std::fs::create_dir_all(&claim).unwrap();
    std::fs::copy(&jar, claim.join("sum-job.jar")).unwrap();
    let started = Instant::now();
    cluster.start_master();
    cluster.start_worker(0);

    // The probes as the kubelet runs them: the master's (ALIVE) and the worker's (registered)
    // read /json/ over HTTPS.
    let (master, worker) = (&cluster.master, &cluster.worker);
    wait_probe(&cluster, "master", MASTER, master, "startupProbe", &[]);
    wait_probe(&cluster, "worker0", WORKER, worker, "startupProbe", &[]);
    wait_probe(&cluster, "worker0", WORKER, worker, "readinessProbe", &[]);
    println!(
        "master ALIVE and worker registered over HTTPS probes: {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // The UIs on their usual ports, over HTTPS, with the test's certificate.
    let master_url = format!("https://{}:8080/json/", cluster.net.ip(MASTER));
    let json = https_json(&cluster.net, &ca, &master_url)
        .unwrap_or_else(|| panic!("master UI over HTTPS\n{}", cluster.logs()));
    assert_eq!(json["status"], "ALIVE", "{json}");
    assert_eq!(alive(&json), 1, "{json}");
    let worker_ui = json["workers"][0]["webuiaddress"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        worker_ui,
        format!("https://{}:8081", cluster.net.ip(WORKER))
    );
    let worker_json = https_json(&cluster.net, &ca, &format!("{worker_ui}/json/"))
        .unwrap_or_else(|| panic!("worker UI over HTTPS\n{}", cluster.logs()));
    assert!(
        worker_json["masterurl"]
            .as_str()
            .is_some_and(|u| u.starts_with("spark://")),
        "{worker_json}"
    );
    // The UI port speaks nothing but TLS.
    let plain = format!("http://{}:8080/json/", cluster.net.ip(MASTER));
    assert!(
        cluster
            .net
            .run_in("driver", &["curl", "-sf", "--max-time", "3", &plain])
            .is_none(),
        "plain HTTP answered on the UI port"
    );

    // The master's RPC port completes a TLS handshake: RPC runs over TLS.
    let rpc = format!(
        "curl -kv --max-time 3 https://{}:7077/ 2>&1 || true",
        cluster.net.ip(MASTER)
    );
    let handshake = cluster
        .net
        .run_in("driver", &["sh", "-c", &rpc])
        .unwrap_or_default();
    assert!(handshake.contains("SSL connection using"), "{handshake}");

    // A job, its driver and executors talking RPC over TLS.
    let driver = with_tls(Pod::container_of(&list, "CronJob", "spark-sum", "driver"));
    let started = Instant::now();
    let (code, output) = super::run(&cluster, "driver", DRIVER, &driver, &[]);
    assert_eq!(code, Some(0), "{output}\n{}", cluster.logs());
    assert!(output.contains(EXPECTED), "{output}");
    assert!(!output.contains(PASSWORD), "{output}");
    println!(
        "job with RPC over TLS: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let json = https_json(&cluster.net, &ca, &master_url).unwrap();
    assert_eq!(
        json["completedapps"].as_array().map(Vec::len),
        Some(1),
        "{json}"
    );
    let worker_log = std::fs::read_to_string(dir.join("worker0.log")).unwrap_or_default();
    assert!(!worker_log.contains(PASSWORD), "the password reached a log");
    drop(cluster);
    std::fs::remove_dir_all(&dir).ok();
}
