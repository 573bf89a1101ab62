//! The GitHub connector against the simulated organization invitations API.

use std::time::Duration;

use provisioner_connectors::{provision, Catalog, Connector, GitHubConnector, IntegrationTarget};
use provisioner_core::{ConnectorFailure, ProvisionOutcome};
use provisioner_sim::{Faults, Member, WorkspaceSetup};
use serde_json::{json, Map, Value};

use crate::helpers::*;

const GH_TOKEN: &str = "ghp_admin";

async fn github() -> Saas {
    let saas = Saas::empty().await;
    let setup = WorkspaceSetup::Github {
        token: GH_TOKEN.into(),
        org: "acme-inc".into(),
    };
    saas.sim.setup_workspace("acme", setup);
    saas
}

fn target(saas: &Saas, token: &str) -> IntegrationTarget {
    IntegrationTarget {
        workspace: "acme-inc".into(),
        ..saas.target_at("", json!({"token": token}))
    }
}

fn connector() -> GitHubConnector {
    GitHubConnector::new(http())
}

fn invitee(email: &str) -> Map<String, Value> {
    json!({"email": email, "role": "direct_member"})
        .as_object()
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn an_invitation_is_sent_with_one_call_and_its_id_kept() {
    let saas = github().await;
    let outcome = provision(
        &connector(),
        &target(&saas, GH_TOKEN),
        &invitee("ada@example.com"),
        false,
    )
    .await
    .unwrap();
    let invitations = saas.sim.users("acme").unwrap();
    assert_eq!(
        outcome,
        ProvisionOutcome::Created {
            external_id: invitations[0]["id"].to_string()
        }
    );
    assert_eq!(invitations[0]["role"], "direct_member");
    let stats = saas.sim.stats("acme").unwrap();
    assert_eq!(
        (
            stats.calls,
            stats.create_calls_by_user_name["ada@example.com"]
        ),
        (1, 1)
    );
}

#[tokio::test]
async fn a_retry_after_a_lost_answer_adopts_the_pending_invitation() {
    let saas = github().await;
    saas.faults(Faults {
        lose_next_create_responses: 1,
        ..Faults::default()
    });
    let connector = connector();
    let target = target(&saas, GH_TOKEN);
    let lost = provision(&connector, &target, &invitee("ada@example.com"), false).await;
    assert!(
        matches!(lost, Err(ConnectorFailure::Transient { .. })),
        "{lost:?}"
    );

    let retry = provision(&connector, &target, &invitee("Ada@Example.com"), true)
        .await
        .unwrap();
    let invitations = saas.sim.users("acme").unwrap();
    assert_eq!(
        retry,
        ProvisionOutcome::AlreadyExists {
            external_id: invitations[0]["id"].to_string()
        }
    );
    assert_eq!(
        saas.sim.stats("acme").unwrap().create_calls_by_user_name["ada@example.com"],
        1
    );
}

#[tokio::test]
async fn an_email_already_invited_is_a_conflict_resolved_by_adopting_the_invitation() {
    let saas = github().await;
    let connector = connector();
    let target = target(&saas, GH_TOKEN);
    let first = provision(&connector, &target, &invitee("ada@example.com"), false)
        .await
        .unwrap();
    let second = provision(&connector, &target, &invitee("ada@example.com"), false)
        .await
        .unwrap();
    assert_eq!(
        second,
        ProvisionOutcome::AlreadyExists {
            external_id: first.external_id().into()
        }
    );
    assert_eq!(saas.sim.stats("acme").unwrap().accounts, 1);
}

#[tokio::test]
async fn a_secondary_rate_limit_waits_for_its_retry_after() {
    let saas = github().await;
    saas.faults(fail_next_create(403, Some(42)));
    let failure = connector()
        .create(&target(&saas, GH_TOKEN), &invitee("ada@example.com"))
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::RateLimited {
            retry_after: Some(Duration::from_secs(42))
        }
    );
}

#[tokio::test]
async fn a_primary_rate_limit_waits_until_the_reset_time() {
    let saas = github().await;
    saas.faults(fail_next_create_with(403, Some(120), "primary"));
    let failure = connector()
        .create(&target(&saas, GH_TOKEN), &invitee("ada@example.com"))
        .await
        .unwrap_err();
    let Some(wait) = failure.retry_after() else {
        panic!("{failure:?}")
    };
    assert!(matches!(failure, ConnectorFailure::RateLimited { .. }));
    assert!((115..=121).contains(&wait.as_secs()), "{wait:?}");
}

#[tokio::test]
async fn a_429_without_headers_waits_a_minute_as_github_asks() {
    let saas = github().await;
    saas.faults(fail_next_create(429, None));
    let failure = connector()
        .create(&target(&saas, GH_TOKEN), &invitee("ada@example.com"))
        .await
        .unwrap_err();
    assert_eq!(failure.retry_after(), Some(Duration::from_secs(60)));
}

#[tokio::test]
async fn an_unknown_role_is_permanent_with_githubs_own_words() {
    let saas = github().await;
    let mut account = invitee("ada@example.com");
    account.insert("role".into(), "overlord".into());
    let failure = connector()
        .create(&target(&saas, GH_TOKEN), &account)
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::Permanent {
            code: "invalid".into(),
            cause: "Validation Failed: role is not included in the list".into()
        }
    );
}

#[tokio::test]
async fn bad_credentials_fail_the_check_and_the_invitation_as_authentication() {
    let saas = github().await;
    let connector = connector();
    assert_eq!(connector.check(&target(&saas, GH_TOKEN)).await, Ok(()));
    let check = connector
        .check(&target(&saas, "ghp_wrong"))
        .await
        .unwrap_err();
    assert_eq!(
        check,
        ConnectorFailure::AuthFailed {
            cause: "401 from the service: Bad credentials".into()
        }
    );
    let create = connector
        .create(&target(&saas, "ghp_wrong"), &invitee("ada@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(create, ConnectorFailure::AuthFailed { .. }),
        "{create:?}"
    );
}

#[tokio::test]
async fn the_catalog_serves_github_at_api_github_com_unless_overridden() {
    let saas = github().await;
    let catalog = Catalog::new(http());
    assert_eq!(
        catalog.base_url("github", None).unwrap().as_str(),
        "https://api.github.com/"
    );
    let connector = catalog.connector("github").unwrap();
    assert_eq!(connector.check(&target(&saas, GH_TOKEN)).await, Ok(()));
    let missing = catalog.validate_account("github", &json!({})).unwrap_err();
    assert_eq!(missing[0].field, "/email");
    let bad_role = json!({"email": "ada@example.com", "role": "owner"});
    assert!(catalog.validate_account("github", &bad_role).is_err());
}

#[tokio::test]
async fn a_secondary_limit_answered_403_without_a_wait_is_retried_after_a_minute_not_an_auth_failure(
) {
    let saas = github().await;
    // GitHub's own answer: 403, no retry-after, no x-ratelimit-remaining, and the
    // sentence "You have exceeded a secondary rate limit…".
    saas.faults(fail_next_create(403, None));
    let failure = connector()
        .create(&target(&saas, GH_TOKEN), &invitee("ada@example.com"))
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::RateLimited {
            retry_after: Some(Duration::from_secs(60))
        }
    );
}

fn members(login: &str, email: &str) -> Faults {
    Faults {
        members: vec![Member {
            login: login.into(),
            email: email.into(),
        }],
        ..Faults::default()
    }
}

#[tokio::test]
async fn an_invitee_already_a_member_is_adopted_by_the_membership_of_their_login() {
    let saas = github().await;
    saas.faults(members("ada-l", "ada@example.com"));
    let mut account = invitee("Ada@Example.com");
    account.insert("login".into(), "ada-l".into());
    let outcome = provision(&connector(), &target(&saas, GH_TOKEN), &account, false)
        .await
        .unwrap();
    assert_eq!(
        outcome,
        ProvisionOutcome::AlreadyExists {
            external_id: "500".into()
        }
    );
    assert_eq!(saas.sim.stats("acme").unwrap().accounts, 0);
}

#[tokio::test]
async fn an_invitee_already_a_member_without_a_login_fails_saying_so() {
    let saas = github().await;
    saas.faults(members("ada-l", "ada@example.com"));
    let failure = provision(
        &connector(),
        &target(&saas, GH_TOKEN),
        &invitee("ada@example.com"),
        false,
    )
    .await
    .unwrap_err();
    assert_eq!(failure.code(), "already_member");
    assert!(!failure.is_retryable());
    let cause = failure.to_string();
    assert!(
        cause.contains("ada@example.com") && cause.contains("GitHub login"),
        "{cause}"
    );
}

#[tokio::test]
async fn a_login_that_is_no_member_leaves_a_conflict_unresolved() {
    let saas = github().await;
    saas.faults(members("ada-l", "ada@example.com"));
    let mut account = invitee("ada@example.com");
    account.insert("login".into(), "someone-else".into());
    let failure = provision(&connector(), &target(&saas, GH_TOKEN), &account, false)
        .await
        .unwrap_err();
    assert_eq!(failure.code(), "conflict");
}
