//! Errors a user can act on.
//!
//! Every error sparkup reports for bad input names where the problem is (a field path, a file, a
//! template, an object) and what was expected; `main` prints it with its cause chain.

use std::fmt;

/// One value that does not fit its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError {
    /// Dotted field path, `workers.resources.limits.memory` or `storage[0].name`.
    pub path: String,
    /// What is wrong, usually `invalid value X: expected Y`.
    pub detail: String,
}

impl ValueError {
    pub(crate) fn new(path: impl Into<String>, detail: impl Into<String>) -> ValueError {
        ValueError {
            path: path.into(),
            detail: detail.into(),
        }
    }

    /// `invalid value <shown>: expected <expected>`.
    pub(crate) fn invalid(
        path: impl Into<String>,
        shown: &str,
        expected: impl fmt::Display,
    ) -> ValueError {
        ValueError::new(path, format!("invalid value {shown}: expected {expected}"))
    }
}

/// `parent.key`, with the key quoted when it holds characters a path reader would trip over
/// (a Spark property name stays readable, a key with a newline does not hide it).
pub(crate) fn path_key(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c));
    if plain {
        format!("{parent}.{key}")
    } else {
        format!("{parent}.{}", quote(key))
    }
}

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.detail)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Values that deserialized but break a rule; all of them are listed at once.
    #[error("{}", list_values(.0))]
    Values(Vec<ValueError>),
    /// A profile, values file or `--set` expression that cannot be read or parsed.
    #[error("{origin}: {detail}")]
    Source { origin: String, detail: String },
    /// A template that failed to render (most likely a user's `--templates` copy).
    #[error("template {name}: {detail}")]
    Template { name: String, detail: String },
    /// A rendered document that is not a valid object of a kind sparkup knows.
    #[error("rendered object {object}: {detail}")]
    Manifest { object: String, detail: String },
}

impl Error {
    pub(crate) fn source(origin: impl Into<String>, detail: impl fmt::Display) -> Error {
        Error::Source {
            origin: origin.into(),
            detail: detail.to_string(),
        }
    }

    pub(crate) fn manifest(object: impl Into<String>, detail: impl fmt::Display) -> Error {
        Error::Manifest {
            object: object.into(),
            detail: detail.to_string(),
        }
    }
}

impl From<ValueError> for Error {
    fn from(e: ValueError) -> Self {
        Error::Values(vec![e])
    }
}

fn list_values(errors: &[ValueError]) -> String {
    match errors {
        [one] => one.to_string(),
        many => {
            let lines: Vec<String> = many.iter().map(|e| format!("  {e}")).collect();
            format!("{} invalid values:\n{}", many.len(), lines.join("\n"))
        }
    }
}

/// An error and its causes on one line, without repeating a cause its parent already quotes.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

/// Quotes a string for an error message, cut to a readable length.
pub(crate) fn quote(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() > MAX {
        let cut: String = s.chars().take(MAX).collect();
        format!("{}…", serde_json::to_string(&cut).unwrap_or_default())
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_strings_are_cut_in_messages() {
        let long = "x".repeat(500);
        assert!(quote(&long).chars().count() < 90);
    }
}
