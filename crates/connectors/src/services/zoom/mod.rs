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
//! the user up by email (`GET /users/{email}`), where no such user is 404 with code 1001
//! or 400 with code 1120; 429 is a rate limit.

use std::sync::Arc;

use provisioner_core::retry::RetryPolicy;
use provisioner_core::ConnectorFailure;
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{json, Map, Value};
use url::Url;

use crate::connector::{Connector, CreateAnswer, IntegrationTarget};
use crate::failure::ServiceError;
use crate::http::{Answer, HttpClient};
use crate::token::{credential, TokenClient, TokenGrant};
use crate::vendor::{credentials_schema, secret, CallLimits, Provisioning, VendorModule};
use crate::wire::{beside_api, endpoint, refusal_saying, required};

pub(crate) const MODULE: VendorModule = VendorModule {
    key: provisioner_core::ServiceKey::from_static("zoom"),
    name: "Zoom",
    provisioning: Some(Provisioning {
        account_schema: include_str!("../../../../../schemas/connectors/zoom.json"),
        credentials_schema: credentials,
        default_base_url: Some("https://api.zoom.us/v2"),
        // Zoom's limits are per second (daily for a few heavy APIs) and it documents no
        // backoff of its own: the general policy, with Retry-After honoured when sent.
        // https://developers.zoom.us/docs/api/rate-limits/
        retry_policy: RetryPolicy::default,
        // "Create users" is a Light API: 30 requests a second per account on Pro, the
        // smallest paid plan (https://developers.zoom.us/docs/api/rate-limits/).
        call_limits: CallLimits {
            requests_per_second: Some(30.0),
            max_concurrent_calls: None,
        },
        connector: |http| Arc::new(ZoomConnector::new(http)),
    }),
};

const ZOOM_API_HOST: &str = "api.zoom.us";
const ZOOM_TOKEN_ORIGIN: &str = "https://zoom.us";
/// "User already in the account."
const USER_EXISTS: i64 = 1005;
/// "User does not exist" on a 400 of `GET /users/{userId}`.
const NO_SUCH_USER: i64 = 1120;

fn credentials() -> Value {
    credentials_schema(
        &["account_id", "client_id", "client_secret"],
        json!({
            "account_id": secret("Account ID", "The Zoom account's id, shown on the Server-to-Server OAuth app's credentials page."),
            "client_id": secret("Client ID", "The Server-to-Server OAuth app's client id."),
            "client_secret": secret("Client secret", "The Server-to-Server OAuth app's client secret; the app needs the user:read:admin and user:write:admin scopes."),
        }),
    )
}

#[derive(Debug, Clone)]
pub struct ZoomConnector {
    client: TokenClient<AccountCredentials>,
}

impl ZoomConnector {
    pub fn new(http: HttpClient) -> Self {
        Self {
            client: TokenClient::new(http, AccountCredentials),
        }
    }
}

/// A Server-to-Server OAuth app's `account_credentials` grant.
#[derive(Debug, Clone, Copy)]
struct AccountCredentials;

impl TokenGrant for AccountCredentials {
    fn token_endpoint(&self, target: &IntegrationTarget) -> Result<Url, ConnectorFailure> {
        token_url(&target.base_url)
    }

    fn token_request(
        &self,
        request: RequestBuilder,
        target: &IntegrationTarget,
    ) -> Result<RequestBuilder, ConnectorFailure> {
        let credentials = &target.credentials;
        let account_id = credential(credentials, "account_id")?;
        let client_id = credential(credentials, "client_id")?;
        let client_secret = credential(credentials, "client_secret")?;
        Ok(request
            .query(&[
                ("grant_type", "account_credentials"),
                ("account_id", account_id),
            ])
            .basic_auth(client_id, Some(client_secret)))
    }

    fn failure(&self, answer: &Answer) -> ConnectorFailure {
        failure(answer)
    }
}

fn token_url(base: &Url) -> Result<Url, ConnectorFailure> {
    beside_api(base, ZOOM_API_HOST, ZOOM_TOKEN_ORIGIN, ["oauth", "token"])
}

fn users_url(base: &Url, id: Option<&str>) -> Result<Url, ConnectorFailure> {
    endpoint(base, std::iter::once("users").chain(id))
}

fn email(account: &Map<String, Value>) -> Result<&str, ConnectorFailure> {
    required(account, "email", "which Zoom requires").map(str::trim)
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

/// Zoom says a user does not exist with 404 and code 1001, and also with 400 and code
/// 1120; both mean there is no such user, not a broken lookup.
fn no_such_user(answer: &Answer) -> bool {
    match answer.status {
        StatusCode::NOT_FOUND => true,
        StatusCode::BAD_REQUEST => zoom_code(answer) == Some(NO_SUCH_USER),
        _ => false,
    }
}

fn zoom_code(answer: &Answer) -> Option<i64> {
    answer.error_json()?.get("code")?.as_i64()
}

#[async_trait::async_trait]
impl Connector for ZoomConnector {
    async fn check(&self, target: &IntegrationTarget) -> Result<(), ConnectorFailure> {
        let url = users_url(&target.base_url, Some("me"))?;
        self.client.read(target, url).await.map(drop)
    }

    async fn find(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<Option<String>, ConnectorFailure> {
        // Zoom's userId may be the email.
        let url = users_url(&target.base_url, Some(email(account)?))?;
        self.client
            .find_user_unless(target, url, no_such_user)
            .await
    }

    async fn create(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<CreateAnswer, ConnectorFailure> {
        let body = user_request(account, email(account)?);
        let url = users_url(&target.base_url, None)?;
        let exists = |answer: &Answer| {
            answer.status == StatusCode::CONFLICT || zoom_code(answer) == Some(USER_EXISTS)
        };
        let what = "the user request";
        self.client
            .create_user(target, url, &body, exists, what)
            .await
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
    refusal_saying(answer, ServiceError { code, message })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_come_from_zoom_us_for_zoom_and_from_the_configured_origin_otherwise() {
        let zoom = Url::parse("https://api.zoom.us/v2").unwrap();
        assert_eq!(
            token_url(&zoom).unwrap().as_str(),
            "https://zoom.us/oauth/token"
        );
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
