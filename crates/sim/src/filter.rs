//! The part of SCIM filtering (RFC 7644 §3.4.2.2) that provisioning clients use: one
//! equality on an identifying attribute.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Filter {
    /// userName is caseExact=false (RFC 7643 §4.1.1), so it compares case-insensitively.
    UserName(String),
    ExternalId(String),
    Id(String),
}

const USER_SCHEMA_PREFIX: &str = "urn:ietf:params:scim:schemas:core:2.0:user:";

impl Filter {
    /// Parses `attribute eq "value"`; `None` for anything else, which the caller answers
    /// with `invalidFilter`.
    pub(crate) fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        let (attribute, rest) = raw.split_once(char::is_whitespace)?;
        let (operator, rest) = rest.trim_start().split_once(char::is_whitespace)?;
        if !operator.eq_ignore_ascii_case("eq") {
            return None;
        }
        let value = parse_string_literal(rest.trim())?;
        // Attribute names are case-insensitive and may carry their schema URN.
        let attribute = attribute.to_lowercase();
        let attribute = attribute
            .strip_prefix(USER_SCHEMA_PREFIX)
            .unwrap_or(&attribute);
        match attribute {
            "username" => Some(Self::UserName(value)),
            "externalid" => Some(Self::ExternalId(value)),
            "id" => Some(Self::Id(value)),
            _ => None,
        }
    }

    pub(crate) fn matches(&self, user: &Value) -> bool {
        let field = |name: &str| user.get(name).and_then(Value::as_str);
        match self {
            Self::UserName(wanted) => {
                field("userName").is_some_and(|have| have.to_lowercase() == wanted.to_lowercase())
            }
            Self::ExternalId(wanted) => field("externalId") == Some(wanted.as_str()),
            Self::Id(wanted) => field("id") == Some(wanted.as_str()),
        }
    }
}

/// Comparison values are JSON literals (RFC 7644 §3.4.2.2), so a JSON string with its
/// escapes is exactly what follows `eq`; nothing but whitespace may follow it.
fn parse_string_literal(raw: &str) -> Option<String> {
    if !raw.starts_with('"') {
        return None;
    }
    let mut values = serde_json::Deserializer::from_str(raw).into_iter::<String>();
    let value = values.next()?.ok()?;
    raw[values.byte_offset()..]
        .trim()
        .is_empty()
        .then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_user_name_equality_is_understood_whatever_the_case_of_its_words() {
        for raw in [
            r#"userName eq "ada""#,
            r#"USERNAME EQ "ada""#,
            r#"  username   eq   "ada"  "#,
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "ada""#,
        ] {
            assert_eq!(
                Filter::parse(raw),
                Some(Filter::UserName("ada".into())),
                "{raw}"
            );
        }
    }

    #[test]
    fn escaped_quotes_and_backslashes_belong_to_the_value() {
        assert_eq!(
            Filter::parse(r#"userName eq "a\"b\\c""#),
            Some(Filter::UserName(r#"a"b\c"#.into()))
        );
    }

    #[test]
    fn other_operators_attributes_and_trailing_text_are_refused() {
        for raw in [
            r#"userName co "ada""#,
            r#"title eq "ada""#,
            r#"userName eq "ada" and active eq true"#,
            r#"userName eq ada"#,
            r#"userName eq "ada"#,
            "",
        ] {
            assert_eq!(Filter::parse(raw), None, "{raw}");
        }
    }

    #[test]
    fn a_user_name_matches_without_regard_to_case() {
        let user = json!({"id": "1", "userName": "Ada.Lovelace"});
        assert!(Filter::UserName("ada.lovelace".into()).matches(&user));
        assert!(!Filter::UserName("ada".into()).matches(&user));
    }
}
