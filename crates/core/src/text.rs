//! Text that PostgreSQL cannot store. A UTF-8 database refuses the NUL character in
//! `text` and `\u0000` in `jsonb`, and that refusal comes as a server error after work
//! has begun; so everything from outside — request bodies, query strings, path
//! parameters, broker messages — is checked here first and refused with the field named.
//! (Lone surrogates cannot reach this far: the JSON parser already refuses them.)

use serde::de::DeserializeOwned;
use serde_json::Value;

/// Why a piece of text cannot be stored, or `None` when it can.
pub fn unstorable(text: &str) -> Option<&'static str> {
    text.contains('\0')
        .then_some("must not contain the NUL character (U+0000)")
}

/// A string somewhere in a JSON document that cannot be stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct Unstorable {
    /// Dotted path of the string (`targets.0.account.user_name`); for an object key,
    /// the path of the member it names.
    pub field: String,
    pub reason: &'static str,
}

/// The first string in `value`, object keys included, that cannot be stored.
pub fn find_unstorable(value: &Value) -> Option<Unstorable> {
    walk(value, &mut String::new())
}

fn walk(value: &Value, path: &mut String) -> Option<Unstorable> {
    match value {
        Value::String(text) => unstorable(text).map(|reason| Unstorable {
            field: path.clone(),
            reason,
        }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(index, item)| within(path, &index.to_string(), |path| walk(item, path))),
        Value::Object(members) => members.iter().find_map(|(key, member)| {
            within(path, key, |path| match unstorable(key) {
                Some(reason) => Some(Unstorable {
                    field: path.clone(),
                    reason,
                }),
                None => walk(member, path),
            })
        }),
        Value::Null | Value::Bool(_) | Value::Number(_) => None,
    }
}

/// Runs `inner` with `segment` appended to the dotted `path`, then takes it off again.
fn within<T>(path: &mut String, segment: &str, inner: impl FnOnce(&mut String) -> T) -> T {
    let before = path.len();
    if !path.is_empty() {
        path.push('.');
    }
    path.push_str(segment);
    let result = inner(path);
    path.truncate(before);
    result
}

/// Why a broker message was not taken.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("{0}")]
    Malformed(#[from] serde_json::Error),
    #[error("{0}")]
    Unstorable(#[from] Unstorable),
}

/// Parses a JSON message into `T`, refusing it when any string in it, known field or
/// not, could not be stored.
pub fn parse_message<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, MessageError> {
    let value: Value = serde_json::from_slice(bytes)?;
    if let Some(unstorable) = find_unstorable(&value) {
        return Err(unstorable.into());
    }
    Ok(T::deserialize(value)?)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nul_anywhere_is_found_with_the_path_of_its_field() {
        let nul_in = |value: Value| find_unstorable(&value).map(|u| u.field);
        assert_eq!(
            nul_in(json!({"family_name": "Do\u{0}e"})),
            Some("family_name".into())
        );
        assert_eq!(
            nul_in(json!({"targets": [{"account": {}}, {"account": {"user_name": "\u{0}"}}]})),
            Some("targets.1.account.user_name".into())
        );
        assert_eq!(
            nul_in(json!({"account": {"x\u{0}y": 1}})),
            Some("account.x\u{0}y".into())
        );
        assert_eq!(nul_in(json!(["ok", ["\u{0}"]])), Some("1.0".into()));
        assert_eq!(
            nul_in(json!({"name": "Ada \u{2603} Lovelace", "n": 1, "tags": [null, true]})),
            None
        );
    }

    #[test]
    fn lone_surrogates_are_refused_by_the_parser_before_they_could_be_stored() {
        assert!(parse_message::<Value>(br#"{"name": "\ud800"}"#).is_err());
        assert!(parse_message::<Value>(br#"{"name": "\udc00x"}"#).is_err());
        let pair: Value = parse_message(br#"{"name": "\ud83d\ude00"}"#).unwrap();
        assert_eq!(pair["name"], "\u{1F600}");
    }

    #[test]
    fn a_message_with_nul_in_any_string_is_refused_with_the_field_named() {
        #[derive(serde::Deserialize, Debug)]
        struct Message {
            #[allow(dead_code)]
            id: String,
        }
        let error =
            parse_message::<Message>(br#"{"id": "1", "extra": {"note": "a\u0000"}}"#).unwrap_err();
        assert_eq!(
            error.to_string(),
            "extra.note: must not contain the NUL character (U+0000)"
        );
        assert!(matches!(
            parse_message::<Message>(b"{\"id\": 1}"),
            Err(MessageError::Malformed(_))
        ));
        assert_eq!(parse_message::<Message>(br#"{"id": "1"}"#).unwrap().id, "1");
    }
}
