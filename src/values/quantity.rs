//! Kubernetes resource quantities (`500m`, `2`, `1.5Gi`, `1e3`).
//!
//! Worker cores and memory are computed from the container limits, so sparkup must read
//! quantities exactly as the API server does rather than pass them through as opaque text.
//! A quantity keeps the text the user wrote (that is what the manifest shows) beside its value.

use std::fmt;

use serde::{Deserialize, Serialize};

/// One mebibyte, the unit Spark's memory settings are rounded to.
pub const MIB: u64 = 1024 * 1024;

/// A non-negative quantity: the text as written and its value in thousandths of the base unit
/// (millicores for CPU, millibytes for memory), which is exact for every suffix the API accepts
/// down to `m`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity {
    text: String,
    milli: u128,
}

/// Why a quantity did not parse; the message ends "expected …" in the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    /// Text that is not `<number><suffix>`.
    #[error("not a quantity")]
    Syntax,
    /// A leading minus: resources cannot be negative.
    #[error("a quantity must not be negative")]
    Negative,
    /// More than the API server can represent.
    #[error("the quantity is too large")]
    TooLarge,
    /// Finer than a thousandth (`1n`, `0.0001`): the API server would round it up silently.
    #[error("the quantity is finer than 1m")]
    TooPrecise,
}

impl Quantity {
    pub fn parse(text: &str) -> Result<Quantity, QuantityError> {
        let (number, suffix) = split_number(text)?;
        let (mantissa, decimals) = parse_decimal(number)?;
        let milli = scale(mantissa, decimals, suffix)?;
        Ok(Quantity {
            text: text.to_owned(),
            milli,
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whole units, rounded down (CPU cores; bytes for memory).
    pub fn whole(&self) -> u64 {
        u64::try_from(self.milli / 1000).unwrap_or(u64::MAX)
    }

    pub fn millis(&self) -> u128 {
        self.milli
    }

    /// A memory amount in bytes as a quantity text in MiB, the unit Spark settings use.
    pub fn from_mib(mib: u64) -> Quantity {
        Quantity {
            text: format!("{mib}Mi"),
            milli: u128::from(mib) * u128::from(MIB) * 1000,
        }
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn split_number(text: &str) -> Result<(&str, &str), QuantityError> {
    let text = text.strip_prefix('+').unwrap_or(text);
    if text.starts_with('-') {
        return Err(QuantityError::Negative);
    }
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, suffix) = text.split_at(end);
    if number.is_empty() || number == "." || number.matches('.').count() > 1 {
        return Err(QuantityError::Syntax);
    }
    Ok((number, suffix))
}

/// `12.50` -> (1250, 2). At most 30 significant digits keeps every product within u128.
fn parse_decimal(number: &str) -> Result<(u128, u32), QuantityError> {
    let (int, frac) = number.split_once('.').unwrap_or((number, ""));
    let digits = format!("{int}{frac}");
    let digits = digits.trim_start_matches('0');
    if digits.len() > 30 {
        return Err(QuantityError::TooLarge);
    }
    let mantissa = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| QuantityError::Syntax)?
    };
    Ok((mantissa, frac.len() as u32))
}

/// Applies the suffix and returns thousandths of the base unit.
fn scale(mantissa: u128, decimals: u32, suffix: &str) -> Result<u128, QuantityError> {
    let (binary_pow, decimal_exp): (u32, i32) = match suffix {
        "Ki" => (10, 0),
        "Mi" => (20, 0),
        "Gi" => (30, 0),
        "Ti" => (40, 0),
        "Pi" => (50, 0),
        "Ei" => (60, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "" => (0, 0),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        exp if exp.starts_with(['e', 'E']) => {
            let e: i32 = exp[1..].parse().map_err(|_| QuantityError::Syntax)?;
            if !(-30..=30).contains(&e) {
                return Err(QuantityError::TooLarge);
            }
            (0, e)
        }
        _ => return Err(QuantityError::Syntax),
    };
    // value * 1000 = mantissa * 2^binary_pow * 10^(decimal_exp + 3 - decimals)
    let exp10 = decimal_exp + 3 - decimals as i32;
    let scaled = mantissa
        .checked_mul(1u128 << binary_pow)
        .ok_or(QuantityError::TooLarge)?;
    let value = if exp10 >= 0 {
        10u128
            .checked_pow(exp10 as u32)
            .and_then(|p| scaled.checked_mul(p))
            .ok_or(QuantityError::TooLarge)?
    } else {
        let div = 10u128.pow(exp10.unsigned_abs());
        if scaled % div != 0 {
            return Err(QuantityError::TooPrecise);
        }
        scaled / div
    };
    // The API server caps quantities at 2^63-1 units.
    if value / 1000 > i64::MAX as u128 {
        return Err(QuantityError::TooLarge);
    }
    Ok(value)
}

impl Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a quantity such as 500m, 2, 512Mi or 4Gi")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Quantity, E> {
                Quantity::parse(v).map_err(|e| {
                    E::custom(format!(
                        "invalid value {}: {e}: expected a quantity such as 500m, 2, 512Mi or 4Gi",
                        crate::error::quote(v)
                    ))
                })
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Quantity, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Quantity, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Quantity, E> {
                self.visit_str(&v.to_string())
            }
        }
        d.deserialize_any(V)
    }
}

/// Text `Quantity::parse` reads: a sign-less or `+` number with at most one `.`, then one suffix
/// or a decimal exponent from -30 to 30. ECMAScript syntax, as JSON Schema's `pattern` is.
const QUANTITY_PATTERN: &str = r"^\+?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[KMGTPE]i|[numkMGTPE]|[eE][+-]?0*(?:[0-9]|[12][0-9]|30))?$";

/// What `deserialize` takes: text of the grammar `parse` reads, or a number (which it reads as
/// its decimal text, so a negative one is refused). How large and how fine a quantity may be
/// (2^63-1 units, nothing finer than 1m) is left to `parse`: a pattern cannot say it exactly.
impl schemars::JsonSchema for Quantity {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Quantity".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A Kubernetes quantity: a number, or text such as 500m, 2, 1.5, 512Mi or 4Gi (suffixes Ki, Mi, Gi, Ti, Pi, Ei; n, u, m, k, M, G, T, P, E; or an exponent such as e3); never negative, nothing finer than 1m",
            "anyOf": [
                { "type": "string", "pattern": QUANTITY_PATTERN },
                { "type": "number", "minimum": 0, "maximum": i64::MAX }
            ]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn milli(text: &str) -> Result<u128, QuantityError> {
        Quantity::parse(text).map(|q| q.millis())
    }

    #[test]
    fn parses_the_suffixes_the_api_server_accepts() {
        let cases: &[(&str, u128)] = &[
            ("500m", 500),
            ("2", 2000),
            ("1.5", 1500),
            ("0.25", 250),
            ("1Ki", 1024 * 1000),
            ("512Mi", 512 * 1024 * 1024 * 1000),
            ("1.5Gi", 3 * 512 * 1024 * 1024 * 1000),
            ("1k", 1_000_000),
            ("2G", 2_000_000_000_000),
            ("1e3", 1_000_000),
            ("1E-3", 1),
            ("+1", 1000),
            ("0", 0),
            (".5", 500),
        ];
        for (text, expected) in cases {
            assert_eq!(milli(text), Ok(*expected), "{text}");
        }
    }

    #[test]
    fn rejects_what_the_api_server_rejects() {
        assert_eq!(milli("-1Gi"), Err(QuantityError::Negative));
        assert_eq!(milli("2x"), Err(QuantityError::Syntax));
        assert_eq!(milli(""), Err(QuantityError::Syntax));
        assert_eq!(milli("1.2.3"), Err(QuantityError::Syntax));
        assert_eq!(milli("Gi"), Err(QuantityError::Syntax));
        assert_eq!(milli("1 Gi"), Err(QuantityError::Syntax));
        assert_eq!(milli("1gi"), Err(QuantityError::Syntax));
        assert_eq!(milli("1n"), Err(QuantityError::TooPrecise));
        assert_eq!(milli("99999999999Ei"), Err(QuantityError::TooLarge));
        assert_eq!(milli(&"9".repeat(40)), Err(QuantityError::TooLarge));
    }

    #[test]
    fn whole_units_round_down() {
        assert_eq!(Quantity::parse("1500m").unwrap().whole(), 1);
        assert_eq!(Quantity::parse("1Gi").unwrap().whole(), 1 << 30);
        assert_eq!(Quantity::from_mib(1024).whole(), 1 << 30);
    }
}
