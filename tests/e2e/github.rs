//! GitHub organization invitations through the whole system, against the simulator.

use provisioner_sim::WorkspaceSetup;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{spawn_app, TestApp};

const TOKEN: &str = "ghp_e2e";
const ORG: &str = "acme-inc";

async fn github_integration(app: &TestApp) -> String {
    let setup = WorkspaceSetup::Github {
        token: TOKEN.into(),
        org: ORG.into(),
    };
    app.sim.setup_workspace("acme-github", setup);
    app.integration("github", ORG, "", json!({"token": TOKEN}))
        .await
}

#[tokio::test]
async fn a_github_invitation_is_sent_through_the_api_and_its_id_kept() {
    let app = spawn_app().await;
    let integration_id = github_integration(&app).await;

    let request = app
        .provision(
            &integration_id,
            json!({"email": "ada@example.com", "role": "admin"}),
        )
        .await;

    assert_eq!(request["state"], "succeeded", "{request}");
    let invitations = app.sim.users("acme-github").unwrap();
    assert_eq!(invitations[0]["role"], "admin");
    assert_eq!(
        request["external_account_id"],
        invitations[0]["id"].to_string()
    );
    app.stop().await;
}

#[tokio::test]
async fn an_email_already_invited_is_adopted_with_one_invitation_at_github() {
    let app = spawn_app().await;
    let integration_id = github_integration(&app).await;
    let invited = app
        .client
        .post(format!("{}/orgs/{ORG}/invitations", app.sim_address))
        .bearer_auth(TOKEN)
        .json(&json!({"email": "Grace@Example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(invited.status(), StatusCode::CREATED);

    let request = app
        .provision(&integration_id, json!({"email": "grace@example.com"}))
        .await;

    assert_eq!(request["state"], "succeeded", "{request}");
    let invitations = app.sim.users("acme-github").unwrap();
    assert_eq!(invitations.len(), 1, "adopted, not duplicated");
    assert_eq!(
        request["external_account_id"],
        invitations[0]["id"].to_string()
    );
    app.stop().await;
}
