//! The values a cluster has before any profile, file or `--set`: one table, so `sparkup values`
//! and the README show the same defaults.

use std::collections::BTreeMap;

use super::pods::PodValues;
use super::quantity::Quantity;
use super::spec::*;
use super::tls::TlsSpec;

impl Default for ClusterSpec {
    fn default() -> Self {
        ClusterSpec {
            name: "spark".into(),
            namespace: "default".into(),
            image: ImageSpec {
                repository: DEFAULT_IMAGE.0.into(),
                tag: DEFAULT_IMAGE.1.into(),
                pull_policy: PullPolicy::IfNotPresent,
                pull_secrets: Vec::new(),
            },
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            spark_conf: BTreeMap::new(),
            secret_conf: BTreeMap::new(),
            env: BTreeMap::new(),
            env_from: Vec::new(),
            service_account_name: None,
            // 185 is the uid the Apache Spark images use for `spark`.
            security_context: SecuritySpec {
                run_as_user: 185,
                run_as_group: 185,
                fs_group: 185,
            },
            security: SparkSecuritySpec {
                authenticate: false,
                secret_name: None,
                encryption: false,
                tls: TlsSpec::default(),
            },
            master: MasterSpec {
                kind: WorkloadKind::Deployment,
                recovery: Recovery::None,
                recovery_directory: "/data/spark-recovery".into(),
                resources: Resources {
                    requests: amounts("500m", "1Gi"),
                    limits: amounts("1", "1Gi"),
                },
                ports: Ports {
                    rpc: 7077,
                    http: 8080,
                },
                service: ServiceSpec {
                    service_type: ServiceType::ClusterIP,
                    allow_unauthenticated: false,
                    annotations: BTreeMap::new(),
                },
                node_selector: BTreeMap::new(),
                tolerations: Vec::new(),
                affinity: None,
                pod_labels: BTreeMap::new(),
                pod_annotations: BTreeMap::new(),
                pod: PodValues::default(),
            },
            workers: WorkerSpec {
                kind: WorkloadKind::Deployment,
                replicas: 2,
                resources: Resources {
                    requests: amounts("2", "4Gi"),
                    limits: amounts("2", "4Gi"),
                },
                gpus: 0,
                gpu_resource: DEFAULT_GPU_RESOURCE.into(),
                gpu_discovery_script: None,
                daemon_memory: Quantity::parse("256Mi").expect("built-in quantity"),
                ports: Ports {
                    rpc: 7078,
                    http: 8081,
                },
                decommission: false,
                termination_grace_period_seconds: 60,
                anti_affinity: AntiAffinity::None,
                disruption_budget: true,
                autoscaling: AutoscalingSpec {
                    enabled: false,
                    mode: AutoscalingMode::Cpu,
                    min_replicas: 2,
                    max_replicas: 10,
                    target_cpu_utilization: 80,
                    demand: DemandSpec {
                        cores_per_application: None,
                        polling_interval_seconds: 15,
                        cooldown_period_seconds: 300,
                        scale_down_stabilization_seconds: 300,
                        keda_namespace: "keda".into(),
                        insecure_skip_verify: false,
                    },
                },
                node_selector: BTreeMap::new(),
                tolerations: Vec::new(),
                affinity: None,
                pod_labels: BTreeMap::new(),
                pod_annotations: BTreeMap::new(),
                pod: PodValues::default(),
            },
            storage: Vec::new(),
            history: HistorySpec {
                enabled: false,
                log_directory: "/events".into(),
                port: 18080,
                resources: Resources {
                    requests: amounts("250m", "1Gi"),
                    limits: amounts("1", "1Gi"),
                },
                cleaner: CleanerSpec {
                    enabled: true,
                    interval: "1d".into(),
                    max_age: "7d".into(),
                },
                pod: PodValues::default(),
            },
            connect: ConnectSpec {
                enabled: false,
                port: 15002,
                resources: Resources {
                    requests: amounts("1", "2Gi"),
                    limits: amounts("2", "2Gi"),
                },
                conf: BTreeMap::new(),
                pod: PodValues::default(),
            },
            rbac: RbacSpec { submitter: false },
            ui: UiSpec {
                ingress: IngressSpec {
                    enabled: false,
                    class_name: None,
                    host: String::new(),
                    path: "/".into(),
                    tls_secret: None,
                    history_host: None,
                    connect_host: None,
                    annotations: BTreeMap::new(),
                },
            },
            metrics: MetricsSpec {
                enabled: false,
                pod_monitor: false,
            },
            network_policy: NetworkPolicySpec {
                enabled: false,
                ui_from: Vec::new(),
            },
            jobs: BTreeMap::new(),
            compose: ComposeSpec {
                publish_address: "127.0.0.1".into(),
            },
            pod: PodValues::default(),
            drivers: DriversSpec::default(),
            dependencies: DependenciesSpec::default(),
        }
    }
}
