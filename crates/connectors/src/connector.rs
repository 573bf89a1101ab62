//! The one trait every connector implements, and what it is given.

use std::fmt;

use provisioner_core::ConnectorFailure;
use serde_json::{Map, Value};
use url::Url;

/// Where and as whom a connector calls a SaaS: one workspace of one service.
#[derive(Clone)]
pub struct IntegrationTarget {
    pub workspace: String,
    pub base_url: Url,
    pub credentials: Value,
}

/// Credentials are secrets (DESIGN.md promise 6), so they never reach a log through
/// `{:?}`.
impl fmt::Debug for IntegrationTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntegrationTarget")
            .field("workspace", &self.workspace)
            .field("base_url", &self.base_url.as_str())
            .field("credentials", &"<redacted>")
            .finish()
    }
}

/// What a create call gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateAnswer {
    Created {
        external_id: String,
    },
    /// The service says the account exists already; [`crate::provision`] resolves it by
    /// lookup.
    Conflict,
}

#[async_trait::async_trait]
pub trait Connector: Send + Sync {
    /// A cheap authenticated read that tells whether the integration works.
    async fn check(&self, target: &IntegrationTarget) -> Result<(), ConnectorFailure>;

    /// Looks up an account matching these fields; `Some(external id)` when one exists.
    async fn find(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<Option<String>, ConnectorFailure>;

    /// Looks up the account a create was just refused for as a conflict. A service may
    /// refuse that lookup for a reason of the account's own (it is held where the
    /// integration cannot see), which its connector reads here.
    async fn find_after_conflict(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<Option<String>, ConnectorFailure> {
        self.find(target, account).await
    }

    /// Creates the account.
    async fn create(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
    ) -> Result<CreateAnswer, ConnectorFailure>;
}

/// How a person reads who an account is for: user_name, else email, else "".
pub fn account_target(account: &Map<String, Value>) -> String {
    ["user_name", "email"]
        .into_iter()
        .filter_map(|field| account.get(field).and_then(Value::as_str))
        .map(str::trim)
        .find(|value| !value.is_empty())
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_target_is_the_user_name_else_the_email_else_nothing() {
        let both = fields(json!({"user_name": "ada", "email": "ada@example.com"}));
        assert_eq!(account_target(&both), "ada");
        let email = fields(json!({"user_name": " ", "email": "ada@example.com"}));
        assert_eq!(account_target(&email), "ada@example.com");
        assert_eq!(account_target(&Map::new()), "");
    }

    #[test]
    fn debug_output_never_shows_credentials() {
        let target = IntegrationTarget {
            workspace: "acme".into(),
            base_url: Url::parse("https://acme.example/scim/v2").unwrap(),
            credentials: json!({"token": "s3cret"}),
        };
        let printed = format!("{target:?}");
        assert!(
            printed.contains("acme") && !printed.contains("s3cret"),
            "{printed}"
        );
    }
}
