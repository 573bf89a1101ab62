//! The Microsoft 365 connector against simulated Graph and its token endpoint.

use std::time::Duration;

use provisioner_connectors::{
    provision, Catalog, Connector, IntegrationTarget, MicrosoftConnector,
};
use provisioner_core::{ConnectorFailure, ProvisionOutcome};
use provisioner_sim::{Documented, Faults, WorkspaceSetup};
use serde_json::{json, Map, Value};

use crate::helpers::*;

async fn tenant() -> Saas {
    let saas = Saas::empty().await;
    let setup = WorkspaceSetup::Microsoft {
        tenant_id: "contoso".into(),
        client_id: "app".into(),
        client_secret: "secret".into(),
    };
    saas.sim.setup_workspace("acme", setup);
    saas
}

fn target(saas: &Saas, secret: &str) -> IntegrationTarget {
    let credentials = json!({"tenant_id": "contoso", "client_id": "app", "client_secret": secret});
    saas.target_at("/v1.0", credentials)
}

fn connector() -> MicrosoftConnector {
    MicrosoftConnector::new(http())
}

fn person(upn: &str) -> Map<String, Value> {
    json!({"user_name": upn, "given_name": "Ada", "family_name": "Lovelace"})
        .as_object()
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn a_graph_user_is_created_with_every_required_property_and_one_token() {
    let saas = tenant().await;
    let connector = connector();
    let target = target(&saas, "secret");
    let outcome = provision(&connector, &target, &person("ada@contoso.com"), false)
        .await
        .unwrap();
    let users = saas.sim.users("acme").unwrap();
    assert_eq!(
        outcome,
        ProvisionOutcome::Created {
            external_id: users[0]["id"].as_str().unwrap().into()
        }
    );
    assert_eq!(users[0]["displayName"], "Ada Lovelace");
    connector.check(&target).await.unwrap();
    assert_eq!(saas.sim.tokens_issued("acme"), Some(1));
}

#[tokio::test]
async fn a_retry_after_a_lost_answer_finds_the_user_by_upn_and_adopts_it() {
    let saas = tenant().await;
    saas.faults(Faults {
        lose_next_create_responses: 1,
        ..Faults::default()
    });
    let connector = connector();
    let target = target(&saas, "secret");
    let lost = provision(&connector, &target, &person("o'hara@contoso.com"), false).await;
    assert!(
        matches!(lost, Err(ConnectorFailure::Transient { .. })),
        "{lost:?}"
    );
    let retry = provision(&connector, &target, &person("O'Hara@contoso.com"), true)
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
        saas.sim.stats("acme").unwrap().create_calls_by_user_name["o'hara@contoso.com"],
        1
    );
}

#[tokio::test]
async fn a_taken_upn_is_an_object_conflict_resolved_by_adoption() {
    let saas = tenant().await;
    let connector = connector();
    let target = target(&saas, "secret");
    let first = provision(&connector, &target, &person("ada@contoso.com"), false)
        .await
        .unwrap();
    let second = provision(&connector, &target, &person("ADA@contoso.com"), false)
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
async fn graph_throttling_is_rate_limited_for_its_retry_after() {
    let saas = tenant().await;
    saas.faults(fail_next_create(429, Some(9)));
    let failure = connector()
        .create(&target(&saas, "secret"), &person("ada@contoso.com"))
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::RateLimited {
            retry_after: Some(Duration::from_secs(9))
        }
    );
}

#[tokio::test]
async fn a_refusal_keeps_graphs_code_and_message() {
    let saas = tenant().await;
    let failure = connector()
        .create(&target(&saas, "secret"), &person("no-domain"))
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::Permanent {
            code: "request_bad_request".into(),
            cause: "Property userPrincipalName is invalid.".into()
        }
    );
}

#[tokio::test]
async fn a_revoked_token_is_refreshed_once_and_an_insufficient_privilege_is_auth_failed() {
    let saas = tenant().await;
    let connector = connector();
    let target = target(&saas, "secret");
    connector.check(&target).await.unwrap();
    saas.sim.revoke_tokens("acme");
    connector.check(&target).await.unwrap();
    assert_eq!(saas.sim.tokens_issued("acme"), Some(2));

    saas.faults(fail_next_create(403, None));
    let failure = connector
        .create(&target, &person("ada@contoso.com"))
        .await
        .unwrap_err();
    assert_eq!(
        failure,
        ConnectorFailure::AuthFailed {
            cause: "403 from the service: Insufficient privileges to complete the operation."
                .into()
        }
    );
}

#[tokio::test]
async fn a_wrong_client_secret_fails_the_check_with_entras_reason() {
    let saas = tenant().await;
    let failure = connector()
        .check(&target(&saas, "wrong"))
        .await
        .unwrap_err();
    let ConnectorFailure::AuthFailed { cause } = failure else {
        panic!("{failure:?}")
    };
    assert!(
        cause.starts_with("401 from the token endpoint: invalid_client: AADSTS7000215"),
        "{cause}"
    );
}

#[tokio::test]
async fn the_catalog_serves_microsoft_365_at_graph_unless_overridden() {
    let saas = tenant().await;
    let catalog = Catalog::new(http());
    assert_eq!(
        catalog.base_url("microsoft365", None).unwrap().as_str(),
        "https://graph.microsoft.com/v1.0"
    );
    let connector = catalog.connector("microsoft365").unwrap();
    assert_eq!(connector.check(&target(&saas, "secret")).await, Ok(()));
    let errors = catalog
        .validate_account("microsoft365", &json!({"user_name": "ada@contoso.com"}))
        .unwrap_err();
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["/given_name", "/family_name"]);
}

/// Graph's conflict answered as `documented`, then resolved by finding the user by UPN.
async fn a_conflict_answered(documented: Documented) {
    let saas = tenant().await;
    saas.faults(Faults {
        documented: vec![documented],
        ..Faults::default()
    });
    let connector = connector();
    let target = target(&saas, "secret");
    let first = provision(&connector, &target, &person("ada@contoso.com"), false)
        .await
        .unwrap();
    let second = provision(&connector, &target, &person("ada@contoso.com"), false)
        .await
        .unwrap();
    assert_eq!(
        second,
        ProvisionOutcome::AlreadyExists {
            external_id: first.external_id().into()
        },
        "{documented:?}"
    );
    assert_eq!(saas.sim.stats("acme").unwrap().accounts, 1);
}

#[tokio::test]
async fn a_conflict_answered_409_is_resolved_by_adoption() {
    a_conflict_answered(Documented::ConflictAs409).await;
}

#[tokio::test]
async fn a_conflict_answered_400_without_details_is_resolved_by_adoption() {
    a_conflict_answered(Documented::ConflictAs400).await;
}

#[tokio::test]
async fn a_conflict_on_proxy_addresses_is_resolved_by_adoption() {
    a_conflict_answered(Documented::ProxyAddressesConflict).await;
}
