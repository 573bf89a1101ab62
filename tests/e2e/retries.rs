use chrono::{DateTime, Utc};
use provisioner_sim::{FailCreates, Faults};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{scim_account, spawn_app, TestApp};

#[tokio::test]
async fn a_transient_failure_waits_in_the_broker_and_then_succeeds() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let faults = Faults {
        fail_next_creates: Some(FailCreates {
            count: 1,
            status: 503,
            retry_after_secs: None,
            detail: Some("maintenance".into()),
        }),
        ..Faults::default()
    };
    app.sim.set_faults("acme", faults).unwrap();

    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    assert_eq!(request["attempts"], 2);
    assert!(request.get("error").is_none(), "a success carries no error");
    let history = request["attempt_history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{request}");
    assert_eq!(history[0]["outcome"], "retrying");
    assert!(history[0]["error_message"]
        .as_str()
        .unwrap()
        .contains("maintenance"));
    assert_eq!(history[1]["outcome"], "succeeded");
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 1);
    let entries = app.log_entries(&format!("?request_id={id}")).await;
    assert_eq!(entries.len(), 1, "the retry is not an outcome of its own");
    app.stop().await;
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_found_on_retry_not_made_twice() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let faults = Faults {
        lose_next_create_responses: 1,
        ..Faults::default()
    };
    app.sim.set_faults("acme", faults).unwrap();

    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    assert_eq!(request["attempts"], 2);
    let stats = app.sim.stats("acme").unwrap();
    assert_eq!(stats.accounts, 1);
    assert_eq!(
        stats.create_calls_by_user_name.get("ada"),
        Some(&1),
        "looked up, not created again"
    );
    assert_eq!(
        request["external_account_id"],
        app.sim.users("acme").unwrap()[0]["id"]
    );
    app.stop().await;
}

#[tokio::test]
async fn a_request_out_of_attempts_is_dead_set_aside_and_can_be_replayed() {
    let app = spawn_app().await;
    app.sim.put_workspace("acme", "secret-acme");
    let created: serde_json::Value = app
        .post(
            "/v1/integrations",
            &json!({"service": "scim", "workspace": "acme", "base_url": app.sim_base_url("acme"),
                    "credentials": {"token": "secret-acme"}, "max_attempts": 1}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(created["max_attempts"], 1);
    let faults = Faults {
        fail_next_creates: Some(FailCreates {
            count: 1,
            status: 503,
            retry_after_secs: None,
            detail: Some("maintenance".into()),
        }),
        ..Faults::default()
    };
    app.sim.set_faults("acme", faults).unwrap();

    let id = app
        .submit(&json!({"integration_id": created["id"], "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "dead", "{request}");
    assert_eq!(request["error"]["retryable"], true);
    assert!(request["error"]["message"]
        .as_str()
        .unwrap()
        .contains("maintenance"));
    let reason = crate::helpers::next_dead_letter_reason(&app).await;
    assert!(reason.contains("retries exhausted"), "{reason}");
    assert_eq!(app.wait_for_log_entry(&id).await["status"], "failure");
    let metrics = app.client.get(app.url("/metrics")).send().await.unwrap();
    let counted = metrics.text().await.unwrap();
    assert!(
        counted.lines().any(|line| line
            .starts_with("provisioner_dead_letters_total{")
            && line.ends_with(" 1")),
        "the dead letter is counted: {counted}"
    );

    let replayed = app
        .post(
            &format!("/v1/provisioning-requests/{id}/replay"),
            &json!({}),
        )
        .await;
    assert_eq!(replayed.status(), reqwest::StatusCode::ACCEPTED);
    assert_eq!(app.wait_until_finished(&id).await["state"], "succeeded");
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 1);
    app.stop().await;
}

/// A SCIM integration at the simulator with `extra` fields (its retry overrides);
/// returns the created integration.
async fn integration_with(app: &TestApp, workspace: &str, extra: Value) -> Value {
    let token = format!("secret-{workspace}");
    app.sim.put_workspace(workspace, &token);
    let mut body = json!({"service": "scim", "workspace": workspace,
                          "base_url": app.sim_base_url(workspace),
                          "credentials": {"token": token}});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let response = app.post("/v1/integrations", &body).await;
    let status = response.status();
    let created: Value = response.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

fn failing_creates(count: u32, status: u16, retry_after_secs: Option<u64>) -> Faults {
    Faults {
        fail_next_creates: Some(FailCreates {
            count,
            status,
            retry_after_secs,
            detail: Some("try again later".into()),
        }),
        ..Faults::default()
    }
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .unwrap_or_else(|| panic!("not a time: {value}"))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn a_retry_after_is_honoured_the_retry_never_comes_earlier() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    app.sim
        .set_faults("acme", failing_creates(1, 429, Some(3)))
        .unwrap();

    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    let history = request["attempt_history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{request}");
    assert_eq!(history[0]["error_code"], "rate_limited");
    let failed_at = time(&history[0]["ended_at"]);
    let planned = time(&history[0]["retry_at"]) - failed_at;
    let waited = time(&history[1]["started_at"]) - failed_at;
    assert!(
        planned >= chrono::Duration::seconds(3),
        "planned after {planned}"
    );
    assert!(
        waited >= chrono::Duration::seconds(3),
        "the retry came {waited} after the 429 that asked for 3 s"
    );
    // The 3 s wait is parked in the 5 s delay queue with its own expiration, which the
    // broker honours: it comes back when its own time is up, not the queue's.
    assert!(
        waited < chrono::Duration::seconds(5),
        "the retry waited the whole delay queue: {waited}"
    );
    app.stop().await;
}

#[tokio::test]
async fn an_integration_allowing_two_quick_attempts_is_dead_after_two() {
    let app = spawn_app().await;
    let integration = integration_with(
        &app,
        "acme",
        json!({"max_attempts": 2, "retry_base_delay_seconds": 0.05, "retry_jitter": "none"}),
    )
    .await;
    assert_eq!(integration["max_attempts"], 2);
    assert_eq!(integration["retry_base_delay_seconds"], 0.05);
    assert_eq!(integration["retry_policy"]["max_attempts"], 2);
    assert_eq!(integration["retry_policy"]["jitter"], "none");
    assert_eq!(
        integration["retry_policy"]["deadline_seconds"], 3600,
        "what it does not override is the service's"
    );
    app.sim
        .set_faults("acme", failing_creates(10, 503, None))
        .unwrap();

    let started = std::time::Instant::now();
    let id = app
        .submit(&json!({"integration_id": integration["id"], "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "dead", "{request}");
    assert_eq!(request["attempts"], 2);
    assert!(request["error"]["message"]
        .as_str()
        .unwrap()
        .contains("try again later"));
    let history = request["attempt_history"].as_array().unwrap();
    let waited = time(&history[1]["started_at"]) - time(&history[0]["ended_at"]);
    assert!(
        waited >= chrono::Duration::milliseconds(50),
        "retried after {waited}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "two quick attempts took {:?}",
        started.elapsed()
    );
    let reason = crate::helpers::next_dead_letter_reason(&app).await;
    assert!(
        reason.contains("retries exhausted after 2 attempts"),
        "{reason}"
    );
    app.stop().await;
}

#[tokio::test]
async fn no_attempt_starts_past_the_requests_deadline() {
    let app = spawn_app().await;
    // Waits of 1 s then 2 s: the second retry would start more than 3 s after the
    // request was accepted.
    let integration = integration_with(
        &app,
        "acme",
        json!({"retry_deadline_seconds": 3, "retry_base_delay_seconds": 1, "retry_jitter": "none"}),
    )
    .await;
    app.sim
        .set_faults("acme", failing_creates(10, 503, None))
        .unwrap();

    let id = app
        .submit(&json!({"integration_id": integration["id"], "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "dead", "{request}");
    assert_eq!(request["attempts"], 2, "{request}");
    assert!(
        request["error"]["message"]
            .as_str()
            .unwrap()
            .contains("try again later"),
        "dead with its last cause: {request}"
    );
    let last_started = time(&request["attempt_history"][1]["started_at"]);
    assert!(last_started - time(&request["created_at"]) <= chrono::Duration::seconds(3));
    let reason = crate::helpers::next_dead_letter_reason(&app).await;
    assert!(reason.contains("deadline passed"), "{reason}");
    app.stop().await;
}

#[tokio::test]
async fn an_integrations_retry_overrides_can_be_changed_and_cleared() {
    let app = spawn_app().await;
    let integration = integration_with(&app, "acme", json!({"max_attempts": 2})).await;
    let path = format!("/v1/integrations/{}", integration["id"].as_str().unwrap());
    let patch = |body: Value| {
        let request = app
            .client
            .patch(app.url(&path))
            .bearer_auth(&app.token)
            .json(&body);
        async move { request.send().await.unwrap() }
    };

    let changed = patch(json!({"retry_max_delay_seconds": 30, "retry_jitter": "full"})).await;
    assert_eq!(changed.status(), StatusCode::OK);
    let changed: Value = changed.json().await.unwrap();
    assert_eq!(changed["max_attempts"], 2, "what is not named is kept");
    assert_eq!(changed["retry_policy"]["max_delay_seconds"], 30.0);
    assert_eq!(changed["retry_policy"]["jitter"], "full");

    let cleared: Value = patch(json!({"max_attempts": null}))
        .await
        .json()
        .await
        .unwrap();
    assert!(cleared.get("max_attempts").is_none(), "{cleared}");
    assert_eq!(
        cleared["retry_policy"]["max_attempts"], 8,
        "the service's again"
    );

    let refused = patch(
        json!({"retry_jitter": "some", "retry_max_delay_seconds": 7200,
                               "credentials": {"token": "x"}}),
    )
    .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = refused.json().await.unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["retry_max_delay_seconds", "retry_jitter", "credentials"]
    );
    let services: Value = app.get("/v1/services").await.json().await.unwrap();
    let github = services["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["key"] == "github")
        .unwrap();
    assert_eq!(github["retry_policy"]["base_delay_seconds"], 60.0);
    app.stop().await;
}

#[tokio::test]
async fn a_last_attempt_whose_create_landed_without_an_answer_is_adopted_not_dead() {
    let app = spawn_app().await;
    let integration = integration_with(
        &app,
        "acme",
        json!({"max_attempts": 2, "retry_base_delay_seconds": 0.05, "retry_jitter": "none"}),
    )
    .await;
    app.sim
        .set_faults(
            "acme",
            Faults {
                lose_next_create_responses: 1,
                ..failing_creates(1, 503, None)
            },
        )
        .unwrap();

    let id = app
        .submit(&json!({"integration_id": integration["id"], "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    assert_eq!(request["attempts"], 2);
    let stats = app.sim.stats("acme").unwrap();
    assert_eq!(stats.accounts, 1);
    assert_eq!(
        request["external_account_id"],
        app.sim.users("acme").unwrap()[0]["id"]
    );
    app.stop().await;
}
