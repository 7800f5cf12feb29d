//! The container test's Docker engine and images: a `dockerd` of the test's own, and, since
//! nothing can be pulled, a Debian base from `debootstrap`, `docker/`'s image built offline from
//! the pyspark distribution, and an image laid out like the official apache/spark one.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::e2e::netns::sh;
use crate::e2e::pods;

const BASE_IMAGE: &str = "sparkup-test/base:bookworm";
pub(super) const OUR_IMAGE: (&str, &str) = ("sparkup-test/spark", "ours");
pub(super) const OFFICIAL_LAYOUT: (&str, &str) = ("sparkup-test/spark", "official-layout");

/// A Docker engine of the test's own, stopped on drop.
pub(super) struct Engine {
    pub(super) host: String,
    dir: PathBuf,
    daemon: Child,
}

impl Engine {
    pub(super) fn start() -> Engine {
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

    pub(super) fn docker(&self, args: &[&str]) -> Output {
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
    pub(super) fn ok(&self, args: &[&str]) -> String {
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
pub(super) fn build_images(engine: &Engine, dir: &Path) {
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
