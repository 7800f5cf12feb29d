//! sparkup: one description of a standalone Spark cluster, rendered as Kubernetes manifests or a
//! docker-compose file, and kept in step with a Kubernetes cluster.
//!
//! The library is the stages the command line runs, one module each, used top to bottom:
//!
//! - [`values`]: [`load`] the built-in profile, `-f` files and `--set` overrides into one
//!   validated [`Cluster`]; [`values::schema::values_schema`] describes a values file as a JSON
//!   Schema, derived from the same types;
//! - [`render`]: [`render()`](render::render) the cluster's Kubernetes objects, or its
//!   [`compose`](render::compose) file, and print them;
//! - [`kube`]: [`connect`](kube::connect) to an API server, then [`plan`](kube::plan),
//!   [`apply`](kube::apply), [`wait`](kube::wait), [`status`](kube::status) and
//!   [`delete`](kube::delete);
//! - [`main`]: the `sparkup` command line on top of them; [`exit_code`] says which code an error
//!   exits with.
//!
//! ```
//! let cluster = sparkup::load(&sparkup::ValuesOptions {
//!     profile: "dev".into(),
//!     sets: vec!["workers.replicas=3".into()],
//!     ..Default::default()
//! })?;
//! let objects = sparkup::render::render(&cluster, &Default::default())?;
//! assert!(objects.iter().any(|o| o.id() == "Deployment/spark-worker"));
//! # Ok::<(), sparkup::Error>(())
//! ```

mod applyset;
mod cli;
mod error;
mod json;
#[cfg(feature = "kube")]
pub mod kube;
pub mod render;
mod spark;
pub mod values;

pub use error::{Error, ValueError};

/// Runs the `sparkup` command line: parses the arguments, runs the command, prints its output,
/// and reports an error on stderr. The binary is this function.
pub fn main() -> std::process::ExitCode {
    cli::main()
}

/// The exit code of a command that failed with `error`: 3 when `apply` applied everything but
/// the cluster was not up in time, 2 for everything else (bad input, an API error, a workload
/// that cannot start).
pub fn exit_code(error: &anyhow::Error) -> u8 {
    cli::exit_code(error)
}
pub use spark::sizing::Sizing;
pub use values::{Cluster, ValuesOptions, load};
