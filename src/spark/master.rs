//! The standalone master's own view of the cluster, as its web UI serves it at `/json/`.

use serde_json::Value;

/// The master is ALIVE and at least `want` workers are registered.
pub(crate) fn is_up(json: &Value, want: u64) -> bool {
    json["status"] == "ALIVE" && json["aliveworkers"].as_u64().unwrap_or(0) >= want
}

/// A running application, as the master lists it.
pub(crate) struct App<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub state: &'a str,
}

/// The applications the master runs now.
pub(crate) fn active_apps(json: &Value) -> impl Iterator<Item = App<'_>> {
    json["activeapps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| App {
            id: a["id"].as_str().unwrap_or("?"),
            name: a["name"].as_str().unwrap_or("?"),
            state: a["state"].as_str().unwrap_or("?"),
        })
}

/// The view as (label, text) rows: master state, workers, cores, memory, applications.
pub(crate) fn rows(json: &Value) -> Vec<(String, String)> {
    let workers = json["workers"].as_array().cloned().unwrap_or_default();
    let dead = workers.iter().filter(|w| w["state"] == "DEAD").count();
    let n = |key: &str| json[key].as_u64().unwrap_or(0);
    let apps: Vec<String> = active_apps(json)
        .map(|a| format!("{} ({})", a.name, a.state))
        .collect();
    vec![
        (
            "master".into(),
            json["status"].as_str().unwrap_or("unknown").into(),
        ),
        ("url".into(), json["url"].as_str().unwrap_or("").into()),
        (
            "workers".into(),
            format!("{} alive, {dead} dead", n("aliveworkers")),
        ),
        (
            "cores".into(),
            format!("{} used of {}", n("coresused"), n("cores")),
        ),
        (
            "memory".into(),
            format!("{} MiB used of {} MiB", n("memoryused"), n("memory")),
        ),
        (
            "applications".into(),
            if apps.is_empty() {
                "none running".into()
            } else {
                apps.join(", ")
            },
        ),
    ]
}
