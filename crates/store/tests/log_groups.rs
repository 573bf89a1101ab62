//! Log entries written in groups, against real PostgreSQL: one statement for what waits,
//! each event once, and a refused entry failing alone.

use chrono::Utc;
use provisioner_core::event::{AccountResult, CloudEvent};
use provisioner_core::{EventId, IntegrationId, RequestId, RequestState, TenantId};
use provisioner_store::{LogFilter, Store, StoreError};
use provisioner_test_support::fresh_database;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

async fn store() -> (Store, TenantId, String) {
    let database_url = fresh_database().await;
    let store = Store::connect_lazy(&database_url, 2).unwrap();
    store.migrate().await.unwrap();
    let tenant_id = store.create_tenant("acme").await.unwrap();
    (store, tenant_id, database_url)
}

fn result_event(tenant_id: TenantId, target: &str) -> CloudEvent<AccountResult> {
    let data = AccountResult {
        tenant_id,
        request_id: RequestId::new(),
        integration_id: IntegrationId::new(),
        employee_id: None,
        state: RequestState::Succeeded,
        service: "scim".into(),
        workspace: "acme".into(),
        target: target.into(),
        attempts: 1,
        external_account_id: Some("u-1".into()),
        error: None,
        account_id: None,
        account_origin: None,
    };
    CloudEvent::account_result(EventId::new(), Utc::now(), data)
}

async fn logged_ids(store: &Store, tenant_id: TenantId) -> Vec<Uuid> {
    let filter = LogFilter {
        limit: 1000,
        ..LogFilter::default()
    };
    let mut ids: Vec<Uuid> = store
        .log_entries(tenant_id, &filter)
        .await
        .unwrap()
        .into_iter()
        .map(|entry| entry.id)
        .collect();
    ids.sort();
    ids
}

/// The commits that wrote these entries, told apart by their transaction time.
/// `recorded_at` defaults to `now()`, the start of the writing transaction.
async fn commits_holding(database_url: &str, ids: &[Uuid]) -> i64 {
    let mut connection = PgConnection::connect(database_url).await.unwrap();
    sqlx::query_scalar("SELECT count(DISTINCT recorded_at) FROM integration_log WHERE id = ANY($1)")
        .bind(ids)
        .fetch_one(&mut connection)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_group_with_a_repeated_and_an_already_logged_event_writes_each_entry_once() {
    let (store, tenant_id, database_url) = store().await;
    let earlier = result_event(tenant_id, "grace");
    assert!(store.record_log_entry(&earlier).await.unwrap());

    let first = result_event(tenant_id, "ada");
    let second = result_event(tenant_id, "alan");
    let third = result_event(tenant_id, "edsger");
    // The first call writes alone; the rest queue behind it and go in one statement.
    let (first_written, second_written, repeat_written, earlier_written, third_written) = tokio::join!(
        store.record_log_entry(&first),
        store.record_log_entry(&second),
        store.record_log_entry(&second),
        store.record_log_entry(&earlier),
        store.record_log_entry(&third),
    );
    assert!(first_written.unwrap());
    assert!(third_written.unwrap());
    assert!(
        !earlier_written.unwrap(),
        "an event already logged is written again"
    );
    let copies = [second_written.unwrap(), repeat_written.unwrap()];
    assert_eq!(
        copies.iter().filter(|written| **written).count(),
        1,
        "two copies of one event in a group: {copies:?}"
    );

    let mut expected: Vec<Uuid> = [&earlier, &first, &second, &third]
        .iter()
        .map(|event| event.id.as_uuid())
        .collect();
    expected.sort();
    assert_eq!(logged_ids(&store, tenant_id).await, expected);
    let grouped = [second.id.as_uuid(), third.id.as_uuid()];
    assert_eq!(
        commits_holding(&database_url, &grouped).await,
        1,
        "the waiting entries were not written together"
    );
}

#[tokio::test]
async fn an_entry_postgresql_refuses_fails_alone_and_its_group_is_written() {
    let (store, tenant_id, _) = store().await;
    let leader = result_event(tenant_id, "grace");
    let good = result_event(tenant_id, "ada");
    // PostgreSQL's text holds no NUL character.
    let refused = result_event(tenant_id, "al\0an");
    let other = result_event(tenant_id, "edsger");
    let (leader_written, good_written, refused_written, other_written) = tokio::join!(
        store.record_log_entry(&leader),
        store.record_log_entry(&good),
        store.record_log_entry(&refused),
        store.record_log_entry(&other),
    );
    assert!(leader_written.unwrap());
    assert!(good_written.unwrap());
    assert!(other_written.unwrap());
    assert!(
        matches!(refused_written, Err(StoreError::Refused { .. })),
        "{refused_written:?}"
    );

    let mut expected: Vec<Uuid> = [&leader, &good, &other]
        .iter()
        .map(|event| event.id.as_uuid())
        .collect();
    expected.sort();
    assert_eq!(logged_ids(&store, tenant_id).await, expected);
}

#[tokio::test]
async fn each_entry_of_a_group_keeps_its_own_action() {
    let (store, tenant_id, _) = store().await;
    let alone = result_event(tenant_id, "alan");
    let created = result_event(tenant_id, "ada");
    let mut linked = result_event(tenant_id, "grace");
    linked.data.account_origin = Some(provisioner_core::AccountOrigin::Linked);
    let (a, b, c) = tokio::join!(
        store.record_log_entry(&alone),
        store.record_log_entry(&created),
        store.record_log_entry(&linked),
    );
    assert!(a.unwrap() && b.unwrap() && c.unwrap());
    let filter = LogFilter {
        limit: 10,
        ..LogFilter::default()
    };
    let entries = store.log_entries(tenant_id, &filter).await.unwrap();
    let action_of = |target: &str| {
        entries
            .iter()
            .find(|entry| entry.target == target)
            .map(|entry| entry.action.as_str())
    };
    assert_eq!(action_of("ada"), Some("create"));
    assert_eq!(action_of("grace"), Some("link"));
}
