//! The SCIM wire format: URLs, filters, the User resource and error answers.

use provisioner_core::ConnectorFailure;
use reqwest::StatusCode;
use serde_json::{json, Map, Value};
use url::Url;

use crate::connector::{Owner, Stamp};
use crate::http::Answer;
use crate::wire::{given, invalid_base_url, refusal, required, text_at};

const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";

/// `{base}/{segment}`, whether or not the base URL ends with a slash.
pub(super) fn endpoint(base: &Url, segment: &str) -> Result<Url, ConnectorFailure> {
    if !matches!(base.scheme(), "http" | "https") {
        return Err(invalid_base_url(base, "is not an http or https URL"));
    }
    crate::wire::endpoint(base, [segment])
}

pub(super) fn user_name(account: &Map<String, Value>) -> Result<&str, ConnectorFailure> {
    required(account, "user_name", "which a SCIM application requires")
}

/// RFC 7644 §3.4.2.2: the value is a JSON string, so quotes and backslashes are escaped.
pub(super) fn user_name_filter(user_name: &str) -> String {
    format!("userName eq {}", Value::String(user_name.to_owned()))
}

/// RFC 7643 §3.1: `externalId` is the provisioning client's own identifier, kept by the
/// service as given; an empty stamp is left out.
pub(super) fn scim_user(account: &Map<String, Value>, stamp: &Stamp) -> Value {
    let field = |name: &str| given(account, name);
    let mut user = json!({"schemas": [USER_SCHEMA], "active": true});
    if !stamp.as_str().is_empty() {
        user["externalId"] = stamp.as_str().into();
    }
    if let Some(user_name) = field("user_name") {
        user["userName"] = user_name.into();
    }
    let mut name = Map::new();
    if let Some(given) = field("given_name") {
        name.insert("givenName".into(), given.into());
    }
    if let Some(family) = field("family_name") {
        name.insert("familyName".into(), family.into());
    }
    let display = field("display_name").map(str::to_owned).or_else(|| {
        let joined = [field("given_name"), field("family_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        (!joined.is_empty()).then_some(joined)
    });
    if !name.is_empty() {
        user["name"] = Value::Object(name);
    }
    if let Some(display) = display {
        user["displayName"] = display.into();
    }
    if let Some(email) = field("email") {
        user["emails"] = json!([{"value": email, "type": "work", "primary": true}]);
    }
    user
}

/// Whose a found SCIM user is: ours by our `externalId`; another's otherwise, the same
/// person when its primary email (or any email when none is primary, or a userName that
/// is an email) equals the account's email, compared without regard to case.
pub(super) fn owner(user: &Value, account: &Map<String, Value>, stamp: &Stamp) -> Owner {
    let external_id = user.get("externalId").and_then(Value::as_str);
    if !stamp.as_str().is_empty() && external_id == Some(stamp.as_str()) {
        return Owner::Ours;
    }
    let Some(email) = given(account, "email").map(str::to_lowercase) else {
        return Owner::Theirs {
            email_matches: false,
        };
    };
    let emails = user
        .get("emails")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let primary = emails
        .iter()
        .find(|e| e.get("primary").and_then(Value::as_bool) == Some(true));
    let candidates: Vec<&Value> = match primary {
        Some(primary) => vec![primary],
        None => emails.iter().collect(),
    };
    let same = |value: Option<&str>| value.is_some_and(|v| v.trim().to_lowercase() == email);
    let user_name_email = user
        .get("userName")
        .and_then(Value::as_str)
        .filter(|name| name.contains('@'));
    let email_matches = candidates
        .iter()
        .any(|e| same(e.get("value").and_then(Value::as_str)))
        || same(user_name_email);
    Owner::Theirs { email_matches }
}

/// A taken userName: 409, or `scimType: uniqueness` with any status. RFC 7644 §3.12
/// pairs `uniqueness` with 409, yet servers send it with 400, and the type says what the
/// status does not.
pub(super) fn is_uniqueness(answer: &Answer) -> bool {
    answer.status == StatusCode::CONFLICT
        || (answer.status == StatusCode::BAD_REQUEST
            && text_at(answer.error_json().as_ref(), "/scimType").as_deref() == Some("uniqueness"))
}

/// Classifies a refusal from its status and SCIM error (RFC 7644 §3.12).
pub(super) fn failure(answer: &Answer) -> ConnectorFailure {
    refusal(answer, Some("/scimType"), "/detail")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_scim_user_is_built_from_the_account_fields() {
        let user = scim_user(
            &account(json!({
                "user_name": "ada", "email": "ada@example.com",
                "given_name": "Ada", "family_name": "Lovelace"
            })),
            &Stamp::new("req-1"),
        );
        assert_eq!(
            user,
            json!({
                "schemas": [USER_SCHEMA], "active": true, "userName": "ada",
                "externalId": "req-1",
                "name": {"givenName": "Ada", "familyName": "Lovelace"},
                "displayName": "Ada Lovelace",
                "emails": [{"value": "ada@example.com", "type": "work", "primary": true}]
            })
        );
    }

    #[test]
    fn a_display_name_given_is_kept() {
        let user = scim_user(
            &account(json!({"user_name": "ada", "display_name": "Countess"})),
            &Stamp::new(""),
        );
        assert!(user.get("externalId").is_none(), "{user}");
        assert_eq!(user["displayName"], "Countess");
    }

    #[test]
    fn a_found_user_is_ours_by_stamp_linked_by_email_and_foreign_otherwise() {
        let ada = account(json!({"user_name": "ada", "email": "Ada@Example.com"}));
        let stamp = Stamp::new("req-1");
        let user = |body: Value| owner(&body, &ada, &stamp);
        assert_eq!(
            user(json!({"userName": "ada", "externalId": "req-1"})),
            Owner::Ours
        );
        let theirs = |email_matches| Owner::Theirs { email_matches };
        let primary = json!({"userName": "ada", "externalId": "x", "emails": [
            {"value": "old@example.com"},
            {"value": "ada@example.com", "primary": true}
        ]});
        assert_eq!(user(primary), theirs(true));
        let other =
            json!({"userName": "ada", "emails": [{"value": "bob@example.com", "primary": true}]});
        assert_eq!(user(other), theirs(false));
        assert_eq!(user(json!({"userName": "ada"})), theirs(false));
        let by_name = account(json!({"user_name": "ada@example.com", "email": "ada@example.com"}));
        let named = json!({"userName": "ADA@example.com"});
        assert_eq!(owner(&named, &by_name, &stamp), theirs(true));
        let unstamped = Stamp::new("");
        assert_eq!(
            owner(
                &json!({"userName": "ada", "externalId": ""}),
                &ada,
                &unstamped
            ),
            theirs(false)
        );
    }

    #[test]
    fn quotes_and_backslashes_are_escaped_in_the_filter() {
        assert_eq!(user_name_filter(r#"a"b\c"#), r#"userName eq "a\"b\\c""#);
    }

    #[test]
    fn endpoints_are_appended_to_the_base_path_with_or_without_a_slash() {
        for base in ["https://x.example/scim/v2", "https://x.example/scim/v2/"] {
            let url = endpoint(&Url::parse(base).unwrap(), "Users").unwrap();
            assert_eq!(url.as_str(), "https://x.example/scim/v2/Users");
        }
        let mailto = Url::parse("mailto:ops@example.com").unwrap();
        assert_eq!(
            endpoint(&mailto, "Users").unwrap_err().code(),
            "invalid_base_url"
        );
    }
}
