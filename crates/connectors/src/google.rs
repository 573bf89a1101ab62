//! Google Workspace users through the Admin SDK Directory API (`users.insert`,
//! `users.get`, `users.list`;
//! <https://developers.google.com/workspace/admin/directory/reference/rest/v1/users>),
//! called as a service account with domain-wide delegation that impersonates an admin.
//!
//! Two hosts: the API at `https://admin.googleapis.com/admin/directory/v1` (or the
//! integration's base URL) and the token endpoint, which comes from the credentials:
//! the service-account JSON Google issues names it as `token_uri`, so a simulator's
//! service account names the simulator's.
//!
//! Google's errors are `{"error": {"code", "message", "errors": [{"reason"}]}}`. A
//! taken `primaryEmail` is 409 (`duplicate`), resolved by `users.get`. A 403 whose
//! reason is `userRateLimitExceeded`, `quotaExceeded` or `rateLimitExceeded` is rate
//! limiting, not an authentication failure (<https://developers.google.com/admin-sdk/directory/v1/limits>).

mod assertion;

use chrono::Utc;
use provisioner_core::ConnectorFailure;
use reqwest::{Method, StatusCode};
use serde_json::{json, Map, Value};
use url::Url;

use crate::catalog::ServiceDescriptor;
use crate::connector::{Connector, CreateAnswer, IntegrationTarget};
use crate::failure::{classify, unreadable, ServiceError};
use crate::http::{Answer, HttpClient};
use crate::oauth::{credential, fetch_token, send_with_token, TokenCall};
use crate::password::initial_password;
use crate::token::{AccessToken, TokenCache};
use assertion::Claims;

pub(crate) const KEY: &str = "google";
const ACCOUNT_SCHEMA: &str = include_str!("../../../schemas/connectors/google.json");
const SCOPE: &str = "https://www.googleapis.com/auth/admin.directory.user";
const RATE_LIMIT_REASONS: [&str; 3] = [
    "userRateLimitExceeded",
    "quotaExceeded",
    "rateLimitExceeded",
];

pub(crate) fn descriptor() -> Result<ServiceDescriptor, serde_json::Error> {
    Ok(ServiceDescriptor {
        key: KEY,
        name: "Google Workspace",
        provisioning: true,
        account_schema: serde_json::from_str(ACCOUNT_SCHEMA)?,
        credentials_schema: json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["service_account", "subject"],
            "properties": {
                "service_account": {
                    "type": "object",
                    "title": "Service account key",
                    "description": "The JSON key Google issues for the service account, as downloaded; domain-wide delegation must grant it the admin.directory.user scope.",
                    "required": ["client_email", "private_key", "token_uri"],
                    "properties": {
                        "client_email": {"type": "string", "minLength": 1},
                        "private_key": {"type": "string", "minLength": 1},
                        "private_key_id": {"type": "string"},
                        "token_uri": {"type": "string", "format": "uri"}
                    }
                },
                "subject": {
                    "type": "string",
                    "format": "email",
                    "title": "Admin to impersonate",
                    "description": "A super admin (or an admin allowed to manage users) the service account acts as."
                },
                "customer": {
                    "type": "string",
                    "minLength": 1,
                    "title": "Customer ID",
                    "description": "The Google Workspace customer id; my_customer, the admin's own, when left out."
                }
            }
        }),
        requires_base_url: false,
        default_base_url: Some("https://admin.googleapis.com/admin/directory/v1"),
    })
}

#[derive(Debug, Clone)]
pub struct GoogleConnector {
    http: HttpClient,
    tokens: TokenCache,
}

impl GoogleConnector {
    pub fn new(http: HttpClient) -> Self {
        Self {
            http,
            tokens: TokenCache::default(),
        }
    }

    async fn fetch(&self, target: &IntegrationTarget) -> Result<AccessToken, ConnectorFailure> {
        let account = target
            .credentials
            .get("service_account")
            .unwrap_or(&Value::Null);
        let token_uri = credential(account, "token_uri")?;
        let claims = Claims {
            client_email: credential(account, "client_email")?,
            key_id: account.get("private_key_id").and_then(Value::as_str),
            subject: credential(&target.credentials, "subject")?,
            scope: SCOPE,
            token_uri,
            now: Utc::now().timestamp(),
        };
        let jwt = assertion::sign(credential(account, "private_key")?, &claims)?;
        let url = Url::parse(token_uri).map_err(|_| ConnectorFailure::AuthFailed {
            cause: "the service account's token_uri is not a URL".into(),
        })?;
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", jwt.as_str()),
        ];
        let request = self.http.request(Method::POST, url).form(&form);
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

fn users_url(base: &Url, key: Option<&str>) -> Result<Url, ConnectorFailure> {
    let mut url = base.clone();
    url.set_query(None);
    url.path_segments_mut()
        .map_err(|()| ConnectorFailure::Permanent {
            code: "invalid_base_url".into(),
            cause: format!("the base URL {base} cannot hold a path"),
        })?
        .pop_if_empty()
        .push("users")
        .extend(key);
    Ok(url)
}

fn primary_email(account: &Map<String, Value>) -> Result<&str, ConnectorFailure> {
    account
        .get("email")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|email| !email.is_empty())
        .ok_or_else(|| ConnectorFailure::Permanent {
            code: "invalid_account".into(),
            cause: "the account has no email, the primaryEmail Google requires".into(),
        })
}

fn user_request(account: &Map<String, Value>, email: &str) -> Value {
    let text = |name: &str| account.get(name).and_then(Value::as_str).unwrap_or("");
    let mut user = json!({
        "primaryEmail": email,
        "name": {"givenName": text("given_name"), "familyName": text("family_name")},
        "password": initial_password(),
        "changePasswordAtNextLogin": true,
    });
    if let Some(path) = account.get("org_unit_path").and_then(Value::as_str) {
        user["orgUnitPath"] = path.into();
    }
    user
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
impl Connector for GoogleConnector {
    async fn check(&self, target: &IntegrationTarget) -> Result<(), ConnectorFailure> {
        let customer = target
            .credentials
            .get("customer")
            .and_then(Value::as_str)
            .unwrap_or("my_customer");
        let mut url = users_url(&target.base_url, None)?;
        url.query_pairs_mut()
            .append_pair("customer", customer)
            .append_pair("maxResults", "1");
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
        let url = users_url(&target.base_url, Some(primary_email(account)?))?;
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
        let body = user_request(account, primary_email(account)?);
        let url = users_url(&target.base_url, None)?;
        let answer = self.send(target, Method::POST, url, Some(&body)).await?;
        if answer.status == StatusCode::CONFLICT {
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

/// Classifies a refusal from its status and the first `reason` Google gives, which
/// decides whether a 403 is a rate limit; the cause is Google's `message`.
fn failure(answer: &Answer) -> ConnectorFailure {
    let body = answer.error_json();
    let text = |pointer: &str| {
        body.as_ref()
            .and_then(|body| body.pointer(pointer))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let reason = text("/error/errors/0/reason");
    if answer.status == StatusCode::FORBIDDEN
        && reason
            .as_deref()
            .is_some_and(|reason| RATE_LIMIT_REASONS.contains(&reason))
    {
        return ConnectorFailure::RateLimited {
            retry_after: answer.retry_after,
        };
    }
    let said = ServiceError {
        code: reason,
        message: text("/error/message"),
    };
    classify(answer.status, answer.retry_after, said)
}
