use std::time::Duration;

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use provisioner_broker::Publisher;
use provisioner_core::event::{AccountResult, CloudEvent};
use provisioner_core::{EventId, IntegrationId, RequestId, RequestState, TenantId};
use provisioner_store::{LogFilter, Store};
use provisioner_test_support::eventually;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

#[tokio::test]
async fn the_log_lists_one_entry_per_outcome_newest_first_with_filters_and_pages() {
    let app = spawn_app().await;
    let acme = app.scim_integration("acme").await;
    let globex = app.scim_integration("globex").await;
    let employee = app
        .create_employee("ada@example.com", "Ada", "Lovelace")
        .await;

    let mut ids = Vec::new();
    for (integration, account) in [
        (&acme, json!({"user_name": "first"})),
        (&acme, json!({"user_name": "not valid"})),
        (&globex, json!({"user_name": "third"})),
    ] {
        let id = app
            .submit(&json!({"integration_id": integration, "employee_id": employee, "account": account}))
            .await;
        app.wait_until_finished(&id).await;
        app.wait_for_log_entry(&id).await;
        ids.push(id);
    }

    let all = app.log_entries("?action=Create").await;
    let listed: Vec<&str> = all
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [&ids[2], &ids[1], &ids[0]], "newest first");

    let failures = app.log_entries("?action=create&status=failure").await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["request_id"], ids[1].as_str());
    assert!(failures[0]["cause"].as_str().unwrap().contains("not valid"));

    assert_eq!(
        app.log_entries(&format!("?integration_id={globex}"))
            .await
            .len(),
        1
    );
    assert_eq!(app.log_entries("?service=scim").await.len(), 3);
    assert_eq!(app.log_entries("?service=slack").await.len(), 0);
    assert_eq!(
        app.log_entries(&format!("?employee_id={employee}"))
            .await
            .len(),
        3
    );
    assert_eq!(
        app.log_entries(&format!("?request_id={}", ids[0]))
            .await
            .len(),
        1
    );
    let newest = all[0]["at"].as_str().unwrap();
    let older = app.log_entries(&format!("?to={}", urlencode(newest))).await;
    assert_eq!(older.len(), 2, "`to` excludes the entry at that instant");
    assert_eq!(
        app.log_entries(&format!("?from={}", urlencode(newest)))
            .await
            .len(),
        1
    );

    let page: Value = app
        .get("/v1/integration-log?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["entries"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let rest: Value = app
        .get(&format!("/v1/integration-log?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["entries"].as_array().unwrap().len(), 1);
    assert_eq!(rest["entries"][0]["request_id"], ids[0].as_str());
    assert!(rest.get("next_cursor").is_none());
    app.stop().await;
}

#[tokio::test]
async fn bad_log_filters_are_refused_with_the_parameter_named() {
    let app = spawn_app().await;
    for (query, parameter) in [
        ("?action=delete", "action"),
        ("?status=maybe", "status"),
        ("?limit=0", "limit"),
        ("?limit=many", "limit"),
        ("?cursor=garbage", "cursor"),
        ("?from=yesterday", "from"),
        ("?integration_id=42", "integration_id"),
        ("?colour=blue", "colour"),
    ] {
        let response = app.get(&format!("/v1/integration-log{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{query}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(
            problem["errors"][0]["field"], parameter,
            "{query}: {problem}"
        );
    }
    app.stop().await;
}

/// Result events reach the projector many at a time, so they are written in groups; each
/// is sent twice, so every group also holds copies of its own events and, the second
/// time round, events already logged.
#[tokio::test]
async fn many_results_sent_twice_each_give_one_entry_per_event() {
    const EVENTS: usize = 200;
    let app = spawn_app().await;
    let publisher = Publisher::new(
        app.settings.amqp_url.clone(),
        "test-redelivered",
        provisioner::startup::topology(&app.settings),
    );
    let events: Vec<_> = (0..EVENTS)
        .map(|n| result_event(app.tenant_id, n))
        .collect();
    let earlier = &events[..EVENTS / 2];
    for event in earlier.iter().flat_map(|event| [event, event]) {
        publisher.publish_result(event).await.unwrap();
    }
    wait_for_entries(&app.store, app.tenant_id, earlier.len()).await;
    for event in events.iter().flat_map(|event| [event, event]) {
        publisher.publish_result(event).await.unwrap();
    }
    wait_for_entries(&app.store, app.tenant_id, EVENTS).await;
    publisher.close().await;

    // Once the queue is empty every copy has reached the projector; stopping waits for
    // what it still handles, so what is logged then is all the copies will ever write.
    wait_for_an_empty_log_queue(&app).await;
    let (store, tenant_id) = (app.store.clone(), app.tenant_id);
    app.stop().await;
    let mut logged: Vec<_> = logged(&store, tenant_id).await;
    logged.sort();
    let mut sent: Vec<_> = events.iter().map(|event| event.id.as_uuid()).collect();
    sent.sort();
    assert_eq!(logged, sent, "one entry per event, none doubled");
}

fn result_event(tenant_id: TenantId, n: usize) -> CloudEvent<AccountResult> {
    let data = AccountResult {
        tenant_id,
        request_id: RequestId::new(),
        integration_id: IntegrationId::new(),
        employee_id: None,
        state: RequestState::Succeeded,
        service: "scim".into(),
        workspace: "acme".into(),
        target: format!("user-{n}"),
        attempts: 1,
        external_account_id: Some(format!("u-{n}")),
        error: None,
        account_id: None,
        account_origin: None,
    };
    CloudEvent::account_result(EventId::new(), chrono::Utc::now(), data)
}

async fn logged(store: &Store, tenant_id: TenantId) -> Vec<uuid::Uuid> {
    let filter = LogFilter {
        limit: 1000,
        ..LogFilter::default()
    };
    let entries = store.log_entries(tenant_id, &filter).await.unwrap();
    entries.into_iter().map(|entry| entry.id).collect()
}

async fn wait_for_entries(store: &Store, tenant_id: TenantId, count: usize) {
    eventually(Duration::from_secs(60), "the log entries", || async {
        (logged(store, tenant_id).await.len() >= count).then_some(())
    })
    .await;
}

async fn wait_for_an_empty_log_queue(app: &TestApp) {
    let connection = provisioner_broker::connect(&app.settings.amqp_url, "test-log-depth")
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let queue = provisioner::startup::topology(&app.settings).log_queue();
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    eventually(Duration::from_secs(60), "an empty log queue", || async {
        let declared = channel
            .queue_declare(queue.as_str().into(), passive, FieldTable::default())
            .await
            .ok()?;
        (declared.message_count() == 0).then_some(())
    })
    .await;
    let _ = connection.close(200, "done".into()).await;
}

fn urlencode(raw: &str) -> String {
    raw.replace(':', "%3A").replace('+', "%2B")
}
