use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test]
async fn tokens_are_made_with_scopes_listed_without_secrets_and_revoked_at_once() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/v1/tokens",
            &json!({"scopes": ["requests:read", "log:read"]}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    let secret = created["token"].as_str().unwrap().to_owned();
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["scopes"], json!(["requests:read", "log:read"]));

    assert_eq!(
        app.get_as("/v1/integration-log", &secret).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        app.get_as("/v1/integrations", &secret).await.status(),
        StatusCode::FORBIDDEN
    );

    let listing = app.get("/v1/tokens").await.text().await.unwrap();
    assert!(listing.contains(&id));
    assert!(!listing.contains(&secret), "secrets are never listed");
    assert!(!listing.contains(&app.token));

    let revoked = app
        .client
        .delete(app.url(&format!("/v1/tokens/{id}")))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_as("/v1/integration-log", &secret).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let listed: Value = app.get("/v1/tokens").await.json().await.unwrap();
    let entry = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .cloned()
        .unwrap();
    assert!(entry["revoked_at"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn unknown_scopes_other_tenants_tokens_and_missing_rights_are_refused() {
    let app = spawn_app().await;
    let bad = app
        .post("/v1/tokens", &json!({"scopes": ["requests:read", "root"]}))
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = bad.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "scopes.1");
    let empty = app.post("/v1/tokens", &json!({"scopes": []})).await;
    assert_eq!(empty.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let other_tenant = app.store.create_tenant("Globex").await.unwrap();
    let theirs = app
        .store
        .create_token(other_tenant, &provisioner_core::Scope::ALL)
        .await
        .unwrap();
    let revoke_theirs = app
        .client
        .delete(app.url(&format!("/v1/tokens/{}", theirs.id)))
        .bearer_auth(&app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(revoke_theirs.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.get_as("/v1/services", &theirs.token).await.status(),
        StatusCode::OK,
        "still works"
    );

    let reader = app
        .store
        .create_token(app.tenant_id, &[provisioner_core::Scope::RequestsRead])
        .await
        .unwrap()
        .token;
    assert_eq!(
        app.get_as("/v1/tokens", &reader).await.status(),
        StatusCode::FORBIDDEN
    );
    app.stop().await;
}
