//! End to end with real containers: the compose file `sparkup compose` writes, run by a real
//! Docker engine, with two images: ours from `docker/`, and one laid out like the official
//! apache/spark image (`/opt/spark`, a pass-through `/opt/entrypoint.sh`, user `spark` 185,
//! `/opt/spark/work-dir`).
//!
//! The test starts its own `dockerd` (its own data root and socket, no default bridge) and stops
//! it afterwards. Nothing can be pulled here, so every image is built locally: a Debian base from
//! `debootstrap` (Java 17, bash, tini, python3) imported with `docker import`, and Spark from the
//! `pyspark` distribution, packed as a release tarball and built through `docker/Dockerfile`'s
//! offline path (its checksum checked by `docker/verify-sha512.sh`).
//!
//! Debian ships docker-compose 1.29, which does not know inline `configs.content`; so each service
//! is started with `docker run` exactly as the compose file says: its network (an `--internal`
//! one), host name, entrypoint and command, environment (`$$` read as `$`), configs (as compose
//! does, files mounted read-only), tmpfs, read-only root, user, limits, health check and
//! `depends_on: service_healthy`. Services in a profile (the jobs) are not started with the
//! cluster, as `docker compose up` leaves them; a job's run-once service then runs the driver
//! with its own limits, to its exit code. An internal network publishes no port, so the UI is read on its
//! container port from inside the network, and the published binding is checked as declared.
//!
//! Needs root, docker.io, debootstrap, java/javac and pyspark; ignored by a plain `cargo test`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::scratch;
use crate::e2e::netns::sh;
use crate::e2e::{
    EXPECTED, EXPECTED_SHUFFLE, ONE_CLUSTER, WAIT, WORKERS, alive, build_job, pods, unescape,
    workers_on,
};

const BASE_IMAGE: &str = "sparkup-test/base:bookworm";
const OUR_IMAGE: (&str, &str) = ("sparkup-test/spark", "ours");
const OFFICIAL_LAYOUT: (&str, &str) = ("sparkup-test/spark", "official-layout");

/// A Docker engine of the test's own, stopped on drop.
struct Engine {
    host: String,
    dir: PathBuf,
    daemon: Child,
}

impl Engine {
    fn start() -> Engine {
        let dir = PathBuf::from(format!("/tmp/sparkup-docker-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // Images persist in target/ between local runs; CI starts from nothing.
        let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-docker/data");
        std::fs::create_dir_all(&data).unwrap();
        let host = format!("unix://{}/docker.sock", dir.display());
        let log = std::fs::File::create(dir.join("dockerd.log")).unwrap();
        let daemon = Command::new("dockerd")
            .args(["--data-root", data.to_str().unwrap()])
            .args(["--exec-root", dir.join("exec").to_str().unwrap()])
            .args(["--pidfile", dir.join("dockerd.pid").to_str().unwrap()])
            .args(["--host", &host, "--bridge", "none"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("dockerd (apt-get install docker.io)");
        let engine = Engine { host, dir, daemon };
        let start = Instant::now();
        while !engine.docker(&["version"]).status.success() {
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "dockerd did not start:\n{}",
                std::fs::read_to_string(engine.dir.join("dockerd.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(250));
        }
        engine
    }

    fn docker(&self, args: &[&str]) -> Output {
        Command::new("docker")
            .env("DOCKER_HOST", &self.host)
            // The engine's own builder: no buildx plugin is needed.
            .env("DOCKER_BUILDKIT", "0")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("the docker client")
    }

    /// Runs docker and returns its stdout; any failure fails the test.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.docker(args);
        assert!(
            out.status.success(),
            "docker {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn has_image(&self, image: &str) -> bool {
        self.docker(&["image", "inspect", image]).status.success()
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        // SIGTERM: dockerd stops its containers and its containerd before it exits.
        let _ = Command::new("kill")
            .arg(self.daemon.id().to_string())
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(Some(_)) = self.daemon.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A Debian base with Java 17, bash, tini and python3, from debootstrap (Debian's packages).
fn base_image(engine: &Engine) {
    if engine.has_image(BASE_IMAGE) {
        return;
    }
    let cache = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-docker");
    let tarball = cache.join("base-rootfs.tar");
    if !tarball.exists() {
        let rootfs = cache.join("rootfs");
        let _ = std::fs::remove_dir_all(&rootfs);
        sh(&[
            "debootstrap",
            "--variant=minbase",
            "--include=openjdk-17-jre-headless,tini,python3,procps",
            "bookworm",
            rootfs.to_str().unwrap(),
            "http://deb.debian.org/debian",
        ]);
        let partial = cache.join("base-rootfs.tar.partial");
        sh(&[
            "tar",
            "-C",
            rootfs.to_str().unwrap(),
            "-cf",
            partial.to_str().unwrap(),
            ".",
        ]);
        std::fs::rename(&partial, &tarball).unwrap();
        std::fs::remove_dir_all(&rootfs).ok();
    }
    let out = Command::new("docker")
        .env("DOCKER_HOST", &engine.host)
        .args(["import", tarball.to_str().unwrap(), BASE_IMAGE])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
}

/// The pyspark distribution as a release tarball and its `.sha512` (shasum layout) in `dist`.
fn spark_tarball(dist: &Path) -> String {
    let spark = pods::spark_home();
    let version = spark_version(&spark);
    let name = format!("spark-{version}-bin-pyspark.tgz");
    let licenses = Path::new(&spark)
        .parent()
        .unwrap()
        .join(format!("pyspark-{version}.dist-info/licenses"));
    std::fs::create_dir_all(dist).unwrap();
    let tgz = dist.join(&name);
    let prefix = format!("s,^,spark-{version}-bin-pyspark/,");
    sh(&[
        "tar",
        "-I",
        "gzip -1",
        "-cf",
        tgz.to_str().unwrap(),
        "--transform",
        &prefix,
        "-C",
        &spark,
        "bin",
        "sbin",
        "jars",
        "licenses",
        "-C",
        licenses.to_str().unwrap(),
        "LICENSE",
        "NOTICE",
    ]);
    let sum = Command::new("sha512sum").arg(&tgz).output().unwrap();
    let hex = String::from_utf8_lossy(&sum.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    std::fs::write(
        dist.join(format!("{name}.sha512")),
        format!("{hex}  {name}\n"),
    )
    .unwrap();
    name
}

fn spark_version(spark_home: &str) -> String {
    let out = Command::new("python3")
        .args(["-c", "import pyspark; print(pyspark.__version__)"])
        .output()
        .unwrap();
    let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        Path::new(spark_home).join("jars").exists() && !version.is_empty(),
        "pyspark with its jars"
    );
    version
}

/// Builds `docker/Dockerfile` offline from the pyspark distribution, and an image laid out like
/// the official one on the same base.
fn build_images(engine: &Engine, dir: &Path) {
    base_image(engine);
    let context = dir.join("context");
    std::fs::create_dir_all(&context).unwrap();
    let docker_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("docker");
    for file in ["Dockerfile", "verify-sha512.sh"] {
        std::fs::copy(docker_dir.join(file), context.join(file)).unwrap();
    }
    let dist = spark_tarball(&context.join("dist"));
    let version = dist
        .trim_start_matches("spark-")
        .trim_end_matches("-bin-pyspark.tgz")
        .to_string();
    let started = Instant::now();
    engine.ok(&[
        "build",
        "--quiet",
        "--build-arg",
        &format!("BASE_IMAGE={BASE_IMAGE}"),
        "--build-arg",
        &format!("SPARK_DIST={dist}"),
        "--build-arg",
        &format!("SPARK_VERSION={version}"),
        "-t",
        &format!("{}:{}", OUR_IMAGE.0, OUR_IMAGE.1),
        context.to_str().unwrap(),
    ]);
    println!(
        "docker build of docker/ from the local distribution: {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // Spark's license files travel with it.
    let listing = engine.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        &format!("{}:{}", OUR_IMAGE.0, OUR_IMAGE.1),
        "ls",
        "/opt/spark",
    ]);
    assert!(
        listing.contains("LICENSE") && listing.contains("NOTICE"),
        "{listing}"
    );

    let official = dir.join("official");
    std::fs::create_dir_all(&official).unwrap();
    std::fs::write(
        official.join("entrypoint.sh"),
        "#!/bin/bash\n# Like the official image's: Spark-on-Kubernetes roles, else pass-through.\n\
         case \"${1:-}\" in\n  driver|executor) echo \"not part of this test\" >&2; exit 1 ;;\n\
         \x20 *) exec \"$@\" ;;\nesac\n",
    )
    .unwrap();
    std::fs::write(
        official.join("Dockerfile"),
        format!(
            "FROM {BASE_IMAGE}\n\
             RUN groupadd --system --gid=185 spark && \\\n\
             \x20   useradd --system --uid=185 --gid=spark -d /nonexistent spark && \\\n\
             \x20   mkdir -p /opt/spark/work-dir && chmod g+w /opt/spark/work-dir\n\
             COPY --from={}:{} --chown=spark:spark /opt/spark /opt/spark\n\
             COPY entrypoint.sh /opt/\n\
             RUN chmod a+x /opt/entrypoint.sh\n\
             ENV SPARK_HOME=/opt/spark\n\
             WORKDIR /opt/spark/work-dir\n\
             USER spark\n\
             ENTRYPOINT [\"/opt/entrypoint.sh\"]\n",
            OUR_IMAGE.0, OUR_IMAGE.1
        ),
    )
    .unwrap();
    engine.ok(&[
        "build",
        "--quiet",
        "-t",
        &format!("{}:{}", OFFICIAL_LAYOUT.0, OFFICIAL_LAYOUT.1),
        official.to_str().unwrap(),
    ]);
}

/// The strings of a JSON array, unescaped as docker-compose reads them.
fn unescaped(value: &Value) -> Vec<String> {
    crate::common::strings(value)
        .iter()
        .map(|s| unescape(s))
        .collect()
}

/// One compose project started service by service with `docker run`.
struct Project<'a> {
    engine: &'a Engine,
    doc: Value,
    network: String,
    /// Container name prefix.
    prefix: String,
    dir: PathBuf,
}

impl Project<'_> {
    fn container(&self, service: &str) -> String {
        format!("{}-{service}", self.prefix)
    }

    /// `docker run` arguments for `service` as the compose file has it, with `image` and
    /// `command` overriding the service's own when given.
    fn run_args(&self, service: &str, name: &str, command: Option<Vec<String>>) -> Vec<String> {
        let s = &self.doc["services"][service];
        let mut args: Vec<String> = vec![
            "run".into(),
            "-d".into(),
            "--name".into(),
            self.container(name),
            "--network".into(),
            self.network.clone(),
            "--hostname".into(),
            name.into(),
            "--network-alias".into(),
            name.into(),
            "--user".into(),
            s["user"].as_str().unwrap().into(),
        ];
        if s["read_only"] == true {
            args.push("--read-only".into());
        }
        for (key, value) in s["environment"].as_object().unwrap() {
            args.push("-e".into());
            args.push(format!("{key}={}", unescape(value.as_str().unwrap())));
        }
        for tmpfs in unescaped(&s["tmpfs"]) {
            args.push("--tmpfs".into());
            args.push(tmpfs);
        }
        // Compose mounts an inline config as a read-only file.
        for config in s["configs"].as_array().unwrap() {
            let source = config["source"].as_str().unwrap();
            let file = self.dir.join("configs").join(source);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            let content = unescape(self.doc["configs"][source]["content"].as_str().unwrap());
            std::fs::write(&file, content).unwrap();
            args.push("-v".into());
            args.push(format!(
                "{}:{}:ro",
                file.display(),
                config["target"].as_str().unwrap()
            ));
        }
        for port in unescaped(&s["ports"]) {
            args.push("-p".into());
            args.push(port);
        }
        let limits = &s["deploy"]["resources"]["limits"];
        if let Some(cpus) = limits["cpus"].as_str() {
            args.extend(["--cpus".into(), cpus.into()]);
        }
        if let Some(memory) = limits["memory"].as_str() {
            args.extend(["--memory".into(), memory.into()]);
        }
        let health = &s["healthcheck"];
        let test = unescaped(&health["test"]);
        if !test.is_empty() {
            assert_eq!(test[0], "CMD");
            args.extend([
                "--health-cmd".into(),
                test[1..].join(" "),
                "--health-interval".into(),
                health["interval"].as_str().unwrap().into(),
                "--health-timeout".into(),
                health["timeout"].as_str().unwrap().into(),
                "--health-retries".into(),
                health["retries"].to_string(),
                "--health-start-period".into(),
                health["start_period"].as_str().unwrap().into(),
            ]);
        }
        let entrypoint = unescaped(&s["entrypoint"]);
        args.extend(["--entrypoint".into(), entrypoint[0].clone()]);
        args.push(unescape(s["image"].as_str().unwrap()));
        args.extend(entrypoint[1..].iter().cloned());
        args.extend(command.unwrap_or_else(|| unescaped(&s["command"])));
        args
    }

    fn start(&self, service: &str) {
        // depends_on: condition: service_healthy
        if let Some(deps) = self.doc["services"][service]["depends_on"].as_object() {
            for (dep, condition) in deps {
                assert_eq!(condition["condition"], "service_healthy");
                self.wait_healthy(dep);
            }
        }
        let args = self.run_args(service, service, None);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        self.engine.ok(&args);
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

    /// Every container of the project, the driver included.
    fn containers(&self) -> Vec<String> {
        let names = self.engine.ok(&[
            "ps",
            "-a",
            "--filter",
            &format!("name={}", self.prefix),
            "--format",
            "{{.Names}}",
        ]);
        names.lines().map(str::to_string).collect()
    }

    fn logs(&self) -> String {
        let mut out = String::new();
        for name in &self.containers() {
            let logs = self.engine.docker(&["logs", "--tail", "40", name]);
            out.push_str(&format!(
                "==== {name}\n{}{}",
                String::from_utf8_lossy(&logs.stdout),
                String::from_utf8_lossy(&logs.stderr)
            ));
        }
        out
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
}

/// The compose file for `image`, run service by service; then a job with a shuffle, a worker
/// killed and back, the health checks, and the UI.
fn compose_cluster_runs_jobs(engine: &Engine, image: (&str, &str), dir: &Path, jar: &Path) {
    let text = crate::e2e::sparkup_output(&[
        "compose",
        "--profile",
        "dev",
        "--set",
        &format!("workers.replicas={WORKERS}"),
        "--set",
        &format!("image.repository={}", image.0),
        "--set",
        &format!("image.tag={}", image.1),
        "--set",
        "sparkConf.spark.executor.memory=512m",
        "--set",
        "jobs.sum.app=/job/sum-job.jar",
        "--set",
        "jobs.sum.class=SumJob",
        "--set",
        "jobs.sum.args[0]=1000",
    ]);
    let doc: Vec<Value> = serde_saphyr::from_multiple(&text).unwrap();
    let prefix = format!("sparkup-{}-{}", image.1, std::process::id());
    let project = Project {
        engine,
        doc: doc[0].clone(),
        network: prefix.clone(),
        prefix,
        dir: dir.join(image.1),
    };
    engine.ok(&["network", "create", "--internal", &project.network]);
    // What `docker compose up` starts: every service outside a profile (jobs are in one).
    let services: Vec<String> = project.doc["services"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, s)| s.get("profiles").is_none())
        .map(|(name, _)| name.clone())
        .collect();
    let master = project.master();
    let started = Instant::now();
    for service in &services {
        project.start(service);
    }
    project.wait_for("all workers ALIVE", |j| {
        j["status"] == "ALIVE" && alive(j) == WORKERS
    });
    println!(
        "{}: all {WORKERS} workers ALIVE {:.1} s after the first container started",
        image.1,
        started.elapsed().as_secs_f64()
    );

    // Each worker registered with its container's own address and the compose file's sizing.
    let json = project.json(&master, "127.0.0.1", 8080).unwrap();
    for service in services.iter().filter(|s| **s != master) {
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
        // A worker's UI answers its peers on the network, by service name.
        let ui = project.json(&master, service, 8081).expect("the worker UI");
        assert_eq!(ui["cores"], mine[0]["cores"]);
    }

    // The job's run-once service (`docker compose run spark-job-sum`): a client-mode driver in a
    // container of its own runs a job with a shuffle.
    let job = Instant::now();
    let service = "spark-job-sum";
    assert_eq!(
        project.doc["services"][service]["profiles"],
        serde_json::json!(["jobs"])
    );
    let mut driver = project.run_args(service, "driver", None);
    let image_at = driver
        .iter()
        .position(|a| a == "--entrypoint")
        .expect("an entrypoint");
    // The jar stands in for a claim holding the application.
    driver.splice(
        image_at..image_at,
        [
            "-v".to_string(),
            format!("{}:/job/sum-job.jar:ro", jar.display()),
        ],
    );
    let args: Vec<&str> = driver.iter().map(String::as_str).collect();
    engine.ok(&args);
    let code = engine.ok(&["wait", &project.container("driver")]);
    let out = engine.docker(&["logs", &project.container("driver")]);
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(
        code == "0" && log.contains(EXPECTED) && log.contains(EXPECTED_SHUFFLE),
        "driver exit {code}:\n{log}{}\n{}",
        String::from_utf8_lossy(&out.stderr),
        project.logs()
    );
    println!(
        "{}: job with a shuffle finished in {:.1} s",
        image.1,
        job.elapsed().as_secs_f64()
    );

    // A killed worker is DEAD; started again, it registers again.
    let worker = services.iter().find(|s| **s != master).unwrap();
    engine.ok(&["kill", &project.container(worker)]);
    project.wait_for("the killed worker to be gone", |j| alive(j) == WORKERS - 1);
    let back = Instant::now();
    engine.ok(&["start", &project.container(worker)]);
    project.wait_for("the restarted worker to be ALIVE", |j| alive(j) == WORKERS);
    println!(
        "{}: killed worker back ALIVE {:.1} s after its restart",
        image.1,
        back.elapsed().as_secs_f64()
    );

    // Every health check passes, and the master's UI is declared on loopback only.
    for service in &services {
        project.wait_healthy(service);
    }
    let bindings = engine.ok(&[
        "inspect",
        "-f",
        "{{json .HostConfig.PortBindings}}",
        &project.container(&master),
    ]);
    let bindings: Value = serde_json::from_str(&bindings).unwrap();
    assert_eq!(bindings["8080/tcp"][0]["HostIp"], "127.0.0.1", "{bindings}");
    assert_eq!(bindings["8080/tcp"][0]["HostPort"], "8080", "{bindings}");

    for name in project.containers() {
        engine.ok(&["rm", "-f", &name]);
    }
    engine.ok(&["network", "rm", &project.network]);
}

#[test]
#[ignore = "starts a Docker engine and Spark containers: needs root, docker.io, debootstrap, java and pyspark"]
fn compose_file_runs_in_docker_with_our_image_and_an_official_layout() {
    let _one_cluster_at_a_time = ONE_CLUSTER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = scratch("docker");
    let engine = Engine::start();
    build_images(&engine, &dir);
    let jar = build_job(&dir);
    for image in [OUR_IMAGE, OFFICIAL_LAYOUT] {
        compose_cluster_runs_jobs(&engine, image, &dir, &jar);
    }
    drop(engine);
    std::fs::remove_dir_all(&dir).ok();
}
