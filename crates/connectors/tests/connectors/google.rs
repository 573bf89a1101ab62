//! The Google Workspace connector against the simulated Directory API and token
//! endpoint.

use std::time::Duration;

use provisioner_connectors::{provision, Catalog, Connector, GoogleConnector, IntegrationTarget};
use provisioner_core::{ConnectorFailure, ProvisionOutcome};
use provisioner_sim::{Faults, WorkspaceSetup};
use serde_json::{json, Map, Value};

use crate::helpers::*;

const PRIVATE_KEY: &str =
    include_str!("../../../../tests/fixtures/google/test-service-account-key.pem");
const PUBLIC_KEY: &str =
    include_str!("../../../../tests/fixtures/google/test-service-account-key.pub.pem");
const SERVICE_ACCOUNT: &str = "provisioner@sim-project.iam.gserviceaccount.com";

async fn customer() -> Saas {
    let saas = Saas::empty().await;
    let setup = WorkspaceSetup::Google {
        client_email: SERVICE_ACCOUNT.into(),
        public_key_pem: PUBLIC_KEY.into(),
        customer_id: "C01abc".into(),
        domain: "acme.example".into(),
    };
    saas.sim.setup_workspace("acme", setup);
    saas
}

fn target_as(saas: &Saas, client_email: &str) -> IntegrationTarget {
    let credentials = json!({
        "service_account": {
            "type": "service_account",
            "client_email": client_email,
            "private_key": PRIVATE_KEY,
            "private_key_id": "k1",
            "token_uri": format!("{}/token", saas.origin),
        },
        "subject": "admin@acme.example",
    });
    saas.target_at("/admin/directory/v1", credentials)
}

fn target(saas: &Saas) -> IntegrationTarget {
    target_as(saas, SERVICE_ACCOUNT)
}

fn connector() -> GoogleConnector {
    GoogleConnector::new(http())
}

fn person(email: &str) -> Map<String, Value> {
    json!({"email": email, "given_name": "Ada", "family_name": "Lovelace"})
        .as_object()
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn a_google_user_is_inserted_with_one_signed_assertion_for_many_calls() {
    let saas = customer().await;
    let connector = connector();
    let outcome = provision(
        &connector,
        &target(&saas),
        &person("ada@acme.example"),
        false,
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
    assert_eq!(users[0]["name"]["fullName"], "Ada Lovelace");
    assert_eq!(users[0]["changePasswordAtNextLogin"], true);
    connector.check(&target(&saas)).await.unwrap();
    assert_eq!(saas.sim.tokens_issued("acme"), Some(1));
}

#[tokio::test]
async fn a_retry_after_a_lost_answer_gets_the_user_and_adopts_it() {
    let saas = customer().await;
    saas.faults(Faults {
        lose_next_create_responses: 1,
        ..Faults::default()
    });
    let connector = connector();
    let lost = provision(
        &connector,
        &target(&saas),
        &person("ada@acme.example"),
        false,
    )
    .await;
    assert!(
        matches!(lost, Err(ConnectorFailure::Transient { .. })),
        "{lost:?}"
    );
    let retry = provision(
        &connector,
        &target(&saas),
        &person("ada@acme.example"),
        true,
    )
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
        saas.sim.stats("acme").unwrap().create_calls_by_user_name["ada@acme.example"],
        1
    );
}

#[tokio::test]
async fn a_duplicate_primary_email_is_adopted_after_the_409() {
    let saas = customer().await;
    let connector = connector();
    let first = provision(
        &connector,
        &target(&saas),
        &person("ada@acme.example"),
        false,
    )
    .await
    .unwrap();
    let second = provision(
        &connector,
        &target(&saas),
        &person("Ada@acme.example"),
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
async fn a_403_with_a_rate_limit_reason_is_rate_limiting_not_an_auth_failure() {
    let saas = customer().await;
    for reason in [
        "userRateLimitExceeded",
        "quotaExceeded",
        "rateLimitExceeded",
    ] {
        saas.faults(fail_next_create_with(403, Some(5), reason));
        let failure = connector()
            .create(&target(&saas), &person("ada@acme.example"))
            .await
            .unwrap_err();
        assert_eq!(
            failure,
            ConnectorFailure::RateLimited {
                retry_after: Some(Duration::from_secs(5))
            },
            "{reason}"
        );
    }
}

#[tokio::test]
async fn a_403_for_another_reason_is_an_authentication_failure() {
    let saas = customer().await;
    saas.faults(Faults {
        fail_reason: Some("forbidden".into()),
        ..fail_next_create(403, None)
    });
    let failure = connector()
        .create(&target(&saas), &person("ada@acme.example"))
        .await
        .unwrap_err();
    assert!(
        matches!(failure, ConnectorFailure::AuthFailed { .. }),
        "{failure:?}"
    );
}

#[tokio::test]
async fn an_address_outside_the_customers_domain_is_permanent_with_googles_words() {
    let saas = customer().await;
    let failure = connector()
        .create(&target(&saas), &person("ada@elsewhere.example"))
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::Permanent {
            code: "invalid".into(),
            cause: "Invalid Input: primary_user_email".into()
        }
    );
}

#[tokio::test]
async fn a_revoked_token_is_refreshed_once_with_a_new_assertion() {
    let saas = customer().await;
    let connector = connector();
    connector.check(&target(&saas)).await.unwrap();
    saas.sim.revoke_tokens("acme");
    connector.check(&target(&saas)).await.unwrap();
    assert_eq!(saas.sim.tokens_issued("acme"), Some(2));
}

#[tokio::test]
async fn an_unknown_service_account_fails_the_check_at_the_token_endpoint() {
    let saas = customer().await;
    let failure = connector()
        .check(&target_as(
            &saas,
            "stranger@elsewhere.iam.gserviceaccount.com",
        ))
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::AuthFailed {
            cause: "401 from the token endpoint: invalid_client: The OAuth client was not found."
                .into()
        }
    );
}

#[tokio::test]
async fn the_catalog_serves_google_at_admin_googleapis_com_unless_overridden() {
    let saas = customer().await;
    let catalog = Catalog::new(http());
    assert_eq!(
        catalog.base_url("google", None).unwrap().as_str(),
        "https://admin.googleapis.com/admin/directory/v1"
    );
    let connector = catalog.connector("google").unwrap();
    assert_eq!(connector.check(&target(&saas)).await, Ok(()));
    let credentials = target(&saas).credentials;
    assert_eq!(catalog.validate_credentials("google", &credentials), Ok(()));
    let errors = catalog
        .validate_credentials("google", &json!({"service_account": {}}))
        .unwrap_err();
    assert!(errors.iter().any(|e| e.field == "/subject"), "{errors:?}");
}

#[tokio::test]
async fn an_email_taken_where_the_integration_cannot_see_is_a_permanent_conflict_not_an_auth_failure(
) {
    let saas = customer().await;
    saas.faults(Faults {
        taken_elsewhere: vec!["ada@acme.example".into()],
        ..Faults::default()
    });
    let failure = provision(
        &connector(),
        &target(&saas),
        &person("ada@acme.example"),
        false,
    )
    .await
    .unwrap_err();
    assert_eq!(failure.code(), "conflict");
    assert!(
        matches!(failure, ConnectorFailure::Permanent { .. }),
        "{failure:?}"
    );
    assert!(!failure.is_retryable());
    assert!(failure.to_string().contains("cannot see"), "{failure}");
    let stats = saas.sim.stats("acme").unwrap();
    assert_eq!((stats.create_calls, stats.accounts), (1, 0));
}
