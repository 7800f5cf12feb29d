//! Connecting to a cluster: a kubeconfig (the default one, `--kubeconfig`, `--context`) or the
//! pod's service account when sparkup runs inside the cluster.

use std::path::PathBuf;
use std::time::Duration;

use kube::config::{Config, KubeConfigOptions, Kubeconfig};

use super::client::{ApiServer, KubeError, REQUEST_TIMEOUT, Target};
use crate::error::error_chain;

#[derive(Debug, Clone)]
pub struct ConnectOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// How long one request may take.
    pub request_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> ConnectOptions {
        ConnectOptions {
            kubeconfig: None,
            context: None,
            request_timeout: REQUEST_TIMEOUT,
        }
    }
}

/// Loads the configuration and builds a client; nothing is sent yet.
pub async fn connect(opts: &ConnectOptions) -> Result<ApiServer, KubeError> {
    let options = KubeConfigOptions {
        context: opts.context.clone(),
        ..Default::default()
    };
    let config_error = |e: &dyn std::error::Error| KubeError::Config(error_chain(e));
    let mut config = match (&opts.kubeconfig, &opts.context) {
        (Some(path), _) => {
            let file = Kubeconfig::read_from(path).map_err(|e| {
                KubeError::Config(format!("{}: {}", path.display(), error_chain(&e)))
            })?;
            Config::from_custom_kubeconfig(file, &options)
                .await
                .map_err(|e| config_error(&e))?
        }
        (None, Some(_)) => Config::from_kubeconfig(&options)
            .await
            .map_err(|e| config_error(&e))?,
        (None, None) => Config::infer().await.map_err(|e| config_error(&e))?,
    };
    // kube's own retry layer retries 503 with a backoff that outlasts the request timeout: the
    // service proxy answers 503 at once while the master has no ready endpoint, and that answer
    // is what status and the wait need. ApiServer::send retries API requests itself, briefly.
    config.default_retry = false;
    let context = opts.context.clone().or_else(|| current_context(opts));
    let target = Target {
        server: config.cluster_url.to_string(),
        context,
    };
    let client = kube::Client::try_from(config).map_err(|e| KubeError::Unreachable {
        target: target.clone(),
        detail: error_chain(&e),
    })?;
    Ok(ApiServer::new(client, target).with_request_timeout(opts.request_timeout))
}

/// The kubeconfig's current context, for messages (none in-cluster).
fn current_context(opts: &ConnectOptions) -> Option<String> {
    let file = match &opts.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).ok()?,
        None => Kubeconfig::read().ok()?,
    };
    file.current_context
}
