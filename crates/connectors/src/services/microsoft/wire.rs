//! Graph's wire format for users: the user resource, OData filters, error answers.

use provisioner_core::ConnectorFailure;
use reqwest::StatusCode;
use serde_json::{json, Map, Value};

use crate::http::Answer;
use crate::password::initial_password;
use crate::wire::{given, refusal};

/// OData string literals double their single quotes.
pub(super) fn upn_filter(upn: &str) -> String {
    format!("userPrincipalName eq '{}'", upn.replace('\'', "''"))
}

pub(super) fn user_request(account: &Map<String, Value>, upn: &str) -> Value {
    let text = |name: &str| given(account, name);
    let local_part = upn.split('@').next().unwrap_or(upn);
    // mailNickname allows no spaces or @; the UPN's local part is the usual alias.
    let nickname = text("mail_nickname").map_or_else(
        || {
            local_part
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
                .collect::<String>()
        },
        str::to_owned,
    );
    let display = text("display_name").map(str::to_owned).unwrap_or_else(|| {
        let joined = [text("given_name"), text("family_name")]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        if joined.is_empty() {
            local_part.to_owned()
        } else {
            joined
        }
    });
    let mut user = json!({
        "accountEnabled": account.get("account_enabled").and_then(Value::as_bool).unwrap_or(true),
        "displayName": display,
        "mailNickname": nickname,
        "userPrincipalName": upn,
        "passwordProfile": {
            "forceChangePasswordNextSignIn": true,
            "password": initial_password(),
        },
    });
    for (ours, graphs) in [
        ("given_name", "givenName"),
        ("family_name", "surname"),
        ("email", "mail"),
        ("usage_location", "usageLocation"),
    ] {
        if let Some(value) = text(ours) {
            user[graphs] = value.into();
        }
    }
    user
}

/// Whether a refused create says the account, or one holding its unique values, exists:
/// any 409, or a 400 with an `ObjectConflict` detail, or a 400 that says so without
/// details in Graph's sentence for a taken unique property ("Another object with the
/// same value for property proxyAddresses already exists."), which it uses for
/// `userPrincipalName`, `mail` and `proxyAddresses` alike.
pub(super) fn is_object_conflict(answer: &Answer) -> bool {
    if answer.status == StatusCode::CONFLICT {
        return true;
    }
    if answer.status != StatusCode::BAD_REQUEST {
        return false;
    }
    let Some(body) = answer.error_json() else {
        return false;
    };
    let details = body.pointer("/error/details").and_then(Value::as_array);
    let coded = details
        .into_iter()
        .flatten()
        .any(|detail| detail.get("code").and_then(Value::as_str) == Some("ObjectConflict"));
    let said = body
        .pointer("/error/message")
        .and_then(Value::as_str)
        .is_some_and(|message| {
            message.starts_with("Another object with the same value for property ")
                && message.trim_end().ends_with(" already exists.")
        });
    coded || said
}

/// Classifies a refusal from its status and Graph's `error.code`; the cause is Graph's
/// `error.message`.
pub(super) fn failure(answer: &Answer) -> ConnectorFailure {
    refusal(answer, Some("/error/code"), "/error/message")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_graph_user_carries_every_required_property_and_a_strong_password() {
        let account = json!({"user_name": "ada.l@contoso.com", "given_name": "Ada", "family_name": "Lovelace"});
        let user = user_request(account.as_object().unwrap(), "ada.l@contoso.com");
        assert_eq!(user["accountEnabled"], true);
        assert_eq!(user["displayName"], "Ada Lovelace");
        assert_eq!(user["mailNickname"], "ada.l");
        assert_eq!(user["surname"], "Lovelace");
        let password = user["passwordProfile"]["password"].as_str().unwrap();
        assert_eq!(password.len(), 16);
        assert!(password.chars().any(|c| c.is_ascii_uppercase()));
        assert!(password.chars().any(|c| c.is_ascii_digit()));
        assert_ne!(password, initial_password(), "each password is new");
    }

    #[test]
    fn quotes_in_a_upn_are_doubled_in_the_filter() {
        assert_eq!(
            upn_filter("o'hara@contoso.com"),
            "userPrincipalName eq 'o''hara@contoso.com'"
        );
    }
}
