//! Provisioning through the SCIM connector: outcomes and how refusals are classified.

use std::time::Duration;

use provisioner_connectors::{provision, provision_stamped, Catalog, Connector, HttpClient};
use provisioner_core::{ConnectorFailure, ProvisionOutcome};
use provisioner_sim::{Documented, Faults};

use crate::helpers::*;

#[tokio::test]
async fn a_first_attempt_creates_the_account_with_one_call() {
    let saas = Saas::spawn().await;
    let outcome = provision(&connector(), &saas.target(TOKEN), &account("ada"), false)
        .await
        .unwrap();
    let ProvisionOutcome::Created { external_id } = outcome else {
        panic!("{outcome:?}")
    };
    let users = saas.sim.users("acme").unwrap();
    assert_eq!(users[0]["id"], external_id.as_str());
    assert_eq!(users[0]["displayName"], "Ada Lovelace");
    assert_eq!(users[0]["emails"][0]["value"], "ada@example.com");
    assert_eq!(saas.sim.stats("acme").unwrap().calls, 1);
}

#[tokio::test]
async fn a_conflict_is_adopted_as_already_exists() {
    let saas = Saas::spawn().await;
    let connector = connector();
    let first = provision_stamped(
        &connector,
        &saas.target(TOKEN),
        &account("Ada"),
        &stamp(),
        false,
    )
    .await
    .unwrap();
    let second = provision_stamped(
        &connector,
        &saas.target(TOKEN),
        &account("ada"),
        &stamp(),
        false,
    )
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
async fn a_retry_after_a_lost_response_adopts_the_account_with_exactly_one_create_call() {
    let saas = Saas::spawn().await;
    saas.faults(Faults {
        lose_next_create_responses: 1,
        ..Faults::default()
    });
    let connector = connector();
    let lost = provision_stamped(
        &connector,
        &saas.target(TOKEN),
        &account("ada+test@example.com"),
        &stamp(),
        false,
    )
    .await;
    assert!(
        matches!(lost, Err(ConnectorFailure::Transient { .. })),
        "{lost:?}"
    );

    let retry = provision_stamped(
        &connector,
        &saas.target(TOKEN),
        &account("ada+test@example.com"),
        &stamp(),
        true,
    )
    .await
    .unwrap();
    let stored = saas.sim.users("acme").unwrap();
    assert_eq!(
        retry,
        ProvisionOutcome::AlreadyExists {
            external_id: stored[0]["id"].as_str().unwrap().into()
        }
    );
    assert_eq!(saas.create_calls(), 1);
}

#[tokio::test]
async fn a_retry_that_finds_nothing_creates() {
    let saas = Saas::spawn().await;
    let outcome = provision(&connector(), &saas.target(TOKEN), &account("ada"), true)
        .await
        .unwrap();
    assert!(matches!(outcome, ProvisionOutcome::Created { .. }));
    assert_eq!(saas.sim.stats("acme").unwrap().calls, 2);
}

#[tokio::test]
async fn an_invalid_user_name_is_permanent_with_the_services_own_sentence() {
    let saas = Saas::spawn().await;
    let failure = provision(
        &connector(),
        &saas.target(TOKEN),
        &account("ada lovelace"),
        false,
    )
    .await
    .unwrap_err();
    let ConnectorFailure::Permanent { code, cause } = failure else {
        panic!("{failure:?}")
    };
    assert_eq!(code, "invalid_value");
    assert!(
        cause.contains("userName") && cause.contains("ada lovelace"),
        "{cause}"
    );
}

#[tokio::test]
async fn a_wrong_token_is_auth_failed_for_check_and_create() {
    let saas = Saas::spawn().await;
    let connector = connector();
    assert_eq!(connector.check(&saas.target(TOKEN)).await, Ok(()));
    let check = connector.check(&saas.target("wrong")).await.unwrap_err();
    let ConnectorFailure::AuthFailed { cause } = check else {
        panic!("{check:?}")
    };
    assert!(
        cause.starts_with("401 from the service: the bearer token"),
        "{cause}"
    );
    let create = connector
        .create(&saas.target("wrong"), &account("ada"))
        .await
        .unwrap_err();
    assert!(
        matches!(create, ConnectorFailure::AuthFailed { .. }),
        "{create:?}"
    );
}

#[tokio::test]
async fn a_429_with_retry_after_is_rate_limited_for_that_long() {
    let saas = Saas::spawn().await;
    saas.faults(fail_next_create(429, Some(7)));
    let failure = provision(&connector(), &saas.target(TOKEN), &account("ada"), false)
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::RateLimited {
            retry_after: Some(Duration::from_secs(7))
        }
    );
}

#[tokio::test]
async fn a_503_is_transient_and_keeps_the_services_sentence() {
    let saas = Saas::spawn().await;
    saas.faults(fail_next_create(503, None));
    let failure = provision(&connector(), &saas.target(TOKEN), &account("ada"), false)
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::Transient {
            cause: "503 from the service: the service is temporarily unavailable".into()
        }
    );
}

#[tokio::test]
async fn a_conflict_without_a_matching_account_is_permanent() {
    let saas = Saas::spawn().await;
    saas.faults(fail_next_create(409, None));
    let failure = provision(&connector(), &saas.target(TOKEN), &account("ada"), false)
        .await
        .unwrap_err();
    assert_eq!(failure.code(), "conflict");
}

#[tokio::test]
async fn the_catalogs_scim_connector_reaches_the_simulator() {
    let saas = Saas::spawn().await;
    let catalog = Catalog::new(HttpClient::with_options(loopback_options()).unwrap());
    let connector = catalog.connector("scim").unwrap();
    assert_eq!(connector.check(&saas.target(TOKEN)).await, Ok(()));
}

#[tokio::test]
async fn a_uniqueness_error_answered_400_is_a_conflict_resolved_by_adoption() {
    let saas = Saas::spawn().await;
    saas.faults(Faults {
        documented: vec![Documented::ConflictAs400],
        ..Faults::default()
    });
    let connector = connector();
    let target = saas.target(TOKEN);
    let first = provision_stamped(&connector, &target, &account("ada"), &stamp(), false)
        .await
        .unwrap();
    let second = provision_stamped(&connector, &target, &account("ADA"), &stamp(), false)
        .await
        .unwrap();
    assert_eq!(
        second,
        ProvisionOutcome::AlreadyExists {
            external_id: first.external_id().into()
        }
    );
}

fn account_with_email(user_name: &str, email: &str) -> serde_json::Map<String, serde_json::Value> {
    let mut fields = account(user_name);
    fields.insert("email".into(), email.into());
    fields
}

#[tokio::test]
async fn a_create_stamps_the_request_as_the_scim_external_id() {
    let saas = Saas::spawn().await;
    provision_stamped(
        &connector(),
        &saas.target(TOKEN),
        &account("ada"),
        &stamp(),
        false,
    )
    .await
    .unwrap();
    let users = saas.sim.users("acme").unwrap();
    assert_eq!(users[0]["externalId"], stamp().as_str());
}

#[tokio::test]
async fn an_existing_account_of_the_same_email_is_linked() {
    let saas = Saas::spawn().await;
    let connector = connector();
    // Made at the service by someone else: no stamp of provisioner's.
    let theirs = connector
        .create(&saas.target(TOKEN), &account("ada"))
        .await
        .unwrap();
    let outcome = provision_stamped(
        &connector,
        &saas.target(TOKEN),
        &account("ada"),
        &stamp(),
        false,
    )
    .await
    .unwrap();
    let provisioner_connectors::CreateAnswer::Created { external_id } = theirs else {
        panic!("{theirs:?}")
    };
    assert_eq!(outcome, ProvisionOutcome::Linked { external_id });
    assert_eq!(saas.sim.stats("acme").unwrap().accounts, 1);
}

#[tokio::test]
async fn an_account_sharing_only_the_user_name_is_a_permanent_conflict() {
    let saas = Saas::spawn().await;
    let connector = connector();
    let target = saas.target(TOKEN);
    connector
        .create(&target, &account_with_email("ada", "other@example.com"))
        .await
        .unwrap();
    for may_have_reached_before in [false, true] {
        let failure = provision_stamped(
            &connector,
            &target,
            &account("ada"),
            &stamp(),
            may_have_reached_before,
        )
        .await
        .unwrap_err();
        assert_eq!(failure.code(), "conflict");
        assert!(!failure.is_retryable());
        assert!(
            failure
                .to_string()
                .starts_with("the user name is taken by another account"),
            "{failure}"
        );
    }
    assert_eq!(saas.sim.stats("acme").unwrap().accounts, 1);
}
