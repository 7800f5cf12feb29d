//! From a validated cluster to Kubernetes objects, or to a docker-compose file.
//!
//! Pure: the spec and the templates go in, typed, labelled, ordered objects come out
//! ([`render`]), or the compose file ([`compose`]); [`format_all`] and [`write_dir`] print them.
//! The only I/O is reading a user's `--templates` folder and writing `--output-dir`.

pub(crate) mod compose;
pub(crate) mod context;
pub(crate) mod kinds;
pub(crate) mod labels;
pub(crate) mod manifests;
pub(crate) mod output;
pub(crate) mod templates;

use std::path::PathBuf;

use crate::error::Error;
use crate::values::Cluster;
pub use compose::Compose;
pub use manifests::Object;
pub use output::{Format, format_all, to_yaml, write_dir};

/// How to render.
#[derive(Debug, Clone, Default)]
pub struct RenderOptions {
    /// A folder of templates that replace the built-in ones of the same name; its other
    /// `*.yaml` files are rendered too.
    pub templates: Option<PathBuf>,
}

/// The cluster's Kubernetes objects: templates rendered, every document checked against its
/// Kubernetes type, labelled, and in apply order.
pub fn render(cluster: &Cluster, opts: &RenderOptions) -> Result<Vec<Object>, Error> {
    let rendered = templates::render(cluster, opts)?;
    manifests::build(&rendered, &cluster.spec)
}

/// The same cluster as a docker-compose file, with what compose could not express.
pub fn compose(cluster: &Cluster, opts: &RenderOptions) -> Result<Compose, Error> {
    compose::build(cluster, opts)
}
