//! The key that names a SaaS service (`"slack"`, `"microsoft365"`): parsed once where it
//! enters, so the connectors are never asked about a string nobody checked.

use std::borrow::Borrow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The longest key; keys are short names, not free text.
pub const MAX_SERVICE_KEY_LEN: usize = 64;

/// A service key: 1 to 64 lowercase ASCII letters, digits, `-` or `_`.
///
/// It holds its bytes inline, so it is `Copy` and a vendor's key can be a `const`. It
/// compares, orders and hashes as its text, so maps keyed by it can be asked with a
/// `&str`.
#[derive(Clone, Copy)]
pub struct ServiceKey {
    len: u8,
    // Bytes past `len` are always zero.
    bytes: [u8; MAX_SERVICE_KEY_LEN],
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidServiceKey {
    #[error("a service key cannot be empty")]
    Empty,
    #[error("a service key has at most {MAX_SERVICE_KEY_LEN} characters")]
    TooLong,
    #[error("{0:?} is not a service key: only lowercase letters, digits, '-' and '_'")]
    Character(String),
}

impl ServiceKey {
    /// Reads a key as stored or as a client sent it.
    pub fn parse(text: &str) -> Result<Self, InvalidServiceKey> {
        Self::build(text).map_err(|error| match error {
            Refused::Empty => InvalidServiceKey::Empty,
            Refused::TooLong => InvalidServiceKey::TooLong,
            Refused::Character => InvalidServiceKey::Character(text.to_owned()),
        })
    }

    /// A key written in the code; a malformed one stops the build when used in a
    /// `const`.
    ///
    /// # Panics
    ///
    /// When `text` is not a key, which for a `const` happens at compile time.
    pub const fn from_static(text: &'static str) -> Self {
        match Self::build(text) {
            Ok(key) => key,
            Err(_) => panic!("a built-in service key is malformed"),
        }
    }

    pub const fn as_str(&self) -> &str {
        let (key, _) = self.bytes.split_at(self.len as usize);
        match std::str::from_utf8(key) {
            Ok(key) => key,
            // Only ASCII gets in (`build`), so this never happens.
            Err(_) => "",
        }
    }

    const fn build(text: &str) -> Result<Self, Refused> {
        let given = text.as_bytes();
        if given.is_empty() {
            return Err(Refused::Empty);
        }
        if given.len() > MAX_SERVICE_KEY_LEN {
            return Err(Refused::TooLong);
        }
        let mut bytes = [0; MAX_SERVICE_KEY_LEN];
        let mut i = 0;
        while i < given.len() {
            let byte = given[i];
            if !(byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-' || byte == b'_')
            {
                return Err(Refused::Character);
            }
            bytes[i] = byte;
            i += 1;
        }
        // At most 64, checked above.
        #[allow(clippy::cast_possible_truncation)]
        let len = given.len() as u8;
        Ok(Self { len, bytes })
    }
}

enum Refused {
    Empty,
    TooLong,
    Character,
}

impl fmt::Display for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ServiceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq for ServiceKey {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for ServiceKey {}

impl PartialOrd for ServiceKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ServiceKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for ServiceKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl Borrow<str> for ServiceKey {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for ServiceKey {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for ServiceKey {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for ServiceKey {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl FromStr for ServiceKey {
    type Err = InvalidServiceKey;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Self::parse(text)
    }
}

impl Serialize for ServiceKey {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ServiceKey {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// What a lookup by service may be given: a key, or the text of one as a row or a
/// client holds it, parsed on the way in (text that is no key names no service).
pub trait IntoServiceKey {
    fn into_service_key(self) -> Result<ServiceKey, InvalidServiceKey>;
}

impl IntoServiceKey for ServiceKey {
    fn into_service_key(self) -> Result<ServiceKey, InvalidServiceKey> {
        Ok(self)
    }
}

impl IntoServiceKey for &ServiceKey {
    fn into_service_key(self) -> Result<ServiceKey, InvalidServiceKey> {
        Ok(*self)
    }
}

impl IntoServiceKey for &str {
    fn into_service_key(self) -> Result<ServiceKey, InvalidServiceKey> {
        ServiceKey::parse(self)
    }
}

impl IntoServiceKey for &String {
    fn into_service_key(self) -> Result<ServiceKey, InvalidServiceKey> {
        ServiceKey::parse(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_of_lowercase_letters_digits_dashes_and_underscores_parses() {
        for text in ["scim", "microsoft365", "google-workspace", "a_b", "x"] {
            assert_eq!(ServiceKey::parse(text).unwrap().as_str(), text);
        }
    }

    #[test]
    fn empty_long_and_odd_keys_are_refused() {
        assert_eq!(ServiceKey::parse(""), Err(InvalidServiceKey::Empty));
        assert_eq!(
            ServiceKey::parse(&"a".repeat(65)),
            Err(InvalidServiceKey::TooLong)
        );
        assert!(ServiceKey::parse(&"a".repeat(64)).is_ok());
        for text in ["Slack", "slack ", "sl.ack", "slack\u{e9}", "../x"] {
            assert!(
                matches!(
                    ServiceKey::parse(text),
                    Err(InvalidServiceKey::Character(_))
                ),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_key_is_a_plain_string_in_json() {
        let key = ServiceKey::from_static("zoom");
        assert_eq!(serde_json::to_value(key).unwrap(), "zoom");
        let back: ServiceKey = serde_json::from_str("\"zoom\"").unwrap();
        assert_eq!(back, key);
        assert!(serde_json::from_str::<ServiceKey>("\"Zoom!\"").is_err());
    }

    #[test]
    fn keys_compare_by_their_text() {
        let a = ServiceKey::from_static("github");
        assert_eq!(a, ServiceKey::parse("github").unwrap());
        assert_ne!(a, ServiceKey::from_static("google"));
        assert!(a < ServiceKey::from_static("google"));
        assert!(ServiceKey::from_static("slack") < ServiceKey::from_static("zoom2"));
        assert_eq!(
            [a, ServiceKey::from_static("zoom")].join(", "),
            "github, zoom"
        );
        assert_eq!(a, "github");
        assert_eq!(format!("{a} {a:?}"), "github \"github\"");
    }
}
