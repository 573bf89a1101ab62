//! W3C Trace Context (`traceparent`), so one trace id follows a request from the HTTP
//! accept through the broker, the worker and the result event to its log entry:
//! https://www.w3.org/TR/trace-context/#traceparent-header

use std::fmt;

use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceParent {
    trace_id: String,
    parent_id: String,
    sampled: bool,
}

impl TraceParent {
    /// A new trace, for work that arrived without one.
    pub fn new_root() -> Self {
        Self {
            trace_id: Uuid::new_v4().simple().to_string(),
            parent_id: new_span_id(),
            sampled: true,
        }
    }

    /// The same trace, continued by a new span.
    pub fn child(&self) -> Self {
        Self {
            trace_id: self.trace_id.clone(),
            parent_id: new_span_id(),
            sampled: self.sampled,
        }
    }

    /// A trace continued from a stored trace id.
    pub fn continuing(trace_id: &str) -> Option<Self> {
        is_hex(trace_id, 32).then(|| Self {
            trace_id: trace_id.to_owned(),
            parent_id: new_span_id(),
            sampled: true,
        })
    }

    /// Parses a `traceparent` header of version 00; anything else is ignored, as the
    /// specification asks, and the caller starts a new trace.
    pub fn parse(header: &str) -> Option<Self> {
        let mut parts = header.trim().split('-');
        let (version, trace_id, parent_id, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let valid = version == "00"
            && parts.next().is_none()
            && is_hex(trace_id, 32)
            && is_hex(parent_id, 16)
            && is_hex(flags, 2)
            && trace_id.bytes().any(|b| b != b'0')
            && parent_id.bytes().any(|b| b != b'0');
        valid.then(|| Self {
            trace_id: trace_id.to_owned(),
            parent_id: parent_id.to_owned(),
            sampled: u8::from_str_radix(flags, 16).is_ok_and(|f| f & 1 == 1),
        })
    }

    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// The span this one continues from.
    pub fn parent_id(&self) -> &str {
        &self.parent_id
    }

    /// Whether the caller records this trace; a trace it does not sample stays unsampled.
    pub fn sampled(&self) -> bool {
        self.sampled
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flags = if self.sampled { "01" } else { "00" };
        write!(f, "00-{}-{}-{flags}", self.trace_id, self.parent_id)
    }
}

fn new_span_id() -> String {
    Uuid::new_v4().simple().to_string()[..16].to_owned()
}

fn is_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_round_trips_and_children_keep_the_trace() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let parsed = TraceParent::parse(header).unwrap();
        assert_eq!(parsed.to_string(), header);
        let child = parsed.child();
        assert_eq!(child.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(child.to_string(), header);
        assert!(TraceParent::parse(&TraceParent::new_root().to_string()).is_some());
    }

    #[test]
    fn invalid_traceparents_are_ignored() {
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert!(TraceParent::parse(bad).is_none(), "{bad}");
        }
    }
}
