use provisioner_sim::{FailCreates, Faults};
use serde_json::json;

use crate::helpers::{scim_account, spawn_app};

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
