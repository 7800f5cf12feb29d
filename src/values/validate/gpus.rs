//! GPU workers: a count the API server and Spark take, a resource name a device plugin can
//! advertise, a discovery script Spark can run, and no Spark property that would make a worker
//! offer GPUs its container does not have.

use super::*;
use crate::spark::gpus::settled_by_workers;

/// The most GPUs one worker container may ask for: more than any node has whole, enough for
/// the slices of GPU sharing (MIG, time-slicing) that device plugins advertise.
pub(crate) const MAX_GPUS: u32 = 1024;

pub(super) fn check_gpus(spec: &ClusterSpec, r: &mut Report) {
    let workers = &spec.workers;
    check_count(r, "workers.gpus", workers.gpus);
    if !is_extended_resource_name(&workers.gpu_resource) {
        r.invalid(
            "workers.gpuResource",
            &workers.gpu_resource,
            "a Kubernetes extended resource name: a domain, '/', a name (such as nvidia.com/gpu, \
             amd.com/gpu or gpu.intel.com/i915), outside kubernetes.io",
        );
    }
    if let Some(script) = &workers.gpu_discovery_script
        && !is_script_path(script)
    {
        r.invalid(
            "workers.gpuDiscoveryScript",
            script,
            "an absolute path of an executable in the image, without spaces, quotes or \
             backslashes (Spark reads it from a JVM option)",
        );
    }
    for key in spec.spark_conf.keys().filter(|k| settled_by_workers(k)) {
        r.0.push(ValueError::new(
            path_key("sparkConf", key),
            "not allowed here: set workers.gpus (and workers.gpuDiscoveryScript), which give \
             each worker's container the GPUs it offers",
        ));
    }
    for (name, job) in &spec.jobs {
        let Some(gpus) = job.worker_gpus else {
            continue;
        };
        let path = format!("{}.workerGpus", path_key("jobs", name));
        check_count(r, &path, gpus);
        if job.workers == 0 {
            r.number(
                path,
                gpus,
                "no value while the job has no extra workers (jobs.<name>.workers is 0): the \
                 driver itself gets no GPU",
            );
        }
    }
}

fn check_count(r: &mut Report, path: &str, gpus: u32) {
    if gpus > MAX_GPUS {
        r.number(
            path,
            gpus,
            format!("at most {MAX_GPUS} GPUs in one worker container"),
        );
    }
}

/// The API server's rule for an extended resource: a qualified name with a domain (a name
/// without one is a native resource such as `cpu`), not in the `kubernetes.io` domain, and
/// with `requests.` in front still a qualified name (the quota's name for it).
pub(super) fn is_extended_resource_name(name: &str) -> bool {
    name.contains('/')
        && !name.contains("kubernetes.io/")
        && !name.starts_with("requests.")
        && is_qualified_name(name)
        && is_qualified_name(&format!("requests.{name}"))
}

/// A path Spark can run and a JVM option can carry as one word.
fn is_script_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.ends_with('/')
        && path.len() <= 4096
        && !path
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "'\"\\$`".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extended_resource_names_as_the_api_server_reads_them() {
        for good in [
            "nvidia.com/gpu",
            "amd.com/gpu",
            "gpu.intel.com/i915",
            "nvidia.com/mig-1g.5gb",
        ] {
            assert!(is_extended_resource_name(good), "{good}");
        }
        for bad in [
            "gpu",
            "cpu",
            "kubernetes.io/gpu",
            "example.kubernetes.io/gpu",
            "requests.nvidia.com/gpu",
            "nvidia.com/",
            "/gpu",
            "Nvidia.com/gpu",
            "nvidia.com/gpu/x",
            "nvidia.com/-gpu",
            "nvidia.com/gpu\nkind: Secret",
            "",
        ] {
            assert!(!is_extended_resource_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn script_paths_are_one_absolute_word() {
        assert!(is_script_path(
            "/opt/spark/examples/src/main/scripts/getGpusResources.sh"
        ));
        for bad in [
            "gpus.sh",
            "/opt/my gpus.sh",
            "/opt/\"x",
            "/opt/",
            "/a\nb",
            "/$(x)",
        ] {
            assert!(!is_script_path(bad), "{bad:?}");
        }
    }
}
