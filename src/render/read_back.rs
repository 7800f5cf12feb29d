//! Reading rendered templates back into objects, without a general YAML parser when it can.
//!
//! Templates lay objects out as block mappings and sequences whose leaves are JSON (every
//! interpolated value goes through the JSON formatter) or plain words (`kind: Service`,
//! `protocol: TCP`). Reading that back through serde-saphyr was more than half of a render's
//! work. [`documents`] first tries a reader of exactly that shape and nothing more: on anything
//! else (a tab, a tag or an anchor, a flow or block scalar over several lines, a float, a
//! duplicate key, an empty document, a character YAML reads otherwise than JSON, a text big
//! enough to meet the parser's limits) it gives up, and the text goes to serde-saphyr as before.
//! So a user's template reads as it always did and every error message is serde-saphyr's; and
//! what the simple reader accepts it reads as serde-saphyr does, which the tests check on every
//! profile and fixture and on the edges of the shape.

use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// Past these, serde-saphyr's budget (nodes, nesting, documents) could refuse a text.
const MAX_TEXT: usize = 256 * 1024;
const MAX_DEPTH: usize = 48;
const MAX_DOCUMENTS: usize = 1000;
/// serde-saphyr gives up looking for a key's `:` after 1024 bytes.
const MAX_KEY: usize = 1000;

/// Plain words YAML reads as something other than a string, in some schema or case.
const SPECIAL_WORDS: &[&str] = &[
    "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf", "infinity",
];

/// Every YAML document of a rendered template.
pub(crate) fn documents(text: &str) -> Result<Vec<Value>, String> {
    match simple_documents(text) {
        Some(docs) => Ok(docs),
        None => crate::values::parse_yaml(text),
    }
}

/// One line that is neither blank nor a comment, without its indentation.
#[derive(Debug, Clone, Copy)]
struct Line<'a> {
    indent: usize,
    text: &'a str,
}

/// The documents of a text of the simple shape, as serde-saphyr reads them; `None` otherwise.
fn simple_documents(text: &str) -> Option<Vec<Value>> {
    if text.len() > MAX_TEXT || !plain_characters(text) {
        return None;
    }
    let mut docs = Vec::new();
    let mut lines = Vec::new();
    // After a `---`, a document follows, even an empty one (which this reader leaves alone).
    let mut started = false;
    for raw in text.split('\n') {
        let content = raw.trim_end_matches(' ');
        if content == "---" {
            if started || !lines.is_empty() {
                docs.push(document(&lines)?);
                lines.clear();
            }
            started = true;
            continue;
        }
        let body = content.trim_start_matches(' ');
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        lines.push(Line {
            indent: content.len() - body.len(),
            text: body,
        });
    }
    if started || !lines.is_empty() {
        docs.push(document(&lines)?);
    }
    (docs.len() <= MAX_DOCUMENTS).then_some(docs)
}

/// Printable ASCII and newlines, and other characters YAML and JSON agree on: no tab, carriage
/// return or other control, no DEL or C1 control, no line or paragraph separator, no BOM.
fn plain_characters(text: &str) -> bool {
    let ascii = |b: u8| b == b'\n' || (0x20..0x7f).contains(&b);
    if text.bytes().all(|b| ascii(b) || b >= 0x80) {
        return text.is_ascii()
            || text.chars().all(|c| {
                c.is_ascii()
                    || !matches!(
                        c,
                        '\u{80}'
                            ..='\u{9f}'
                                | '\u{2028}'
                                | '\u{2029}'
                                | '\u{feff}'
                                | '\u{fffe}'
                                | '\u{ffff}'
                    )
            });
    }
    false
}

fn document(lines: &[Line]) -> Option<Value> {
    if lines.first()?.indent != 0 {
        return None;
    }
    let mut block = Block {
        lines,
        pos: 0,
        depth: 0,
    };
    let value = block.node(0)?;
    (block.pos == lines.len()).then_some(value)
}

/// The lines of one document and how far they are read.
struct Block<'l, 'a> {
    lines: &'l [Line<'a>],
    pos: usize,
    depth: usize,
}

impl<'a> Block<'_, 'a> {
    /// The mapping or sequence whose first line is the current one, at `indent`.
    fn node(&mut self, indent: usize) -> Option<Value> {
        let text = self.lines.get(self.pos)?.text;
        match is_entry(text) {
            true => self.sequence(indent),
            false => self.mapping(indent, text),
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// A block mapping whose keys stand at `indent`; `first` is the current line's text from its
    /// first key on (a sequence entry's mapping starts after the dash).
    fn mapping(&mut self, indent: usize, first: &'a str) -> Option<Value> {
        self.enter()?;
        let mut map = Map::new();
        let mut text = first;
        loop {
            let (key, rest) = split_key(text)?;
            self.pos += 1;
            let value = self.value_after(indent, rest)?;
            if map.insert(key, value).is_some() {
                return None;
            }
            match self.lines.get(self.pos) {
                Some(next) if next.indent == indent && !is_entry(next.text) => text = next.text,
                // Deeper is no key of this mapping; a dash here would be a compact sequence.
                Some(next) if next.indent >= indent => return None,
                _ => break,
            }
        }
        self.depth -= 1;
        Some(Value::Object(map))
    }

    /// The value of a key at `indent` whose line goes on with `rest` after the colon.
    fn value_after(&mut self, indent: usize, rest: &str) -> Option<Value> {
        let rest = rest.trim_start_matches(' ');
        let next = self.lines.get(self.pos).copied();
        if !rest.is_empty() {
            // A deeper line would continue a plain scalar (or be an error).
            return match next {
                Some(next) if next.indent > indent => None,
                _ => scalar(rest, self.depth),
            };
        }
        match next {
            Some(next) if next.indent > indent => self.node(next.indent),
            Some(next) if next.indent == indent && is_entry(next.text) => None,
            _ => Some(Value::Null),
        }
    }

    /// A block sequence whose dashes stand at `indent`.
    fn sequence(&mut self, indent: usize) -> Option<Value> {
        self.enter()?;
        let mut items = Vec::new();
        while let Some(line) = self.lines.get(self.pos).copied() {
            if line.indent < indent {
                break;
            }
            if line.indent > indent || !is_entry(line.text) {
                return None;
            }
            let after = &line.text[1..];
            let body = after.trim_start_matches(' ');
            let column = indent + 1 + (after.len() - body.len());
            let item = if body.is_empty() {
                self.pos += 1;
                match self.lines.get(self.pos) {
                    Some(next) if next.indent > indent => self.node(next.indent)?,
                    _ => Value::Null,
                }
            } else if is_entry(body) {
                return None;
            } else if split_key(body).is_some() {
                self.mapping(column, body)?
            } else {
                self.pos += 1;
                match self.lines.get(self.pos) {
                    Some(next) if next.indent > indent => return None,
                    _ => scalar(body, self.depth)?,
                }
            };
            items.push(item);
        }
        self.depth -= 1;
        Some(Value::Array(items))
    }
}

fn is_entry(text: &str) -> bool {
    text == "-" || text.starts_with("- ")
}

/// A mapping key (a plain word or a JSON string) and the rest of the line after its colon.
fn split_key(text: &str) -> Option<(String, &str)> {
    let (key, rest) = if text.starts_with('"') {
        let end = json_string_end(text)?;
        let key: String = serde_json::from_str(&text[..=end]).ok()?;
        (key, &text[end + 1..])
    } else {
        let end = text.find(':')?;
        let key = &text[..end];
        if !plain_word(key) {
            return None;
        }
        (key.to_owned(), &text[end..])
    };
    let rest = rest.strip_prefix(':')?;
    let ends = rest.is_empty() || rest.starts_with(' ');
    (ends && key.len() <= MAX_KEY).then_some((key, rest))
}

/// Where the JSON string that `text` starts with ends (its closing quote).
fn json_string_end(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// A word that every YAML schema reads as the same string.
fn plain_word(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'/' | b'-'))
        && !SPECIAL_WORDS.iter().any(|w| w.eq_ignore_ascii_case(text))
}

/// A scalar or flow value that fills the rest of its line.
fn scalar(text: &str, depth: usize) -> Option<Value> {
    match text.as_bytes()[0] {
        b'"' | b'[' | b'{' => {
            let mut de = serde_json::Deserializer::from_str(text);
            let value = Strict { depth }.deserialize(&mut de).ok()?;
            de.end().ok()?;
            Some(value)
        }
        _ => match text {
            "true" => Some(Value::Bool(true)),
            "false" => Some(Value::Bool(false)),
            "null" => Some(Value::Null),
            _ if plain_word(text) => Some(Value::String(text.to_owned())),
            _ => integer(text).map(Value::from),
        },
    }
}

/// `0` or a decimal integer with no sign but `-`, no leading zero and no room to overflow.
fn integer(text: &str) -> Option<i64> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let canonical = match digits.as_bytes() {
        [b'0'] => digits.len() == text.len(),
        [b'1'..=b'9', rest @ ..] => rest.len() < 18 && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    canonical.then(|| text.parse().ok()).flatten()
}

/// JSON as YAML's flow syntax reads it: no floats, no duplicate or overlong keys, bounded depth.
struct Strict {
    depth: usize,
}

#[derive(Debug)]
struct Refused;

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("not of the simple shape")
    }
}

impl<'de> DeserializeSeed<'de> for Strict {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Strict {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Value, E> {
        Err(E::custom(Refused))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let depth = self.inner::<A::Error>()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(Strict { depth })? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let depth = self.inner::<A::Error>()?;
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            let value = access.next_value_seed(Strict { depth })?;
            if key.len() > MAX_KEY || map.insert(key, value).is_some() {
                return Err(de::Error::custom(Refused));
            }
        }
        Ok(Value::Object(map))
    }
}

impl Strict {
    fn inner<E: de::Error>(&self) -> Result<usize, E> {
        match self.depth + 1 {
            depth if depth <= MAX_DEPTH => Ok(depth),
            _ => Err(E::custom(Refused)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{RenderOptions, templates};
    use crate::values::{Cluster, ValuesOptions};

    fn saphyr(text: &str) -> Result<Vec<Value>, String> {
        crate::values::parse_yaml(text)
    }

    fn clusters() -> Vec<(String, Cluster)> {
        let profiles = crate::values::profiles::names().map(|p| ValuesOptions {
            profile: p.to_string(),
            ..ValuesOptions::default()
        });
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/suite/fixtures/valid");
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        let fixtures = files.into_iter().map(|f| ValuesOptions {
            files: vec![f],
            ..ValuesOptions::default()
        });
        profiles
            .chain(fixtures)
            .map(|o| (format!("{o:?}"), crate::load(&o).unwrap()))
            .collect()
    }

    /// The built-in templates write nothing the simple reader leaves to serde-saphyr.
    #[test]
    fn every_render_reads_simply_and_as_serde_saphyr_reads_it() {
        for (origin, cluster) in clusters() {
            for t in templates::render(&cluster, &RenderOptions::default()).unwrap() {
                let simple = simple_documents(&t.text)
                    .unwrap_or_else(|| panic!("{origin}: {} is not simple", t.name));
                assert_eq!(Ok(simple), saphyr(&t.text), "{origin}: {}", t.name);
            }
        }
    }

    #[test]
    fn what_the_simple_reader_takes_it_reads_as_serde_saphyr() {
        let long = format!("{}: 1\n", "k".repeat(MAX_KEY));
        let cases = [
            "",
            "# only a comment\n",
            "\n\n",
            "a: 1\n",
            "---\na: 1\n",
            "# c\n---\na: 1\n---\nb: x\n",
            "a:\n  b:\n    - c: 1\n      d: [1, -2, \"x\"]\n    -\n      e: {}\n  f:\n",
            "a:\n   b: 1\n   c:\n     - x\n     -   p: 2\n         q: 3\n",
            "a: \"x\\u0001\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9 # : - \"\n",
            "a: null\nb: true\nc: false\nd: 0\ne: -12\nf: apps/v1\ng: x_y.z-1\n",
            "\"k.conf\": \"v\"\n\"\": []\n",
            "- a\n- b: 1\n  c: 2\n-\n- \"x\"\n- [{\"a\":{\"b\":[]}}]\n",
            "a: \"é ü 😀 \\ud83d\\ude00\"\n",
            "a: 123456789012345678\nb: -123456789012345678\n",
            "a: {\"x\":1}   \nb:   2\n",
            &long,
        ];
        for case in cases {
            let simple = simple_documents(case);
            assert!(simple.is_some(), "{case:?} is simple");
            assert_eq!(Ok(simple.unwrap()), saphyr(case), "{case:?}");
        }
    }

    #[test]
    fn anything_else_goes_to_serde_saphyr() {
        let long = format!("{}: 1\n", "k".repeat(MAX_KEY + 1));
        let deep = format!("a: {}1{}\n", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        let cases = [
            "a: 1.5\n",
            "a: 1e3\n",
            "a: [1.0]\n",
            "a: yes\n",
            "a: Yes\n",
            "a: TRUE\n",
            "a: ~\n",
            "a: 0755\n",
            "a: -0\n",
            "a: +1\n",
            "a: 0x1f\n",
            "a: 1234567890123456789\n",
            "a: b c\n",
            "a: &x 1\n",
            "a: !t x\n",
            "a: *x\n",
            "a: |\n  x\n",
            "a: >\n  x\n",
            "a: b\n  c\n",
            "a: \"b\"\n  c\n",
            "a: 1 # c\n",
            "a: # c\n",
            "a:\tb\n",
            "a: 1\r\n",
            "a: 1\na: 2\n",
            "a: {\"x\":1,\"x\":2}\n",
            "a: \"\u{85}\"\n",
            "a: \"\u{2028}\"\n",
            "\u{feff}a: 1\n",
            "a: \"\u{7f}\"\n",
            "  a: 1\n",
            "a: [1,\n  2]\n",
            "a:\n- b\n",
            "--- a: 1\n",
            "a: 1\n...\n",
            "%YAML 1.2\n---\na: 1\n",
            "? a\n: b\n",
            "a: 1\n---\n",
            "---\n---\na: 1\n",
            "a: \"x\" y\n",
            "1: a\n",
            "true: a\n",
            "on: a\n",
            "a:b\n",
            "a : b\n",
            "- - a\n",
            "- a\nb: 1\n",
            "a:\n  - b\n  c: 1\n",
            "a: 1\n  b: 2\n",
            "- a: 1\n b: 2\n",
            "- # c\n",
            "a: 'x'\n",
            "a: \"x\n",
            "a: {x: 1}\n",
            &long,
            &deep,
        ];
        for case in cases {
            assert_eq!(simple_documents(case), None, "{case:?}");
        }
        // The errors stay serde-saphyr's.
        assert_eq!(documents("a: 1\na: 2\n"), saphyr("a: 1\na: 2\n"));
        assert!(documents("a: [1,\n  2]\n").is_ok());
    }
}
