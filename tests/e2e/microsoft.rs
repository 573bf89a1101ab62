//! Microsoft 365 users through the whole system, against simulated Graph and its token
//! endpoint on one address.

use provisioner_sim::WorkspaceSetup;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

async fn microsoft_integration(app: &TestApp) -> String {
    let setup = WorkspaceSetup::Microsoft {
        tenant_id: "contoso".into(),
        client_id: "app".into(),
        client_secret: "secret".into(),
    };
    app.sim.setup_workspace("acme-m365", setup);
    let credentials =
        json!({"tenant_id": "contoso", "client_id": "app", "client_secret": "secret"});
    app.integration("microsoft365", "contoso", "/v1.0", credentials)
        .await
}

fn person(upn: &str) -> Value {
    json!({"user_name": upn, "given_name": "Ada", "family_name": "Lovelace"})
}

#[tokio::test]
async fn a_microsoft_365_user_is_created_through_the_api_with_graphs_id() {
    let app = spawn_app().await;
    let integration_id = microsoft_integration(&app).await;

    let request = app
        .provision(&integration_id, person("ada@contoso.com"))
        .await;

    assert_eq!(request["state"], "succeeded", "{request}");
    let users = app.sim.users("acme-m365").unwrap();
    assert_eq!(request["external_account_id"], users[0]["id"]);
    assert_eq!(users[0]["userPrincipalName"], "ada@contoso.com");
    app.stop().await;
}

#[tokio::test]
async fn a_taken_user_principal_name_is_adopted_not_duplicated() {
    let app = spawn_app().await;
    let integration_id = microsoft_integration(&app).await;
    let token: Value = app
        .client
        .post(format!("{}/contoso/oauth2/v2.0/token", app.sim_address))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", "secret"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let created = app
        .client
        .post(format!("{}/v1.0/users", app.sim_address))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .json(&json!({
            "accountEnabled": true, "displayName": "Grace Hopper", "mailNickname": "grace",
            "userPrincipalName": "grace@contoso.com",
            "passwordProfile": {"password": "xWwvJ]6NMw+bWH-d", "forceChangePasswordNextSignIn": true}
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    let request = app
        .provision(&integration_id, person("Grace@contoso.com"))
        .await;

    assert_eq!(request["state"], "succeeded", "{request}");
    let users = app.sim.users("acme-m365").unwrap();
    assert_eq!(users.len(), 1, "adopted, not duplicated");
    assert_eq!(request["external_account_id"], users[0]["id"]);
    app.stop().await;
}
