//! The requests sparkup sends to the Kubernetes API server, and what their failures mean.
//!
//! Every kind sparkup handles is typed in the kind table, so kube's request builder gets its
//! resource (group, version, plural) without API discovery: one request per object and operation.
//! kube's client does authentication, TLS and the kubeconfig; this module sends each request with
//! a timeout and a short retry of a busy server (never of the service proxy's answer), counts them,
//! and turns error statuses into messages that name the object, the server and what to do.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::Request;
use k8s_openapi::api::core::v1::{Event, Namespace, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Resource as _;
use kube::core::params::{
    DeleteParams, GetParams, ListParams, Patch, PatchParams, PostParams, ValidationDirective,
};
use kube::core::{ApiResource, DynamicObject, Request as KubeRequest};
use serde_json::Value;

use crate::error::error_chain;
use crate::json::str_at;
use crate::render::Object;
use crate::render::kinds::{KindInfo, object_id};
use crate::render::labels::MANAGER;

pub(crate) use super::error::duration_text;
pub use super::error::{KubeError, Target};

/// How long one request may take before the server is reported as not answering, unless
/// `--request-timeout` says otherwise.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Requests in flight at once when objects are read or dry-run applied one by one.
pub(crate) const CONCURRENCY: usize = 4;

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
    timeout: Duration,
}

impl ApiServer {
    pub fn new(client: kube::Client, target: Target) -> ApiServer {
        ApiServer {
            client,
            target,
            requests: AtomicUsize::new(0),
            timeout: REQUEST_TIMEOUT,
        }
    }

    /// How long one request may take (30 s by default).
    pub fn with_request_timeout(mut self, timeout: Duration) -> ApiServer {
        self.timeout = timeout;
        self
    }

    pub fn target(&self) -> &Target {
        &self.target
    }

    /// How many requests were sent so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
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

    /// One request of kube's client, counted, within the request timeout, its error told.
    async fn call<T>(
        &self,
        action: &str,
        request: impl std::future::Future<Output = kube::Result<T>>,
    ) -> Result<T, KubeError> {
        self.requests.fetch_add(1, Ordering::Relaxed);
        tokio::time::timeout(self.timeout, request)
            .await
            .map_err(|_| KubeError::Timeout {
                target: self.target.clone(),
                action: action.to_string(),
                after: self.timeout,
            })?
            .map_err(|e| self.error(e, action))
    }

    async fn send_once(&self, request: Request<Vec<u8>>, action: &str) -> Result<Value, KubeError> {
        let text = self.call(action, self.client.request_text(request)).await?;
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

    /// GET of one object of `kind`; `None` when it does not exist.
    pub(crate) async fn get(
        &self,
        kind: &KindInfo,
        namespace: Option<&str>,
        name: &str,
        action: &str,
    ) -> Result<Option<Value>, KubeError> {
        let request = requests_for(kind, namespace).get(name, &GetParams::default());
        self.get_request(request, action).await
    }

    /// GET of a rendered object's live state; `None` when it does not exist.
    pub(crate) async fn get_object(&self, object: &Object) -> Result<Option<Value>, KubeError> {
        let action = format!("get {}", object.id());
        self.get(
            object.kind_info(),
            object.namespace(),
            &object.name,
            &action,
        )
        .await
    }

    async fn get_request(
        &self,
        request: Result<Request<Vec<u8>>, kube::core::request::Error>,
        action: &str,
    ) -> Result<Option<Value>, KubeError> {
        match self.send(built(request, action)?, action).await {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.code() == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Whether the namespace exists: a missing one holds nothing yet.
    pub(crate) async fn namespace_exists(&self, namespace: &str) -> Result<bool, KubeError> {
        let request =
            KubeRequest::new(Namespace::url_path(&(), None)).get(namespace, &GetParams::default());
        Ok(self
            .get_request(request, "get the namespace")
            .await?
            .is_some())
    }

    /// Creates the namespace.
    pub(crate) async fn create_namespace(&self, namespace: &str) -> Result<Value, KubeError> {
        let action = format!("create namespace {namespace}");
        let body = crate::render::owned::namespace(namespace);
        let request = KubeRequest::new(Namespace::url_path(&(), None)).create(
            &PostParams::default(),
            serde_json::to_vec(&body).expect("JSON"),
        );
        self.send(built(request, &action)?, &action).await
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
        let mut params = PatchParams::apply(MANAGER).validation(ValidationDirective::Strict);
        params.force = mode.force;
        params.dry_run = mode.dry_run;
        let object_id = object_id(kind.kind, name);
        let verb = if mode.dry_run {
            "dry-run apply"
        } else {
            "apply"
        };
        let action = format!("{verb} {object_id}");
        let request = requests_for(kind, namespace).patch(name, &params, &Patch::Apply(object));
        let mut request = built(request, &action)?;
        yaml_safe(request.body_mut());
        self.send(request, &action).await.map_err(|e| match e {
            KubeError::Api {
                code: 409,
                ref message,
                ..
            } if !conflicts(message).is_empty() => KubeError::Conflict {
                conflicts: conflicts(message),
                object: object_id,
            },
            // A custom kind whose CustomResourceDefinition the cluster does not have.
            KubeError::Api { code: 404, .. } if kind.custom => {
                let (installer, value) = crate::render::kinds::provider(kind);
                KubeError::Api {
                    action,
                    code: 404,
                    reason: "NotFound".into(),
                    message: format!(
                        "the API server does not serve {} {}: install its \
                         CustomResourceDefinition (for {}, {installer}), or turn off what \
                         renders it ({value})",
                        kind.api_version, kind.kind, kind.group
                    ),
                }
            }
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
        let action = format!("list {}", kind.plural);
        let request =
            requests_for(kind, Some(namespace)).list(&ListParams::default().labels(selector));
        let list = match self.send(built(request, &action)?, &action).await {
            // A custom kind the cluster does not serve has no objects.
            Err(e) if kind.custom && e.code() == Some(404) => return Ok(Vec::new()),
            other => other?,
        };
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

    /// The events about one pod, oldest first.
    pub(crate) async fn events_of(
        &self,
        namespace: &str,
        pod: &str,
    ) -> Result<Vec<Value>, KubeError> {
        let params = ListParams::default().fields(&format!("involvedObject.name={pod}"));
        let request = KubeRequest::new(Event::url_path(&(), Some(namespace))).list(&params);
        self.items(request, &format!("list the events of pod {pod}"))
            .await
    }

    /// The EndpointSlices of a Service.
    pub(crate) async fn endpoint_slices_of(
        &self,
        namespace: &str,
        service: &str,
    ) -> Result<Vec<Value>, KubeError> {
        let params = ListParams::default().labels(&format!("kubernetes.io/service-name={service}"));
        let request = KubeRequest::new(EndpointSlice::url_path(&(), Some(namespace))).list(&params);
        self.items(request, &format!("list the endpoints of {service}"))
            .await
    }

    async fn items(
        &self,
        request: Result<Request<Vec<u8>>, kube::core::request::Error>,
        action: &str,
    ) -> Result<Vec<Value>, KubeError> {
        let list = self.send(built(request, action)?, action).await?;
        Ok(list["items"].as_array().cloned().unwrap_or_default())
    }

    /// DELETE an object, its dependents in the background; one already gone is not an error.
    pub(crate) async fn delete(
        &self,
        kind: &KindInfo,
        namespace: &str,
        name: &str,
    ) -> Result<(), KubeError> {
        let action = format!("delete {}", object_id(kind.kind, name));
        let request = requests_for(kind, Some(namespace)).delete(name, &DeleteParams::background());
        match self.send(built(request, &action)?, &action).await {
            Err(e) if e.code() == Some(404) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// Creates an object (POST); an existing one of the same name is a 409 error.
    pub(crate) async fn create(&self, kind: &KindInfo, object: &Value) -> Result<Value, KubeError> {
        let name = str_at(object, "/metadata/name").unwrap_or("");
        let namespace = str_at(object, "/metadata/namespace");
        let action = format!("create {}", object_id(kind.kind, name));
        let body = serde_json::to_vec(object).expect("JSON");
        let request = requests_for(kind, namespace).create(
            &PostParams {
                field_manager: Some(MANAGER.into()),
                ..Default::default()
            },
            body,
        );
        self.send(built(request, &action)?, &action).await
    }

    /// A JSON merge patch of one object (metadata such as ownerReferences).
    pub(crate) async fn merge_patch(
        &self,
        kind: &KindInfo,
        namespace: &str,
        name: &str,
        patch: &Value,
    ) -> Result<Value, KubeError> {
        let action = format!("update {}", object_id(kind.kind, name));
        let params = PatchParams {
            field_manager: Some(MANAGER.into()),
            ..Default::default()
        };
        let request =
            requests_for(kind, Some(namespace)).patch(name, &params, &Patch::Merge(patch));
        self.send(built(request, &action)?, &action).await
    }

    /// A container's log as `query` asks for it: the whole log so far, or followed until the
    /// container ends or the connection does.
    pub(crate) async fn pod_log(
        &self,
        namespace: &str,
        pod: &str,
        query: &super::log_query::LogQuery,
    ) -> Result<impl futures::AsyncBufRead + use<>, KubeError> {
        let pods = k8s_openapi::api::core::v1::Pod::url_path(&(), Some(namespace));
        let uri = format!("{pods}/{pod}/log?{}", query.query_string());
        let action = format!("read the log of pod {pod}");
        let request = Request::get(uri).body(Vec::new()).expect("valid request");
        self.call(&action, self.client.request_stream(request))
            .await
    }

    /// One forwarded connection to `port` of `pod` (the API server's `portforward` subresource,
    /// over a WebSocket).
    pub(crate) async fn port_forward(
        &self,
        namespace: &str,
        pod: &str,
        port: u16,
    ) -> Result<tokio::io::DuplexStream, KubeError> {
        let action = format!("forward port {port} of pod {pod}");
        let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
            kube::Api::namespaced(self.client.clone(), namespace);
        let mut forwarder = self.call(&action, pods.portforward(pod, &[port])).await?;
        forwarder
            .take_stream(port)
            .ok_or_else(|| KubeError::Request {
                action,
                detail: "the forward has no stream for the port".into(),
            })
    }

    /// GET through the API server's service proxy (the Spark master's `/json/`): kube has no
    /// request builder for it.
    pub(crate) async fn proxy_get(
        &self,
        namespace: &str,
        service: &str,
        port: &str,
        path: &str,
    ) -> Result<Value, KubeError> {
        let services = Service::url_path(&(), Some(namespace));
        let uri = format!("{services}/{service}:{port}/proxy{path}");
        let request = Request::get(uri).body(Vec::new()).expect("valid request");
        self.send(request, &format!("read {path} of service {service}"))
            .await
    }
}

/// kube's request builder for a kind of the table, in a namespace: paths without discovery.
fn requests_for(kind: &KindInfo, namespace: Option<&str>) -> KubeRequest {
    let resource = ApiResource {
        group: kind.group.into(),
        version: kind
            .api_version
            .rsplit('/')
            .next()
            .unwrap_or(kind.api_version)
            .into(),
        api_version: kind.api_version.into(),
        kind: kind.kind.into(),
        plural: kind.plural.into(),
    };
    KubeRequest::new(DynamicObject::url_path(&resource, namespace))
}

/// A request kube built, or why it could not (an invalid object name).
/// The API server reads a server-side apply body as YAML, and YAML takes a raw DEL or C1 control
/// character as an error, and a raw U+0085, U+2028 or U+2029 as a line break (a string holding
/// one is stored with a space instead). JSON lets any character be written as `\uXXXX`, which
/// YAML's double-quoted strings read back exactly: so those are written that way. They can
/// only stand inside strings, so the rest of the text is untouched.
fn yaml_safe(body: &mut Vec<u8>) {
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    let unsafe_in_yaml = |c: char| {
        matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}'
        )
    };
    if !text.contains(unsafe_in_yaml) {
        return;
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match unsafe_in_yaml(c) {
            true => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            false => out.push(c),
        }
    }
    *body = out.into_bytes();
}

fn built(
    request: Result<Request<Vec<u8>>, kube::core::request::Error>,
    action: &str,
) -> Result<Request<Vec<u8>>, KubeError> {
    request.map_err(|e| KubeError::Request {
        action: action.to_string(),
        detail: e.to_string(),
    })
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
}
