//! The inventory against real PostgreSQL: a success records its account once, in the
//! transaction that ends the request.

use std::time::Duration;

use provisioner_core::retry::RetryOverride;
use provisioner_core::{
    AccountOrigin, AccountState, IntegrationId, IntegrationStatus, ProvisionOutcome, RequestId,
    RequestState, TenantId,
};
use provisioner_store::{
    AccountFilter, ClaimOutcome, NewEmployee, NewIntegration, NewRequest, RequestRow, Store,
    StoredRequest, TerminalUpdate,
};
use provisioner_test_support::fresh_database;
use serde_json::json;

const LEASE: Duration = Duration::from_secs(60);

async fn store() -> (Store, TenantId, IntegrationId) {
    let store = Store::connect_lazy(&fresh_database().await, 2).unwrap();
    store.migrate().await.unwrap();
    let tenant_id = store.create_tenant("acme").await.unwrap();
    let new = NewIntegration {
        service: "scim".into(),
        workspace: "acme".into(),
        base_url: Some("http://127.0.0.1:1/scim/v2".into()),
        credentials: json!({"token": "secret"}),
        status: IntegrationStatus::Ok,
        status_reason: None,
        requests_per_second: None,
        retry: RetryOverride::default(),
        max_concurrent_calls: None,
    };
    let integration = store.insert_integration(tenant_id, &new).await.unwrap();
    (store, tenant_id, integration.id)
}

async fn submitted(
    store: &Store,
    tenant_id: TenantId,
    integration_id: IntegrationId,
    employee_id: Option<provisioner_core::EmployeeId>,
) -> RequestId {
    let new = NewRequest {
        integration_id,
        employee_id,
        service: "scim".into(),
        workspace: "acme".into(),
        target: "ada".into(),
        account: json!({"user_name": "ada"}),
        idempotency_key: None,
        request_hash: Vec::new(),
        trace_id: None,
    };
    match store.insert_request(tenant_id, &new).await.unwrap() {
        StoredRequest::Created(id) => id,
        other => panic!("not stored: {other:?}"),
    }
}

/// Claims the request and ends it succeeded with `outcome`.
async fn succeed(
    store: &Store,
    tenant_id: TenantId,
    id: RequestId,
    outcome: ProvisionOutcome,
) -> RequestRow {
    let ClaimOutcome::Claimed(claim) = store
        .claim_request(tenant_id, id, None, LEASE)
        .await
        .unwrap()
    else {
        panic!("not claimed");
    };
    let update = TerminalUpdate {
        state: RequestState::Succeeded,
        account: Some(outcome),
        error: None,
    };
    store
        .finish_request(tenant_id, id, claim.attempt(), &update)
        .await
        .unwrap()
        .expect("the claim is still held")
}

#[tokio::test]
async fn two_successes_naming_one_account_share_one_row_that_keeps_what_it_first_knew() {
    let (store, tenant_id, integration_id) = store().await;
    let first = submitted(&store, tenant_id, integration_id, None).await;
    let created = ProvisionOutcome::Created {
        external_id: "u-1".into(),
    };
    let first = succeed(&store, tenant_id, first, created).await;

    let employee = NewEmployee {
        email: "ada@example.com".into(),
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        department: None,
    };
    let employee = store.insert_employee(tenant_id, &employee).await.unwrap();
    let second = submitted(&store, tenant_id, integration_id, Some(employee.id)).await;
    let found = ProvisionOutcome::AlreadyExists {
        external_id: "u-1".into(),
    };
    let second = succeed(&store, tenant_id, second, found).await;

    let account_id = first.account_id.expect("the success names its account");
    assert_eq!(second.account_id, Some(account_id));
    let accounts = store
        .accounts(tenant_id, &AccountFilter::default())
        .await
        .unwrap();
    assert_eq!(accounts.len(), 1);
    let account = &accounts[0];
    assert_eq!(account.id, account_id);
    assert_eq!(account.external_account_id, "u-1");
    assert_eq!(account.state, AccountState::Active);
    assert_eq!(account.origin, AccountOrigin::Created);
    assert_eq!(
        account.found_by_lookup,
        Some(false),
        "the first success made it"
    );
    assert_eq!(
        account.employee_id,
        Some(employee.id),
        "filled in by the second"
    );
    assert_eq!(
        (account.service.as_str(), account.workspace.as_str()),
        ("scim", "acme")
    );
}

#[tokio::test]
async fn a_finish_that_lost_its_claim_records_no_account() {
    let (store, tenant_id, integration_id) = store().await;
    let id = submitted(&store, tenant_id, integration_id, None).await;
    let ClaimOutcome::Claimed(claim) = store
        .claim_request(tenant_id, id, None, LEASE)
        .await
        .unwrap()
    else {
        panic!("not claimed");
    };
    let update = TerminalUpdate {
        state: RequestState::Succeeded,
        account: Some(ProvisionOutcome::Created {
            external_id: "u-1".into(),
        }),
        error: None,
    };
    let stale = claim.attempt() + 1;
    let finished = store
        .finish_request(tenant_id, id, stale, &update)
        .await
        .unwrap();

    assert!(finished.is_none());
    let accounts = store
        .accounts(tenant_id, &AccountFilter::default())
        .await
        .unwrap();
    assert!(accounts.is_empty(), "{accounts:?}");
}

#[tokio::test]
async fn a_failure_records_no_account() {
    let (store, tenant_id, integration_id) = store().await;
    let id = submitted(&store, tenant_id, integration_id, None).await;
    let ClaimOutcome::Claimed(claim) = store
        .claim_request(tenant_id, id, None, LEASE)
        .await
        .unwrap()
    else {
        panic!("not claimed");
    };
    let update = TerminalUpdate {
        state: RequestState::Failed,
        account: None,
        error: Some(provisioner_core::RequestError {
            code: "invalid".into(),
            message: "no".into(),
            retryable: false,
        }),
    };
    let row = store
        .finish_request(tenant_id, id, claim.attempt(), &update)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(row.account_id, None);
    let accounts = store
        .accounts(tenant_id, &AccountFilter::default())
        .await
        .unwrap();
    assert!(accounts.is_empty());
}
