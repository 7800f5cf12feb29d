//! The same cluster as a docker-compose file, for trying it on one machine.
//!
//! The compose template sees the same context as the Kubernetes templates, so the daemons get the
//! same arguments, environment and `spark-defaults.conf`; what compose cannot express (the
//! downward API) is left to the entrypoint, which falls back to the container's own address.

use super::RenderOptions;
use super::templates;
use crate::error::Error;
use crate::values::Cluster;

/// Renders the compose file and checks that it is a YAML mapping with services; the result is
/// re-serialized so its layout does not depend on the template's.
pub(crate) fn build(cluster: &Cluster, opts: &RenderOptions) -> Result<String, Error> {
    let text = templates::render_compose(cluster, opts)?;
    let origin = "compose file";
    let mut docs: Vec<serde_json::Value> = crate::values::parse_yaml(&text)
        .map_err(|e| Error::manifest(origin, format!("not valid YAML: {e}")))?;
    let doc = match (docs.pop(), docs.is_empty()) {
        (Some(doc), true) if doc.get("services").is_some_and(|s| s.is_object()) => doc,
        _ => {
            return Err(Error::manifest(
                origin,
                "expected one mapping with `services`",
            ));
        }
    };
    super::output::to_yaml(&doc)
}
