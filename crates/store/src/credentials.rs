//! Integration credentials as the store holds and hands them out: sealed in the row,
//! opened only for the one who calls the SaaS.

use serde_json::Value;

/// Credentials as opened from their sealed form. They never reach a log line, even
/// through a stray `{:?}`; [`Credentials::expose`] hands them to the one who calls the
/// SaaS.
#[derive(Clone, PartialEq)]
pub struct Credentials(Option<Value>);

impl Credentials {
    pub(crate) fn opened(credentials: Option<Value>) -> Self {
        Self(credentials)
    }

    pub fn expose(&self) -> &Value {
        static NONE: Value = Value::Null;
        self.0.as_ref().unwrap_or(&NONE)
    }

    /// Whether none could be opened (a key that is no longer configured).
    pub fn is_null(&self) -> bool {
        self.0.as_ref().is_none_or(Value::is_null)
    }
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

impl PartialEq<Value> for Credentials {
    fn eq(&self, other: &Value) -> bool {
        self.expose() == other
    }
}

/// The credentials as the row holds them.
pub(crate) enum StoredCredentials {
    Sealed {
        key_id: String,
        bytes: Vec<u8>,
    },
    /// From before sealing, until `seal_credentials` runs.
    Plain(Value),
    Missing,
}
