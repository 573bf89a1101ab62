//! Slack through its SCIM API v2 (<https://docs.slack.dev/reference/scim-api>): the
//! SCIM wire format at `https://api.slack.com/scim/v2`, with an OAuth token that holds
//! the `admin` scope. Slack words its errors as `{"Errors": {"description", "code"}}`
//! and answers its per-organization rate limits with 429 and `Retry-After`
//! (<https://docs.slack.dev/reference/scim-api/rate-limits>).

use provisioner_core::ConnectorFailure;
use serde_json::{json, Map, Value};

use crate::catalog::ServiceDescriptor;
use crate::connector::{Connector, CreateAnswer, IntegrationTarget};
use crate::failure::{classify, ServiceError};
use crate::http::{Answer, HttpClient};
use crate::scim::{Dialect, ScimConnector};

pub(crate) const KEY: &str = "slack";
const ACCOUNT_SCHEMA: &str = include_str!("../../../schemas/connectors/slack.json");

pub(crate) fn descriptor() -> Result<ServiceDescriptor, serde_json::Error> {
    Ok(ServiceDescriptor {
        key: KEY,
        name: "Slack",
        provisioning: true,
        account_schema: serde_json::from_str(ACCOUNT_SCHEMA)?,
        credentials_schema: json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "additionalProperties": false,
            "required": ["token"],
            "properties": {
                "token": {
                    "type": "string",
                    "minLength": 1,
                    "title": "OAuth token",
                    "description": "A Slack OAuth token with the admin scope, from an Owner or Admin of the workspace (Business+) or of the Enterprise Grid organization."
                }
            }
        }),
        requires_base_url: false,
        default_base_url: Some("https://api.slack.com/scim/v2"),
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
            scim: ScimConnector::with_dialect(http, Dialect::Slack),
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
}

/// Classifies a refusal from its status and Slack's `Errors.description`. Slack gives
/// no code besides the status, so the status decides and the description is the cause.
pub(crate) fn failure(answer: &Answer) -> ConnectorFailure {
    let description = answer
        .error_json()
        .as_ref()
        .and_then(|body| body.pointer("/Errors/description"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let said = ServiceError {
        code: None,
        message: description,
    };
    classify(answer.status, answer.retry_after, said)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::StatusCode;

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
}
