use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{scim_account, spawn_app};

#[tokio::test]
async fn another_tenant_sees_none_of_a_tenants_requests_integrations_or_log() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let employee_id = app
        .create_employee("ada@example.com", "Ada", "Lovelace")
        .await;
    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    app.wait_until_finished(&id).await;
    app.wait_for_log_entry(&id).await;

    let other_tenant = app.store.create_tenant("Globex").await.unwrap();
    let other = app
        .store
        .create_token(other_tenant, &provisioner_core::Scope::ALL)
        .await
        .unwrap()
        .token;

    for path in [
        format!("/v1/provisioning-requests/{id}"),
        format!("/v1/integrations/{integration_id}"),
        format!("/v1/employees/{employee_id}"),
    ] {
        assert_eq!(
            app.get_as(&path, &other).await.status(),
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let check = app
        .post_as(
            &format!("/v1/integrations/{integration_id}/check"),
            &json!({}),
            &other,
        )
        .await;
    assert_eq!(check.status(), StatusCode::NOT_FOUND);
    let log: serde_json::Value = app
        .get_as(&format!("/v1/integration-log?request_id={id}"), &other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(log["entries"], json!([]));
    let listed: serde_json::Value = app
        .get_as("/v1/provisioning-requests", &other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["items"], json!([]));
    let integrations: serde_json::Value = app
        .get_as("/v1/integrations", &other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(integrations["integrations"], json!([]));

    // Using the first tenant's integration is as if it did not exist.
    let response = app
        .post_as(
            "/v1/provisioning-requests",
            &json!({"integration_id": integration_id, "account": scim_account("eve")}),
            &other,
        )
        .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 1);
    app.stop().await;
}

#[tokio::test]
async fn requests_are_listed_by_state_with_pages() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let mut ids = Vec::new();
    for name in ["a1", "a2", "bad name"] {
        let id = app
            .submit(&json!({"integration_id": integration_id, "account": scim_account(name)}))
            .await;
        app.wait_until_finished(&id).await;
        ids.push(id);
    }
    let failed: serde_json::Value = app
        .get("/v1/provisioning-requests?state=failed")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(failed["items"].as_array().unwrap().len(), 1);
    assert_eq!(failed["items"][0]["id"], ids[2].as_str());

    let page: serde_json::Value = app
        .get("/v1/provisioning-requests?limit=2")
        .await
        .json()
        .await
        .unwrap();
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: serde_json::Value = app
        .get(&format!(
            "/v1/provisioning-requests?limit=2&cursor={cursor}"
        ))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"][0]["id"], ids[0].as_str());
    let bad = app.get("/v1/provisioning-requests?state=done").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    app.stop().await;
}
