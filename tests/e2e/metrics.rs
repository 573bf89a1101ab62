use serde_json::json;

use crate::helpers::{scim_account, spawn_app, TestApp};

/// The sum of every series of `name` in the Prometheus text (labels ignored).
async fn total(app: &TestApp, name: &str) -> f64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|line| line.starts_with(name) && line[name.len()..].starts_with(['{', ' ']))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test]
async fn metrics_count_what_the_requests_did() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let names = [
        "provisioner_requests_accepted_total",
        "provisioner_request_outcomes_total",
        "provisioner_log_entries_total",
        "provisioner_connector_call_seconds_count",
        "provisioner_request_end_to_end_seconds_count",
    ];
    let mut before = Vec::new();
    for name in names {
        before.push(total(&app, name).await);
    }

    for user in ["ada", "bad name"] {
        let id = app
            .submit(&json!({"integration_id": integration_id, "account": scim_account(user)}))
            .await;
        app.wait_until_finished(&id).await;
        app.wait_for_log_entry(&id).await;
    }

    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    for (name, before) in names.into_iter().zip(before) {
        let after = total(&app, name).await;
        assert!(
            after >= before + 2.0,
            "{name} moved from {before} to {after}"
        );
    }
    app.stop().await;
}
