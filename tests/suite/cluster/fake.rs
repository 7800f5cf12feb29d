//! A small in-memory Kubernetes API server: it stores what is applied, lists by label selector,
//! deletes, answers the Spark proxy, and records every request. Failures are injected per method
//! and path.
//!
//! It is a real HTTP/1.1 server on a loopback port with a kubeconfig file pointing at it, so the
//! client under test is the binary's own: `sparkup::kube::connect` reads the kubeconfig and builds
//! kube's client with all its layers (authentication header, timeouts, connection pool, body
//! decoding), exactly as `sparkup apply --kubeconfig FILE` does.
//!
//! | module | what it stands in for |
//! | --- | --- |
//! | this one | the handle a test holds, the recorded state, the HTTP server and its routing |
//! | `store` | the object store: server-side apply with field managers and conflicts, defaulting, merge patches, lists by label selector, deletes |
//! | `kubelet` | the Job controller and the kubelet: a Job's pod, its driver's states and log |
//! | `portforward` | the `portforward` subresource over a WebSocket |

mod kubelet;
mod portforward;
mod store;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sparkup::kube::{ApiServer, ConnectOptions};

pub use kubelet::Driver;
use kubelet::log;
use portforward::port_forward;
use store::{answer, merge_patch};

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    /// Path and query.
    pub uri: String,
    pub body: Option<Value>,
}

impl Seen {
    pub fn line(&self) -> String {
        format!("{} {}", self.method, self.uri)
    }
}

#[derive(Default)]
pub struct State {
    /// Objects by path.
    pub objects: BTreeMap<String, Value>,
    pub seen: Vec<Seen>,
    /// (method, path) -> (status code, message): answered instead of the normal handling.
    pub failures: BTreeMap<(Method, String), (u16, String)>,
    /// What the Spark master's /json/ says through the service proxy.
    pub spark: Option<Value>,
    /// Whether workloads report every replica ready.
    pub ready: bool,
    /// Pods listed for a workload's selector.
    pub pods: Vec<Value>,
    pub events: Vec<Value>,
    /// Requests go unanswered (for timeouts).
    pub silent: bool,
    /// Pods the ReplicationController stand-in started.
    pub started: usize,
    /// Deployments mid-rollout: path -> pods of the previous revision still running. Each read
    /// of the Deployment is one controller step: one old pod goes.
    pub rollouts: BTreeMap<String, i64>,
    /// Field ownership per object path: field (`.spec.replicas`) -> field manager.
    pub owners: BTreeMap<String, BTreeMap<String, String>>,
    /// How the driver of a created Job behaves.
    pub driver: Driver,
    /// Objects created so far, for uids.
    pub created: usize,
    /// The kubelet's logs of pods' containers: `pod/container` -> lines (RFC 3339 time, text).
    pub logs: BTreeMap<String, Vec<(String, String)>>,
    /// The logs of their instances before the last restart.
    pub previous_logs: BTreeMap<String, Vec<(String, String)>>,
    /// Containers (`pod/container`) that run on: a followed log stays open.
    pub running_on: std::collections::BTreeSet<String>,
    /// The Job controller's verdict on a dependency resolver Job: failed for good, or complete.
    pub resolution_fails: bool,
}

/// The fake's state and its HTTP server; the server stops when the last clone is dropped.
#[derive(Clone)]
pub struct Fake {
    shared: Arc<Mutex<State>>,
    server: Arc<Server>,
}

impl Fake {
    pub fn new() -> Fake {
        let shared = Arc::new(Mutex::new(State {
            ready: true,
            ..State::default()
        }));
        let server = Arc::new(Server::start(shared.clone()));
        Fake { shared, server }
    }

    pub fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.shared.lock().unwrap()
    }

    pub fn with_namespace(self, ns: &str) -> Fake {
        self.state().objects.insert(
            format!("/api/v1/namespaces/{ns}"),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}),
        );
        self
    }

    pub fn fail(&self, method: Method, path: &str, code: u16, message: &str) {
        self.state()
            .failures
            .insert((method, path.to_string()), (code, message.to_string()));
    }

    /// Another field manager sets `field` (`.spec.replicas`) of the object at `path`, as
    /// `kubectl scale` or `kubectl edit` would.
    pub fn set_as(&self, manager: &str, path: &str, field: &str, value: Value) {
        let mut state = self.state();
        let mut slot = state.objects.get_mut(path).expect("an applied object");
        for key in field.trim_start_matches('.').split('.') {
            slot = &mut slot[key];
        }
        *slot = value;
        state
            .owners
            .entry(path.to_string())
            .or_default()
            .insert(field.to_string(), manager.to_string());
    }

    pub fn lines(&self) -> Vec<String> {
        self.state().seen.iter().map(Seen::line).collect()
    }

    pub fn clear_seen(&self) {
        self.state().seen.clear();
    }

    /// The kubeconfig that points at this server (context `fake`).
    pub fn kubeconfig(&self) -> PathBuf {
        self.server.kubeconfig.clone()
    }

    /// The server's address, as the kubeconfig has it.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.server.port)
    }

    /// A client connected the way the binary connects: through the kubeconfig.
    pub async fn api(&self) -> ApiServer {
        self.api_with_timeout(sparkup::kube::REQUEST_TIMEOUT).await
    }

    pub async fn api_with_timeout(&self, request_timeout: Duration) -> ApiServer {
        let options = ConnectOptions {
            kubeconfig: Some(self.kubeconfig()),
            context: None,
            request_timeout,
        };
        sparkup::kube::connect(&options)
            .await
            .expect("the fake's kubeconfig loads")
    }
}

/// The HTTP side: a thread with its own runtime, so the server runs whatever the test's runtime
/// does (a test's clock may be paused).
struct Server {
    port: u16,
    kubeconfig: PathBuf,
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Server {
    fn start(shared: Arc<Mutex<State>>) -> Server {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let kubeconfig = std::env::temp_dir().join(format!(
            "sparkup-fake-{}-{port}.kubeconfig",
            std::process::id()
        ));
        let server = format!("http://127.0.0.1:{port}");
        crate::common::write_kubeconfig(&kubeconfig, &server, "fake", "fake-token");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(serve(listener, shared, stopped));
        });
        Server {
            port,
            kubeconfig,
            stop: Mutex::new(Some(stop)),
            thread: Mutex::new(Some(thread)),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.lock().unwrap().take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.lock().unwrap().take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_file(&self.kubeconfig);
    }
}

/// Accepts connections until told to stop; open connections end with the runtime.
async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Mutex<State>>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = tokio::net::TcpListener::from_std(listener).unwrap();
    loop {
        let stream = tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(_) => continue,
            },
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service =
                hyper::service::service_fn(move |request| handle(shared.clone(), request));
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}

type Body = http_body_util::combinators::BoxBody<Bytes, Infallible>;

async fn handle(
    shared: Arc<Mutex<State>>,
    mut request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    if request.uri().path().ends_with("/portforward") {
        return Ok(port_forward(shared, &mut request));
    }
    let (parts, body) = request.into_parts();
    let mut bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let apply = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v == "application/apply-patch+yaml");
    if apply {
        match as_yaml_reads_it(&bytes) {
            Ok(read) => bytes = read,
            Err(message) => return Ok(reply(status(400, &message))),
        }
    }
    let seen = Seen {
        method: parts.method.clone(),
        uri: parts
            .uri
            .path_and_query()
            .map(|p| p.to_string())
            .unwrap_or_default(),
        body: serde_json::from_slice(&bytes).ok(),
    };
    let authorized = parts
        .headers
        .get(http::header::AUTHORIZATION)
        .is_some_and(|v| v == "Bearer fake-token");
    if shared.lock().unwrap().silent {
        std::future::pending::<()>().await;
    }
    let merge = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|v| v == "application/merge-patch+json");
    if authorized && seen.uri.contains("/log?") {
        let reply = log(&shared, &seen);
        shared.lock().unwrap().seen.push(seen);
        return Ok(reply);
    }
    let (code, value) = match (authorized, merge) {
        (false, _) => status(401, "Unauthorized"),
        (true, true) => merge_patch(&shared, &seen),
        (true, false) => answer(&shared, &seen),
    };
    shared.lock().unwrap().seen.push(seen);
    Ok(reply((code, value)))
}

fn reply((code, value): (StatusCode, Value)) -> Response<Body> {
    Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(serde_json::to_vec(&value).unwrap())).boxed())
        .unwrap()
}

/// A server-side apply body as the API server reads it, as YAML: a raw DEL or C1 control
/// character is an error, a raw U+0085, U+2028 or U+2029 a line break, which a JSON string
/// folds into a space (seen on kube-apiserver v1.36).
fn as_yaml_reads_it(bytes: &Bytes) -> Result<Bytes, String> {
    let text = String::from_utf8_lossy(bytes);
    if text.contains(|c| matches!(c, '\u{7f}'..='\u{84}' | '\u{86}'..='\u{9f}')) {
        return Err(
            "error decoding YAML: error converting YAML to JSON: yaml: control characters are \
             not allowed"
                .into(),
        );
    }
    let folded = text.replace(['\u{85}', '\u{2028}', '\u{2029}'], " ");
    Ok(Bytes::from(folded))
}

fn status(code: u16, message: &str) -> (StatusCode, Value) {
    let reason = match code {
        400 => "BadRequest",
        401 => "Unauthorized",
        404 => "NotFound",
        409 if message.contains("already exists") => "AlreadyExists",
        409 => "Conflict",
        403 => "Forbidden",
        422 => "Invalid",
        _ => "InternalError",
    };
    (
        StatusCode::from_u16(code).unwrap(),
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message, "reason": reason, "code": code}),
    )
}

/// A query parameter's (still encoded) value.
fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%' && i + 2 < bytes.len())
            .then(|| u8::from_str_radix(&s[i + 1..i + 3], 16).ok())
            .flatten();
        match escaped {
            Some(b) => {
                out.push(b);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}
