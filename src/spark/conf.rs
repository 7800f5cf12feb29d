//! `spark-defaults.conf`, the file every daemon and driver reads its Spark properties from.
//!
//! Spark loads it with `java.util.Properties`, where a line break ends an entry, a trailing
//! backslash continues it onto the next line, and `=`, `:` or white space end a key. So a key is
//! held to Spark's own property-name characters, a value may hold no control character, and a
//! backslash is written as `\\`: no property can add or change another.

use std::collections::BTreeMap;

const MAX_KEY: usize = 256;
const MAX_VALUE: usize = 64 * 1024;

/// Checks one user entry; the error completes the sentence after the field path.
pub(crate) fn check_entry(key: &str, value: &str) -> Result<(), String> {
    let key_ok = key.starts_with("spark.")
        && key.len() > "spark.".len()
        && key.len() <= MAX_KEY
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !key_ok {
        return Err(format!(
            "invalid property name {}: expected a Spark property such as spark.executor.memory \
             (starting with \"spark.\"; letters, digits, '.', '_' and '-')",
            crate::error::quote(key)
        ));
    }
    if let Some(c) = value.chars().find(|c| c.is_control()) {
        // A credential's value is never shown, not even a broken one.
        let shown = match super::secrets::is_credential(key) {
            true => String::new(),
            false => format!(" {}", crate::error::quote(value)),
        };
        return Err(format!(
            "invalid value{shown}: expected text without control characters (found {c:?}): a \
             spark-defaults.conf entry is one line"
        ));
    }
    if value.len() > MAX_VALUE {
        return Err(format!(
            "value of {} bytes: expected at most {MAX_VALUE}",
            value.len()
        ));
    }
    Ok(())
}

/// Writes the file: one `key value` line per property, sorted by key.
/// Entries must have passed [`check_entry`].
pub(crate) fn render(conf: &BTreeMap<String, String>) -> String {
    let mut out = String::from("# Written by sparkup from the cluster's sparkConf values.\n");
    for (key, value) in conf {
        out.push_str(key);
        out.push(' ');
        out.push_str(&value.replace('\\', "\\\\"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_property() {
        let conf = BTreeMap::from([
            ("spark.b".to_string(), "x y".to_string()),
            ("spark.a".to_string(), r"C:\dir\".to_string()),
        ]);
        assert_eq!(
            render(&conf),
            "# Written by sparkup from the cluster's sparkConf values.\nspark.a C:\\\\dir\\\\\nspark.b x y\n"
        );
    }

    #[test]
    fn entries_that_could_add_a_line_are_rejected() {
        assert!(check_entry("spark.a", "1\nspark.b 2").is_err());
        assert!(check_entry("spark.a", "1\rspark.b 2").is_err());
        assert!(check_entry("spark.a\nspark.b", "1").is_err());
        assert!(check_entry("spark.a=b", "1").is_err());
        assert!(check_entry("spark.a b", "1").is_err());
        assert!(check_entry("other.key", "1").is_err());
        assert!(check_entry("spark.", "1").is_err());
        assert!(check_entry("spark.a", "ok: {{ x }} # --- \"'").is_ok());
    }
}
