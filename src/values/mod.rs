//! From the user's layers to one typed, validated [`ClusterSpec`].
//!
//! Layers, lowest first: the built-in defaults, the chosen profile, each `-f` file, each `--set`.
//! Maps merge key by key, lists are replaced whole, and `null` puts the built-in default back.
//! Nothing after this stage looks at user input again: templates trust what comes out of here.

mod defaults;
mod layers;
pub mod pod_layers;
pub mod pods;
pub mod profiles;
pub mod quantity;
pub mod schema;
pub mod secret_ref;
mod set;
mod sizing;
pub mod spec;
mod tags;
pub mod tls;
mod tree;

pub(crate) use tree::parse_yaml;
pub(crate) mod validate;

use std::path::PathBuf;

use serde_json::Value;

use crate::error::{Error, ValueError, quote};
use crate::spark::sizing::Sizing;
use set::SetExpr;
pub use spec::ClusterSpec;
use tree::Tree;

/// Where the values come from, as given on the command line.
#[derive(Debug, Clone, Default)]
pub struct ValuesOptions {
    /// A built-in profile (see [`profiles::names`]); empty means `default`.
    pub profile: String,
    /// `-f` files in order; `-` reads standard input.
    pub files: Vec<PathBuf>,
    /// `--set path=value` expressions in order.
    pub sets: Vec<String>,
}

/// A validated spec with the settings derived from it: everything later stages need.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub spec: ClusterSpec,
    pub sizing: Sizing,
}

/// Merges every layer and returns the validated cluster.
pub fn load(opts: &ValuesOptions) -> Result<Cluster, Error> {
    let base = defaults();
    let mut tree = Tree {
        value: base.clone(),
        ..Tree::default()
    };
    let profile = match opts.profile.as_str() {
        "" => "default",
        name => name,
    };
    let text = profiles::get(profile)?;
    let layer = layers::parse_document(text, &format!("profile {profile}"))?;
    layers::merge(&mut tree.value, layer, Some(&base));
    for file in &opts.files {
        layers::merge(&mut tree.value, layers::read(file)?, Some(&base));
    }
    for expr in &opts.sets {
        SetExpr::parse(expr)?
            .apply(&mut tree, &base)
            .map_err(|detail| Error::source(format!("--set {}", quote(expr)), detail))?;
    }
    typed(&tree)
}

/// The cluster of effective values that an earlier apply recorded (what `sparkup values`
/// prints): they go over the built-in defaults, with no profile, and are checked like any layer,
/// so values that this version refuses are refused here too. `origin` names them in errors.
pub fn load_recorded(values: &Value, origin: &str) -> Result<Cluster, Error> {
    if !values.is_object() {
        return Err(Error::source(origin, "expected a mapping of values"));
    }
    let base = defaults();
    let mut tree = Tree {
        value: base.clone(),
        ..Tree::default()
    };
    layers::merge(&mut tree.value, values.clone(), Some(&base));
    typed(&tree)
}

/// What the cluster offers `job`, with the extra workers it brings.
#[cfg(feature = "kube")]
pub(crate) fn sizing_capacity(
    cluster: &Cluster,
    job: &spec::JobSpec,
) -> crate::spark::fit::Capacity {
    sizing::capacity(&cluster.spec, &cluster.sizing, Some(job))
}

/// The built-in defaults as the bottom layer of the merge.
fn defaults() -> Value {
    serde_json::to_value(ClusterSpec::default()).expect("the defaults serialize to JSON")
}

/// Types a merged tree and checks every rule.
fn typed(tree: &Tree) -> Result<Cluster, Error> {
    let spec: ClusterSpec = tree.typed().map_err(|e| {
        let path = e.path().to_string();
        ValueError::new(path, e.into_inner().0)
    })?;
    let mut problems = validate::check(&spec, &tree.value);
    problems.extend(sizing::check_jvm_floors(&spec));
    let sizing = sizing::compute(&spec).map_err(|e| problems.extend(e)).ok();
    if let Some(sizing) = &sizing {
        problems.extend(sizing::check_applications(&spec, sizing));
    }
    match sizing {
        Some(sizing) if problems.is_empty() => Ok(Cluster { spec, sizing }),
        _ => Err(Error::Values(problems)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(profile: &str, sets: &[&str]) -> ValuesOptions {
        ValuesOptions {
            profile: profile.into(),
            files: Vec::new(),
            sets: sets.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// The API server refuses an object whose annotations pass 256 KiB; sparkup refuses the
    /// values first, naming the map.
    #[test]
    fn annotations_past_the_api_servers_limit_are_refused() {
        let big = format!("annotations.big={}", "x".repeat(200 * 1024));
        let service = format!("master.service.annotations.more={}", "y".repeat(60 * 1024));
        assert!(load(&opts("default", &[&big])).is_ok());
        let err = load(&opts("default", &[&big, &service]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "master.service.annotations: 266247 bytes of annotations on one object"
            ),
            "{err}"
        );
        assert!(!err.contains("xxxx"), "{err}");
    }

    #[test]
    fn set_values_are_typed_by_their_field() {
        let spec = load(&opts("default", &["workers.replicas=5", "image.tag=4.0"]))
            .unwrap()
            .spec;
        assert_eq!(spec.workers.replicas, 5);
        assert_eq!(spec.image.tag, "4.0");
    }

    #[test]
    fn later_layers_win_and_null_restores_the_default() {
        let spec = load(&opts(
            "dev",
            &["workers.replicas=4", "workers.replicas=null"],
        ))
        .unwrap()
        .spec;
        assert_eq!(
            spec.workers.replicas,
            ClusterSpec::default().workers.replicas
        );
    }

    #[test]
    fn set_reaches_into_lists_from_earlier_layers() {
        let spec = load(&opts("prod", &["storage[0].size=20Gi"])).unwrap().spec;
        assert_eq!(spec.storage[0].size.as_ref().unwrap().text(), "20Gi");
        let err = load(&opts("default", &["storage[3].name=x"])).unwrap_err();
        assert!(
            err.to_string().contains("index [3] is past the end"),
            "{err}"
        );
    }

    /// Well-known node labels carry a prefix and a slash; they are valid selector keys.
    #[test]
    fn node_selectors_take_kubernetes_io_keys() {
        let spec = load(&opts(
            "default",
            &[
                "workers.nodeSelector.kubernetes.io/hostname=node-1",
                "master.nodeSelector.topology.kubernetes.io/zone=eu-west-1a",
            ],
        ))
        .unwrap()
        .spec;
        assert_eq!(
            spec.workers.node_selector["kubernetes.io/hostname"],
            "node-1"
        );
        assert_eq!(
            spec.master.node_selector["topology.kubernetes.io/zone"],
            "eu-west-1a"
        );
    }

    /// What an apply records is what a rollback loads: the same cluster, for every profile.
    #[test]
    fn recorded_values_load_as_the_same_cluster() {
        for profile in profiles::names() {
            let cluster = load(&opts(profile, &["workers.replicas=3"])).unwrap();
            let recorded = serde_json::to_value(&cluster.spec).unwrap();
            assert_eq!(
                load_recorded(&recorded, "test").unwrap(),
                cluster,
                "{profile}"
            );
        }
        let err = load_recorded(&Value::Null, "revision 2").unwrap_err();
        assert_eq!(err.to_string(), "revision 2: expected a mapping of values");
    }

    #[test]
    fn maps_merge_deeply() {
        let base = defaults();
        let mut tree = Tree {
            value: base.clone(),
            ..Tree::default()
        };
        let layer = layers::parse_document("workers:\n  replicas: 7\n", "test").unwrap();
        layers::merge(&mut tree.value, layer, Some(&base));
        let spec = typed(&tree).unwrap().spec;
        assert_eq!(spec.workers.replicas, 7);
        assert_eq!(spec.workers.ports, ClusterSpec::default().workers.ports);
    }
}
