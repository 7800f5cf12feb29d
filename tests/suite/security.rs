//! Every rendered pod template is admitted under the `restricted` Pod Security Standard, checked
//! rule by rule as the Pod Security admission controller applies it (Kubernetes 1.33, policy
//! version `latest`): the baseline rules and the restricted ones.

use serde_json::Value;

use crate::common::sparkup;

/// The volume types the restricted profile allows.
const RESTRICTED_VOLUMES: &[&str] = &[
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
];

/// Every pod template in a rendered List, with the object it belongs to.
fn pod_templates(list: &Value) -> Vec<(String, Value)> {
    let mut pods = Vec::new();
    for item in list["items"].as_array().unwrap() {
        let id = format!(
            "{}/{}",
            item["kind"].as_str().unwrap(),
            item["metadata"]["name"]
        );
        let spec = match item["kind"].as_str().unwrap() {
            "CronJob" => item.pointer("/spec/jobTemplate/spec/template/spec"),
            _ => item.pointer("/spec/template/spec"),
        };
        if let Some(spec) = spec {
            pods.push((id, spec.clone()));
        }
    }
    pods
}

/// The restricted profile's violations in one pod spec, as the admission controller words them.
fn violations(pod: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        if pod[host] == true {
            found.push(format!("{host}=true"));
        }
    }
    for volume in pod["volumes"].as_array().into_iter().flatten() {
        let kind = volume
            .as_object()
            .unwrap()
            .keys()
            .find(|k| *k != "name")
            .cloned()
            .unwrap_or_default();
        if !RESTRICTED_VOLUMES.contains(&kind.as_str()) {
            found.push(format!("volume {} of type {kind}", volume["name"]));
        }
    }
    let pod_sc = &pod["securityContext"];
    if pod_sc["runAsUser"] == 0 {
        found.push("pod runAsUser=0".into());
    }
    let containers: Vec<&Value> = ["containers", "initContainers", "ephemeralContainers"]
        .iter()
        .flat_map(|field| pod[*field].as_array().into_iter().flatten())
        .collect();
    for c in containers {
        let name = c["name"].as_str().unwrap_or("?");
        let sc = &c["securityContext"];
        if sc["privileged"] == true {
            found.push(format!("{name}: privileged"));
        }
        if sc["allowPrivilegeEscalation"] != false {
            found.push(format!("{name}: allowPrivilegeEscalation != false"));
        }
        let drops = sc["capabilities"]["drop"].as_array();
        if !drops.is_some_and(|d| d.iter().any(|c| c == "ALL")) {
            found.push(format!("{name}: capabilities.drop does not include ALL"));
        }
        for add in sc["capabilities"]["add"].as_array().into_iter().flatten() {
            if add != "NET_BIND_SERVICE" {
                found.push(format!("{name}: capabilities.add {add}"));
            }
        }
        let non_root = sc["runAsNonRoot"] == true
            || (sc["runAsNonRoot"].is_null() && pod_sc["runAsNonRoot"] == true);
        if !non_root {
            found.push(format!("{name}: runAsNonRoot != true"));
        }
        if sc["runAsUser"] == 0 {
            found.push(format!("{name}: runAsUser=0"));
        }
        let seccomp = match &sc["seccompProfile"]["type"] {
            Value::Null => &pod_sc["seccompProfile"]["type"],
            own => own,
        };
        if seccomp != "RuntimeDefault" && seccomp != "Localhost" {
            found.push(format!("{name}: seccompProfile.type {seccomp}"));
        }
        for port in c["ports"].as_array().into_iter().flatten() {
            if port.get("hostPort").is_some_and(|p| p != 0) {
                found.push(format!("{name}: hostPort {}", port["hostPort"]));
            }
        }
        for proc_mount in [&sc["procMount"]] {
            if !proc_mount.is_null() && proc_mount != "Default" {
                found.push(format!("{name}: procMount {proc_mount}"));
            }
        }
    }
    found
}

#[test]
fn every_pod_template_meets_the_restricted_pod_security_standard() {
    let mut cases: Vec<Vec<&str>> = sparkup::values::profiles::names()
        .map(|p| vec!["--profile", p])
        .collect();
    cases.push(vec!["-f", "tests/suite/fixtures/valid/jobs.yaml"]);
    cases.push(vec![
        "--set",
        "master.kind=ReplicationController",
        "--set",
        "workers.kind=ReplicationController",
    ]);
    let mut checked = 0;
    for case in cases {
        let mut args = vec!["render", "-o", "json"];
        args.extend(&case);
        let run = sparkup(&args);
        assert_eq!(run.code, Some(0), "{case:?}: {}", run.stderr);
        let list: Value = serde_json::from_str(&run.stdout).unwrap();
        for (id, pod) in pod_templates(&list) {
            let found = violations(&pod);
            assert!(found.is_empty(), "{case:?} {id}: {found:?}");
            checked += 1;
        }
    }
    // master, workers, history, Connect, two CronJobs' drivers (with a sidecar) at least.
    assert!(checked >= 12, "{checked} pod templates");
}

/// The checker itself finds what the admission controller would refuse.
#[test]
fn the_checker_refuses_what_restricted_refuses() {
    let pod = serde_json::json!({
        "hostNetwork": true,
        "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
        "volumes": [{"name": "host", "hostPath": {"path": "/"}}],
        "containers": [{"name": "c", "securityContext": {
            "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"], "add": ["SYS_ADMIN"]}}}],
        "initContainers": [{"name": "i", "securityContext": {"runAsUser": 0}}]
    });
    let found = violations(&pod);
    for expected in [
        "hostNetwork=true",
        "volume \"host\" of type hostPath",
        "c: capabilities.add \"SYS_ADMIN\"",
        "i: allowPrivilegeEscalation != false",
        "i: capabilities.drop does not include ALL",
        "i: runAsUser=0",
    ] {
        assert!(found.iter().any(|f| f == expected), "{expected}: {found:?}");
    }
}
