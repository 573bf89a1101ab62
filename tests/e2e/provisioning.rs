use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{scim_account, spawn_app};

#[tokio::test]
async fn the_catalog_lists_which_services_can_provision_with_their_account_schema() {
    let app = spawn_app().await;
    let response = app.get("/v1/services").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let services = body["services"].as_array().unwrap();
    let scim = services
        .iter()
        .find(|s| s["key"] == "scim")
        .expect("scim listed");
    assert_eq!(scim["provisioning"], true);
    let on_disk: Value =
        serde_json::from_str(include_str!("../../schemas/connectors/scim.json")).unwrap();
    assert_eq!(scim["account_schema"], on_disk);
    assert!(scim["credentials_schema"].is_object());
    assert!(
        services.iter().any(|s| s["provisioning"] == false),
        "some services cannot provision yet and are listed as such"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_account_added_from_a_service_is_created_once_and_logged() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;

    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    assert_eq!(request["attempts"], 1);
    assert_eq!(request["service"], "scim");
    assert_eq!(request["workspace"], "acme");
    let external_id = request["external_account_id"]
        .as_str()
        .expect("external id");
    let stats = app.sim.stats("acme").unwrap();
    assert_eq!(stats.accounts, 1);
    assert_eq!(stats.create_calls_by_user_name.get("ada"), Some(&1));
    let users = app.sim.users("acme").unwrap();
    assert_eq!(users[0]["id"], external_id);

    let entry = app.wait_for_log_entry(&id).await;
    assert_eq!(entry["action"], "create");
    assert_eq!(entry["status"], "success");
    assert_eq!(entry["target"], "ada");
    assert_eq!(entry["request_id"], id.as_str());
    assert!(entry.get("cause").is_none());
    app.stop().await;
}

#[tokio::test]
async fn a_saas_validation_error_fails_the_request_with_the_services_own_message() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;

    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada lovelace")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "failed", "{request}");
    let message = request["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("ada lovelace"),
        "the SaaS's own words: {message}"
    );
    assert_eq!(request["error"]["retryable"], false);
    assert_eq!(request["error"]["code"], "invalid_value");
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 0);

    let entry = app.wait_for_log_entry(&id).await;
    assert_eq!(entry["status"], "failure");
    assert_eq!(entry["cause"], message);
    app.stop().await;
}

#[tokio::test]
async fn a_request_whose_worker_died_after_the_saas_call_adopts_the_account() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    // The account exists at the SaaS, the request is claimed, and nothing was
    // published: what a crash right after the create call leaves behind.
    let id = crate::helpers::insert_unpublished_request(&app, &integration_id, "grace").await;
    let claimed = app
        .store
        .claim_request(
            app.tenant_id,
            id.parse().unwrap(),
            None,
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
    assert!(matches!(
        claimed,
        provisioner_store::ClaimOutcome::Claimed(_)
    ));
    crate::helpers::create_ours_at_service(&app, "acme", "grace", &id).await;
    crate::helpers::age_claim(&app, &id).await;

    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    assert_eq!(request["attempts"], 2);
    let stats = app.sim.stats("acme").unwrap();
    assert_eq!(stats.accounts, 1, "adopted, not duplicated");
    assert_eq!(
        request["external_account_id"],
        app.sim.users("acme").unwrap()[0]["id"]
    );
    app.wait_for_log_entry(&id).await;
    app.stop().await;
}
