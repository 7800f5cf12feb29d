//! The `portforward` subresource of a pod, as `sparkup ui` uses it.

use std::sync::{Arc, Mutex};

use futures::{SinkExt as _, StreamExt as _};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use serde_json::json;

use super::{Body, Seen, State, param, status};

/// The `portforward` subresource over a WebSocket (`v4.channel.k8s.io`), as the API server and
/// kubelet serve it: channel 0 carries the data and channel 1 errors, each announced by a first
/// frame with the port; behind it, the pod answers one HTTP request with a JSON body naming the
/// pod and port it reached.
pub(super) fn port_forward(
    shared: Arc<Mutex<State>>,
    request: &mut Request<Incoming>,
) -> Response<Body> {
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
