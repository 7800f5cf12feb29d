//! Built-in profiles: starting points a user picks with `--profile` and refines with `-f`/`--set`.
//!
//! Each profile states only what differs from the defaults in `spec.rs`. They are embedded at
//! build time so the binary works from any directory.

use crate::error::Error;

/// Name and YAML text of every built-in profile, in the order `sparkup profiles` lists them.
pub(crate) const PROFILES: &[(&str, &str)] = &[
    ("default", include_str!("../../profiles/default.yaml")),
    ("dev", include_str!("../../profiles/dev.yaml")),
    ("prod", include_str!("../../profiles/prod.yaml")),
];

pub fn names() -> impl Iterator<Item = &'static str> {
    PROFILES.iter().map(|(name, _)| *name)
}

pub(crate) fn get(name: &str) -> Result<&'static str, Error> {
    PROFILES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
        .ok_or_else(|| {
            let known: Vec<&str> = names().collect();
            Error::source(
                format!("profile {}", crate::error::quote(name)),
                format!("no such profile: expected one of {}", known.join(", ")),
            )
        })
}
