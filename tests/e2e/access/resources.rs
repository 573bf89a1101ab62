//! One tenant's resources for the access matrix: an integration, an employee, a
//! request and the account its success recorded.

use serde_json::{json, Value};

use crate::helpers::{scim_account, TestApp, WAIT};

/// Ids of one tenant's resources, for the paths that name one.
pub(super) struct Resources {
    pub(super) integration: String,
    pub(super) employee: String,
    pub(super) request: String,
    /// The account the request's success recorded.
    pub(super) account: String,
}

pub(super) async fn resources(app: &TestApp, token: &str, workspace: &str) -> Resources {
    let create = |path: &'static str, body: Value| async move {
        let response = app.post_as(path, &body, token).await;
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    };
    app.sim
        .put_workspace(workspace, &format!("secret-{workspace}"));
    let integration = create(
        "/v1/integrations",
        json!({"service": "scim", "workspace": workspace, "base_url": app.sim_base_url(workspace),
               "credentials": {"token": format!("secret-{workspace}")}}),
    )
    .await;
    let employee = create(
        "/v1/employees",
        json!({"email": format!("owner@{workspace}.example"), "given_name": "O", "family_name": "W"}),
    )
    .await;
    let request = create(
        "/v1/provisioning-requests",
        json!({"integration_id": integration, "account": scim_account(&format!("{workspace}-user"))}),
    )
    .await;
    let path = format!("/v1/provisioning-requests/{request}");
    let account = provisioner_test_support::eventually(WAIT, "the request's account", || async {
        let body: Value = app.get_as(&path, token).await.json().await.ok()?;
        body["account_id"].as_str().map(str::to_owned)
    })
    .await;
    Resources {
        integration,
        employee,
        request,
        account,
    }
}
