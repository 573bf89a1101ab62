use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{scim_account, spawn_app};
use provisioner_core::event::RequestMessage;
use provisioner_core::trace::TraceParent;

#[tokio::test]
async fn the_same_idempotency_key_twice_gives_one_request_and_one_account() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let body = json!({"integration_id": integration_id, "account": scim_account("ada")});
    let send = || {
        app.client
            .post(app.url("/v1/provisioning-requests"))
            .bearer_auth(&app.token)
            .header("Idempotency-Key", "hire-ada-2026")
            .json(&body)
            .send()
    };

    let first = send().await.unwrap();
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: Value = first.json().await.unwrap();
    let second = send().await.unwrap();
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    let second: Value = second.json().await.unwrap();

    assert_eq!(first, second, "the same answer");
    let id = first["id"].as_str().unwrap();
    assert_eq!(app.wait_until_finished(id).await["state"], "succeeded");
    assert_eq!(app.sim.stats("acme").unwrap().create_calls, 1);

    let other_body = app
        .client
        .post(app.url("/v1/provisioning-requests"))
        .bearer_auth(&app.token)
        .header("Idempotency-Key", "hire-ada-2026")
        .json(&json!({"integration_id": integration_id, "account": scim_account("bob")}))
        .send()
        .await
        .unwrap();
    assert_eq!(other_body.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = other_body.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "Idempotency-Key");
    app.stop().await;
}

#[tokio::test]
async fn a_request_message_delivered_again_creates_no_second_account_or_log_entry() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    app.wait_until_finished(&id).await;
    app.wait_for_log_entry(&id).await;

    // The broker hands the same message out again, as after a lost ack.
    let publisher = provisioner_broker::Publisher::new(
        app.settings.amqp_url.clone(),
        "test-duplicate",
        provisioner::startup::topology(&app.settings),
    );
    let message = RequestMessage {
        tenant_id: app.tenant_id,
        request_id: id.parse().unwrap(),
    };
    for _ in 0..3 {
        publisher
            .publish_request(&message, "scim", &TraceParent::new_root())
            .await
            .unwrap();
    }
    // Deliveries are handed out in order: once a later request has gone the whole way,
    // the duplicates ahead of it have been taken.
    let later = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("bob")}))
        .await;
    app.wait_until_finished(&later).await;
    app.wait_for_log_entry(&later).await;
    publisher.close().await;

    let stats = app.sim.stats("acme").unwrap();
    assert_eq!(stats.create_calls_by_user_name.get("ada"), Some(&1));
    assert_eq!(app.log_entries(&format!("?request_id={id}")).await.len(), 1);
    let request: Value = app
        .get(&format!("/v1/provisioning-requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        request["attempts"], 1,
        "the duplicates were skipped, not attempted"
    );
    app.stop().await;
}
