//! The provisioning procedure every connector shares (DESIGN.md promise 2).

use provisioner_core::{ConnectorFailure, ProvisionOutcome};
use serde_json::{Map, Value};

use crate::connector::{account_target, Connector, CreateAnswer, IntegrationTarget};

/// Provisions one account. When an earlier attempt may have reached the SaaS, looks up
/// first and adopts a match; otherwise creates, because SaaS quotas are scarce and a
/// first attempt cannot have left anything behind. A conflict is always resolved by
/// lookup and adopted as `AlreadyExists`; a conflict whose lookup finds nothing is
/// `Permanent` with a cause a person can act on.
pub async fn provision(
    connector: &dyn Connector,
    target: &IntegrationTarget,
    account: &Map<String, Value>,
    may_have_reached_before: bool,
) -> Result<ProvisionOutcome, ConnectorFailure> {
    if may_have_reached_before {
        if let Some(external_id) = connector.find(target, account).await? {
            tracing::info!(workspace = %target.workspace, external_id, "adopted an account found before creating");
            return Ok(ProvisionOutcome::AlreadyExists { external_id });
        }
    }
    match connector.create(target, account).await? {
        CreateAnswer::Created { external_id } => Ok(ProvisionOutcome::Created { external_id }),
        CreateAnswer::Conflict => match connector.find_after_conflict(target, account).await? {
            Some(external_id) => {
                tracing::info!(workspace = %target.workspace, external_id, "adopted an account after a conflict");
                Ok(ProvisionOutcome::AlreadyExists { external_id })
            }
            None => Err(ConnectorFailure::Permanent {
                code: "conflict".into(),
                cause: format!(
                    "the service refused to create {:?} because it conflicts with an existing \
                     account, but no account matching it can be found; another account may \
                     hold the same email or name, or the person may already be a member, so \
                     check the workspace",
                    account_target(account)
                ),
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use serde_json::json;

    /// A connector that answers from a script and writes down what it was asked.
    struct Scripted {
        found: Option<String>,
        create: CreateAnswer,
        calls: Mutex<Vec<&'static str>>,
    }

    impl Scripted {
        fn new(found: Option<&str>, create: CreateAnswer) -> Self {
            Self {
                found: found.map(str::to_owned),
                create,
                calls: Mutex::new(Vec::new()),
            }
        }

        fn calls(&self) -> Vec<&'static str> {
            self.calls.lock().unwrap().clone()
        }
    }

    #[async_trait::async_trait]
    impl Connector for Scripted {
        async fn check(&self, _: &IntegrationTarget) -> Result<(), ConnectorFailure> {
            Ok(())
        }

        async fn find(
            &self,
            _: &IntegrationTarget,
            _: &Map<String, Value>,
        ) -> Result<Option<String>, ConnectorFailure> {
            self.calls.lock().unwrap().push("find");
            Ok(self.found.clone())
        }

        async fn create(
            &self,
            _: &IntegrationTarget,
            _: &Map<String, Value>,
        ) -> Result<CreateAnswer, ConnectorFailure> {
            self.calls.lock().unwrap().push("create");
            Ok(self.create.clone())
        }
    }

    fn target() -> IntegrationTarget {
        IntegrationTarget {
            workspace: "acme".into(),
            base_url: url::Url::parse("https://acme.example/scim/v2").unwrap(),
            credentials: json!({}),
        }
    }

    fn ada() -> Map<String, Value> {
        json!({"user_name": "ada"}).as_object().cloned().unwrap()
    }

    fn created(id: &str) -> CreateAnswer {
        CreateAnswer::Created {
            external_id: id.into(),
        }
    }

    #[tokio::test]
    async fn a_first_attempt_creates_without_looking_up() {
        let connector = Scripted::new(Some("old"), created("new"));
        let outcome = provision(&connector, &target(), &ada(), false)
            .await
            .unwrap();
        assert_eq!(
            outcome,
            ProvisionOutcome::Created {
                external_id: "new".into()
            }
        );
        assert_eq!(connector.calls(), ["create"]);
    }

    #[tokio::test]
    async fn a_retry_adopts_the_account_it_finds_without_creating() {
        let connector = Scripted::new(Some("old"), created("new"));
        let outcome = provision(&connector, &target(), &ada(), true)
            .await
            .unwrap();
        assert_eq!(
            outcome,
            ProvisionOutcome::AlreadyExists {
                external_id: "old".into()
            }
        );
        assert_eq!(connector.calls(), ["find"]);
    }

    #[tokio::test]
    async fn a_retry_that_finds_nothing_creates() {
        let connector = Scripted::new(None, created("new"));
        let outcome = provision(&connector, &target(), &ada(), true)
            .await
            .unwrap();
        assert_eq!(
            outcome,
            ProvisionOutcome::Created {
                external_id: "new".into()
            }
        );
        assert_eq!(connector.calls(), ["find", "create"]);
    }

    #[tokio::test]
    async fn a_conflict_is_resolved_by_lookup_and_adopted() {
        let connector = Scripted::new(Some("old"), CreateAnswer::Conflict);
        let outcome = provision(&connector, &target(), &ada(), false)
            .await
            .unwrap();
        assert_eq!(
            outcome,
            ProvisionOutcome::AlreadyExists {
                external_id: "old".into()
            }
        );
        assert_eq!(connector.calls(), ["create", "find"]);
    }

    #[tokio::test]
    async fn a_conflict_that_lookup_cannot_explain_is_permanent_and_says_so() {
        let connector = Scripted::new(None, CreateAnswer::Conflict);
        let failure = provision(&connector, &target(), &ada(), false)
            .await
            .unwrap_err();
        assert_eq!(failure.code(), "conflict");
        assert!(!failure.is_retryable());
        assert!(failure.to_string().contains("\"ada\""), "{failure}");
    }
}
