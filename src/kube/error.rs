//! What can go wrong between sparkup and an API server, said so that a user can act on it: which
//! server, which request, what it answered, and what to do.

use std::time::Duration;

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
    /// The server did not answer within the request timeout (30 s unless `--request-timeout`).
    #[error("the Kubernetes API server {target} did not answer within {} ({action})", duration_text(*.after))]
    Timeout {
        target: Target,
        action: String,
        after: Duration,
    },
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
    /// kube could not build the request (an object name the API would refuse).
    #[error("cannot {action}: {detail}")]
    Request { action: String, detail: String },
    /// A workload cannot start, and waiting will not change that (a crash loop, an image that
    /// cannot be pulled).
    #[error("{0}")]
    NotReady(String),
    /// Nothing of the instance to act on: no pods whose logs to show.
    #[error("{0}")]
    NotFound(String),
    /// The wait ran out of time: the objects were applied, Spark was not up yet.
    #[error("{0}")]
    TimedOut(String),
    /// The apply would lose running applications; nothing was written.
    #[error("{0}")]
    WouldLose(String),
    /// The server's dry run of an object refused it before anything was written.
    #[error(
        "{0}\nnothing was changed: the server's dry run of every object, before the first write, refused this one"
    )]
    Refused(Box<KubeError>),
}

/// `30s`, `1500ms`: a duration as the user gave it.
pub(crate) fn duration_text(duration: Duration) -> String {
    match duration.as_millis() {
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
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

    /// What the server said, without the request: for a line about one of many requests.
    pub(crate) fn detail(&self) -> String {
        match self {
            KubeError::Api { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}
