//! Slack through the whole system, against the simulated Slack SCIM API.

use provisioner_sim::WorkspaceSetup;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const TOKEN: &str = "xoxp-e2e";

async fn slack_integration(app: &TestApp) -> String {
    let setup = WorkspaceSetup::Slack {
        token: TOKEN.into(),
    };
    app.sim.setup_workspace("acme-slack", setup);
    app.integration("slack", "acme-slack", "/scim/v2", json!({"token": TOKEN}))
        .await
}

fn member(user_name: &str) -> Value {
    json!({"user_name": user_name, "email": format!("{user_name}@example.com"), "given_name": "Ada", "family_name": "Lovelace"})
}

#[tokio::test]
async fn a_slack_member_is_created_through_the_api_with_slacks_id() {
    let app = spawn_app().await;
    let integration_id = slack_integration(&app).await;

    let request = app.provision(&integration_id, member("ada")).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    assert_eq!(request["service"], "slack");
    let users = app.sim.users("acme-slack").unwrap();
    assert_eq!(request["external_account_id"], users[0]["id"]);
    let services: Value = app.get("/v1/services").await.json().await.unwrap();
    let listed = services["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "slack")
        .cloned()
        .expect("slack listed");
    let on_disk: Value =
        serde_json::from_str(include_str!("../../schemas/connectors/slack.json")).unwrap();
    assert_eq!(listed["account_schema"], on_disk);
    assert_eq!(listed["default_base_url"], "https://api.slack.com/scim/v2");
    app.stop().await;
}

#[tokio::test]
async fn a_slack_member_who_already_exists_is_adopted_and_not_duplicated() {
    let app = spawn_app().await;
    let integration_id = slack_integration(&app).await;
    let created = app
        .client
        .post(format!("{}/scim/v2/Users", app.sim_address))
        .bearer_auth(TOKEN)
        .json(&json!({"userName": "Grace", "emails": [{"value": "grace@example.com"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);

    let request = app.provision(&integration_id, member("grace")).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    let users = app.sim.users("acme-slack").unwrap();
    assert_eq!(users.len(), 1, "adopted, not duplicated");
    assert_eq!(request["external_account_id"], users[0]["id"]);
    app.stop().await;
}
