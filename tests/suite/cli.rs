//! The command line: exit codes, output forms, folders and user templates.

use std::path::{Path, PathBuf};

use crate::common::{assert_rejected, scratch, sparkup, sparkup_in, stdout_of};

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}

#[test]
fn help_is_available_for_every_command_with_examples() {
    for command in [
        "render",
        "compose",
        "values",
        "schema",
        "profiles",
        "apply",
        "diff",
        "status",
        "delete",
        "submit",
        "ui",
        "completions",
    ] {
        let run = sparkup(&[command, "--help"]);
        assert_eq!(run.code, Some(0), "{command}");
        assert!(run.stdout.contains("Example"), "{command}: {}", run.stdout);
    }
    let run = sparkup(&["--help"]);
    assert_eq!(run.code, Some(0));
    assert!(run.stdout.contains("render"));
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(sparkup(&["frobnicate"]).code, Some(2));
    assert_eq!(sparkup(&["render", "-o", "toml"]).code, Some(2));
    assert_rejected(&sparkup(&["render", "--profile", "nope"]));
    assert_rejected(&sparkup(&["render", "-f", "does-not-exist.yaml"]));
}

#[test]
fn profiles_lists_one_name_per_line() {
    let run = sparkup(&["profiles"]);
    assert_eq!(run.code, Some(0));
    assert_eq!(run.stdout, "default\ndev\nprod\n");
}

#[test]
fn render_is_byte_for_byte_deterministic() {
    let args = ["render", "--profile", "prod", "--set", "labels.team=data"];
    let first = sparkup(&args);
    assert_eq!(first.code, Some(0), "{}", first.stderr);
    for _ in 0..3 {
        assert_eq!(sparkup(&args).stdout, first.stdout);
    }
}

#[test]
fn json_output_is_a_list_of_the_same_objects() {
    let yaml = sparkup(&["render", "--profile", "prod"]);
    let json = sparkup(&["render", "--profile", "prod", "-o", "json"]);
    assert_eq!(json.code, Some(0), "{}", json.stderr);
    let list: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(list["kind"], "List");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), yaml.stdout.matches("\n---\n").count() + 1);
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "ConfigMap",
            "PersistentVolumeClaim",
            "PersistentVolumeClaim",
            "Service",
            "Service",
            "Deployment",
            "Deployment",
            "Deployment",
            "PodDisruptionBudget",
            "NetworkPolicy",
            "NetworkPolicy"
        ]
    );
}

#[test]
fn values_come_from_stdin_and_set_wins_over_files() {
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let run = sparkup_in(
        here,
        &[
            "values",
            "-o",
            "json",
            "-f",
            "-",
            "--set",
            "workers.replicas=9",
        ],
        b"workers:\n  replicas: 3\n  kind: ReplicationController\n",
    );
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let values: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(values["workers"]["replicas"], 9);
    assert_eq!(values["workers"]["kind"], "ReplicationController");
}

#[test]
fn replication_controllers_render_when_asked() {
    let run = sparkup(&[
        "render",
        "--set",
        "master.kind=ReplicationController",
        "--set",
        "workers.kind=ReplicationController",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(run.stdout.matches("kind: ReplicationController").count(), 2);
    assert!(!run.stdout.contains("kind: Deployment"));
}

#[test]
fn output_dir_holds_one_file_per_object_and_a_kustomization() {
    let dir = scratch("outdir");
    let out = dir.join("manifests");
    let out_str = out.to_str().unwrap();
    let run = sparkup(&["render", "--profile", "prod", "--output-dir", out_str]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert_eq!(
        files_in(&out),
        [
            "01-configmap-spark-config.yaml",
            "02-persistentvolumeclaim-spark-code.yaml",
            "03-persistentvolumeclaim-spark-data.yaml",
            "04-service-spark-master.yaml",
            "05-service-spark-history.yaml",
            "06-deployment-spark-master.yaml",
            "07-deployment-spark-worker.yaml",
            "08-deployment-spark-history.yaml",
            "09-poddisruptionbudget-spark-worker.yaml",
            "10-networkpolicy-spark-internal.yaml",
            "11-networkpolicy-spark-ui.yaml",
            "kustomization.yaml",
        ]
    );
    let kustomization = std::fs::read_to_string(out.join("kustomization.yaml")).unwrap();
    assert!(kustomization.contains("  - 07-deployment-spark-worker.yaml\n"));

    // A second render replaces the first: objects no longer rendered leave the folder.
    let run = sparkup(&["render", "--profile", "dev", "--output-dir", out_str]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(files_in(&out).len(), 5, "{:?}", files_in(&out));
    assert!(
        !files_in(&out)
            .iter()
            .any(|f| f.contains("persistentvolumeclaim"))
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn output_dir_refuses_a_folder_it_did_not_write() {
    let dir = scratch("foreign");
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let run = sparkup(&["render", "--output-dir", dir.to_str().unwrap()]);
    assert_rejected(&run);
    assert!(
        run.stderr.contains("not written by sparkup"),
        "{}",
        run.stderr
    );
    assert_eq!(files_in(&dir), ["notes.txt"]);
    std::fs::remove_dir_all(&dir).ok();
}

/// A file put beside a previous render would be applied with it by `kubectl apply -f DIR`:
/// the render is refused, and nothing in the folder changes.
#[test]
fn output_dir_refuses_a_previous_render_with_a_file_added() {
    let dir = scratch("added");
    let out = dir.to_str().unwrap();
    let run = sparkup(&["render", "--profile", "dev", "--output-dir", out]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    std::fs::write(dir.join("zz-extra.yaml"), "kind: Secret\n").unwrap();
    let before = files_in(&dir);
    let run = sparkup(&["render", "--profile", "prod", "--output-dir", out]);
    assert_rejected(&run);
    assert!(
        run.stderr
            .contains("files sparkup did not write (zz-extra.yaml)"),
        "{}",
        run.stderr
    );
    assert_eq!(files_in(&dir), before);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn broken_pipe_is_not_an_error() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_sparkup"))
        .args(["render", "--profile", "prod"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    assert_eq!(out.status.code(), Some(0));
}

/// A user's template folder: replaces built-ins of the same name, adds the others.
fn templates(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = scratch(name);
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

const SECRET_TEMPLATE: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ name ~ \"-auth\" }}\n\
                               type: Opaque\nstringData:\n  token: s3cr3t-t0ken\n";

/// `render` output is meant to be applied: a masked Secret would be applied as `***`.
#[test]
fn user_templates_add_objects_and_render_writes_secrets_exactly() {
    let dir = templates("secret", &[("auth.yaml", SECRET_TEMPLATE)]);
    let dir_str = dir.to_str().unwrap();
    let run = sparkup(&["render", "--templates", dir_str]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("name: spark-auth"));
    assert!(run.stdout.contains("token: s3cr3t-t0ken"), "{}", run.stdout);
    assert!(!run.stdout.contains("***"), "{}", run.stdout);
    // Secrets come before the workloads that read them.
    assert!(run.stdout.find("kind: Secret") < run.stdout.find("kind: Deployment"));

    let out = dir.join("out");
    let run = sparkup(&[
        "render",
        "--templates",
        dir_str,
        "--output-dir",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let secret = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("-secret-"))
        .expect("a Secret file");
    assert!(
        std::fs::read_to_string(secret)
            .unwrap()
            .contains("s3cr3t-t0ken")
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// A template may not render a cluster-scoped object: prune or delete would otherwise remove a
/// Namespace with every claim and foreign object in it.
#[test]
fn templates_that_render_cluster_scoped_objects_are_rejected() {
    let namespace = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: spark\n";
    let role = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: x\nrules: []\n";
    for (kind, text) in [("Namespace", namespace), ("ClusterRole", role)] {
        let dir = templates(&format!("scope-{kind}"), &[("extra.yaml", text)]);
        let run = sparkup(&["render", "--templates", dir.to_str().unwrap()]);
        assert_rejected(&run);
        assert!(
            run.stderr.contains(&format!("{kind} is cluster-scoped")),
            "{}",
            run.stderr
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn broken_user_templates_name_the_template_or_object() {
    let cases = [
        (
            "config.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ nmae }}\n",
            "template config.yaml",
        ),
        (
            "config.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndatta: {}\n",
            "ConfigMap/x",
        ),
        (
            "config.yaml",
            "apiVersion: v1\nkind: Widget\nmetadata:\n  name: x\n",
            "not a kind sparkup manages",
        ),
        (
            "config.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: other\n",
            "expected the cluster's namespace",
        ),
        (
            "extra.yaml",
            "{% for i in range(10000) %}{% for j in range(10000) %}{% endfor %}{% endfor %}",
            "template extra.yaml",
        ),
        (
            "extra.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: spark-master\n",
            "rendered twice",
        ),
        (
            "extra.yaml",
            "{{ 'x' | nosuchfilter }}",
            "template extra.yaml",
        ),
        ("extra.yaml", "a: [1, 2\n", "not valid YAML"),
    ];
    for (i, (file, text, expected)) in cases.iter().enumerate() {
        let dir = templates(&format!("broken{i}"), &[(file, text)]);
        let run = sparkup(&["render", "--templates", dir.to_str().unwrap()]);
        assert_rejected(&run);
        assert!(run.stderr.contains(expected), "case {i}: {}", run.stderr);
        std::fs::remove_dir_all(&dir).ok();
    }
}

#[test]
fn compose_writes_a_file_and_warns_about_what_it_cannot_carry() {
    let dir = scratch("compose");
    let file = dir.join("compose.yaml");
    let run = sparkup(&[
        "compose",
        "--set",
        "envFrom[0].secret=creds",
        "-o",
        file.to_str().unwrap(),
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.starts_with("warning: envFrom"), "{}", run.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("spark-worker-2:"));
    let doc: Vec<serde_json::Value> = serde_saphyr::from_multiple(&text).unwrap();
    for (name, service) in doc[0]["services"].as_object().unwrap() {
        let environment = service["environment"].to_string();
        assert!(
            !environment.contains("POD_IP"),
            "compose has no downward API: {name}: {environment}"
        );
    }
    // Bad values stop compose as they stop render.
    assert_rejected(&sparkup(&["compose", "--set", "workers.replicas=x"]));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn compose_carries_pod_values_it_can_and_names_each_one_it_cannot() {
    let run = sparkup(&["compose", "-f", "tests/suite/fixtures/valid/pods.yaml"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    // Carried: host aliases, DNS options, an emptyDir mount, a role's variables.
    let doc: serde_json::Value = serde_saphyr::from_str(&run.stdout).unwrap();
    let worker = &doc["services"]["spark-worker-1"];
    assert_eq!(worker["extra_hosts"][0], "metastore.internal:10.1.2.3");
    assert_eq!(worker["dns_opt"][0], "ndots:2");
    assert_eq!(worker["expose"][0], "9404/tcp");
    assert!(worker["volumes"].to_string().contains("/opt/extra-jars"));
    assert_eq!(worker["environment"]["TZ"], "UTC");
    assert_eq!(
        doc["services"]["spark-job-etl"]["environment"]["STAGE"],
        "nightly"
    );
    // Left out, each named at the layer that set it, once.
    for expected in [
        "warning: pod.sidecars: docker-compose has no sidecar containers",
        "warning: workers.pod.initContainers: docker-compose has no init containers",
        "warning: master.pod.priorityClassName: docker-compose has no priority classes",
        "warning: jobs.etl.pod.priorityClassName: docker-compose has no priority classes",
        "warning: drivers.pod.serviceAccountName: docker-compose has no service accounts",
        "warning: workers.pod.extraVolumes[0]: the volume \"site-ca\" is a Kubernetes object",
    ] {
        assert_eq!(
            run.stderr.matches(expected).count(),
            1,
            "{expected}\n{}",
            run.stderr
        );
    }
}

/// A kubeconfig for a server on a loopback port nothing listens on.
fn unreachable_kubeconfig(dir: &Path) -> PathBuf {
    let file = dir.join("kubeconfig");
    std::fs::write(
        &file,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: local\n  cluster:\n    server: http://127.0.0.1:9\n\
         contexts:\n- name: test\n  context: {cluster: local, user: u}\ncurrent-context: test\n\
         users:\n- name: u\n  user: {token: t}\n",
    )
    .unwrap();
    file
}

#[test]
fn cluster_commands_reject_bad_values_before_connecting() {
    let dir = scratch("badvalues");
    let kubeconfig = unreachable_kubeconfig(&dir);
    for command in ["apply", "diff", "status", "delete"] {
        let run = sparkup(&[
            command,
            "--kubeconfig",
            kubeconfig.to_str().unwrap(),
            "--set",
            "workers.replicas=x",
        ]);
        assert_rejected(&run);
        assert!(
            run.stderr.contains("workers.replicas"),
            "{command}: {}",
            run.stderr
        );
    }
    let run = sparkup(&[
        "apply",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "-n",
        "Bad_NS",
    ]);
    assert_rejected(&run);
    assert!(
        run.stderr
            .starts_with("error: namespace: invalid value \"Bad_NS\""),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn cluster_commands_name_the_server_and_context_they_cannot_reach() {
    let dir = scratch("unreachable");
    let kubeconfig = unreachable_kubeconfig(&dir);
    let kubeconfig = kubeconfig.to_str().unwrap();
    for command in ["apply", "diff", "status", "delete"] {
        let run = sparkup(&[command, "--kubeconfig", kubeconfig]);
        assert_rejected(&run);
        assert!(
            run.stderr.starts_with(
                "error: cannot reach the Kubernetes API server http://127.0.0.1:9/ (context test): "
            ),
            "{command}: {}",
            run.stderr
        );
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    }
    let run = sparkup(&["diff", "--kubeconfig", kubeconfig, "--context", "nope"]);
    assert_rejected(&run);
    assert!(run.stderr.contains("nope"), "{}", run.stderr);
    let run = sparkup(&["apply", "--kubeconfig", kubeconfig, "--timeout", "soon"]);
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    std::fs::remove_dir_all(&dir).ok();
}

/// Compose replaces `$VAR` in every value: a `$` a user wrote must arrive as written.
#[test]
fn compose_escapes_every_dollar_and_publishes_on_loopback() {
    let run = sparkup(&["compose", "--set", "env.PRICE=a$b ${c}"]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let doc: Vec<serde_json::Value> = serde_saphyr::from_multiple(&run.stdout).unwrap();
    let services = doc[0]["services"].as_object().unwrap();
    for (name, service) in services {
        assert_eq!(service["environment"]["PRICE"], "a$$b $${c}", "{name}");
        for port in service["ports"].as_array().unwrap() {
            assert!(
                port.as_str().unwrap().starts_with("127.0.0.1:"),
                "{name}: {port}"
            );
        }
    }
    let launcher = doc[0]["configs"]["sparkup.sh"]["content"].as_str().unwrap();
    assert!(
        !launcher.replace("$$", "").contains('$'),
        "an unescaped $ in the launcher"
    );
    let open = sparkup(&["compose", "--set", "compose.publishAddress=0.0.0.0"]);
    assert!(
        open.stdout.contains("- 0.0.0.0:8080:8080"),
        "{}",
        open.stdout
    );
    assert_rejected(&sparkup(&[
        "compose",
        "--set",
        "compose.publishAddress=everywhere",
    ]));
}

#[test]
fn compose_moves_colliding_ports_and_says_which() {
    let run = sparkup(&[
        "compose",
        "--set",
        "workers.replicas=3",
        "--set",
        "master.ports.http=8082",
    ]);
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert_eq!(
        run.stderr,
        "warning: spark-worker-2: host port 8082 is already published for spark-master: \
         published on 8083 instead\nwarning: spark-worker-3: host port 8083 is already published \
         for spark-worker-2: published on 8084 instead\n"
    );
    let doc: Vec<serde_json::Value> = serde_saphyr::from_multiple(&run.stdout).unwrap();
    let mut published = std::collections::BTreeSet::new();
    for service in doc[0]["services"].as_object().unwrap().values() {
        for port in service["ports"].as_array().unwrap() {
            let host = port
                .as_str()
                .unwrap()
                .split(':')
                .nth(1)
                .unwrap()
                .to_string();
            assert!(published.insert(host.clone()), "{host} published twice");
        }
    }
}

/// A loopback HTTP server answering every request from `answer(method, path)`, one request per
/// connection; it counts requests per path and stops when dropped.
struct CannedServer {
    port: u16,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl CannedServer {
    fn start(answer: fn(&str, &str) -> (u16, String)) -> CannedServer {
        use std::io::{BufRead, BufReader, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (seen2, stop2) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                let mut parts = line.split_whitespace();
                let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
                let path = target.split('?').next().unwrap_or("");
                seen2.lock().unwrap().push(format!("{method} {path}"));
                let (code, body) = answer(method, path);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {code} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        CannedServer {
            port,
            seen,
            stop,
            thread: Some(thread),
        }
    }

    fn kubeconfig(&self, dir: &Path) -> PathBuf {
        let file = dir.join("kubeconfig");
        let server = format!("http://127.0.0.1:{}", self.port);
        crate::common::write_kubeconfig(&file, &server, "test", "t");
        file
    }
}

impl Drop for CannedServer {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn api_status(code: u16, reason: &str, message: &str) -> (u16, String) {
    let body = serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
        "message": message, "reason": reason, "code": code});
    (code, body.to_string())
}

/// Through the binary's own client stack: the service proxy's 503 while no master pod is ready
/// is asked once, and status reports it and exits 1 instead of retrying until its timeout.
#[test]
fn status_of_a_master_without_ready_endpoints_says_so_at_once() {
    let server = CannedServer::start(|method, path| match (method, path) {
        (_, p) if p.contains("/proxy/") => api_status(
            503,
            "ServiceUnavailable",
            "no endpoints available for service \"spark-master\"",
        ),
        ("GET", p) if p.ends_with("/endpointslices") => (200, r#"{"items": []}"#.into()),
        _ => api_status(404, "NotFound", "not found"),
    });
    let dir = scratch("noendpoints");
    let kubeconfig = server.kubeconfig(&dir);
    let run = sparkup(&["status", "--kubeconfig", kubeconfig.to_str().unwrap()]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout
            .contains("master not reachable: no endpoints available for service \"spark-master\""),
        "{}",
        run.stdout
    );
    let proxied = server
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("/proxy/"))
        .count();
    assert_eq!(proxied, 1, "the proxy's 503 was retried");
    drop(server);
    std::fs::remove_dir_all(&dir).ok();
}

/// The bash completion script loads in bash and completes commands and flags; the others are
/// generated for every shell clap_complete knows.
#[test]
fn shell_completions_complete_commands_and_flags() {
    let script = sparkup(&["completions", "bash"]);
    assert_eq!(script.code, Some(0), "{}", script.stderr);
    let dir = scratch("completions");
    let file = dir.join("sparkup.bash");
    std::fs::write(&file, &script.stdout).unwrap();
    let complete = |words: &str| {
        let program = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _sparkup sparkup \"${{COMP_WORDS[-1]}}\" \"${{COMP_WORDS[-2]}}\"; \
             echo \"${{COMPREPLY[@]}}\"",
            file.display()
        );
        stdout_of(std::process::Command::new("bash").args(["-c", &program]))
    };
    assert_eq!(complete("sparkup su").trim(), "submit");
    let flags = complete("sparkup apply --for");
    assert!(flags.contains("--force-conflicts"), "{flags}");
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let run = sparkup(&["completions", shell]);
        assert_eq!(run.code, Some(0), "{shell}: {}", run.stderr);
        assert!(run.stdout.contains("request-timeout"), "{shell}");
    }
    assert_eq!(sparkup(&["completions", "tcsh"]).code, Some(2));
    std::fs::remove_dir_all(&dir).ok();
}
