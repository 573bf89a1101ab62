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

/// The mark provisioner puts on an account it creates (the request's id, which every
/// attempt of one request shares), so a lookup after a lost answer tells its own account
/// from one somebody else made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stamp(String);

impl Stamp {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An account a lookup found, with what says whose it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub external_id: String,
    pub owner: Owner,
}

/// Whose a found account is (DESIGN.md promise 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    /// It carries this request's stamp: provisioner made it and lost the answer.
    Ours,
    /// Someone else made it; it may be linked only when it is the same person by the
    /// identity the service keys on.
    Theirs { email_matches: bool },
    /// The connector cannot tell (it stamps nothing yet): adopted, as before stamping.
    Unverified,
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

    /// Creates the account with provisioner's stamp in the vendor's external-id field;
    /// a vendor that offers none creates it unstamped.
    async fn create_stamped(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
        _stamp: &Stamp,
    ) -> Result<CreateAnswer, ConnectorFailure> {
        self.create(target, account).await
    }

    /// Looks the account up and says whose it is; `after_conflict` when a create was
    /// just refused for it. A connector that stamps nothing finds as before, unverified.
    async fn identify(
        &self,
        target: &IntegrationTarget,
        account: &Map<String, Value>,
        _stamp: &Stamp,
        after_conflict: bool,
    ) -> Result<Option<Found>, ConnectorFailure> {
        let found = if after_conflict {
            self.find_after_conflict(target, account).await?
        } else {
            self.find(target, account).await?
        };
        Ok(found.map(|external_id| Found {
            external_id,
            owner: Owner::Unverified,
        }))
    }
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
