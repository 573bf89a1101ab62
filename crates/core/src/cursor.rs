//! Opaque cursors for keyset pagination over `(time, id)`, newest first.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
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

impl Cursor {
    pub fn encode(&self) -> String {
        let micros = self.at.timestamp_micros();
        URL_SAFE_NO_PAD.encode(format!("{micros}.{}", self.id.simple()))
    }

    pub fn decode(raw: &str) -> Result<Self, InvalidCursor> {
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| InvalidCursor)?;
        let text = String::from_utf8(bytes).map_err(|_| InvalidCursor)?;
        let (micros, id) = text.split_once('.').ok_or(InvalidCursor)?;
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
    fn garbage_is_an_invalid_cursor() {
        for raw in [
            "",
            "!!!",
            "bm90LWEtY3Vyc29y",
            &URL_SAFE_NO_PAD.encode("12.nope"),
        ] {
            assert!(Cursor::decode(raw).is_err(), "{raw} was accepted");
        }
    }
}
