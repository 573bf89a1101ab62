//! The provisioning procedure every connector shares (DESIGN.md promise 2).

use provisioner_core::{ConnectorFailure, ProvisionOutcome};
use serde_json::{Map, Value};

use crate::connector::{
    account_target, Connector, CreateAnswer, Found, IntegrationTarget, Owner, Stamp,
};

/// [`provision_stamped`] for a caller that owns no stable id to stamp: nothing it finds
/// can be recognised as its own, so only a same-person account is taken over.
pub async fn provision(
    connector: &dyn Connector,
    target: &IntegrationTarget,
    account: &Map<String, Value>,
    may_have_reached_before: bool,
) -> Result<ProvisionOutcome, ConnectorFailure> {
    let stamp = Stamp::new(String::new());
    provision_stamped(connector, target, account, &stamp, may_have_reached_before).await
}

/// Provisions one account, stamped with `stamp`. When an earlier attempt may have
/// reached the SaaS, looks up first; otherwise creates, because SaaS quotas are scarce
/// and a first attempt cannot have left anything behind. A conflict is resolved by
/// lookup. What a lookup finds is decided by [`decide`]: never adopted on user name
/// alone.
pub async fn provision_stamped(
    connector: &dyn Connector,
    target: &IntegrationTarget,
    account: &Map<String, Value>,
    stamp: &Stamp,
    may_have_reached_before: bool,
) -> Result<ProvisionOutcome, ConnectorFailure> {
    if may_have_reached_before {
        if let Some(found) = connector.identify(target, account, stamp, false).await? {
            return decide(target, account, found);
        }
    }
    match connector.create_stamped(target, account, stamp).await? {
        CreateAnswer::Created { external_id } => Ok(ProvisionOutcome::Created { external_id }),
        CreateAnswer::Conflict => match connector.identify(target, account, stamp, true).await? {
            Some(found) => decide(target, account, found),
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

/// Our stamp: provisioner's own account, whose answer was lost. Another's account with
/// the person's email: linked. Another's account with only the user name in common: a
/// permanent conflict, since adopting it would hand someone else's account over.
fn decide(
    target: &IntegrationTarget,
    account: &Map<String, Value>,
    found: Found,
) -> Result<ProvisionOutcome, ConnectorFailure> {
    let Found { external_id, owner } = found;
    match owner {
        Owner::Ours | Owner::Unverified => {
            tracing::info!(workspace = %target.workspace, external_id, ?owner, "adopted an account provisioner made");
            Ok(ProvisionOutcome::AlreadyExists { external_id })
        }
        Owner::Theirs {
            email_matches: true,
        } => {
            tracing::info!(workspace = %target.workspace, external_id, "linked an existing account of the same person");
            Ok(ProvisionOutcome::Linked { external_id })
        }
        Owner::Theirs {
            email_matches: false,
        } => Err(ConnectorFailure::Permanent {
            code: "conflict".into(),
            cause: format!(
                "the user name is taken by another account: {:?} exists at the service with \
                 another email and was not made by provisioner",
                account_target(account)
            ),
        }),
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

    /// A connector that finds one account of the given owner, whatever it is asked.
    struct Owned(Owner);

    #[async_trait::async_trait]
    impl Connector for Owned {
        async fn check(&self, _: &IntegrationTarget) -> Result<(), ConnectorFailure> {
            Ok(())
        }

        async fn find(
            &self,
            _: &IntegrationTarget,
            _: &Map<String, Value>,
        ) -> Result<Option<String>, ConnectorFailure> {
            Ok(Some("u-1".into()))
        }

        async fn identify(
            &self,
            _: &IntegrationTarget,
            _: &Map<String, Value>,
            _: &Stamp,
            _: bool,
        ) -> Result<Option<Found>, ConnectorFailure> {
            Ok(Some(Found {
                external_id: "u-1".into(),
                owner: self.0,
            }))
        }

        async fn create(
            &self,
            _: &IntegrationTarget,
            _: &Map<String, Value>,
        ) -> Result<CreateAnswer, ConnectorFailure> {
            Ok(CreateAnswer::Conflict)
        }
    }

    #[tokio::test]
    async fn ours_is_adopted_the_persons_is_linked_and_anothers_is_a_permanent_conflict() {
        let stamp = Stamp::new("req-1");
        let outcome = |owner| async move {
            provision_stamped(&Owned(owner), &target(), &ada(), &Stamp::new("req-1"), true).await
        };
        let u1 = || "u-1".to_owned();
        assert_eq!(
            outcome(Owner::Ours).await,
            Ok(ProvisionOutcome::AlreadyExists { external_id: u1() })
        );
        let person = Owner::Theirs {
            email_matches: true,
        };
        assert_eq!(
            outcome(person).await,
            Ok(ProvisionOutcome::Linked { external_id: u1() })
        );
        let stranger = Owner::Theirs {
            email_matches: false,
        };
        let failure = outcome(stranger).await.unwrap_err();
        assert_eq!(failure.code(), "conflict");
        assert!(!failure.is_retryable());
        assert!(
            failure
                .to_string()
                .starts_with("the user name is taken by another account"),
            "{failure}"
        );
        let after_conflict =
            provision_stamped(&Owned(stranger), &target(), &ada(), &stamp, false).await;
        assert_eq!(after_conflict.unwrap_err().code(), "conflict");
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
