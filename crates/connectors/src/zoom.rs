//! Zoom users (`POST /users` with `action` and `user_info`,
//! <https://developers.zoom.us/docs/api/users/#tag/users/POST/users>), called with a
//! Server-to-Server OAuth app's access token (the `account_credentials` grant).
//!
//! Two hosts: the API at `https://api.zoom.us/v2` and the token endpoint at
//! `https://zoom.us/oauth/token`. When the base URL is Zoom's own, tokens come from
//! `zoom.us`; when an integration names another base URL (the simulator, a proxy),
//! tokens come from `/oauth/token` at that URL's origin, so one address serves both.
//!
//! Errors are `{"code", "message"}` (<https://developers.zoom.us/docs/api/errors>): an
//! email already in the account is 409 with code 1005, a conflict resolved by looking
//! the user up by email (`GET /users/{email}`); 429 is a rate limit.

use provisioner_core::ConnectorFailure;
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use url::Url;

use crate::catalog::ServiceDescriptor;
use crate::connector::{Connector, CreateAnswer, IntegrationTarget};
use crate::failure::{classify, unreadable, ServiceError};
use crate::http::{Answer, HttpClient};
use crate::oauth::{credential, fetch_token, send_with_token, TokenCall};
use crate::token::{AccessToken, TokenCache};

pub(crate) const KEY: &str = "zoom";
const ACCOUNT_SCHEMA: &str = include_str!("../../../schemas/connectors/zoom.json");
const ZOOM_API_HOST: &str = "api.zoom.us";
const ZOOM_TOKEN_URL: &str = "https://zoom.us/oauth/token";
/// "User already in the account."
const USER_EXISTS: i64 = 1005;

pub(crate) fn descriptor() -> Result<ServiceDescriptor, serde_json::Error> {
    let field = |title: &str, description: &str| json!({"type": "string", "minLength": 1, "title": title, "description": description});
    Ok(ServiceDescriptor {
        key: KEY,
        name: "Zoom",
        provisioning: true,
        account_schema: serde_json::from_str(ACCOUNT_SCHEMA)?,
        credentials_schema: json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["account_id", "client_id", "client_secret"],
            "properties": {
                "account_id": field("Account ID", "The Zoom account's id, shown on the Server-to-Server OAuth app's credentials page."),
                "client_id": field("Client ID", "The Server-to-Server OAuth app's client id."),
                "client_secret": field("Client secret", "The Server-to-Server OAuth app's client secret; the app needs the user:read:admin and user:write:admin scopes."),
            }
        }),
        requires_base_url: false,
        default_base_url: Some("https://api.zoom.us/v2"),
    })
}

#[derive(Debug, Clone)]
pub struct ZoomConnector {
    http: HttpClient,
    tokens: TokenCache,
}

impl ZoomConnector {
    pub fn new(http: HttpClient) -> Self {
        Self {
            http,
            tokens: TokenCache::default(),
        }
    }

    async fn fetch(&self, target: &IntegrationTarget) -> Result<AccessToken, ConnectorFailure> {
        let credentials = &target.credentials;
        let account_id = credential(credentials, "account_id")?;
        let client_id = credential(credentials, "client_id")?;
        let client_secret = credential(credentials, "client_secret")?;
        let mut url = token_url(&target.base_url)?;
        url.query_pairs_mut()
            .append_pair("grant_type", "account_credentials")
            .append_pair("account_id", account_id);
        let request = self
            .http
            .request(Method::POST, url)
            .basic_auth(client_id, Some(client_secret));
        fetch_token(&self.http, request).await
    }

    async fn send(
        &self,
        target: &IntegrationTarget,
        method: Method,
        url: Url,
        body: Option<&Value>,
    ) -> Result<Answer, ConnectorFailure> {
        let call = TokenCall {
            target,
            method,
            url,
            body,
        };
        send_with_token(
            &self.http,
            &self.tokens,
            call,
            || self.fetch(target),
            failure,
        )
        .await
    }
}

fn token_url(base: &Url) -> Result<Url, ConnectorFailure> {
    let url = if base.host_str() == Some(ZOOM_API_HOST) {
        Url::parse(ZOOM_TOKEN_URL)
    } else {
        base.join("/oauth/token")
    };
    url.map_err(|_| ConnectorFailure::Permanent {
        code: "invalid_base_url".into(),
        cause: format!("no token endpoint can be derived from the base URL {base}"),
    })
}

fn users_url(base: &Url, id: Option<&str>) -> Result<Url, ConnectorFailure> {
    let mut url = base.clone();
    url.set_query(None);
    url.path_segments_mut()
        .map_err(|()| ConnectorFailure::Permanent {
            code: "invalid_base_url".into(),
            cause: format!("the base URL {base} cannot hold a path"),
        })?
        .pop_if_empty()
        .push("users")
        .extend(id);
    Ok(url)
}

fn email(account: &Map<String, Value>) -> Result<&str, ConnectorFailure> {
    account
        .get("email")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|email| !email.is_empty())
        .ok_or_else(|| ConnectorFailure::Permanent {
            code: "invalid_account".into(),
            cause: "the account has no email, which Zoom requires".into(),
        })
}

fn user_request(account: &Map<String, Value>, email: &str) -> Value {
    let text = |name: &str| account.get(name).and_then(Value::as_str);
    let mut info = json!({
        "email": email,
        "type": account.get("type").and_then(Value::as_i64).unwrap_or(1),
    });
    for (ours, zooms) in [
        ("given_name", "first_name"),
        ("family_name", "last_name"),
        ("display_name", "display_name"),
    ] {
        if let Some(value) = text(ours) {
            info[zooms] = value.into();
        }
    }
    json!({"action": text("action").unwrap_or("create"), "user_info": info})
}

fn zoom_code(answer: &Answer) -> Option<i64> {
    answer.error_json()?.get("code")?.as_i64()
}

fn user_id(answer: &Answer) -> Result<String, ConnectorFailure> {
    answer
        .whole_json()?
        .as_ref()
        .and_then(|user| user.get("id"))
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| unreadable("the user request", "holds no user id"))
}

#[async_trait::async_trait]
impl Connector for ZoomConnector {
    async fn check(&self, target: &IntegrationTarget) -> Result<(), ConnectorFailure> {
        let url = users_url(&target.base_url, Some("me"))?;
        let answer = self.send(target, Method::GET, url, None).await?;
        if !answer.status.is_success() {
            return Err(failure(&answer));
        }
        Ok(())
    }

    async fn find(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<Option<String>, ConnectorFailure> {
        // Zoom's userId may be the email.
        let url = users_url(&target.base_url, Some(email(account)?))?;
        let answer = self.send(target, Method::GET, url, None).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !answer.status.is_success() {
            return Err(failure(&answer));
        }
        user_id(&answer).map(Some)
    }

    async fn create(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<CreateAnswer, ConnectorFailure> {
        let body = user_request(account, email(account)?);
        let url = users_url(&target.base_url, None)?;
        let answer = self.send(target, Method::POST, url, Some(&body)).await?;
        if answer.status == StatusCode::CONFLICT || zoom_code(&answer) == Some(USER_EXISTS) {
            return Ok(CreateAnswer::Conflict);
        }
        if !answer.status.is_success() {
            return Err(failure(&answer));
        }
        Ok(CreateAnswer::Created {
            external_id: user_id(&answer)?,
        })
    }
}

/// Classifies a refusal from its status and Zoom's numeric code, kept as `zoom_<code>`;
/// the cause is Zoom's message with the fields it names.
fn failure(answer: &Answer) -> ConnectorFailure {
    let body = answer.error_json();
    let message = body
        .as_ref()
        .and_then(|body| body.get("message"))
        .and_then(Value::as_str);
    let fields: Vec<&str> = body
        .as_ref()
        .and_then(|body| body.get("errors"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|error| error.get("field").and_then(Value::as_str))
        .collect();
    let message = match (message, fields.is_empty()) {
        (Some(message), false) => Some(format!("{message} ({})", fields.join(", "))),
        (message, _) => message.map(str::to_owned),
    };
    let code = zoom_code(answer).map(|code| format!("zoom_{code}"));
    classify(
        answer.status,
        answer.retry_after,
        ServiceError { code, message },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_zoom_us_for_zoom_and_from_the_configured_origin_otherwise() {
        let zoom = Url::parse("https://api.zoom.us/v2").unwrap();
        assert_eq!(token_url(&zoom).unwrap().as_str(), ZOOM_TOKEN_URL);
        let sim = Url::parse("http://127.0.0.1:9090/v2").unwrap();
        assert_eq!(
            token_url(&sim).unwrap().as_str(),
            "http://127.0.0.1:9090/oauth/token"
        );
    }

    #[test]
    fn our_field_names_become_zooms_user_info() {
        let account = json!({"email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace", "type": 2});
        let body = user_request(account.as_object().unwrap(), "ada@example.com");
        assert_eq!(
            body,
            json!({"action": "create", "user_info": {"email": "ada@example.com", "type": 2, "first_name": "Ada", "last_name": "Lovelace"}})
        );
    }
}
