//! Spark's Prometheus endpoints: the scrape annotations on each pod that serves them, and a
//! PodMonitor per role for the Prometheus Operator.

use std::collections::BTreeMap;

use serde::Serialize;

use super::component::Component;
use super::pod::Pod;
use crate::values::spec::ClusterSpec;

/// One PodMonitor per role that serves metrics.
#[derive(Debug, Serialize)]
pub(crate) struct Monitor {
    pub name: String,
    pub selector: BTreeMap<String, String>,
    pub paths: Vec<&'static str>,
}

pub(crate) fn monitors(spec: &ClusterSpec) -> Vec<Monitor> {
    if !(spec.metrics.enabled && spec.metrics.pod_monitor) {
        return Vec::new();
    }
    let mut components = vec![Component::Master, Component::Worker];
    if spec.connect.enabled {
        components.push(Component::Connect);
    }
    if !spec.jobs.is_empty() {
        components.push(Component::Job);
    }
    components
        .into_iter()
        .map(|component| Monitor {
            name: component.object_name(&spec.name),
            selector: component.selector(&spec.name),
            paths: component.metrics_paths().to_vec(),
        })
        .collect()
}

/// `prometheus.io/*` annotations for a pod whose `http` port serves `component`'s metrics.
pub(crate) fn scrape_annotations(spec: &ClusterSpec, pod: &mut Pod, component: Component) {
    let Some(path) = component
        .metrics_paths()
        .first()
        .filter(|_| spec.metrics.enabled)
    else {
        return;
    };
    let Some(port) = pod.containers.first().and_then(|c| c.port("http")) else {
        return;
    };
    pod.annotations
        .insert("prometheus.io/scrape".into(), "true".into());
    pod.annotations
        .insert("prometheus.io/port".into(), port.to_string());
    pod.annotations
        .insert("prometheus.io/path".into(), (*path).to_string());
}
