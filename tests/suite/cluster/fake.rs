//! A small in-memory Kubernetes API server: it stores what is applied, lists by label selector,
//! deletes, answers the Spark proxy, and records every request. Failures are injected per method
//! and path.
//!
//! It is a real HTTP/1.1 server on a loopback port with a kubeconfig file pointing at it, so the
//! client under test is the binary's own: `sparkup::kube::connect` reads the kubeconfig and builds
//! kube's client with all its layers (authentication header, timeouts, connection pool, body
//! decoding), exactly as `sparkup apply --kubeconfig FILE` does.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{SinkExt as _, StreamExt as _};
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sparkup::kube::{ApiServer, ConnectOptions};

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
}

/// The Job controller and kubelet stand-in: a Job's pod, its driver's state and log.
#[derive(Default, Clone)]
pub struct Driver {
    /// Pod lists that still show the pod starting (its container waiting).
    pub pending: usize,
    /// A waiting reason and message that never resolves, instead of starting.
    pub stuck: Option<(String, String)>,
    /// Log lines: (RFC 3339 timestamp, text).
    pub log: Vec<(String, String)>,
    /// The first log stream ends after this many lines while the driver still runs.
    pub first_stream: Option<usize>,
    /// The driver runs until its Job is deleted: the last stream stays open.
    pub runs_on: bool,
    pub exit: i32,
    /// Set once the whole log was served: the driver has exited.
    pub exited: bool,
    pub log_requests: usize,
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
    let bytes = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
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
    let response = Response::builder()
        .status(code)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(serde_json::to_vec(&value).unwrap())).boxed())
        .unwrap();
    Ok(response)
}

/// The `portforward` subresource over a WebSocket (`v4.channel.k8s.io`), as the API server and
/// kubelet serve it: channel 0 carries the data and channel 1 errors, each announced by a first
/// frame with the port; behind it, the pod answers one HTTP request with a JSON body naming the
/// pod and port it reached.
fn port_forward(shared: Arc<Mutex<State>>, request: &mut Request<Incoming>) -> Response<Body> {
    use tokio_tungstenite::tungstenite::{Message, handshake::derive_accept_key, protocol::Role};
    let uri = request.uri().clone();
    let pod = uri.path().rsplit('/').nth(1).unwrap_or("").to_string();
    let port: u16 = uri
        .query()
        .and_then(|q| param(q, "ports"))
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    shared.lock().unwrap().seen.push(Seen {
        method: request.method().clone(),
        uri: uri.to_string(),
        body: None,
    });
    let Some(key) = request
        .headers()
        .get(http::header::SEC_WEBSOCKET_KEY)
        .cloned()
    else {
        let (code, value) = status(400, "not a WebSocket upgrade");
        return Response::builder()
            .status(code)
            .body(Full::new(Bytes::from(value.to_string())).boxed())
            .unwrap();
    };
    let upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            TokioIo::new(upgraded),
            Role::Server,
            None,
        )
        .await;
        let [lo, hi] = port.to_le_bytes();
        for channel in [0u8, 1] {
            if ws
                .send(Message::binary(vec![channel, lo, hi]))
                .await
                .is_err()
            {
                return;
            }
        }
        let mut received = Vec::new();
        while let Some(Ok(message)) = ws.next().await {
            let Message::Binary(data) = message else {
                continue;
            };
            if data.first() == Some(&0) {
                received.extend_from_slice(&data[1..]);
            }
            if received.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
        let body = json!({"status": "ALIVE", "pod": pod, "port": port}).to_string();
        let mut answer = vec![0u8];
        answer.extend_from_slice(
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            )
            .as_bytes(),
        );
        let _ = ws.send(Message::binary(answer)).await;
        let _ = ws.close(None).await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(http::header::CONNECTION, "Upgrade")
        .header(http::header::UPGRADE, "websocket")
        .header(
            http::header::SEC_WEBSOCKET_ACCEPT,
            derive_accept_key(key.as_bytes()),
        )
        .header(http::header::SEC_WEBSOCKET_PROTOCOL, "v4.channel.k8s.io")
        .body(Full::new(Bytes::new()).boxed())
        .unwrap()
}

/// A container's log, as the kubelet serves it through the API server: 400 while the
/// container has not started, then its lines with timestamps from `sinceTime` on; the stream
/// stays open while the driver runs on.
fn log(shared: &Mutex<State>, seen: &Seen) -> Response<Body> {
    let (_, query) = seen.uri.split_once('?').unwrap_or((&seen.uri, ""));
    let mut state = shared.lock().unwrap();
    let reply = |code: u16, value: Value| {
        Response::builder()
            .status(code)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(serde_json::to_vec(&value).unwrap())).boxed())
            .unwrap()
    };
    if state.driver.pending > 0 || state.driver.stuck.is_some() {
        let (code, value) = status(
            400,
            "container \"driver\" in pod is waiting to start: ContainerCreating",
        );
        return reply(code.as_u16(), value);
    }
    let since = param(query, "sinceTime").map(percent_decode);
    let driver = &mut state.driver;
    driver.log_requests += 1;
    let mut lines: Vec<&(String, String)> = driver
        .log
        .iter()
        // The kubelet compares times: a line of the same second as `sinceTime` is included.
        .filter(|(at, _)| since.as_ref().is_none_or(|s| at.get(..19) >= s.get(..19)))
        .collect();
    let first = driver.log_requests == 1;
    let mut open = driver.runs_on;
    match driver.first_stream {
        Some(n) if first => {
            lines.truncate(n);
            open = false;
        }
        _ if !driver.runs_on => driver.exited = true,
        _ => {}
    }
    let text: String = lines
        .iter()
        .map(|(at, line)| format!("{at} {line}\n"))
        .collect();
    let chunk = futures::stream::iter([Ok::<_, Infallible>(hyper::body::Frame::data(
        Bytes::from(text),
    ))]);
    let body = match open {
        true => BodyExt::boxed(http_body_util::StreamBody::new(
            chunk.chain(futures::stream::pending()),
        )),
        false => BodyExt::boxed(http_body_util::StreamBody::new(chunk)),
    };
    Response::builder()
        .status(200)
        .header("content-type", "text/plain")
        .body(body)
        .unwrap()
}

/// A JSON merge patch (RFC 7386) of a stored object.
fn merge_patch(shared: &Mutex<State>, seen: &Seen) -> (StatusCode, Value) {
    let (path, _) = seen.uri.split_once('?').unwrap_or((&seen.uri, ""));
    let mut state = shared.lock().unwrap();
    let Some(object) = state.objects.get_mut(path) else {
        return status(404, "not found");
    };
    fn merge(target: &mut Value, patch: &Value) {
        match (target.as_object_mut(), patch.as_object()) {
            (Some(target), Some(patch)) => {
                for (key, value) in patch {
                    match value {
                        Value::Null => {
                            target.remove(key);
                        }
                        _ => merge(target.entry(key.clone()).or_insert(Value::Null), value),
                    }
                }
            }
            _ => *target = patch.clone(),
        }
    }
    merge(object, seen.body.as_ref().unwrap_or(&Value::Null));
    (StatusCode::OK, object.clone())
}

/// The pod the Job controller starts for a new Job, its driver as `driver` says.
fn job_pod(job: &Value, started: usize) -> Value {
    let name = job["metadata"]["name"].as_str().unwrap_or("job");
    let template = &job["spec"]["template"];
    let mut metadata = template["metadata"].clone();
    metadata["name"] = json!(format!("{name}-{started:05}"));
    metadata["creationTimestamp"] = json!(format!("2026-11-22T03:00:{:02}Z", started % 60));
    metadata["labels"]["batch.kubernetes.io/job-name"] = json!(name);
    metadata["labels"]["job-name"] = json!(name);
    json!({"metadata": metadata, "spec": template["spec"], "status": {"phase": "Pending"}})
}

/// The driver container's status as the kubelet would report it now.
fn driver_status(driver: &mut Driver) -> Value {
    if let Some((reason, message)) = &driver.stuck {
        return json!({"phase": "Pending", "containerStatuses": [{"name": "driver",
            "state": {"waiting": {"reason": reason, "message": message}}}]});
    }
    if driver.pending > 0 {
        driver.pending -= 1;
        return json!({"phase": "Pending", "containerStatuses": [{"name": "driver",
            "state": {"waiting": {"reason": "ContainerCreating"}}}]});
    }
    if driver.exited {
        let phase = if driver.exit == 0 {
            "Succeeded"
        } else {
            "Failed"
        };
        return json!({"phase": phase, "containerStatuses": [{"name": "driver",
            "state": {"terminated": {"exitCode": driver.exit}}}]});
    }
    json!({"phase": "Running", "containerStatuses": [{"name": "driver",
        "state": {"running": {"startedAt": "2026-11-22T03:00:00Z"}}}]})
}

fn answer(shared: &Mutex<State>, seen: &Seen) -> (StatusCode, Value) {
    let (path, query) = seen.uri.split_once('?').unwrap_or((&seen.uri, ""));
    let mut state = shared.lock().unwrap();
    if let Some((code, message)) = state.failures.get(&(seen.method.clone(), path.to_string())) {
        return status(*code, message);
    }
    match seen.method {
        Method::GET if path.contains("/proxy/") => match &state.spark {
            Some(json) => (StatusCode::OK, json.clone()),
            None => status(503, "no endpoints available for service"),
        },
        Method::GET if path.ends_with("/pods") => {
            let selector = percent_decode(param(query, "labelSelector").unwrap_or(""));
            if selector.starts_with("batch.kubernetes.io/job-name=") {
                let status = driver_status(&mut state.driver);
                for pod in state.pods.iter_mut().filter(|p| matches(p, &selector)) {
                    pod["status"] = status.clone();
                }
            }
            let items: Vec<&Value> = state
                .pods
                .iter()
                .filter(|p| matches(p, &selector))
                .collect();
            (StatusCode::OK, json!({"items": items}))
        }
        // A pod deleted: a ReplicationController that selects it starts one of its template.
        Method::DELETE if path.contains("/pods/") => {
            let name = path.rsplit('/').next().unwrap_or("");
            let Some(at) = state
                .pods
                .iter()
                .position(|p| p["metadata"]["name"] == name)
            else {
                return status(404, "not found");
            };
            let pod = state.pods.remove(at);
            let controller = state.objects.values().find(|o| {
                o["kind"] == "ReplicationController"
                    && o["spec"]["selector"].as_object().is_some_and(|sel| {
                        sel.iter().all(|(k, v)| pod["metadata"]["labels"][k] == *v)
                    })
            });
            if let Some(rc) = controller.cloned() {
                state.started += 1;
                let template = &rc["spec"]["template"];
                let mut metadata = template["metadata"].clone();
                metadata["name"] = json!(format!(
                    "{}-{}",
                    rc["metadata"]["name"].as_str().unwrap_or("rc"),
                    state.started
                ));
                state
                    .pods
                    .push(json!({"metadata": metadata, "spec": template["spec"],
                        "status": {"conditions": [{"type": "Ready", "status": "True"}]}}));
            }
            (
                StatusCode::OK,
                json!({"kind": "Status", "status": "Success"}),
            )
        }
        Method::GET if path.ends_with("/events") => {
            (StatusCode::OK, json!({"items": state.events}))
        }
        Method::GET if path.ends_with("/endpointslices") => (
            StatusCode::OK,
            json!({"items": [{"endpoints": [{"conditions": {"ready": true}}]}]}),
        ),
        Method::GET if param(query, "labelSelector").is_some() => {
            let selector = percent_decode(param(query, "labelSelector").unwrap_or(""));
            let items: Vec<Value> = state
                .objects
                .iter()
                .filter(|(p, o)| parent_of(p) == path && matches(o, &selector))
                .map(|(_, o)| o.clone())
                .collect();
            (StatusCode::OK, json!({"items": items}))
        }
        Method::GET => match state.objects.get(path) {
            Some(object) => {
                let mut object = with_status(object, state.ready);
                if let Some(old) = state.rollouts.get_mut(path).filter(|old| **old > 0) {
                    let replicas = object["status"]["replicas"].as_i64().unwrap_or(0);
                    object["status"]["replicas"] = json!(replicas + *old);
                    *old -= 1;
                }
                (StatusCode::OK, object)
            }
            None => status(404, "not found"),
        },
        Method::POST => {
            let mut body = seen.body.clone().unwrap_or(Value::Null);
            let name = body
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let at = format!("{path}/{name}");
            if state.objects.contains_key(&at) {
                return status(409, &format!("\"{name}\" already exists"));
            }
            state.created += 1;
            body["metadata"]["uid"] = json!(format!("uid-{}", state.created));
            if body["kind"] == "Job" {
                let pod = job_pod(&body, state.created);
                state.pods.push(pod);
            }
            state.objects.insert(at, body.clone());
            (StatusCode::CREATED, body)
        }
        Method::PATCH => {
            let body = seen.body.clone().unwrap_or(Value::Null);
            let manager = param(query, "fieldManager").unwrap_or("").to_string();
            // Server-side apply: a field another manager set to another value conflicts,
            // unless the apply forces; the applier then owns every field it sent.
            let previous = state.objects.get(path).cloned().unwrap_or(Value::Null);
            let owners = state.owners.entry(path.to_string()).or_default();
            let mut conflicts: Vec<(String, String)> = Vec::new();
            for (field, value) in leaves(&body, String::new()) {
                match owners.get(&field) {
                    Some(owner)
                        if *owner != manager && field_at(&previous, &field) != Some(&value) =>
                    {
                        conflicts.push((owner.clone(), field));
                    }
                    _ => {}
                }
            }
            if !conflicts.is_empty() && !query.contains("force=true") {
                return status(409, &conflict_message(&body, &conflicts));
            }
            let stored = server_fields(body.clone(), state.objects.get(path));
            if !query.contains("dryRun=All") {
                // A new pod template starts a new revision; the old one's pods stay a while.
                if stored["kind"] == "Deployment"
                    && !previous.is_null()
                    && previous["spec"]["template"] != stored["spec"]["template"]
                {
                    let old = previous["spec"]["replicas"].as_i64().unwrap_or(1);
                    state.rollouts.insert(path.to_string(), old);
                }
                let owners = state.owners.entry(path.to_string()).or_default();
                for (field, _) in leaves(&body, String::new()) {
                    owners.insert(field, manager.clone());
                }
                state.objects.insert(path.to_string(), stored.clone());
            }
            (StatusCode::OK, stored)
        }
        Method::DELETE => match state.objects.remove(path) {
            // The Job's pods go with it; a driver that ran on is stopped.
            Some(job) if job["kind"] == "Job" => {
                let name = job["metadata"]["name"].clone();
                state
                    .pods
                    .retain(|p| p["metadata"]["labels"]["batch.kubernetes.io/job-name"] != name);
                (
                    StatusCode::OK,
                    json!({"kind": "Status", "status": "Success"}),
                )
            }
            Some(_) => (
                StatusCode::OK,
                json!({"kind": "Status", "status": "Success"}),
            ),
            None => status(404, "not found"),
        },
        _ => status(405, "method not allowed"),
    }
}

/// Every leaf of an object as (`.a.b`, value); lists are leaves, as atomic lists are in SSA.
fn leaves(value: &Value, path: String) -> Vec<(String, Value)> {
    match value {
        Value::Object(map) if path.is_empty() || !map.is_empty() => map
            .iter()
            .flat_map(|(k, v)| leaves(v, format!("{path}.{k}")))
            .collect(),
        other => vec![(path, other.clone())],
    }
}

fn field_at<'a>(object: &'a Value, field: &str) -> Option<&'a Value> {
    object.pointer(&field.replace('.', "/"))
}

/// The API server's words for a field-manager conflict.
fn conflict_message(body: &Value, conflicts: &[(String, String)]) -> String {
    let api = body["apiVersion"].as_str().unwrap_or("v1");
    match conflicts {
        [(owner, field)] => {
            format!("Apply failed with 1 conflict: conflict with \"{owner}\" using {api}: {field}")
        }
        many => {
            let owner = &many[0].0;
            let fields: Vec<String> = many.iter().map(|(_, f)| format!("- {f}")).collect();
            format!(
                "Apply failed with {} conflicts: conflicts with \"{owner}\" using {api}:\n{}",
                many.len(),
                fields.join("\n")
            )
        }
    }
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

/// What the server makes of an applied object: its defaults filled in (so what is stored is not
/// what was sent), its metadata, and a `generation` that moves only when the spec changes.
fn server_fields(mut object: Value, previous: Option<&Value>) -> Value {
    defaults(&mut object);
    let generation = match previous {
        None => 1,
        Some(previous) => {
            let before = previous["metadata"]["generation"].as_i64().unwrap_or(1);
            before + i64::from(previous["spec"] != object["spec"])
        }
    };
    if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
        metadata.insert("uid".into(), json!("0000-1111"));
        metadata.insert("resourceVersion".into(), json!("42"));
        metadata.insert("generation".into(), json!(generation));
        metadata.insert("creationTimestamp".into(), json!("2026-11-21T00:00:00Z"));
        metadata.insert("managedFields".into(), json!([{"manager": "sparkup"}]));
    }
    object
}

/// A few of the defaults a real API server sets on what sparkup applies.
fn defaults(object: &mut Value) {
    let template = match object["kind"].as_str() {
        Some("Deployment") => {
            object["spec"]["revisionHistoryLimit"] = json!(10);
            object["spec"]["progressDeadlineSeconds"] = json!(600);
            object.pointer_mut("/spec/template/spec")
        }
        Some("ReplicationController") => object.pointer_mut("/spec/template/spec"),
        Some("Service") => {
            object["spec"]["clusterIP"] = json!("10.96.0.42");
            object["spec"]["sessionAffinity"] = json!("None");
            None
        }
        _ => None,
    };
    if let Some(pod) = template {
        pod["restartPolicy"] = json!("Always");
        pod["dnsPolicy"] = json!("ClusterFirst");
        for container in pod["containers"].as_array_mut().into_iter().flatten() {
            container["terminationMessagePath"] = json!("/dev/termination-log");
            container["terminationMessagePolicy"] = json!("File");
        }
    }
}

/// Workloads read back with a status, ready or not.
fn with_status(object: &Value, ready: bool) -> Value {
    let mut object = object.clone();
    if matches!(
        object["kind"].as_str(),
        Some("Deployment" | "ReplicationController")
    ) {
        let want = object
            .pointer("/spec/replicas")
            .and_then(Value::as_i64)
            .unwrap_or(1);
        let have = if ready { want } else { 0 };
        object["status"] = json!({
            "observedGeneration": object["metadata"]["generation"], "replicas": want, "readyReplicas": have,
            "updatedReplicas": have, "availableReplicas": have
        });
    }
    if object["kind"] == "PersistentVolumeClaim" {
        object["status"] = json!({"phase": "Bound"});
    }
    object
}

/// A query parameter's (still encoded) value.
fn param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query
        .split('&')
        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

fn matches(object: &Value, selector: &str) -> bool {
    selector.split(',').all(|term| {
        let (key, value) = term.split_once('=').unwrap_or((term, ""));
        object
            .pointer("/metadata/labels")
            .and_then(|l| l.get(key))
            .and_then(Value::as_str)
            == Some(value)
    })
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
