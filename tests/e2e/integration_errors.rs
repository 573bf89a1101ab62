use provisioner_core::quarantine::AUTH_FAILURES_BEFORE_ERROR;
use provisioner_sim::{FailCreates, Faults};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{scim_account, spawn_app};

#[tokio::test]
async fn an_integration_in_error_rejects_requests_without_calling_the_service() {
    let app = spawn_app().await;
    app.sim.put_workspace("acme", "the-real-token");
    let response = app
        .post(
            "/v1/integrations",
            &json!({
                "service": "scim",
                "workspace": "acme",
                "base_url": app.sim_base_url("acme"),
                "credentials": {"token": "a-stale-token"},
            }),
        )
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let integration: Value = response.json().await.unwrap();
    assert_eq!(integration["status"], "error");
    assert!(integration["status_reason"]
        .as_str()
        .is_some_and(|r| !r.is_empty()));
    assert!(
        integration.get("credentials").is_none(),
        "credentials are never echoed"
    );
    let integration_id = integration["id"].as_str().unwrap();
    let calls_before = app.sim.stats("acme").unwrap().calls;

    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "rejected", "{request}");
    assert!(request["error"]["message"]
        .as_str()
        .unwrap()
        .contains("re-integrate"));
    assert_eq!(
        app.sim.stats("acme").unwrap().calls,
        calls_before,
        "no call reached the service"
    );
    let entry = app.wait_for_log_entry(&id).await;
    assert_eq!(entry["status"], "failure");
    assert!(entry["cause"].as_str().unwrap().contains("re-integrate"));

    // Re-integration: the service accepts the integration's credentials again.
    app.sim.put_workspace("acme", "a-stale-token");
    let checked = app
        .post(
            &format!("/v1/integrations/{integration_id}/check"),
            &json!({}),
        )
        .await;
    assert_eq!(checked.status(), StatusCode::OK);
    let checked: Value = checked.json().await.unwrap();
    assert_eq!(checked["status"], "ok");

    let retry = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    assert_eq!(app.wait_until_finished(&retry).await["state"], "succeeded");
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 1);
    app.stop().await;
}

#[tokio::test]
async fn repeated_authentication_failures_put_the_integration_in_error_until_a_check_passes() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let path = format!("/v1/integrations/{integration_id}");
    app.sim.put_workspace("acme", "rotated-by-the-saas-admin");
    let before = chrono::Utc::now();

    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    // Below the threshold each refusal is retried like a transient failure; the one
    // that reaches it puts the integration in error and the request is rejected.
    let threshold = AUTH_FAILURES_BEFORE_ERROR as usize;
    assert_eq!(request["state"], "rejected", "{request}");
    let history = request["attempt_history"].as_array().unwrap();
    assert_eq!(history.len(), threshold, "{request}");
    for attempt in &history[..threshold - 1] {
        assert_eq!(attempt["outcome"], "retrying", "{request}");
        assert_eq!(attempt["error_code"], "auth_failed", "{request}");
    }
    assert_eq!(history[threshold - 1]["outcome"], "rejected");
    let integration: Value = app.get(&path).await.json().await.unwrap();
    assert_eq!(integration["status"], "error");
    let reason = integration["status_reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!("{threshold} authentication failures in a row"))
            && reason.contains("401"),
        "{reason}"
    );
    let changed: chrono::DateTime<chrono::Utc> = integration["status_changed_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(changed >= before, "{integration}");

    // In error, a request is refused without a call to the service.
    let calls_before = app.sim.stats("acme").unwrap().calls;
    let refused = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("bob")}))
        .await;
    let refused = app.wait_until_finished(&refused).await;
    assert_eq!(refused["state"], "rejected", "{refused}");
    assert_eq!(refused["attempts"], 1);
    assert!(refused["error"]["message"]
        .as_str()
        .unwrap()
        .contains("re-integrate"));
    let stats = app.sim.stats("acme").unwrap();
    assert_eq!(stats.calls, calls_before, "no call reached the service");
    assert_eq!(stats.create_calls_by_user_name.get("bob"), None);

    // Fixed at the service and checked: requests go through again.
    app.sim.put_workspace("acme", "secret-acme");
    let checked: Value = app
        .post(&format!("{path}/check"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(checked["status"], "ok", "{checked}");
    assert_eq!(checked["auth_failures"], 0);
    let retry = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("bob")}))
        .await;
    assert_eq!(app.wait_until_finished(&retry).await["state"], "succeeded");
    app.stop().await;
}

#[tokio::test]
async fn one_authentication_failure_is_retried_and_a_success_clears_the_count() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let refuse_once = Faults {
        fail_next_creates: Some(FailCreates {
            count: 1,
            status: 401,
            retry_after_secs: None,
            detail: Some("token is being rotated".into()),
        }),
        ..Faults::default()
    };
    app.sim.set_faults("acme", refuse_once).unwrap();

    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    assert_eq!(request["attempt_history"][0]["error_code"], "auth_failed");
    let integration: Value = app
        .get(&format!("/v1/integrations/{integration_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(integration["status"], "ok");
    assert_eq!(integration["auth_failures"], 0, "{integration}");
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 1);
    app.stop().await;
}
