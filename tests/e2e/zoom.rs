//! Zoom users through the whole system, against the simulated Zoom API and token
//! endpoint on one address.

use provisioner_sim::WorkspaceSetup;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

async fn zoom_integration(app: &TestApp) -> String {
    let setup = WorkspaceSetup::Zoom {
        account_id: "acct-e2e".into(),
        client_id: "client".into(),
        client_secret: "secret".into(),
    };
    app.sim.setup_workspace("acme-zoom", setup);
    let credentials =
        json!({"account_id": "acct-e2e", "client_id": "client", "client_secret": "secret"});
    app.integration("zoom", "acme-zoom", "/v2", credentials)
        .await
}

fn user(email: &str) -> Value {
    json!({"email": email, "given_name": "Ada", "family_name": "Lovelace"})
}

#[tokio::test]
async fn a_zoom_user_is_created_through_the_api_with_zooms_id() {
    let app = spawn_app().await;
    let integration_id = zoom_integration(&app).await;

    let request = app
        .provision(&integration_id, user("ada@example.com"))
        .await;

    assert_eq!(request["state"], "succeeded", "{request}");
    let users = app.sim.users("acme-zoom").unwrap();
    assert_eq!(request["external_account_id"], users[0]["id"]);
    app.stop().await;
}

#[tokio::test]
async fn a_zoom_user_already_in_the_account_is_adopted_not_duplicated() {
    let app = spawn_app().await;
    let integration_id = zoom_integration(&app).await;
    let token: Value = app
        .client
        .post(format!(
            "{}/oauth/token?grant_type=account_credentials&account_id=acct-e2e",
            app.sim_address
        ))
        .basic_auth("client", Some("secret"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created = app
        .client
        .post(format!("{}/v2/users", app.sim_address))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({"action": "create", "user_info": {"email": "grace@example.com", "type": 1}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    let request = app
        .provision(&integration_id, user("Grace@example.com"))
        .await;

    assert_eq!(request["state"], "succeeded", "{request}");
    let users = app.sim.users("acme-zoom").unwrap();
    assert_eq!(users.len(), 1, "adopted, not duplicated");
    assert_eq!(request["external_account_id"], users[0]["id"]);
    app.stop().await;
}
