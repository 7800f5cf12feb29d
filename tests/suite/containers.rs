//! End to end with real containers: the folder `sparkup compose --output-dir` writes, run by
//! Debian's `docker-compose` (1.29, which reads no inline configs) against a real Docker engine,
//! with two images: ours from `docker/`, and one laid out like the official apache/spark image
//! (`/opt/spark`, a pass-through `/opt/entrypoint.sh`, user `spark` 185, `/opt/spark/work-dir`).
//!
//! The test starts its own `dockerd` (its own data root and socket, no default bridge) and stops
//! it afterwards; docker-compose reaches it through `DOCKER_HOST`. Nothing can be pulled here, so
//! every image is built locally: a Debian base from `debootstrap` (Java 17, bash, tini, python3)
//! imported with `docker import`, and Spark from the `pyspark` distribution, packed as a release
//! tarball and built through `docker/Dockerfile`'s offline path (its checksum checked by
//! `docker/verify-sha512.sh`).
//!
//! As a user would: `docker-compose up -d` (the master healthy before the workers start), the
//! job's service in the `jobs` profile with `docker-compose run`, `kill` and `start` of a worker,
//! then `down`. The folder is written under a umask of 077, so the containers' user reading its
//! files proves their modes. One override file beside the folder makes the project's network
//! internal, so no container reaches or is reached from outside the machine; its ports are then
//! published nowhere, and the bindings are checked as declared (loopback). The UIs are read from
//! inside the network.
//!
//! Needs root, docker.io, docker-compose, debootstrap, java/javac and pyspark; ignored by a plain
//! `cargo test`.

mod images;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::scratch;
use crate::e2e::{
    EXPECTED, EXPECTED_SHUFFLE, ONE_CLUSTER, WAIT, WORKERS, alive, build_job, workers_on,
};
use images::{Engine, OFFICIAL_LAYOUT, OUR_IMAGE, build_images};

/// Keeps every container of a project off any network but its own: the compose file publishes
/// ports for its users, and nothing here may reach or be reached from outside the machine.
const INTERNAL_NETWORK: &str = "networks:\n  default:\n    internal: true\n";

/// One compose project, run by docker-compose from the folder `sparkup compose --output-dir`
/// wrote; taken down on drop, so a failed run leaves nothing in the engine's data root.
struct Project<'a> {
    engine: &'a Engine,
    /// `-p`: the project's name.
    name: String,
    /// The folder sparkup wrote.
    dir: PathBuf,
    /// The override file with the internal network, outside the folder.
    internal: PathBuf,
    /// `compose.yaml` as written.
    doc: Value,
}

impl Project<'_> {
    /// `docker-compose -p NAME -f DIR/compose.yaml -f internal.yaml ARGS` against the test's
    /// engine.
    fn compose(&self, args: &[&str]) -> Output {
        Command::new("docker-compose")
            .env("DOCKER_HOST", &self.engine.host)
            .env_remove("COMPOSE_PROFILES")
            .env_remove("COMPOSE_FILE")
            .args(["--no-ansi", "-p", &self.name, "-f"])
            .arg(self.dir.join("compose.yaml"))
            .arg("-f")
            .arg(&self.internal)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("docker-compose (apt-get install docker-compose)")
    }

    /// Runs docker-compose; any failure fails the test.
    fn compose_ok(&self, args: &[&str]) -> String {
        let out = self.compose(args);
        assert!(
            out.status.success(),
            "docker-compose {args:?} failed: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.logs()
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The id of `service`'s container, found by compose's labels as `docker-compose ps` does,
    /// without a Python start per question.
    fn container(&self, service: &str) -> String {
        let id = self.engine.ok(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
            "--filter",
            &format!("label=com.docker.compose.service={service}"),
        ]);
        assert!(!id.is_empty() && !id.contains('\n'), "{service}: {id:?}");
        id
    }

    fn health(&self, service: &str) -> String {
        self.engine.ok(&[
            "inspect",
            "-f",
            "{{.State.Health.Status}}",
            &self.container(service),
        ])
    }

    fn wait_healthy(&self, service: &str) {
        let start = Instant::now();
        while self.health(service) != "healthy" {
            assert!(
                start.elapsed() < WAIT,
                "{service} never became healthy:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(500));
        }
    }

    /// `/json/` of a daemon's UI on `port`, read inside container `service` with bash alone:
    /// `host` is `127.0.0.1` for the container's own UI.
    fn json(&self, service: &str, host: &str, port: u16) -> Option<Value> {
        let script = format!(
            "exec 3<>/dev/tcp/{host}/{port} && printf 'GET /json/ HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3"
        );
        let out = self
            .engine
            .docker(&["exec", &self.container(service), "bash", "-c", &script]);
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let body = text.split_once("\r\n\r\n")?.1;
        serde_json::from_str(body).ok()
    }

    fn master(&self) -> String {
        self.doc["services"]
            .as_object()
            .unwrap()
            .keys()
            .find(|k| k.ends_with("-master"))
            .unwrap()
            .clone()
    }

    fn wait_for(&self, what: &str, check: impl Fn(&Value) -> bool) -> Duration {
        let master = self.master();
        let start = Instant::now();
        while start.elapsed() < WAIT {
            if self
                .json(&master, "127.0.0.1", 8080)
                .is_some_and(|j| check(&j))
            {
                return start.elapsed();
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        panic!("timed out waiting for {what}\n{}", self.logs());
    }

    /// The last lines of every container's log, for a failure's message.
    fn logs(&self) -> String {
        let out = self.compose(&["logs", "--no-color", "--tail", "40"]);
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }

    /// The container's address on the project network.
    fn address(&self, service: &str) -> String {
        self.engine.ok(&[
            "inspect",
            "-f",
            "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
            &self.container(service),
        ])
    }

    /// Every network of the project is internal, and every published port is on loopback
    /// (declared: an internal network publishes none).
    fn assert_confined(&self, services: &[String]) {
        let networks = self.engine.ok(&[
            "network",
            "ls",
            "-q",
            "--filter",
            &format!("label=com.docker.compose.project={}", self.name),
        ]);
        assert!(!networks.is_empty(), "the project's network");
        for network in networks.lines() {
            let internal = self
                .engine
                .ok(&["network", "inspect", "-f", "{{.Internal}}", network]);
            assert_eq!(internal, "true", "network {network}");
        }
        for service in services {
            let bindings = self.engine.ok(&[
                "inspect",
                "-f",
                "{{json .HostConfig.PortBindings}}",
                &self.container(service),
            ]);
            let bindings: Value = serde_json::from_str(&bindings).unwrap();
            for (port, hosts) in bindings.as_object().unwrap() {
                for host in hosts.as_array().unwrap() {
                    assert_eq!(host["HostIp"], "127.0.0.1", "{service} {port}: {bindings}");
                }
            }
            if *service == self.master() {
                assert_eq!(bindings["8080/tcp"][0]["HostPort"], "8080", "{bindings}");
            }
        }
    }
}

impl Drop for Project<'_> {
    fn drop(&mut self) {
        let _ = self.compose(&["down", "-v", "--remove-orphans", "-t", "5"]);
    }
}

/// `sparkup compose --output-dir` for `image`, under a umask of 077 (the files must still be
/// readable by the containers' user); the folder, and `compose.yaml` as written.
fn compose_folder(image: (&str, &str), dir: &Path) -> Value {
    let sets = [
        format!("workers.replicas={WORKERS}"),
        format!("image.repository={}", image.0),
        format!("image.tag={}", image.1),
        "sparkConf.spark.executor.memory=512m".to_string(),
        "jobs.sum.app=/job/sum-job.jar".to_string(),
        "jobs.sum.class=SumJob".to_string(),
        "jobs.sum.args[0]=1000".to_string(),
    ];
    let mut command = Command::new("sh");
    command
        .args(["-c", "umask 077 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_sparkup"))
        .args(["compose", "--profile", "dev", "--output-dir"])
        .arg(dir);
    for set in &sets {
        command.args(["--set", set]);
    }
    crate::common::stdout_of(&mut command);
    let text = std::fs::read_to_string(dir.join("compose.yaml")).unwrap();
    serde_saphyr::from_str(&text).unwrap()
}

/// The folder for `image`, run by docker-compose: every worker ALIVE, a job with a shuffle, a
/// worker killed and back, the health checks, and the network confined.
fn compose_cluster_runs_jobs(engine: &Engine, image: (&str, &str), dir: &Path, jar: &Path) {
    let folder = dir.join(image.1).join("spark");
    let internal = dir.join(image.1).join("internal.yaml");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(&internal, INTERNAL_NETWORK).unwrap();
    let project = Project {
        engine,
        name: format!("sparkup-{}-{}", image.1, std::process::id()),
        doc: compose_folder(image, &folder),
        dir: folder,
        internal,
    };
    // What `docker-compose up` starts: every service outside a profile (jobs are in one).
    let services: Vec<String> = project.doc["services"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, s)| s.get("profiles").is_none())
        .map(|(name, _)| name.clone())
        .collect();
    let master = project.master();
    let started = Instant::now();
    project.compose_ok(&["up", "-d"]);
    let up = started.elapsed();
    project.wait_for("all workers ALIVE", |j| {
        j["status"] == "ALIVE" && alive(j) == WORKERS
    });
    println!(
        "{}: docker-compose up -d returned after {:.1} s (the master healthy, every container \
         started); all {WORKERS} workers ALIVE after {:.1} s",
        image.1,
        up.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    check_workers(&project, &services, &master);
    run_job(&project, image, jar);
    worker_killed_and_back(&project, image, &services, &master);

    for service in &services {
        project.wait_healthy(service);
    }
    project.assert_confined(&services);
    let down = Instant::now();
    project.compose_ok(&["down", "-v", "-t", "5"]);
    println!(
        "{}: docker-compose down in {:.1} s",
        image.1,
        down.elapsed().as_secs_f64()
    );
}

/// Each worker registered with its container's own address and the compose file's sizing, and
/// its UI answers its peers on the network, by service name.
fn check_workers(project: &Project, services: &[String], master: &str) {
    let json = project.json(master, "127.0.0.1", 8080).unwrap();
    for service in services.iter().filter(|s| *s != master) {
        let mine = workers_on(&json, &project.address(service));
        assert_eq!(mine.len(), 1, "{service}: {json}");
        let env = &project.doc["services"][service]["environment"];
        assert_eq!(
            mine[0]["cores"].to_string(),
            env["SPARK_WORKER_CORES"].as_str().unwrap()
        );
        assert_eq!(
            format!("{}m", mine[0]["memory"]),
            env["SPARK_WORKER_MEMORY"].as_str().unwrap()
        );
        let ui = project.json(master, service, 8081).expect("the worker UI");
        assert_eq!(ui["cores"], mine[0]["cores"]);
    }
}

/// The job's run-once service, in the `jobs` profile, as a user runs it (`docker-compose run`):
/// a client-mode driver in a container of its own runs a job with a shuffle, to its exit code.
fn run_job(project: &Project, image: (&str, &str), jar: &Path) {
    let service = "spark-job-sum";
    assert_eq!(
        project.doc["services"][service]["profiles"],
        serde_json::json!(["jobs"])
    );
    let job = Instant::now();
    // The jar stands in for a claim holding the application.
    let mount = format!("{}:/job/sum-job.jar:ro", jar.display());
    let out = project.compose(&["run", "--rm", "-T", "-v", &mount, service]);
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && log.contains(EXPECTED) && log.contains(EXPECTED_SHUFFLE),
        "driver {:?}:\n{log}{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr),
        project.logs()
    );
    println!(
        "{}: docker-compose run of the job (a shuffle) finished in {:.1} s",
        image.1,
        job.elapsed().as_secs_f64()
    );
}

/// A killed worker is DEAD; started again, it registers again.
fn worker_killed_and_back(
    project: &Project,
    image: (&str, &str),
    services: &[String],
    master: &str,
) {
    let worker = services.iter().find(|s| *s != master).unwrap();
    project.compose_ok(&["kill", worker]);
    project.wait_for("the killed worker to be gone", |j| alive(j) == WORKERS - 1);
    let back = Instant::now();
    project.compose_ok(&["start", worker]);
    project.wait_for("the restarted worker to be ALIVE", |j| alive(j) == WORKERS);
    println!(
        "{}: killed worker back ALIVE {:.1} s after docker-compose start",
        image.1,
        back.elapsed().as_secs_f64()
    );
}

#[test]
#[ignore = "starts a Docker engine and Spark containers: needs root, docker.io, docker-compose, debootstrap, java and pyspark"]
fn compose_folder_runs_in_docker_compose_with_our_image_and_an_official_layout() {
    let _one_cluster_at_a_time = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("docker");
    let engine = Engine::start();
    build_images(&engine, &dir);
    let jar = build_job(&dir);
    let version = Command::new("docker-compose")
        .arg("version")
        .arg("--short")
        .output();
    let version = version.expect("docker-compose (apt-get install docker-compose)");
    println!(
        "docker-compose {}",
        String::from_utf8_lossy(&version.stdout).trim()
    );
    for image in [OUR_IMAGE, OFFICIAL_LAYOUT] {
        compose_cluster_runs_jobs(&engine, image, &dir, &jar);
    }
    drop(engine);
    std::fs::remove_dir_all(&dir).ok();
}
