//! sparkup: one description of a standalone Spark cluster, rendered as Kubernetes manifests.
//!
//! The flow is one stage per module: `values` (layers -> typed, validated spec), `context` and
//! `render` (spec -> YAML text through templates), `manifests` (text -> checked, labelled,
//! ordered objects) and `output` (objects -> stdout or a folder). `cli` only wires them.

pub mod api;
pub mod apply;
pub mod cli;
pub mod compose;
pub mod connect;
pub mod context;
pub mod delete;
pub mod diff;
pub mod error;
pub mod inventory;
pub mod manifests;
pub mod node;
pub mod ops;
pub mod output;
pub mod overrides;
pub mod plan;
pub mod profiles;
pub mod quantity;
pub mod render;
pub mod sizing;
pub mod sparkconf;
pub mod spec;
pub mod status;
pub mod validate;
pub mod values;
pub mod wait;
