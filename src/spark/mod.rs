//! What sparkup knows about Spark itself, kept pure: how much memory and how many cores each
//! daemon gets, how `spark-defaults.conf` is written, and how to read the master's `/json/`.
//! Nothing here knows about values files, templates or Kubernetes.

pub(crate) mod conf;
pub(crate) mod fit;
pub(crate) mod gpus;
#[cfg(feature = "kube")]
pub(crate) mod master;
pub(crate) mod misfit;
pub(crate) mod ports;
pub(crate) mod readers;
pub(crate) mod secrets;
pub(crate) mod sizing;
pub(crate) mod tls;
