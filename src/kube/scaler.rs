//! What `status` says of a KEDA ScaledObject: whether KEDA took it, the last value it read from
//! the master (the cores the applications ask for), and the workers its HPA has and wants.
//!
//! KEDA hands the HPA one external metric, its formula's value, with an `AverageValue` target;
//! the HPA reports that metric as the average over the workers it has, so the value KEDA read is
//! the average times the current workers.

use serde_json::Value;

use super::client::{ApiServer, KubeError};
use crate::json::str_at;
use crate::render::kinds::kind_info;
use crate::values::ClusterSpec;

/// The state line of a live ScaledObject and whether it is healthy (KEDA has it Ready).
pub(crate) async fn scaled_object_state(
    api: &ApiServer,
    spec: &ClusterSpec,
    live: &Value,
) -> Result<(String, bool), KubeError> {
    let namespace = spec.namespace.as_str();
    let condition = |kind: &str| {
        live.pointer("/status/conditions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .find(|c| c["type"] == kind)
    };
    let ready = condition("Ready").is_some_and(|c| c["status"] == "True");
    let int = |at: &str| live.pointer(at).and_then(Value::as_i64).unwrap_or(0);
    let bounds = format!(
        "min {}, max {}",
        int("/spec/minReplicaCount"),
        int("/spec/maxReplicaCount")
    );
    if !ready {
        let why = condition("Ready")
            .and_then(|c| c["message"].as_str())
            .unwrap_or("KEDA has not taken it yet (is KEDA's operator running?)");
        return Ok((format!("not ready: {why} ({bounds})"), false));
    }
    let active = match condition("Active").is_some_and(|c| c["status"] == "True") {
        true => "active",
        false => "idle",
    };
    let hpa = match str_at(live, "/status/hpaName") {
        Some(name) => {
            let kind = kind_info("autoscaling/v2", "HorizontalPodAutoscaler")
                .expect("HorizontalPodAutoscaler is in the table");
            let action = format!("read HorizontalPodAutoscaler/{name}");
            api.get(kind, Some(namespace), name, &action).await?
        }
        None => None,
    };
    let Some(hpa) = hpa else {
        return Ok((format!("{active}, no autoscaler yet ({bounds})"), true));
    };
    let hpa_int = |at: &str| hpa.pointer(at).and_then(Value::as_i64).unwrap_or(0);
    let current = hpa_int("/status/currentReplicas");
    let read = match (signal(&hpa), spec.cores_per_application()) {
        (Some(average), Some(cores)) => {
            let wanted = (average * current as f64).round();
            let apps = (wanted / f64::from(cores)).round();
            format!("read {wanted} core(s) wanted ({apps} application(s) × {cores})")
        }
        _ => "no value read yet".into(),
    };
    Ok((
        format!(
            "{active}, {read}, {current} worker(s) now, wants {} ({bounds})",
            hpa_int("/status/desiredReplicas"),
        ),
        true,
    ))
}

/// The last average of the HPA's external metric over the workers: KEDA's formula over what it
/// read, divided by the workers there were.
fn signal(hpa: &Value) -> Option<f64> {
    let metrics = hpa.pointer("/status/currentMetrics")?.as_array()?;
    let current = metrics
        .iter()
        .find_map(|m| m.pointer("/external/current"))?;
    quantity(current.get("averageValue")?.as_str()?)
}

/// A quantity as the HPA writes a metric: `4`, `2500m`, `1.5`.
fn quantity(text: &str) -> Option<f64> {
    match text.strip_suffix('m') {
        Some(milli) => milli.parse::<f64>().ok().map(|m| m / 1000.0),
        None => text.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hpa_writes_metrics_as_quantities() {
        assert_eq!(quantity("4"), Some(4.0));
        assert_eq!(quantity("2500m"), Some(2.5));
        assert_eq!(quantity("1.5"), Some(1.5));
        assert_eq!(quantity("x"), None);
    }
}
