//! The requests sparkup sends to the Kubernetes API server, and what their failures mean.
//!
//! Every kind sparkup handles is typed in the kind table, so paths are built without API
//! discovery: one request per object and operation. kube's client does authentication, TLS and
//! the kubeconfig; this module builds exact requests, so tests can assert each one, and turns
//! error statuses into messages that name the object, the server and what to do.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::{Method, Request, header};
use serde_json::Value;

use crate::error::error_chain;
use crate::json::str_at;
use crate::render::Object;
use crate::render::kinds::{KindInfo, object_id};
use crate::render::labels::MANAGER;

/// How long one request may take before the server is reported as not answering.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests in flight at once when objects are read or dry-run applied one by one.
pub(crate) const CONCURRENCY: usize = 4;

/// Which API server, for messages.
#[derive(Debug, Clone, Default)]
pub struct Target {
    pub server: String,
    pub context: Option<String>,
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}", self.server)?;
        if let Some(context) = &self.context {
            write!(f, " (context {context})")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// The kubeconfig or in-cluster configuration could not be loaded.
    #[error("cannot load the Kubernetes configuration: {0}")]
    Config(String),
    /// No answer: connection refused, DNS, TLS, or a proxy in the way.
    #[error("cannot reach the Kubernetes API server {target}: {detail}")]
    Unreachable { target: Target, detail: String },
    /// The server did not answer within the request timeout (30 s).
    #[error("the Kubernetes API server {target} did not answer within {}s ({action})", REQUEST_TIMEOUT.as_secs())]
    Timeout { target: Target, action: String },
    /// Fields of the object are owned by another field manager; `--force-conflicts` takes them.
    #[error(
        "cannot apply {object}: fields owned by another manager:\n{}\nrun with --force-conflicts to take them over",
        conflicts.iter().map(|c| format!("  {c}")).collect::<Vec<_>>().join("\n")
    )]
    Conflict {
        object: String,
        conflicts: Vec<String>,
    },
    /// Any other error status from the API server.
    #[error("cannot {action}: {code} {reason}: {message}{}", hint(*.code))]
    Api {
        action: String,
        code: u16,
        reason: String,
        message: String,
    },
    /// A workload cannot start, and waiting will not change that (a crash loop, an image that
    /// cannot be pulled).
    #[error("{0}")]
    NotReady(String),
    /// The wait ran out of time: the objects were applied, Spark was not up yet.
    #[error("{0}")]
    TimedOut(String),
}

fn hint(code: u16) -> &'static str {
    match code {
        401 => " (the credentials in the kubeconfig were refused)",
        403 => " (the user lacks RBAC permission for this)",
        422 => " (the API server rejected the object as invalid)",
        500..=599 => " (the API server failed; try again)",
        _ => "",
    }
}

impl KubeError {
    /// The HTTP status, for an error status from the server.
    pub fn code(&self) -> Option<u16> {
        match self {
            KubeError::Api { code, .. } => Some(*code),
            KubeError::Conflict { .. } => Some(409),
            _ => None,
        }
    }
}

/// How an object is applied.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ApplyMode {
    /// `dryRun=All`: the server computes the result and stores nothing.
    pub(crate) dry_run: bool,
    /// `force=true`: take over fields owned by other managers.
    pub(crate) force: bool,
}

/// A connection to one Kubernetes API server: kube's client (authentication, TLS, the
/// kubeconfig) and the exact requests sparkup sends through it.
pub struct ApiServer {
    client: kube::Client,
    target: Target,
    requests: AtomicUsize,
}

impl ApiServer {
    pub fn new(client: kube::Client, target: Target) -> ApiServer {
        ApiServer {
            client,
            target,
            requests: AtomicUsize::new(0),
        }
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// How many requests were sent so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// The REST path of a kind, optionally of one namespace and one object.
    pub(crate) fn path(
        &self,
        kind: &KindInfo,
        namespace: Option<&str>,
        name: Option<&str>,
    ) -> String {
        let version = kind
            .api_version
            .rsplit('/')
            .next()
            .unwrap_or(kind.api_version);
        let mut path = if kind.group.is_empty() {
            format!("/api/{version}")
        } else {
            format!("/apis/{}/{version}", kind.group)
        };
        if let Some(ns) = namespace {
            path.push_str(&format!("/namespaces/{ns}"));
        }
        path.push('/');
        path.push_str(kind.plural);
        if let Some(name) = name {
            path.push('/');
            path.push_str(name);
        }
        path
    }

    /// The REST path of one rendered object.
    pub(crate) fn object_path(&self, object: &Object) -> String {
        self.path(object.kind_info(), object.namespace(), Some(&object.name))
    }

    /// Sends a request; an API server that is briefly overloaded or unavailable (429, 503, 504)
    /// is asked again a few times, 100 ms, 200 ms, then 400 ms later. The service proxy's 503
    /// (no ready endpoint behind the Service) is an answer, not an overload: it is never retried.
    async fn send(&self, request: Request<Vec<u8>>, action: &str) -> Result<Value, KubeError> {
        const RETRIES: u32 = 3;
        let proxied = request.uri().path().contains("/proxy");
        let mut attempt = 0;
        loop {
            match self.send_once(clone_request(&request), action).await {
                Err(e)
                    if !proxied
                        && attempt < RETRIES
                        && matches!(e.code(), Some(429 | 503 | 504)) =>
                {
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn send_once(&self, request: Request<Vec<u8>>, action: &str) -> Result<Value, KubeError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        let response = tokio::time::timeout(REQUEST_TIMEOUT, self.client.request_text(request))
            .await
            .map_err(|_| KubeError::Timeout {
                target: self.target.clone(),
                action: action.to_string(),
            })?;
        let text = response.map_err(|e| self.error(e, action))?;
        if text.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&text).map_err(|e| KubeError::Api {
            action: action.to_string(),
            code: 200,
            reason: "BadResponse".into(),
            message: format!("the answer is not JSON: {e}"),
        })
    }

    fn error(&self, error: kube::Error, action: &str) -> KubeError {
        match error {
            kube::Error::Api(status) => KubeError::Api {
                action: action.to_string(),
                code: status.code,
                reason: status.reason.clone(),
                message: status.message.clone(),
            },
            other => KubeError::Unreachable {
                target: self.target.clone(),
                detail: error_chain(&other),
            },
        }
    }

    /// GET; `None` when the object does not exist.
    pub(crate) async fn get(&self, path: &str, action: &str) -> Result<Option<Value>, KubeError> {
        let request = Request::get(path).body(Vec::new()).expect("valid request");
        match self.send(request, action).await {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.code() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the namespace exists: a missing one holds nothing yet.
    pub(crate) async fn namespace_exists(&self, namespace: &str) -> Result<bool, KubeError> {
        let path = format!("/api/v1/namespaces/{namespace}");
        Ok(self.get(&path, "get the namespace").await?.is_some())
    }

    /// POST a new object to a collection path.
    pub(crate) async fn create(
        &self,
        path: &str,
        body: &Value,
        action: &str,
    ) -> Result<Value, KubeError> {
        let request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(serde_json::to_vec(body).expect("JSON"))
            .expect("valid request");
        self.send(request, action).await
    }

    /// Server-side apply of `object` with sparkup's field manager and strict field validation.
    pub(crate) async fn apply(
        &self,
        kind: &KindInfo,
        object: &Value,
        mode: ApplyMode,
    ) -> Result<Value, KubeError> {
        let name = str_at(object, "/metadata/name").unwrap_or("");
        let namespace = str_at(object, "/metadata/namespace");
        let mut uri = format!(
            "{}?fieldManager={MANAGER}&fieldValidation=Strict",
            self.path(kind, namespace, Some(name))
        );
        if mode.force {
            uri.push_str("&force=true");
        }
        if mode.dry_run {
            uri.push_str("&dryRun=All");
        }
        let request = Request::builder()
            .method(Method::PATCH)
            .uri(uri)
            .header(header::CONTENT_TYPE, "application/apply-patch+yaml")
            .body(serde_json::to_vec(object).expect("JSON"))
            .expect("valid request");
        let object_id = object_id(kind.kind, name);
        let verb = if mode.dry_run {
            "dry-run apply"
        } else {
            "apply"
        };
        self.send(request, &format!("{verb} {object_id}"))
            .await
            .map_err(|e| match e {
                KubeError::Api {
                    code: 409,
                    ref message,
                    ..
                } if !conflicts(message).is_empty() => KubeError::Conflict {
                    conflicts: conflicts(message),
                    object: object_id,
                },
                other => other,
            })
    }

    /// LIST the objects of a kind in a namespace that match a label selector.
    pub(crate) async fn list(
        &self,
        kind: &KindInfo,
        namespace: &str,
        selector: &str,
    ) -> Result<Vec<Value>, KubeError> {
        let uri = format!(
            "{}?labelSelector={}",
            self.path(kind, Some(namespace), None),
            percent_encode(selector)
        );
        let request = Request::get(uri).body(Vec::new()).expect("valid request");
        let list = self.send(request, &format!("list {}", kind.plural)).await?;
        let mut items = list["items"].as_array().cloned().unwrap_or_default();
        // Items of a list carry no kind; put it back so they read like objects.
        for item in &mut items {
            if let Some(map) = item.as_object_mut() {
                map.insert("apiVersion".into(), kind.api_version.into());
                map.insert("kind".into(), kind.kind.into());
            }
        }
        Ok(items)
    }

    /// GET with a query string (field selectors for events and pods).
    pub(crate) async fn list_path(
        &self,
        path: &str,
        action: &str,
    ) -> Result<Vec<Value>, KubeError> {
        let request = Request::get(path).body(Vec::new()).expect("valid request");
        let list = self.send(request, action).await?;
        Ok(list["items"].as_array().cloned().unwrap_or_default())
    }

    /// DELETE an object; one that is already gone is not an error.
    pub(crate) async fn delete(
        &self,
        kind: &KindInfo,
        namespace: &str,
        name: &str,
    ) -> Result<(), KubeError> {
        let uri = format!(
            "{}?propagationPolicy=Background",
            self.path(kind, Some(namespace), Some(name))
        );
        let request = Request::delete(uri)
            .body(Vec::new())
            .expect("valid request");
        match self
            .send(request, &format!("delete {}/{name}", kind.kind))
            .await
        {
            Err(e) if e.code() == Some(404) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// GET through the API server's service proxy (the Spark master's `/json/`).
    pub(crate) async fn proxy_get(
        &self,
        namespace: &str,
        service: &str,
        port: &str,
        path: &str,
    ) -> Result<Value, KubeError> {
        let uri = format!("/api/v1/namespaces/{namespace}/services/{service}:{port}/proxy{path}");
        let request = Request::get(uri).body(Vec::new()).expect("valid request");
        self.send(request, &format!("read {path} of service {service}"))
            .await
    }
}

fn clone_request(request: &Request<Vec<u8>>) -> Request<Vec<u8>> {
    let mut copy = Request::builder()
        .method(request.method().clone())
        .uri(request.uri().clone());
    if let Some(headers) = copy.headers_mut() {
        headers.extend(request.headers().clone());
    }
    copy.body(request.body().clone())
        .expect("a copy of a valid request")
}

/// The conflicting fields and their managers from a 409 message; none when the 409 is not a
/// field-manager conflict (an object modified meanwhile, say). The server writes
/// `Apply failed with 1 conflict: conflict with "helm" using apps/v1: .spec.replicas`, or for
/// several `conflicts with "kubectl-edit" using apps/v1:` followed by `- <field>` lines.
fn conflicts(message: &str) -> Vec<String> {
    let mut found = Vec::new();
    for chunk in message.split("conflict").skip(1) {
        let Some((_, rest)) = chunk.split_once("with \"") else {
            continue;
        };
        let Some((manager, rest)) = rest.split_once('"') else {
            continue;
        };
        let fields = rest.split_once(':').map_or("", |(_, f)| f);
        for field in fields
            .lines()
            .map(|l| l.trim().trim_start_matches("- ").trim())
            .filter(|l| !l.is_empty())
        {
            found.push(format!("{field} (owned by {manager})"));
        }
    }
    found
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_name_field_and_manager() {
        let one =
            "Apply failed with 1 conflict: conflict with \"helm\" using apps/v1: .spec.replicas";
        assert_eq!(conflicts(one), [".spec.replicas (owned by helm)"]);
        let many = "Apply failed with 2 conflicts: conflicts with \"kubectl-edit\" using apps/v1:\n- .spec.replicas\n- .spec.template.spec.containers[name=\"spark\"].image";
        assert_eq!(
            conflicts(many),
            [
                ".spec.replicas (owned by kubectl-edit)",
                ".spec.template.spec.containers[name=\"spark\"].image (owned by kubectl-edit)"
            ]
        );
    }

    #[test]
    fn selectors_are_percent_encoded() {
        assert_eq!(percent_encode("a.b/c=d,e"), "a.b%2Fc%3Dd%2Ce");
    }
}
