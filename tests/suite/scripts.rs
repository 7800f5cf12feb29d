//! The shell scripts: the role launcher (`templates/launcher.sh`), lint-clean, strict about its
//! arguments and starting each daemon through the distribution's own `spark-class`; sparkup's
//! GPU discovery script (`gpus`); and the image's checksum check.
//!
//! A stand-in Spark distribution whose `spark-class` and `spark-submit` print what they were
//! given shows exactly how the launcher starts each role, without Java.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

mod gpus;

fn launcher() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("templates/launcher.sh")
        .display()
        .to_string()
}

/// A folder with `bin/spark-class` and `bin/spark-submit` that print their arguments and the
/// variables spark-class reads.
fn fake_spark_home(name: &str) -> PathBuf {
    let home = crate::common::scratch(&format!("fake-spark-{name}"));
    let bin = home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    for tool in ["spark-class", "spark-submit"] {
        let script = format!(
            "#!/bin/sh\necho {tool} \"$@\"\necho \"PUBLIC_DNS=$SPARK_PUBLIC_DNS LOCAL_IP=${{SPARK_LOCAL_IP-unset}} MASTER_OPTS=$SPARK_MASTER_OPTS WORKER_OPTS=$SPARK_WORKER_OPTS\"\n"
        );
        let path = bin.join(tool);
        std::fs::write(&path, script).unwrap();
        sh_chmod(&path);
    }
    home
}

fn sh_chmod(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn run(home: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new("bash")
        .arg(launcher())
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SPARK_HOME", home)
        .env("POD_IP", "10.1.2.3")
        .envs(env.iter().copied())
        .output()
        .unwrap()
}

/// A master that accepts connections on loopback, and its URL.
fn listening_master() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "spark://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    (listener, url)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
#[ignore = "needs shellcheck; run by the README's test command"]
fn scripts_pass_shellcheck() {
    let out = Command::new("shellcheck")
        .args(["--severity=style", &launcher()])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/discover-gpus.sh"))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/verify-sha512.sh"))
        .output()
        .expect("shellcheck on PATH (apt-get install shellcheck)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn entrypoint_rejects_missing_or_wrong_role_arguments() {
    let home = fake_spark_home("usage");
    for args in [
        &[][..],
        &["worker"][..],
        &["worker", "a", "b"][..],
        &["health"][..],
    ] {
        let out = run(&home, args, &[]);
        assert_eq!(out.status.code(), Some(64), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("sparkup: usage:"), "{args:?}: {stderr}");
    }
}

#[test]
fn launcher_without_a_spark_distribution_says_where_it_looked() {
    let out = run(Path::new("/nonexistent"), &["master"], &[]);
    assert_eq!(out.status.code(), Some(64));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no Spark distribution at SPARK_HOME=/nonexistent"),
        "{stderr}"
    );
}

#[test]
fn entrypoint_runs_other_commands_with_the_address_exported() {
    let home = fake_spark_home("other");
    let out = run(
        &home,
        &[
            "sh",
            "-c",
            "echo $SPARK_PUBLIC_DNS ${SPARK_LOCAL_IP-unset} $SPARK_LOCAL_HOSTNAME",
        ],
        &[],
    );
    // The address is advertised, but SPARK_LOCAL_IP stays unset: set, Spark binds its web UIs to
    // it alone and `kubectl port-forward` (localhost in the pod) is refused.
    assert_eq!(stdout(&out), "10.1.2.3 unset 10.1.2.3\n");
}

/// With `spark.ssl.enabled`, each UI serves HTTPS on the port it always had and Spark's
/// redirect moves 400 up; a driver's UI too.
#[test]
fn https_uis_keep_their_ports_and_the_redirect_moves_up() {
    let home = fake_spark_home("https");
    let conf = home.join("conf");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(conf.join("spark-defaults.conf"), "spark.ssl.enabled true\n").unwrap();
    let conf_dir = ("SPARK_CONF_DIR", conf.to_str().unwrap());
    let master = run(&home, &["master"], &[conf_dir]);
    assert_eq!(
        stdout(&master),
        "spark-class org.apache.spark.deploy.master.Master --host 10.1.2.3 --port 7077 \
         --webui-port 8480\nPUBLIC_DNS=10.1.2.3 LOCAL_IP=unset MASTER_OPTS= -XX:TieredStopAtLevel=1 \
         -Dspark.ssl.standalone.port=8080 WORKER_OPTS=\n"
    );
    let (_listener, url) = listening_master();
    let worker = run(
        &home,
        &["worker", &url],
        &[conf_dir, ("SPARK_WORKER_WEBUI_PORT", "8201")],
    );
    let text = stdout(&worker);
    assert!(text.contains("--webui-port 8601"), "{text}");
    assert!(text.contains("-Dspark.ssl.standalone.port=8201"), "{text}");
    let driver = run(&home, &["submit", "app.py"], &[conf_dir]);
    let text = stdout(&driver);
    assert!(
        text.contains("--conf spark.ssl.ui.port=4040 --conf spark.ui.port=4440 app.py"),
        "{text}"
    );
}

#[test]
fn daemons_start_through_spark_class_on_the_pod_address() {
    let home = fake_spark_home("daemons");
    let master = run(&home, &["master"], &[("SPARK_MASTER_PORT", "7000")]);
    assert_eq!(
        stdout(&master),
        "spark-class org.apache.spark.deploy.master.Master --host 10.1.2.3 --port 7000 \
         --webui-port 8080\nPUBLIC_DNS=10.1.2.3 LOCAL_IP=unset MASTER_OPTS= -XX:TieredStopAtLevel=1 \
         WORKER_OPTS=\n"
    );
    // SPARKUP_DAEMON_JAVA_OPTS replaces the daemons' compiler choice, even empty.
    let full_jit = run(&home, &["master"], &[("SPARKUP_DAEMON_JAVA_OPTS", "")]);
    assert!(
        !stdout(&full_jit).contains("TieredStopAtLevel"),
        "{full_jit:?}"
    );
    let (_master, url) = listening_master();
    let worker = run(
        &home,
        &["worker", &url],
        &[
            ("SPARK_WORKER_CORES", "2"),
            ("SPARK_WORKER_MEMORY", "2688m"),
            ("SPARK_WORKER_DECOMMISSION", "true"),
        ],
    );
    assert_eq!(
        stdout(&worker),
        format!(
            "spark-class org.apache.spark.deploy.worker.Worker --host 10.1.2.3 --port 7078 \
         --webui-port 8081 --cores 2 --memory 2688m {url}\nPUBLIC_DNS=10.1.2.3 \
         LOCAL_IP=unset MASTER_OPTS= WORKER_OPTS= -XX:TieredStopAtLevel=1 \
         -Dspark.decommission.enabled=true \
         -Dspark.worker.decommission.signal=TERM\n"
        )
    );
    let driver = run(&home, &["submit", "--class", "A", "app.jar"], &[]);
    let driver = stdout(&driver);
    assert!(
        driver.starts_with(
            "spark-submit --conf spark.driver.host=10.1.2.3 --conf \
             spark.driver.bindAddress=10.1.2.3 --conf spark.driver.port=7079 --conf \
             spark.blockManager.port=7080 --conf spark.sparkup.scheduledTime="
        ),
        "{driver}"
    );
    assert!(driver.contains("Z --class A app.jar\n"), "{driver}");
    let connect = run(
        &home,
        &["connect", "--conf", "a=b"],
        &[("SPARK_CONNECT_PORT", "15003")],
    );
    assert!(
        stdout(&connect).contains(
            " --class org.apache.spark.sql.connect.service.SparkConnectServer --name Spark \
             Connect server --conf spark.connect.grpc.binding.port=15003 --conf a=b\n"
        ),
        "{}",
        stdout(&connect)
    );
}

/// A worker dialling a master that does not accept yet would wait out Spark's registration
/// back-off (5 to 15 s); the launcher starts it once the master accepts instead.
#[test]
fn a_worker_starts_once_its_master_accepts() {
    let home = fake_spark_home("wait-for-master");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("spark://127.0.0.1:1,127.0.0.1:{port}");
    let mut worker = Command::new("bash")
        .arg(launcher())
        .args(["worker", &url])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("SPARK_HOME", &home)
        .env("POD_IP", "10.1.2.3")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        worker.try_wait().unwrap().is_none(),
        "the worker started with no master"
    );
    let _master = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let started = Instant::now();
    while worker.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < Duration::from_secs(20), "still waiting");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = worker.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).starts_with("spark-class org.apache.spark.deploy.worker.Worker"),
        "{out:?}"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.matches("sparkup: waiting for the master at").count(),
        1,
        "{err}"
    );
}

/// Serves each connection one HTTP answer: `status` and `body`, as a Spark UI would.
fn daemon_ui(status: u16, body: &'static str) -> (std::thread::JoinHandle<()>, u16) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        // The whole request first: closing on unread bytes would reset the connection.
        let (mut request, mut chunk) = (Vec::new(), [0u8; 256]);
        while !request.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => break,
                Ok(n) => request.extend_from_slice(&chunk[..n]),
            }
        }
        let _ = write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n\r\n{body}"
        );
    });
    (server, port)
}

/// The probes' checks: a master is ready when ALIVE, not while it recovers; a worker once a
/// master accepted it; a path answers 200; a port accepts.
#[test]
fn health_checks_read_the_daemons_state() {
    let home = fake_spark_home("health");
    let master = "{\n  \"url\" : \"spark://10.0.0.1:7077\",\n  \"status\" : \"ALIVE\"\n}";
    let recovering = "{\n  \"url\" : \"x\",\n  \"status\" : \"RECOVERING\"\n}";
    let unregistered = "{\n  \"id\" : \"worker-1\",\n  \"masterurl\" : \"\",\n  \"cores\" : 2\n}";
    let registered = "{\n  \"id\" : \"w\",\n  \"masterurl\" : \"spark://10.0.0.1:7077\"\n}";
    for (status, body, check, ok) in [
        (200, master, "alive", true),
        (200, recovering, "alive", false),
        (200, registered, "registered", true),
        (200, unregistered, "registered", false),
        (503, master, "alive", false),
        (200, "{}", "/api/v1/version", true),
        (404, "{}", "/api/v1/version", false),
        (200, "", "tcp", true),
    ] {
        let (server, port) = daemon_ui(status, body);
        let port = port.to_string();
        let out = run(&home, &["health", &port, check], &[("POD_IP", "127.0.0.1")]);
        assert_eq!(
            out.status.success(),
            ok,
            "{check} on {status} {body}: {out:?}"
        );
        server.join().unwrap();
    }
    let out = run(&home, &["health", "1", "ready"], &[]);
    assert_eq!(out.status.code(), Some(64), "{out:?}");
}

/// A CronJob names each Job after the minute it was scheduled for; the driver sees that time.
#[test]
fn a_scheduled_run_knows_when_it_was_due() {
    let home = fake_spark_home("scheduled");
    let show = ["submit", "app.py"];
    let due = |job: &str| {
        let out = stdout(&run(&home, &show, &[("SPARKUP_JOB_NAME", job)]));
        out.split("spark.sparkup.scheduledTime=")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_default()
            .to_string()
    };
    // 29412000 minutes after the epoch.
    assert_eq!(due("spark-nightly-29412000"), "2025-12-03T00:00:00Z");
    assert_eq!(due("spark-nightly-29412000-x7k2"), "2025-12-03T00:00:00Z");
    // Any other run was due when it started.
    let now = due("spark-report-adhoc");
    assert!(now.starts_with("20") && now.ends_with('Z'), "{now}");
    assert_ne!(now, "2025-12-03T00:00:00Z");
}

/// The event log folder on a claim is created before the driver or history server needs it.
#[test]
fn the_event_log_folder_is_created_first() {
    let home = fake_spark_home("events");
    let dir = home.join("claims/events/apps");
    let dir_text = dir.to_str().unwrap();
    let out = run(&home, &["history"], &[("SPARKUP_EVENT_LOG_DIR", dir_text)]);
    assert!(out.status.success(), "{out:?}");
    assert!(dir.is_dir());
    assert!(stdout(&out).starts_with("spark-class org.apache.spark.deploy.history.HistoryServer"));
    // A URL is Spark's to handle.
    let out = run(
        &home,
        &["history"],
        &[("SPARKUP_EVENT_LOG_DIR", "s3a://b/e")],
    );
    assert!(out.status.success(), "{out:?}");
}

/// `docker/verify-sha512.sh` on a tarball stand-in and checksum files in both layouts Apache has
/// published: today's `shasum -a 512` output and the older gpg --print-md groups.
#[test]
fn image_checksums_are_read_in_both_published_layouts() {
    use sha2::{Digest, Sha512};
    let dir = crate::common::scratch("sha512");
    let tgz = dir.join("spark-4.1.2-bin-hadoop3.tgz");
    std::fs::write(&tgz, b"not really a tarball").unwrap();
    let hex: String = Sha512::digest(b"not really a tarball")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let upper = hex.to_uppercase();
    let groups: Vec<&str> = (0..upper.len())
        .step_by(8)
        .map(|i| &upper[i..i + 8])
        .collect();
    let layouts = [
        ("shasum", format!("{hex}  spark-4.1.2-bin-hadoop3.tgz\n")),
        (
            "gpg",
            format!(
                "spark-4.1.2-bin-hadoop3.tgz: {}\n{}\n",
                groups[..8].join(" "),
                groups[8..].join(" ")
            ),
        ),
    ];
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("docker/verify-sha512.sh");
    let verify = |sums: &str| {
        let file = dir.join("sums");
        std::fs::write(&file, sums).unwrap();
        Command::new("bash")
            .arg(&script)
            .arg(&tgz)
            .arg(&file)
            .output()
            .unwrap()
    };
    for (layout, sums) in &layouts {
        let out = verify(sums);
        assert!(out.status.success(), "{layout}: {out:?}");
    }
    let wrong = format!("{}  spark-4.1.2-bin-hadoop3.tgz\n", "0".repeat(128));
    let out = verify(&wrong);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SHA-512 mismatch"));
    let out = verify("no digest here\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no SHA-512 digest"));
    std::fs::remove_dir_all(&dir).ok();
}

/// A driver gets Spark's shared secret in a private copy of the configuration, never in its
/// arguments: on a standalone cluster the driver reads it from its configuration only.
#[test]
fn a_driver_reads_the_shared_secret_from_a_private_configuration() {
    let home = fake_spark_home("secret");
    let submit = home.join("bin/spark-submit");
    std::fs::write(
        &submit,
        "#!/bin/sh\necho \"ARGS $*\"\necho \"MODE $(stat -c %a \"$SPARK_CONF_DIR/spark-defaults.conf\")\"\ncat \"$SPARK_CONF_DIR/spark-defaults.conf\"\n",
    )
    .unwrap();
    sh_chmod(&submit);
    let conf = home.join("conf-from-configmap");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(
        conf.join("spark-defaults.conf"),
        "spark.authenticate true\n",
    )
    .unwrap();
    let tmp = home.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let out = run(
        &home,
        &["submit", "app.py"],
        &[
            ("SPARK_CONF_DIR", conf.to_str().unwrap()),
            ("TMPDIR", tmp.to_str().unwrap()),
            ("_SPARK_AUTH_SECRET", "s3cr3t-value"),
        ],
    );
    let text = stdout(&out);
    assert!(out.status.success(), "{out:?}");
    let args = text.lines().next().unwrap();
    assert!(!args.contains("s3cr3t"), "{args}");
    assert!(text.contains("MODE 600"), "{text}");
    assert!(
        text.contains("spark.authenticate true\nspark.authenticate.secret s3cr3t-value\n"),
        "{text}"
    );
    // The ConfigMap's copy is untouched.
    assert_eq!(
        std::fs::read_to_string(conf.join("spark-defaults.conf")).unwrap(),
        "spark.authenticate true\n"
    );
    // Without a secret, the driver reads the configuration as it is.
    let out = run(
        &home,
        &["submit", "app.py"],
        &[("SPARK_CONF_DIR", conf.to_str().unwrap())],
    );
    assert!(stdout(&out).contains("MODE"), "{out:?}");
    assert!(!stdout(&out).contains("spark.authenticate.secret"));
}

/// `secretConf` properties reach every role through its private configuration, a backslash
/// written as Spark's Properties reader expects, and their variables are gone before Spark
/// starts; a value that would add a line is refused without being shown.
#[test]
fn secret_properties_reach_every_role_through_a_private_configuration() {
    let home = fake_spark_home("secret-conf");
    for tool in ["spark-class", "spark-submit"] {
        let path = home.join("bin").join(tool);
        std::fs::write(
            &path,
            "#!/bin/sh\necho \"VARS ${SPARKUP_SECRET_CONF_0-gone} ${SPARKUP_SECRET_CONF-gone}\"\ncat \"$SPARK_CONF_DIR/spark-defaults.conf\"\n",
        )
        .unwrap();
        sh_chmod(&path);
    }
    let conf = home.join("conf-from-configmap");
    std::fs::create_dir_all(&conf).unwrap();
    std::fs::write(conf.join("spark-defaults.conf"), "spark.master x\n").unwrap();
    let tmp = home.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    let env = |value: &'static str| {
        vec![
            ("SPARK_CONF_DIR", conf.to_str().unwrap().to_string()),
            ("TMPDIR", tmp.to_str().unwrap().to_string()),
            (
                "SPARKUP_SECRET_CONF",
                "spark.a.secret.key spark.b.password".into(),
            ),
            ("SPARKUP_SECRET_CONF_0", value.to_string()),
            ("SPARKUP_SECRET_CONF_1", "pass".into()),
            ("_SPARK_AUTH_SECRET", "shared".into()),
        ]
    };
    let (_master, url) = listening_master();
    for role in [
        &["master"][..],
        &["worker", &url],
        &["history"],
        &["submit", "app.py"],
    ] {
        let vars = env(r"s3\key");
        let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let out = run(&home, role, &vars);
        let text = stdout(&out);
        assert!(out.status.success(), "{role:?}: {out:?}");
        assert!(text.contains("VARS gone gone"), "{role:?}: {text}");
        assert!(
            text.contains("spark.master x\n")
                && text.contains("spark.a.secret.key s3\\\\key\nspark.b.password pass\n"),
            "{role:?}: {text}"
        );
        // Only a driver needs the shared secret in its configuration.
        let driver = role[0] == "submit";
        assert_eq!(
            text.contains("spark.authenticate.secret shared"),
            driver,
            "{text}"
        );
    }
    let vars = env("two\nlines");
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let out = run(&home, &["master"], &vars);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(64), "{out:?}");
    assert!(
        err.contains("spark.a.secret.key: the value from its Secret"),
        "{err}"
    );
    assert!(
        !err.contains("lines") && !stdout(&out).contains("lines"),
        "{err}"
    );
}
