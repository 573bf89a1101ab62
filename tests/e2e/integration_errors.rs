use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{scim_account, spawn_app};

#[tokio::test]
async fn an_integration_in_error_rejects_requests_without_calling_the_service() {
    let app = spawn_app().await;
    app.sim.put_workspace("acme", "the-real-token");
    let response = app
        .post(
            "/v1/integrations",
            &json!({
                "service": "scim",
                "workspace": "acme",
                "base_url": app.sim_base_url("acme"),
                "credentials": {"token": "a-stale-token"},
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let integration: Value = response.json().await.unwrap();
    assert_eq!(integration["status"], "error");
    assert!(integration["status_reason"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
    assert!(
        integration.get("credentials").is_none(),
        "credentials are never echoed"
    );
    let integration_id = integration["id"].as_str().unwrap();
    let calls_before = app.sim.stats("acme").unwrap().calls;

    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "rejected", "{request}");
    assert!(request["error"]["message"]
        .as_str()
        .unwrap()
        .contains("re-integrate"));
    assert_eq!(
        app.sim.stats("acme").unwrap().calls,
        calls_before,
        "no call reached the service"
    );
    let entry = app.wait_for_log_entry(&id).await;
    assert_eq!(entry["status"], "failure");
    assert!(entry["cause"].as_str().unwrap().contains("re-integrate"));

    // Re-integration: the service accepts the integration's credentials again.
    app.sim.put_workspace("acme", "a-stale-token");
    let checked = app
        .post(
            &format!("/v1/integrations/{integration_id}/check"),
            &json!({}),
        )
        .await;
    assert_eq!(checked.status(), StatusCode::OK);
    let checked: Value = checked.json().await.unwrap();
    assert_eq!(checked["status"], "ok");

    let retry = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    assert_eq!(app.wait_until_finished(&retry).await["state"], "succeeded");
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 1);
    app.stop().await;
}

#[tokio::test]
async fn credentials_revoked_at_the_service_put_the_integration_in_error() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    app.sim.put_workspace("acme", "rotated-by-the-saas-admin");

    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "rejected", "{request}");
    let integration: Value = app
        .get(&format!("/v1/integrations/{integration_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(integration["status"], "error");
    app.stop().await;
}
