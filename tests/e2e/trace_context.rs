use serde_json::json;

use crate::helpers::{scim_account, spawn_app};

#[tokio::test]
async fn a_callers_trace_id_follows_the_request_to_its_log_entry() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";

    let accepted: serde_json::Value = app
        .client
        .post(app.url("/v1/provisioning-requests"))
        .bearer_auth(&app.token)
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = accepted["id"].as_str().unwrap();
    let request = app.wait_until_finished(id).await;
    assert_eq!(request["trace_id"], trace_id);
    let entry = app.wait_for_log_entry(id).await;
    assert_eq!(
        entry["trace_id"], trace_id,
        "through the worker and the result event"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_request_without_a_trace_gets_one_that_its_log_entry_shares() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;
    let trace_id = request["trace_id"].as_str().expect("a trace id");
    assert_eq!(trace_id.len(), 32);
    assert_eq!(app.wait_for_log_entry(&id).await["trace_id"], trace_id);
    app.stop().await;
}
