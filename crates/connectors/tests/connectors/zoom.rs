//! The Zoom connector against the simulated Zoom users API and token endpoint.

use std::time::Duration;

use provisioner_connectors::{provision, Catalog, Connector, IntegrationTarget, ZoomConnector};
use provisioner_core::{ConnectorFailure, ProvisionOutcome};
use provisioner_sim::{Documented, FailCreates, Faults, WorkspaceSetup};
use serde_json::json;

use crate::helpers::*;

async fn zoom() -> Saas {
    let saas = Saas::empty().await;
    let setup = WorkspaceSetup::Zoom {
        account_id: "acct-1".into(),
        client_id: "client".into(),
        client_secret: "secret".into(),
    };
    saas.sim.setup_workspace("acme", setup);
    saas
}

fn target(saas: &Saas, secret: &str) -> IntegrationTarget {
    let credentials =
        json!({"account_id": "acct-1", "client_id": "client", "client_secret": secret});
    saas.target_at("/v2", credentials)
}

fn connector() -> ZoomConnector {
    ZoomConnector::new(http())
}

fn tokens_issued(saas: &Saas) -> u64 {
    saas.sim.tokens_issued("acme").unwrap()
}

#[tokio::test]
async fn a_zoom_user_is_created_and_the_token_is_fetched_once_for_many_calls() {
    let saas = zoom().await;
    let connector = connector();
    let target = target(&saas, "secret");
    let outcome = provision(&connector, &target, &account("ada"), false)
        .await
        .unwrap();
    let users = saas.sim.users("acme").unwrap();
    assert_eq!(
        outcome,
        ProvisionOutcome::Created {
            external_id: users[0]["id"].as_str().unwrap().into()
        }
    );
    assert_eq!(users[0]["first_name"], "Ada");
    assert_eq!(users[0]["type"], 1);
    connector.check(&target).await.unwrap();
    assert_eq!(tokens_issued(&saas), 1);
}

#[tokio::test]
async fn a_retry_after_a_lost_answer_finds_the_user_by_email_and_adopts_it() {
    let saas = zoom().await;
    saas.faults(Faults {
        lose_next_create_responses: 1,
        ..Faults::default()
    });
    let connector = connector();
    let target = target(&saas, "secret");
    let lost = provision(&connector, &target, &account("ada"), false).await;
    assert!(
        matches!(lost, Err(ConnectorFailure::Transient { .. })),
        "{lost:?}"
    );
    let retry = provision(&connector, &target, &account("ada"), true)
        .await
        .unwrap();
    let users = saas.sim.users("acme").unwrap();
    assert_eq!(
        retry,
        ProvisionOutcome::AlreadyExists {
            external_id: users[0]["id"].as_str().unwrap().into()
        }
    );
    assert_eq!(
        saas.sim.stats("acme").unwrap().create_calls_by_user_name["ada@example.com"],
        1
    );
}

#[tokio::test]
async fn a_user_already_in_the_account_is_adopted_after_zooms_1005() {
    let saas = zoom().await;
    let connector = connector();
    let target = target(&saas, "secret");
    let first = provision(&connector, &target, &account("ada"), false)
        .await
        .unwrap();
    let second = provision(&connector, &target, &account("other"), false)
        .await
        .unwrap();
    assert_eq!(
        second,
        ProvisionOutcome::AlreadyExists {
            external_id: first.external_id().into()
        },
        "the same email is the same Zoom user"
    );
    assert_eq!(saas.sim.stats("acme").unwrap().accounts, 1);
}

#[tokio::test]
async fn zooms_429_is_rate_limited_for_its_retry_after() {
    let saas = zoom().await;
    saas.faults(fail_next_create(429, Some(3)));
    let failure = connector()
        .create(&target(&saas, "secret"), &account("ada"))
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::RateLimited {
            retry_after: Some(Duration::from_secs(3))
        }
    );
}

#[tokio::test]
async fn an_invalid_user_type_is_permanent_with_zooms_code_and_field() {
    let saas = zoom().await;
    let mut account = account("ada");
    account.insert("type".into(), 7.into());
    let failure = connector()
        .create(&target(&saas, "secret"), &account)
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::Permanent {
            code: "zoom_300".into(),
            cause: "Validation Failed. (user_info.type)".into()
        }
    );
}

#[tokio::test]
async fn a_revoked_token_is_refreshed_once_and_the_call_succeeds() {
    let saas = zoom().await;
    let connector = connector();
    let target = target(&saas, "secret");
    connector.check(&target).await.unwrap();
    saas.sim.revoke_tokens("acme");
    connector.check(&target).await.unwrap();
    assert_eq!(tokens_issued(&saas), 2);
}

#[tokio::test]
async fn a_401_that_survives_a_fresh_token_is_an_authentication_failure() {
    let saas = zoom().await;
    saas.faults(Faults {
        fail_next_creates: Some(FailCreates {
            count: 2,
            status: 401,
            retry_after_secs: None,
            detail: None,
        }),
        ..Faults::default()
    });
    let failure = connector()
        .create(&target(&saas, "secret"), &account("ada"))
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::AuthFailed {
            cause: "401 from the service: Invalid access token.".into()
        }
    );
    assert_eq!(tokens_issued(&saas), 2);
}

#[tokio::test]
async fn a_wrong_client_secret_fails_the_check_with_zooms_reason() {
    let saas = zoom().await;
    let failure = connector()
        .check(&target(&saas, "wrong"))
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::AuthFailed {
            cause:
                "401 from the token endpoint: invalid_client: Invalid client_id or client_secret"
                    .into()
        }
    );
    assert_eq!(tokens_issued(&saas), 0);
}

#[tokio::test]
async fn the_catalog_serves_zoom_at_api_zoom_us_unless_overridden() {
    let saas = zoom().await;
    let catalog = Catalog::new(http());
    assert_eq!(
        catalog.base_url("zoom", None).unwrap().as_str(),
        "https://api.zoom.us/v2"
    );
    let connector = catalog.connector("zoom").unwrap();
    assert_eq!(connector.check(&target(&saas, "secret")).await, Ok(()));
    let errors = catalog
        .validate_credentials("zoom", &json!({"account_id": "a"}))
        .unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["/client_id", "/client_secret"]);
}

#[tokio::test]
async fn a_lookup_answered_400_code_1120_is_no_such_user_and_the_create_goes_on() {
    let saas = zoom().await;
    saas.faults(Faults {
        documented: vec![Documented::UnknownUserAs1120],
        ..Faults::default()
    });
    let outcome = provision(
        &connector(),
        &target(&saas, "secret"),
        &account("ada"),
        true,
    )
    .await
    .unwrap();
    let users = saas.sim.users("acme").unwrap();
    assert_eq!(
        outcome,
        ProvisionOutcome::Created {
            external_id: users[0]["id"].as_str().unwrap().into()
        }
    );
}
