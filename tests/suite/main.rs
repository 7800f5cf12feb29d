//! Every integration test, in one crate so the library is linked once.
//!
//! | module | what it checks | needs |
//! | --- | --- | --- |
//! | `cli` | exit codes, output forms, folders, user templates | nothing |
//! | `compose_dir` | `compose --output-dir`: the single file's project with its configs as mounted files; modes, reruns, errors; docker-compose 1.29 and the Compose specification read every folder | nothing; `docker-compose`, `check-jsonschema` (ignored tests) |
//! | `golden` | every profile's render, compose and values; every invalid fixture's message | nothing |
//! | `restarts` | which pod templates each kind of change alters: the restart table | nothing |
//! | `injection` | no value can change the structure of the output | nothing |
//! | `cluster` | apply, diff, wait, roll, status, delete, submit and ui (the library and the binary) against a fake API server on a loopback port, through a kubeconfig | nothing |
//! | `security` | every rendered pod template against the restricted Pod Security Standard | nothing |
//! | `scripts` | the launcher's argument checks, the GPU discovery script; shellcheck | `shellcheck` (ignored test) |
//! | `schema` | every render against the official Kubernetes schemas, every ScaledObject against KEDA's CRD; every compose file against the Compose specification | `kubernetes-validate`, `check-jsonschema` (ignored tests) |
//! | `jsonschema` | `sparkup schema` against what sparkup accepts: profiles, fixtures, layers, quantities; its top-level shape (a snapshot) | `check-jsonschema` (ignored tests) |
//! | `e2e` | a real Spark cluster from the rendered manifests: daemons, jobs with extra workers, the history and Connect servers | root, iproute2, iptables, curl, Java 17, pyspark with its Connect client (ignored tests) |
//! | `containers` | the compose folder run by docker-compose in a real Docker engine, two image layouts | root, docker.io, docker-compose, debootstrap, Java 17, pyspark (ignored test) |
//!
//! `cargo test` runs what needs nothing but Rust (and bash); `cargo test -- --include-ignored`
//! runs everything, and `.ci/run` installs what that needs on Debian first.

mod cli;
mod cluster;
mod common;
mod compose_dir;
mod containers;
mod e2e;
mod golden;
mod injection;
mod jsonschema;
mod restarts;
mod schema;
mod scripts;
mod security;
