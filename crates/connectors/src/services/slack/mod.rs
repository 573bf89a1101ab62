//! Slack through its SCIM API v2 (<https://docs.slack.dev/reference/scim-api>): the
//! SCIM wire format at `https://api.slack.com/scim/v2`, with an OAuth token that holds
//! the `admin` scope. Slack words its errors as `{"Errors": {"description", "code"}}`
//! and answers its per-organization rate limits with 429 and `Retry-After`
//! (<https://docs.slack.dev/reference/scim-api/rate-limits>).

use std::sync::Arc;

use provisioner_core::retry::RetryPolicy;
use provisioner_core::ConnectorFailure;
use reqwest::StatusCode;
use serde_json::{Map, Value};

use crate::connector::{Connector, CreateAnswer, Found, IntegrationTarget, Stamp};
use crate::http::{Answer, HttpClient};
use crate::services::scim::{Dialect, ScimConnector};
use crate::vendor::{token_credentials, CallLimits, Provisioning, VendorModule};
use crate::wire::{refusal, text_at};

pub(crate) const MODULE: VendorModule = VendorModule {
    key: provisioner_core::ServiceKey::from_static("slack"),
    name: "Slack",
    provisioning: Some(Provisioning {
        account_schema: include_str!("../../../../../schemas/connectors/slack.json"),
        credentials_schema: || {
            token_credentials("OAuth token", "A Slack OAuth token with the admin scope, from an Owner or Admin of the workspace (Business+) or of the Enterprise Grid organization.")
        },
        default_base_url: Some("https://api.slack.com/scim/v2"),
        // Slack counts SCIM calls per minute (writes 180/min, burst 20) and answers 429
        // with Retry-After, which the general policy honours; its cap lets a minute's
        // window pass. https://api.slack.com/scim#ratelimits
        retry_policy: RetryPolicy::default,
        // `POST /Users`: 180 per minute for the whole org, every SCIM app together
        // (https://docs.slack.dev/reference/scim-api/rate-limits).
        call_limits: CallLimits {
            requests_per_second: Some(180.0 / 60.0),
            max_concurrent_calls: None,
        },
        connector: |http| Arc::new(SlackConnector::new(http)),
    }),
};

/// Checked by reading one user, the cheapest authenticated read Slack offers and the
/// resource provisioning needs; errors worded as `{"Errors": {"description", "code"}}`.
const SLACK: Dialect = Dialect {
    discovery: false,
    failure,
    conflict: is_taken,
};

/// Slack's descriptions of a value another account holds. Slack's descriptions start
/// with their code and may add a detail after it (`username_not_allowed (user=…)`).
const TAKEN: [&str; 2] = ["username_taken", "email_taken"];

/// A taken userName or email: 409, or a 400 whose description says the value is taken,
/// as Slack answers some of them.
fn is_taken(answer: &Answer) -> bool {
    if answer.status == StatusCode::CONFLICT {
        return true;
    }
    let description = text_at(answer.error_json().as_ref(), "/Errors/description");
    answer.status == StatusCode::BAD_REQUEST
        && description.is_some_and(|description| {
            let code = description
                .split(|c: char| c.is_whitespace() || c == '(' || c == ':')
                .next()
                .unwrap_or_default();
            TAKEN.contains(&code)
        })
}

/// Slack's SCIM service: the SCIM connector speaking Slack's dialect.
#[derive(Debug, Clone)]
pub struct SlackConnector {
    scim: ScimConnector,
}

impl SlackConnector {
    pub fn new(http: HttpClient) -> Self {
        Self {
            scim: ScimConnector::with_dialect(http, SLACK),
        }
    }
}

#[async_trait::async_trait]
impl Connector for SlackConnector {
    async fn check(&self, target: &IntegrationTarget) -> Result<(), ConnectorFailure> {
        self.scim.check(target).await
    }

    async fn find(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<Option<String>, ConnectorFailure> {
        self.scim.find(target, account).await
    }

    async fn create(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<CreateAnswer, ConnectorFailure> {
        self.scim.create(target, account).await
    }

    /// Slack keeps SCIM's `externalId` on its users, so the stamp rides there.
    async fn create_stamped(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
        stamp: &Stamp,
    ) -> Result<CreateAnswer, ConnectorFailure> {
        self.scim.create_stamped(target, account, stamp).await
    }

    async fn identify(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
        stamp: &Stamp,
        after_conflict: bool,
    ) -> Result<Option<Found>, ConnectorFailure> {
        self.scim
            .identify(target, account, stamp, after_conflict)
            .await
    }
}

/// Classifies a refusal from its status and Slack's `Errors.description`. Slack gives
/// no code besides the status, so the status decides and the description is the cause.
fn failure(answer: &Answer) -> ConnectorFailure {
    refusal(answer, None, "/Errors/description")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(status: u16, body: Value) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: None,
            headers: Default::default(),
            body: body.to_string().into_bytes(),
            truncated: false,
        }
    }

    #[test]
    fn slacks_description_is_the_cause_and_the_status_decides_the_class() {
        let refused = failure(&answer(
            400,
            json!({"Errors": {"description": "invalid_email", "code": 400}}),
        ));
        assert_eq!(
            refused,
            ConnectorFailure::Permanent {
                code: "http_400".into(),
                cause: "invalid_email".into()
            }
        );
        let auth = failure(&answer(
            401,
            json!({"Errors": {"description": "invalid_authentication", "code": 401}}),
        ));
        assert_eq!(
            auth.to_string(),
            "401 from the service: invalid_authentication"
        );
    }

    #[test]
    fn a_400_describing_a_taken_value_is_a_conflict_with_or_without_a_detail() {
        let taken = |description: &str| {
            is_taken(&answer(
                400,
                json!({"Errors": {"description": description, "code": 400}}),
            ))
        };
        assert!(taken("username_taken"));
        assert!(taken("email_taken (email=ada@example.com)"));
        assert!(!taken("username_not_allowed (user=ada)"));
        assert!(!taken("invalid_email"));
        assert!(is_taken(&answer(409, json!({}))));
    }
}
