//! Cursors for keyset pagination over `(time, id)`, newest first. Opaque to clients,
//! yet plain text (`<microseconds>.<uuid without hyphens>`) rather than base64 of it,
//! so that the spec's pattern for a cursor admits exactly the strings this decodes:
//! every well-formed cursor names a position, and a client (or a fuzzer) can tell a
//! cursor that is malformed from one that merely points past the end.

use chrono::{DateTime, Utc};
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub at: DateTime<Utc>,
    pub id: Uuid,
}

#[derive(Debug, thiserror::Error)]
#[error("the cursor is not one this service handed out")]
pub struct InvalidCursor;

/// Sixteen digits of microseconds reach past the year 2286 either way from 1970, well
/// inside what chrono and PostgreSQL represent; `schemas/openapi.yaml` says the same.
const MAX_MICROS_DIGITS: usize = 16;
const SIMPLE_UUID_CHARS: usize = 32;

impl Cursor {
    pub fn encode(&self) -> String {
        let micros = self.at.timestamp_micros();
        format!("{micros}.{}", self.id.simple())
    }

    pub fn decode(raw: &str) -> Result<Self, InvalidCursor> {
        let (micros, id) = raw.split_once('.').ok_or(InvalidCursor)?;
        let digits = micros.strip_prefix('-').unwrap_or(micros);
        let well_formed = (1..=MAX_MICROS_DIGITS).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && id.len() == SIMPLE_UUID_CHARS
            && id.bytes().all(|b| b.is_ascii_hexdigit());
        if !well_formed {
            return Err(InvalidCursor);
        }
        let micros: i64 = micros.parse().map_err(|_| InvalidCursor)?;
        Ok(Self {
            at: DateTime::from_timestamp_micros(micros).ok_or(InvalidCursor)?,
            id: Uuid::parse_str(id).map_err(|_| InvalidCursor)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips() {
        let cursor = Cursor {
            at: DateTime::from_timestamp_micros(1_790_000_000_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()).unwrap(), cursor);
    }

    #[test]
    fn a_cursor_of_the_spec_pattern_names_a_position() {
        for raw in [
            "0.00000000000000000000000000000000",
            "-9999999999999999.FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            "9999999999999999.0123456789abcdef0123456789abcdef",
        ] {
            assert!(Cursor::decode(raw).is_ok(), "{raw} was refused");
        }
    }

    #[test]
    fn garbage_is_an_invalid_cursor() {
        for raw in [
            "",
            "!!!",
            "bm90LWEtY3Vyc29y",
            "12.nope",
            "+12.0123456789abcdef0123456789abcdef",
            "12345678901234567.0123456789abcdef0123456789abcdef",
            "12.0123456789abcdef0123456789abcde",
        ] {
            assert!(Cursor::decode(raw).is_err(), "{raw} was accepted");
        }
    }
}
