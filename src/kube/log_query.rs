//! One request for a container's log, and where a followed log stands: the kubelet's
//! timestamps, compared to the nanosecond, so a stream opened again prints no line twice.

/// The query of one log request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LogQuery {
    pub(crate) container: String,
    pub(crate) follow: bool,
    pub(crate) timestamps: bool,
    pub(crate) since_time: Option<String>,
    pub(crate) since_seconds: Option<u64>,
    pub(crate) tail_lines: Option<u64>,
    pub(crate) previous: bool,
}

impl LogQuery {
    /// The last `lines` of a container's log.
    pub(crate) fn tail(container: &str, lines: u64) -> LogQuery {
        LogQuery {
            container: container.into(),
            tail_lines: Some(lines),
            ..Default::default()
        }
    }

    /// Followed from where `resume` stands, with timestamps.
    pub(crate) fn resumed(container: &str, resume: &Resume) -> LogQuery {
        LogQuery {
            container: container.into(),
            follow: true,
            timestamps: true,
            since_time: resume.since(),
            ..Default::default()
        }
    }

    pub(crate) fn query_string(&self) -> String {
        let mut query = format!("container={}", self.container);
        for (flag, name) in [
            (self.follow, "follow"),
            (self.timestamps, "timestamps"),
            (self.previous, "previous"),
        ] {
            if flag {
                query.push_str(&format!("&{name}=true"));
            }
        }
        if let Some(since) = &self.since_time {
            query.push_str(&format!("&sinceTime={since}"));
        }
        if let Some(seconds) = self.since_seconds {
            query.push_str(&format!("&sinceSeconds={seconds}"));
        }
        if let Some(lines) = self.tail_lines {
            query.push_str(&format!("&tailLines={lines}"));
        }
        query
    }
}

/// Where a followed log stands: the newest line's timestamp, so that a stream opened again
/// from the same second prints no line twice.
#[derive(Debug, Default)]
pub(crate) struct Resume {
    printed: Option<Stamp>,
}

impl Resume {
    /// The line's timestamp and text, unless an earlier stream gave the line already. A line
    /// without a timestamp is always new.
    pub(crate) fn fresh<'a>(&mut self, line: &'a str) -> Option<(Option<&'a str>, &'a str)> {
        let Some((stamp_text, text)) = line
            .split_once(' ')
            .filter(|(s, _)| Stamp::parse(s).is_some())
        else {
            return Some((None, line));
        };
        let stamp = Stamp::parse(stamp_text)?;
        if self.printed.as_ref().is_some_and(|p| stamp <= *p) {
            return None;
        }
        self.printed = Some(stamp);
        Some((Some(stamp_text), text))
    }

    /// The second to ask from (`sinceTime`), once a line was printed.
    pub(crate) fn since(&self) -> Option<String> {
        self.printed.as_ref().map(Stamp::whole_seconds)
    }
}

/// An RFC 3339 UTC timestamp as the kubelet writes it, comparable to the nanosecond.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Stamp {
    /// `2026-11-22T03:30:00`
    seconds: String,
    nanos: u32,
}

impl Stamp {
    fn parse(text: &str) -> Option<Stamp> {
        let text = text.strip_suffix('Z')?;
        let (seconds, fraction) = text.split_once('.').unwrap_or((text, ""));
        let well_formed = seconds.len() == 19
            && seconds.as_bytes()[10] == b'T'
            && fraction.len() <= 9
            && fraction.bytes().all(|b| b.is_ascii_digit());
        if !well_formed {
            return None;
        }
        let nanos = format!("{fraction:0<9}").parse().ok()?;
        Some(Stamp {
            seconds: seconds.to_string(),
            nanos,
        })
    }

    /// The second it falls in, as `sinceTime` takes it.
    fn whole_seconds(&self) -> String {
        format!("{}Z", self.seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_compare_to_the_nanosecond_whatever_their_digits() {
        let a = Stamp::parse("2026-11-22T03:30:05.1Z").unwrap();
        let b = Stamp::parse("2026-11-22T03:30:05.12Z").unwrap();
        let c = Stamp::parse("2026-11-22T03:30:05Z").unwrap();
        assert!(c < a && a < b);
        assert_eq!(a.whole_seconds(), "2026-11-22T03:30:05Z");
        assert_eq!(Stamp::parse("yesterday"), None);
        assert_eq!(Stamp::parse("2026-11-22 03:30:05Z"), None);
    }

    #[test]
    fn a_resumed_stream_prints_no_line_twice() {
        let mut out = Vec::new();
        let mut resume = Resume::default();
        for line in [
            "2026-11-22T03:30:05.100000000Z one",
            "2026-11-22T03:30:05.200000000Z two",
            // the next stream starts at the whole second again
            "2026-11-22T03:30:05.100000000Z one",
            "2026-11-22T03:30:05.200000000Z two",
            "2026-11-22T03:30:06.000000001Z three",
            "no timestamp",
        ] {
            if let Some((_, text)) = resume.fresh(line) {
                out.extend_from_slice(format!("{text}\n").as_bytes());
            }
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "one\ntwo\nthree\nno timestamp\n"
        );
    }
}
