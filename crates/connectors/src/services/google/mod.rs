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
//! taken `primaryEmail` is 409 (`duplicate`), resolved by `users.get`; a 403 from that
//! `users.get` means the email is held where the integration cannot see, a permanent
//! `conflict`. A 403 whose
//! reason is `userRateLimitExceeded`, `quotaExceeded` or `rateLimitExceeded` is rate
//! limiting, not an authentication failure (<https://developers.google.com/admin-sdk/directory/v1/limits>).

mod assertion;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use provisioner_core::retry::{Jitter, RetryPolicy};
use provisioner_core::ConnectorFailure;
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::{json, Map, Value};
use url::Url;

use crate::connector::{Connector, CreateAnswer, IntegrationTarget};
use crate::failure::ServiceError;
use crate::http::{Answer, HttpClient};
use crate::password::initial_password;
use crate::token::{credential, TokenClient, TokenGrant};
use crate::vendor::{credentials_schema, CallLimits, Provisioning, VendorModule};
use crate::wire::{endpoint, refusal_saying, required, text_at};
use assertion::Claims;

pub(crate) const MODULE: VendorModule = VendorModule {
    key: provisioner_core::ServiceKey::from_static("google"),
    name: "Google Workspace",
    provisioning: Some(Provisioning {
        account_schema: include_str!("../../../../../schemas/connectors/google.json"),
        credentials_schema: credentials,
        default_base_url: Some("https://admin.googleapis.com/admin/directory/v1"),
        retry_policy,
        // 2,400 queries a minute per user per Cloud project by default
        // (https://developers.google.com/admin-sdk/directory/v1/limits).
        call_limits: CallLimits {
            requests_per_second: Some(2_400.0 / 60.0),
            max_concurrent_calls: None,
        },
        connector: |http| Arc::new(GoogleConnector::new(http)),
    }),
};

const SCOPE: &str = "https://www.googleapis.com/auth/admin.directory.user";
const RATE_LIMIT_REASONS: [&str; 3] = [
    "userRateLimitExceeded",
    "quotaExceeded",
    "rateLimitExceeded",
];

/// Directory API: truncated exponential backoff from 1 s (1, 2, 4, 8, 16 s, each plus up
/// to a second at random) to a maximum of 32 or 64 s, for its 403
/// `userRateLimitExceeded`/`quotaExceeded` as for 5xx.
/// <https://developers.google.com/admin-sdk/directory/v1/limits>
fn retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 7,
        base_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(64),
        jitter: Jitter::Equal,
        deadline: Duration::from_secs(3600),
    }
}

fn credentials() -> Value {
    credentials_schema(
        &["service_account", "subject"],
        json!({
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
        }),
    )
}

#[derive(Debug, Clone)]
pub struct GoogleConnector {
    client: TokenClient<ServiceAccount>,
}

impl GoogleConnector {
    pub fn new(http: HttpClient) -> Self {
        Self {
            client: TokenClient::new(http, ServiceAccount),
        }
    }
}

/// A service account's signed JWT assertion (RFC 7523), impersonating the admin.
#[derive(Debug, Clone, Copy)]
struct ServiceAccount;

fn service_account(target: &IntegrationTarget) -> &Value {
    target
        .credentials
        .get("service_account")
        .unwrap_or(&Value::Null)
}

impl TokenGrant for ServiceAccount {
    fn token_endpoint(&self, target: &IntegrationTarget) -> Result<Url, ConnectorFailure> {
        let token_uri = credential(service_account(target), "token_uri")?;
        Url::parse(token_uri).map_err(|_| ConnectorFailure::AuthFailed {
            cause: "the service account's token_uri is not a URL".into(),
        })
    }

    fn token_request(
        &self,
        request: RequestBuilder,
        target: &IntegrationTarget,
    ) -> Result<RequestBuilder, ConnectorFailure> {
        let account = service_account(target);
        let claims = Claims {
            client_email: credential(account, "client_email")?,
            key_id: account.get("private_key_id").and_then(Value::as_str),
            subject: credential(&target.credentials, "subject")?,
            scope: SCOPE,
            token_uri: credential(account, "token_uri")?,
            now: Utc::now().timestamp(),
        };
        let jwt = assertion::sign(credential(account, "private_key")?, &claims)?;
        let form = [
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", jwt.as_str()),
        ];
        Ok(request.form(&form))
    }

    fn failure(&self, answer: &Answer) -> ConnectorFailure {
        failure(answer)
    }
}

fn users_url(base: &Url, key: Option<&str>) -> Result<Url, ConnectorFailure> {
    endpoint(base, std::iter::once("users").chain(key))
}

fn primary_email(account: &Map<String, Value>) -> Result<&str, ConnectorFailure> {
    required(account, "email", "the primaryEmail Google requires").map(str::trim)
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
        self.client.read(target, url).await.map(drop)
    }

    async fn find(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<Option<String>, ConnectorFailure> {
        let url = users_url(&target.base_url, Some(primary_email(account)?))?;
        self.client.find_user(target, url).await
    }

    /// Right after a 409 `duplicate`, a 403 on `users.get` is about that user, not the
    /// token (the create was just authorised): the email belongs to an account of
    /// another domain or customer. That is permanent and must not count as an
    /// authentication failure.
    async fn find_after_conflict(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<Option<String>, ConnectorFailure> {
        let email = primary_email(account)?;
        let url = users_url(&target.base_url, Some(email))?;
        let answer = self.client.send(target, Method::GET, url, None).await?;
        match answer.status {
            StatusCode::NOT_FOUND => Ok(None),
            StatusCode::FORBIDDEN if !is_rate_limit(&answer) => Err(held_elsewhere(email)),
            _ => self.client.user_in(answer).map(Some),
        }
    }

    async fn create(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<CreateAnswer, ConnectorFailure> {
        let body = user_request(account, primary_email(account)?);
        let url = users_url(&target.base_url, None)?;
        let exists = |answer: &Answer| answer.status == StatusCode::CONFLICT;
        let what = "the user request";
        self.client
            .create_user(target, url, &body, exists, what)
            .await
    }
}

fn held_elsewhere(email: &str) -> ConnectorFailure {
    ConnectorFailure::Permanent {
        code: "conflict".into(),
        cause: format!(
            "Google refused to create {email:?} because the email is taken by an account \
             this integration cannot see (of another domain or customer, or not visible \
             yet); free the email or choose another"
        ),
    }
}

/// Classifies a refusal from its status and the first `reason` Google gives, which
/// decides whether a 403 is a rate limit; the cause is Google's `message`.
fn failure(answer: &Answer) -> ConnectorFailure {
    if is_rate_limit(answer) {
        return ConnectorFailure::RateLimited {
            retry_after: answer.retry_after,
        };
    }
    let body = answer.error_json();
    let said = ServiceError {
        code: text_at(body.as_ref(), "/error/errors/0/reason"),
        message: text_at(body.as_ref(), "/error/message"),
    };
    refusal_saying(answer, said)
}

/// A 403 whose first reason is one of Google's rate-limit reasons.
fn is_rate_limit(answer: &Answer) -> bool {
    let reason = text_at(answer.error_json().as_ref(), "/error/errors/0/reason");
    answer.status == StatusCode::FORBIDDEN
        && reason
            .as_deref()
            .is_some_and(|reason| RATE_LIMIT_REASONS.contains(&reason))
}
