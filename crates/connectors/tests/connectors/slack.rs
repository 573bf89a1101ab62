//! The Slack connector against the simulated Slack SCIM API.

use std::time::Duration;

use provisioner_connectors::{
    provision, provision_stamped, Catalog, Connector, IntegrationTarget, SlackConnector,
};
use provisioner_core::{ConnectorFailure, ProvisionOutcome};
use provisioner_sim::{Documented, Faults, WorkspaceSetup};
use serde_json::json;

use crate::helpers::*;

const SLACK_TOKEN: &str = "xoxp-admin";

async fn slack() -> Saas {
    let saas = Saas::empty().await;
    let setup = WorkspaceSetup::Slack {
        token: SLACK_TOKEN.into(),
    };
    saas.sim.setup_workspace("acme", setup);
    saas
}

fn target(saas: &Saas, token: &str) -> IntegrationTarget {
    saas.target_at("/scim/v2", json!({"token": token}))
}

fn connector() -> SlackConnector {
    SlackConnector::new(http())
}

#[tokio::test]
async fn a_slack_member_is_created_with_one_call_and_slacks_own_id() {
    let saas = slack().await;
    let outcome = provision(
        &connector(),
        &target(&saas, SLACK_TOKEN),
        &account("ada"),
        false,
    )
    .await
    .unwrap();
    let ProvisionOutcome::Created { external_id } = outcome else {
        panic!("{outcome:?}")
    };
    assert!(external_id.starts_with('U'), "{external_id}");
    let users = saas.sim.users("acme").unwrap();
    assert_eq!(users[0]["id"], external_id.as_str());
    assert_eq!(users[0]["emails"][0]["value"], "ada@example.com");
    let stats = saas.sim.stats("acme").unwrap();
    assert_eq!(
        (stats.calls, stats.create_calls_by_user_name["ada"]),
        (1, 1)
    );
}

#[tokio::test]
async fn a_retry_after_a_lost_answer_looks_up_and_adopts_the_member() {
    let saas = slack().await;
    saas.faults(Faults {
        lose_next_create_responses: 1,
        ..Faults::default()
    });
    let connector = connector();
    let target = target(&saas, SLACK_TOKEN);
    let lost = provision_stamped(&connector, &target, &account("ada"), &stamp(), false).await;
    assert!(
        matches!(lost, Err(ConnectorFailure::Transient { .. })),
        "{lost:?}"
    );

    let retry = provision_stamped(&connector, &target, &account("ada"), &stamp(), true)
        .await
        .unwrap();
    let stored = saas.sim.users("acme").unwrap();
    assert_eq!(
        retry,
        ProvisionOutcome::AlreadyExists {
            external_id: stored[0]["id"].as_str().unwrap().into()
        }
    );
    assert_eq!(
        saas.sim.stats("acme").unwrap().create_calls_by_user_name["ada"],
        1
    );
}

#[tokio::test]
async fn a_user_name_taken_in_another_case_is_a_conflict_resolved_by_adoption() {
    let saas = slack().await;
    let connector = connector();
    let target = target(&saas, SLACK_TOKEN);
    let first = provision_stamped(&connector, &target, &account("Ada"), &stamp(), false)
        .await
        .unwrap();
    let second = provision_stamped(&connector, &target, &account("ada"), &stamp(), false)
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
async fn slacks_429_is_rate_limited_for_the_retry_after_it_names() {
    let saas = slack().await;
    saas.faults(fail_next_create(429, Some(30)));
    let failure = connector()
        .create(&target(&saas, SLACK_TOKEN), &account("ada"))
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::RateLimited {
            retry_after: Some(Duration::from_secs(30))
        }
    );
}

#[tokio::test]
async fn a_5xx_is_transient_with_slacks_description() {
    let saas = slack().await;
    saas.faults(fail_next_create_with(503, None, "service_unavailable"));
    let failure = connector()
        .create(&target(&saas, SLACK_TOKEN), &account("ada"))
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::Transient {
            cause: "503 from the service: service_unavailable".into()
        }
    );
}

#[tokio::test]
async fn an_invalid_user_name_is_permanent_with_slacks_words() {
    let saas = slack().await;
    let failure = connector()
        .create(&target(&saas, SLACK_TOKEN), &account("ada lovelace"))
        .await
        .unwrap_err();
    let ConnectorFailure::Permanent { code, cause } = failure else {
        panic!("{failure:?}")
    };
    assert_eq!(code, "http_400");
    assert!(cause.contains("ada lovelace"), "{cause}");
}

#[tokio::test]
async fn a_wrong_token_fails_the_check_and_the_create_as_authentication() {
    let saas = slack().await;
    let connector = connector();
    assert_eq!(connector.check(&target(&saas, SLACK_TOKEN)).await, Ok(()));
    let check = connector
        .check(&target(&saas, "xoxp-wrong"))
        .await
        .unwrap_err();
    assert_eq!(
        check,
        ConnectorFailure::AuthFailed {
            cause: "401 from the service: invalid_authentication".into()
        }
    );
    let create = connector
        .create(&target(&saas, "xoxp-wrong"), &account("ada"))
        .await
        .unwrap_err();
    assert!(
        matches!(create, ConnectorFailure::AuthFailed { .. }),
        "{create:?}"
    );
    assert_eq!(saas.sim.stats("acme").unwrap().accounts, 0);
}

#[tokio::test]
async fn the_catalog_serves_slack_at_slacks_own_url_unless_overridden() {
    let saas = slack().await;
    let catalog = Catalog::new(http());
    assert_eq!(
        catalog.base_url("slack", None).unwrap().as_str(),
        "https://api.slack.com/scim/v2"
    );
    let connector = catalog.connector("slack").unwrap();
    assert_eq!(connector.check(&target(&saas, SLACK_TOKEN)).await, Ok(()));
    let valid = json!({"user_name": "ada", "email": "ada@example.com"});
    assert_eq!(catalog.validate_account("slack", &valid), Ok(()));
    let errors = catalog.validate_account("slack", &json!({})).unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["/user_name", "/email"]);
}

#[tokio::test]
async fn a_taken_user_name_answered_400_username_taken_is_a_conflict_resolved_by_adoption() {
    let saas = slack().await;
    saas.faults(Faults {
        documented: vec![Documented::ConflictAs400],
        ..Faults::default()
    });
    let connector = connector();
    let target = target(&saas, SLACK_TOKEN);
    let first = provision_stamped(&connector, &target, &account("ada"), &stamp(), false)
        .await
        .unwrap();
    let second = provision_stamped(&connector, &target, &account("ada"), &stamp(), false)
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
async fn a_slack_member_carries_the_stamp_as_its_external_id() {
    let saas = slack().await;
    provision_stamped(
        &connector(),
        &target(&saas, SLACK_TOKEN),
        &account("ada"),
        &stamp(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        saas.sim.users("acme").unwrap()[0]["externalId"],
        stamp().as_str()
    );
}

#[tokio::test]
async fn a_slack_member_of_the_same_email_is_linked_and_one_of_another_is_refused() {
    let saas = slack().await;
    let connector = connector();
    let target = target(&saas, SLACK_TOKEN);
    let theirs = connector.create(&target, &account("ada")).await.unwrap();
    let linked = provision_stamped(&connector, &target, &account("ada"), &stamp(), true)
        .await
        .unwrap();
    let provisioner_connectors::CreateAnswer::Created { external_id } = theirs else {
        panic!("{theirs:?}")
    };
    assert_eq!(linked, ProvisionOutcome::Linked { external_id });

    let mut grace = account("grace");
    grace.insert("email".into(), "grace@example.com".into());
    connector.create(&target, &grace).await.unwrap();
    let failure = provision_stamped(&connector, &target, &account("grace"), &stamp(), false)
        .await
        .unwrap_err();
    assert_eq!(failure.code(), "conflict");
    assert!(
        failure
            .to_string()
            .starts_with("the user name is taken by another account"),
        "{failure}"
    );
}
