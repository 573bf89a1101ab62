//! Created or linked, never confused (DESIGN.md promise 2): provisioner recognises its
//! own account by the externalId it stamped, links a person's existing account only by
//! their email, and refuses one that shares nothing but the user name.

use provisioner_sim::{Faults, WorkspaceSetup};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{scim_account, spawn_app, TestApp};

async fn json_of(app: &TestApp, path: &str) -> Value {
    let response = app.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

/// The log entries of one request, once its outcome is written.
async fn log_of(app: &TestApp, request_id: &str) -> Vec<Value> {
    app.wait_for_log_entry(request_id).await;
    let page = json_of(app, &format!("/v1/integration-log?request_id={request_id}")).await;
    page["entries"].as_array().cloned().unwrap()
}

async fn accounts(app: &TestApp) -> Vec<Value> {
    json_of(app, "/v1/accounts").await["items"]
        .as_array()
        .cloned()
        .unwrap()
}

/// An account someone made at the service directly, without provisioner.
async fn made_elsewhere(app: &TestApp, users_url: String, token: &str, user: Value) -> String {
    let created = app
        .client
        .post(users_url)
        .bearer_auth(token)
        .json(&user)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let body: Value = created.json().await.unwrap();
    body["id"].as_str().unwrap().to_owned()
}

fn users_url(app: &TestApp) -> String {
    format!("{}/Users", app.sim_base_url("acme"))
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_recognised_by_its_stamp_and_recorded_as_created() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let faults = Faults {
        lose_next_create_responses: 1,
        ..Faults::default()
    };
    app.sim.set_faults("acme", faults).unwrap();

    let request = app.provision(&integration_id, scim_account("ada")).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    assert_eq!(request["attempts"], 2);
    let users = app.sim.users("acme").unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(
        users[0]["externalId"], request["id"],
        "stamped with the request id"
    );
    let id = request["id"].as_str().unwrap();
    let log = log_of(&app, id).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["action"], "create");
    let inventory = accounts(&app).await;
    assert_eq!(inventory.len(), 1, "{inventory:?}");
    assert_eq!(inventory[0]["origin"], "created");
    app.stop().await;
}

#[tokio::test]
async fn an_account_the_person_already_had_is_linked_by_email_and_logged_as_link() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let theirs = made_elsewhere(
        &app,
        users_url(&app),
        "secret-acme",
        json!({"userName": "Ada", "emails": [{"value": "ADA@example.com", "primary": true}]}),
    )
    .await;

    let request = app.provision(&integration_id, scim_account("ada")).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    assert_eq!(request["external_account_id"], theirs.as_str());
    assert_eq!(
        app.sim.users("acme").unwrap().len(),
        1,
        "linked, not duplicated"
    );
    let log = log_of(&app, request["id"].as_str().unwrap()).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0]["action"], "link");
    assert_eq!(log[0]["status"], "success");
    let filtered = json_of(&app, "/v1/integration-log?action=link").await;
    assert_eq!(filtered["entries"].as_array().unwrap().len(), 1);
    let inventory = accounts(&app).await;
    assert_eq!(inventory.len(), 1, "{inventory:?}");
    assert_eq!(inventory[0]["origin"], "linked");
    assert_eq!(inventory[0]["external_account_id"], theirs.as_str());
    assert_eq!(request["account_id"], inventory[0]["id"]);
    app.stop().await;
}

#[tokio::test]
async fn an_account_sharing_only_the_user_name_fails_as_a_conflict_and_is_not_recorded() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    made_elsewhere(
        &app,
        users_url(&app),
        "secret-acme",
        json!({"userName": "ada", "emails": [{"value": "someone.else@example.com", "primary": true}]}),
    )
    .await;

    let request = app.provision(&integration_id, scim_account("ada")).await;

    assert_eq!(request["state"], "failed", "{request}");
    assert_eq!(request["error"]["code"], "conflict");
    assert_eq!(request["error"]["retryable"], false);
    let message = request["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("the user name is taken by another account"),
        "{message}"
    );
    assert!(request.get("external_account_id").is_none(), "{request}");
    let log = log_of(&app, request["id"].as_str().unwrap()).await;
    assert_eq!(log[0]["action"], "create");
    assert_eq!(log[0]["status"], "failure");
    assert!(accounts(&app).await.is_empty());
    app.stop().await;
}

#[tokio::test]
async fn a_slack_member_of_the_same_email_is_linked_and_one_of_another_email_is_refused() {
    let app = spawn_app().await;
    let token = "xoxp-linking";
    let setup = WorkspaceSetup::Slack {
        token: token.into(),
    };
    app.sim.setup_workspace("acme-slack", setup);
    let integration_id = app
        .integration("slack", "acme-slack", "/scim/v2", json!({"token": token}))
        .await;
    let users = format!("{}/scim/v2/Users", app.sim_address);
    made_elsewhere(
        &app,
        users.clone(),
        token,
        json!({"userName": "ada", "emails": [{"value": "ada@example.com", "primary": true}]}),
    )
    .await;
    made_elsewhere(
        &app,
        users,
        token,
        json!({"userName": "grace", "emails": [{"value": "not.grace@example.com", "primary": true}]}),
    )
    .await;

    let linked = app.provision(&integration_id, scim_account("ada")).await;
    let refused = app.provision(&integration_id, scim_account("grace")).await;

    assert_eq!(linked["state"], "succeeded", "{linked}");
    assert_eq!(refused["state"], "failed", "{refused}");
    assert_eq!(refused["error"]["code"], "conflict");
    let log = log_of(&app, linked["id"].as_str().unwrap()).await;
    assert_eq!(log[0]["action"], "link");
    let inventory = accounts(&app).await;
    assert_eq!(inventory.len(), 1, "{inventory:?}");
    assert_eq!(inventory[0]["origin"], "linked");
    app.stop().await;
}
