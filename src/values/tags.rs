//! Tags in values files. Values are plain YAML: a tag such as `!!binary` would quietly turn a
//! value into something else (serde-saphyr decodes it and hands over the bytes as text), so any
//! tag beyond the plain core types is an error that names its field. serde-saphyr's own event
//! parser reads the text once more for that, with a field path kept as it goes.

use serde_saphyr::granit_parser::{Event, Parser};

/// Core-schema tags that only restate what a plain value already is.
const PLAIN_TAGS: &[&str] = &["str", "int", "float", "bool", "null", "map", "seq"];

/// An error naming the first tag beyond the plain core types, with its field, line and column.
pub(super) fn reject_tags(text: &str) -> Result<(), String> {
    // Every tag starts with `!`: a text without one needs no second reading.
    if !text.contains('!') {
        return Ok(());
    }
    let mut path = TagPath::default();
    for event in Parser::new_from_str(text) {
        // Syntax errors are the deserializer's to report; it has read the text already.
        let Ok((event, span)) = event else {
            return Ok(());
        };
        let tag = match &event {
            Event::Scalar(_, _, _, tag)
            | Event::SequenceStart(_, _, tag)
            | Event::MappingStart(_, _, tag) => tag.clone(),
            _ => None,
        };
        if let Some(tag) = tag {
            let plain = tag.handle() == "tag:yaml.org,2002:" && PLAIN_TAGS.contains(&tag.suffix());
            if !plain {
                let shown = match tag.handle() {
                    "tag:yaml.org,2002:" => format!("!!{}", tag.suffix()),
                    handle => format!("{handle}{}", tag.suffix()),
                };
                return Err(format!(
                    "{}: the YAML tag {shown} at line {}, column {}: expected a plain value",
                    path.at(&event),
                    span.start.line(),
                    span.start.col() + 1
                ));
            }
        }
        path.step(&event);
    }
    Ok(())
}

/// Where the parser is, as a field path (`workers.tolerations[0].value`).
#[derive(Default)]
struct TagPath {
    frames: Vec<Frame>,
}

enum Frame {
    /// A mapping: the key being read or last read, and whether a key comes next.
    Map {
        key: String,
        key_next: bool,
    },
    Seq {
        index: usize,
    },
}

impl TagPath {
    /// The path of the node `event` starts.
    fn at(&self, event: &Event) -> String {
        let mut out = String::new();
        for (i, frame) in self.frames.iter().enumerate() {
            let last = i + 1 == self.frames.len();
            match frame {
                Frame::Map { key_next: true, .. } if last => {
                    if let Event::Scalar(key, ..) = event {
                        out.push_str(&format!(".{key}"));
                    }
                }
                Frame::Map { key, .. } => out.push_str(&format!(".{key}")),
                Frame::Seq { index } => out.push_str(&format!("[{index}]")),
            }
        }
        match out.trim_start_matches('.') {
            "" => "the document".into(),
            path => path.into(),
        }
    }

    fn step(&mut self, event: &Event) {
        match event {
            Event::MappingStart(..) => self.frames.push(Frame::Map {
                key: String::new(),
                key_next: true,
            }),
            Event::SequenceStart(..) => self.frames.push(Frame::Seq { index: 0 }),
            Event::MappingEnd | Event::SequenceEnd => {
                self.frames.pop();
                self.value_done();
            }
            Event::Scalar(text, ..) => match self.frames.last_mut() {
                Some(Frame::Map { key, key_next }) if *key_next => {
                    *key = text.to_string();
                    *key_next = false;
                }
                _ => self.value_done(),
            },
            Event::Alias(..) => self.value_done(),
            _ => {}
        }
    }

    /// A value ended: a mapping expects its next key, a sequence its next item.
    fn value_done(&mut self) {
        match self.frames.last_mut() {
            Some(Frame::Map { key_next, .. }) => *key_next = true,
            Some(Frame::Seq { index }) => *index += 1,
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tree::parse_values;

    #[test]
    fn tagged_values_are_rejected_with_their_field() {
        let err = parse_values("workers:\n  env:\n    A: !!binary aGk=\n").unwrap_err();
        assert_eq!(
            err,
            "workers.env.A: the YAML tag !!binary at line 3, column 17: expected a plain value"
        );
        let err =
            parse_values("storage:\n  - name: a\n  - size: !!timestamp 2001-12-14\n").unwrap_err();
        assert!(
            err.starts_with("storage[1].size: the YAML tag !!timestamp"),
            "{err}"
        );
        assert!(parse_values("a: !!str 1\nb: !!int 2\n").is_ok());
    }
}
