use std::process::Command;

use provisioner_sim::{FailCreates, Faults};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{scim_account, spawn_app, TestApp};

/// The attempts of a request whose credentials the service refuses: the last one puts
/// the integration in error.
const REFUSED_ATTEMPTS: u32 = provisioner_core::quarantine::AUTH_FAILURES_BEFORE_ERROR;

/// An integration whose credentials the service no longer accepts, and a request for
/// it that ended `rejected`.
async fn rejected_request(app: &TestApp, user_name: &str) -> (String, String) {
    let integration_id = app.scim_integration("acme").await;
    app.sim.put_workspace("acme", "rotated");
    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account(user_name)}))
        .await;
    assert_eq!(app.wait_until_finished(&id).await["state"], "rejected");
    (integration_id, id)
}

/// The service accepts the integration's credentials again and a check says so.
async fn reintegrate(app: &TestApp, integration_id: &str) {
    app.sim.put_workspace("acme", "secret-acme");
    let checked: Value = app
        .post(
            &format!("/v1/integrations/{integration_id}/check"),
            &json!({}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(checked["status"], "ok");
}

#[tokio::test]
async fn a_rejected_request_replayed_after_reintegration_succeeds_and_the_log_tells_the_story() {
    let app = spawn_app().await;
    let (integration_id, id) = rejected_request(&app, "ada").await;
    reintegrate(&app, &integration_id).await;

    let response = app
        .post(
            &format!("/v1/provisioning-requests/{id}/replay"),
            &json!({"reason": "re-integrated after the token was rotated"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    assert_eq!(request["replays"], 1);
    assert_eq!(request["attempts"], REFUSED_ATTEMPTS + 1);
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 1);
    let entries = crate::helpers::eventually_log(&app, &id, 3).await;
    let story: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        story,
        [
            ("create", "success"),
            ("replay", "success"),
            ("create", "failure")
        ]
    );
    assert!(entries[1]["cause"]
        .as_str()
        .unwrap()
        .contains("re-integrated after the token was rotated"));
    app.stop().await;
}

#[tokio::test]
async fn a_request_that_did_not_fail_cannot_be_replayed() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    app.wait_until_finished(&id).await;

    let response = app
        .post(
            &format!("/v1/provisioning-requests/{id}/replay"),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let problem: Value = response.json().await.unwrap();
    assert!(problem["detail"].as_str().unwrap().contains("succeeded"));

    let unknown = app
        .post(
            &format!("/v1/provisioning-requests/{}/replay", uuid::Uuid::new_v4()),
            &json!({}),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let writer = app
        .store
        .create_token(app.tenant_id, &[provisioner_core::Scope::RequestsWrite])
        .await
        .unwrap()
        .token;
    let forbidden = app
        .post_as(
            &format!("/v1/provisioning-requests/{id}/replay"),
            &json!({}),
            &writer,
        )
        .await;
    assert_eq!(forbidden.status(), StatusCode::FORBIDDEN);
    app.stop().await;
}

#[tokio::test]
async fn two_replays_at_once_make_one_attempt_series() {
    let app = spawn_app().await;
    let (integration_id, id) = rejected_request(&app, "ada").await;
    reintegrate(&app, &integration_id).await;

    let path = format!("/v1/provisioning-requests/{id}/replay");
    let empty = json!({});
    let (first, second) = tokio::join!(app.post(&path, &empty), app.post(&path, &empty));
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::ACCEPTED, StatusCode::CONFLICT]);

    let request = app.wait_until_finished(&id).await;
    assert_eq!(request["state"], "succeeded");
    assert_eq!(request["replays"], 1);
    assert_eq!(request["attempts"], REFUSED_ATTEMPTS + 1);
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 1);
    app.stop().await;
}

#[tokio::test]
async fn a_replayed_request_looks_the_account_up_before_creating_it() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let refuse_once = Faults {
        fail_next_creates: Some(FailCreates {
            count: 1,
            status: 400,
            retry_after_secs: None,
            detail: Some("the directory is read-only today".into()),
        }),
        ..Faults::default()
    };
    app.sim.set_faults("acme", refuse_once).unwrap();
    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    assert_eq!(app.wait_until_finished(&id).await["state"], "failed");
    // Meanwhile someone made the account by hand at the service.
    crate::helpers::create_at_service(&app, "acme", "ada").await;

    let response = app
        .post(
            &format!("/v1/provisioning-requests/{id}/replay"),
            &json!({}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    let request = app.wait_until_finished(&id).await;

    // The hand-made account shares only the user name (no email, no stamp of
    // provisioner's), so it is not the person's to link: the replay ends in a conflict
    // rather than taking over someone else's account.
    assert_eq!(request["state"], "failed", "{request}");
    assert_eq!(request["error"]["code"], "conflict", "{request}");
    let stats = app.sim.stats("acme").unwrap();
    assert_eq!(stats.accounts, 1, "not duplicated");
    assert_eq!(
        stats.create_calls_by_user_name["ada"], 2,
        "the refused first create and the hand-made one: the replay looked up first"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_bulk_replay_by_filter_shows_a_dry_run_then_replays_every_match() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    app.sim.put_workspace("acme", "rotated");
    let mut ids = Vec::new();
    for name in ["a1", "a2", "a3"] {
        let id = app
            .submit(&json!({"integration_id": integration_id, "account": scim_account(name)}))
            .await;
        app.wait_until_finished(&id).await;
        ids.push(id);
    }
    reintegrate(&app, &integration_id).await;

    let filter = json!({"state": "rejected", "service": "scim"});
    let dry: Value = app
        .post("/v1/replays", &json!({"filter": filter, "dry_run": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (dry["matched"].as_u64(), dry["replayed"].as_u64()),
        (Some(3), Some(0))
    );
    let still: Value = app
        .get(&format!("/v1/provisioning-requests/{}", ids[0]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(still["state"], "rejected", "a dry run changes nothing");

    let done: Value = app
        .post(
            "/v1/replays",
            &json!({"filter": filter, "reason": "token fixed"}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (done["matched"].as_u64(), done["replayed"].as_u64()),
        (Some(3), Some(3))
    );
    for id in &ids {
        assert_eq!(app.wait_until_finished(id).await["state"], "succeeded");
    }
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 3);

    let bad = app
        .post("/v1/replays", &json!({"filter": {"state": "succeeded"}}))
        .await;
    assert_eq!(bad.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = bad.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "filter.state");
    app.stop().await;
}

#[tokio::test]
async fn operators_list_and_replay_from_the_command_line() {
    let app = spawn_app().await;
    let (integration_id, id) = rejected_request(&app, "ada").await;
    reintegrate(&app, &integration_id).await;
    let binary = env!("CARGO_BIN_EXE_provisioner");
    let tenant = app.tenant_id.to_string();
    let run = |args: &[&str]| {
        Command::new(binary)
            .args(args)
            .env("DATABASE_URL", &app.settings.database_url)
            .output()
            .unwrap()
    };

    let listed = run(&[
        "requests", "list", "--tenant", &tenant, "--state", "rejected",
    ]);
    assert!(
        listed.status.success(),
        "{}",
        String::from_utf8_lossy(&listed.stderr)
    );
    let line: Value =
        serde_json::from_slice(listed.stdout.split(|b| *b == b'\n').next().unwrap()).unwrap();
    assert_eq!(line["id"], id.as_str());
    assert!(line["error"]["message"]
        .as_str()
        .unwrap()
        .contains("re-integrate"));

    let replayed = run(&[
        "requests",
        "replay",
        "--tenant",
        &tenant,
        "--state",
        "rejected",
        "--reason",
        "token fixed",
        "--by",
        "ops-oncall",
    ]);
    assert!(
        replayed.status.success(),
        "{}",
        String::from_utf8_lossy(&replayed.stderr)
    );
    assert!(String::from_utf8_lossy(&replayed.stdout).contains("\"replayed\""));

    // The running relay publishes what the command line queued.
    let request = app.wait_until_finished(&id).await;
    assert_eq!(request["state"], "succeeded", "{request}");
    let refused = run(&["requests", "replay", "--tenant", &tenant, "--id", &id]);
    assert!(String::from_utf8_lossy(&refused.stdout).contains("not replayed: it is succeeded"));
    app.stop().await;
}
