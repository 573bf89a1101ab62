use lapin::BasicProperties;
use provisioner_broker::Publisher;
use provisioner_hr_intake::signature::sign;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{count_requests, eventually_log, spawn_app, TestApp};

pub(crate) fn hire(event_id: &str, email: &str, department: &str) -> Value {
    let (local, _) = email.split_once('@').unwrap();
    json!({
        "specversion": "1.0",
        "id": event_id,
        "source": "urn:hr:workday",
        "type": "com.provisioner.hr.employee.hired",
        "time": "2026-11-29T09:00:00Z",
        "data": {"employee": {"email": email, "given_name": local, "family_name": "Doe", "department": department}}
    })
}

pub(crate) async fn signing_secret(app: &TestApp) -> String {
    let created: Value = app
        .post("/v1/hr/signing-secrets", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    created["secret"].as_str().unwrap().to_owned()
}

async fn post_signed(
    app: &TestApp,
    secret: &str,
    event: &Value,
    timestamp: i64,
) -> reqwest::Response {
    let body = event.to_string();
    let message_id = format!("msg_{}", event["id"].as_str().unwrap_or_default());
    app.client
        .post(app.url("/v1/hr/events"))
        .bearer_auth(&app.token)
        .header("content-type", "application/cloudevents+json")
        .header("webhook-id", &message_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header(
            "webhook-signature",
            sign(secret, &message_id, timestamp, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap()
}

pub(crate) async fn engineering_rule(app: &TestApp, integration_id: &str) {
    let rule = app
        .post(
            "/v1/provisioning-rules",
            &json!({
                "name": "Engineers get the dev tools",
                "match": {"department": "Engineering"},
                "targets": [{"integration_id": integration_id, "account": {"user_name": "{{email_local}}"}}],
            }),
        )
        .await;
    assert_eq!(
        rule.status(),
        StatusCode::CREATED,
        "{}",
        rule.text().await.unwrap()
    );
}

async fn requests_of(app: &TestApp, state: &str) -> Vec<Value> {
    let body: Value = app
        .get(&format!("/v1/provisioning-requests?state={state}"))
        .await
        .json()
        .await
        .unwrap();
    body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_signed_hire_creates_the_employee_and_the_accounts_its_rules_name_once() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    engineering_rule(&app, &integration_id).await;
    let secret = signing_secret(&app).await;
    let now = chrono::Utc::now().timestamp();

    let event = hire("hire-ada-1", "ada@example.com", "engineering");
    let answer = post_signed(&app, &secret, &event, now).await;
    assert_eq!(answer.status(), StatusCode::ACCEPTED);
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["requests_queued"], 1);
    let employee_id = answer["employee_id"].as_str().unwrap().to_owned();

    let request_id = crate::helpers::eventually_request(&app, "succeeded").await;
    let request: Value = app
        .get(&format!("/v1/provisioning-requests/{request_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(request["employee_id"], employee_id.as_str());
    assert_eq!(request["target"], "ada");
    let employee: Value = app
        .get(&format!("/v1/employees/{employee_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(employee["department"], "engineering");

    let again = post_signed(&app, &secret, &event, now).await;
    assert_eq!(again.status(), StatusCode::ACCEPTED);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["duplicate"], true);
    assert_eq!(
        count_requests(&app).await,
        1,
        "a re-sent event creates nothing new"
    );

    let sales = post_signed(
        &app,
        &secret,
        &hire("hire-bob-1", "bob@example.com", "Sales"),
        now,
    )
    .await;
    let sales: Value = sales.json().await.unwrap();
    assert_eq!(sales["requests_queued"], 0, "no rule matches sales");
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 1);
    app.stop().await;
}

#[tokio::test]
async fn unsigned_stale_forged_or_malformed_hires_are_refused_and_change_nothing() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    engineering_rule(&app, &integration_id).await;
    let secret = signing_secret(&app).await;
    let now = chrono::Utc::now().timestamp();
    let event = hire("hire-1", "ada@example.com", "Engineering");

    let stale = post_signed(&app, &secret, &event, now - 3600).await;
    assert_eq!(stale.status(), StatusCode::UNAUTHORIZED);
    let forged = post_signed(&app, "whsec_bm90LXRoZS1zZWNyZXQ", &event, now).await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let unsigned = app.post("/v1/hr/events", &event).await;
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let mut wrong_type = event.clone();
    wrong_type["type"] = json!("com.example.fired");
    let malformed = post_signed(&app, &secret, &wrong_type, now).await;
    assert_eq!(malformed.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let reader = app
        .store
        .create_token(app.tenant_id, &[provisioner_core::Scope::LogRead])
        .await
        .unwrap()
        .token;
    let body = event.to_string();
    let no_scope = app
        .client
        .post(app.url("/v1/hr/events"))
        .bearer_auth(&reader)
        .header("webhook-id", "msg_1")
        .header("webhook-timestamp", now.to_string())
        .header(
            "webhook-signature",
            sign(&secret, "msg_1", now, body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(no_scope.status(), StatusCode::FORBIDDEN);
    assert_eq!(count_requests(&app).await, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_rule_naming_a_broken_integration_or_writing_bad_fields_gives_an_ended_request() {
    let app = spawn_app().await;
    let broken = app.scim_integration("acme").await;
    app.sim.put_workspace("acme", "rotated");
    let checked = app
        .post(&format!("/v1/integrations/{broken}/check"), &json!({}))
        .await;
    assert_eq!(checked.status(), StatusCode::OK);
    let healthy = app.scim_integration("globex").await;
    let rule = app
        .post(
            "/v1/provisioning-rules",
            &json!({
                "name": "Everyone",
                "targets": [
                    {"integration_id": broken, "account": {}},
                    {"integration_id": healthy, "account": {"email": "{{given_name}}"}},
                ],
            }),
        )
        .await;
    assert_eq!(rule.status(), StatusCode::CREATED);
    let secret = signing_secret(&app).await;

    let answer: Value = post_signed(
        &app,
        &secret,
        &hire("h-1", "ada@example.com", "Ops"),
        chrono::Utc::now().timestamp(),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(
        (
            answer["requests_queued"].as_u64(),
            answer["requests_failed"].as_u64()
        ),
        (Some(1), Some(1))
    );

    let rejected = crate::helpers::eventually_request(&app, "rejected").await;
    let failed = requests_of(&app, "failed").await;
    assert_eq!(failed.len(), 1);
    assert!(
        failed[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("email"),
        "{}",
        failed[0]
    );
    let failed_id = failed[0]["id"].as_str().unwrap();
    let entries = eventually_log(&app, failed_id, 1).await;
    assert_eq!(
        entries[0]["status"], "failure",
        "the failed request is in the log too"
    );
    eventually_log(&app, &rejected, 1).await;
    assert_eq!(app.sim.stats("globex").unwrap().create_calls, 0);
    app.stop().await;
}

#[tokio::test]
async fn a_hire_published_on_the_hr_exchange_is_taken_in_too() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    engineering_rule(&app, &integration_id).await;
    let topology = provisioner::startup::topology(&app.settings);
    let publisher = Publisher::new(app.settings.amqp_url.clone(), "test-hr", topology.clone());

    let mut event = hire("hire-grace-1", "grace@example.com", "Engineering");
    event["tenantid"] = json!(app.tenant_id);
    let properties =
        BasicProperties::default().with_content_type("application/cloudevents+json".into());
    publisher
        .publish(
            &topology.hr_exchange(),
            "employee.hired",
            event.to_string().as_bytes(),
            properties.clone(),
        )
        .await
        .unwrap();
    let id = crate::helpers::eventually_request(&app, "succeeded").await;
    let request: Value = app
        .get(&format!("/v1/provisioning-requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(request["target"], "grace");
    // The same event again: nothing new.
    publisher
        .publish(
            &topology.hr_exchange(),
            "employee.hired",
            event.to_string().as_bytes(),
            properties.clone(),
        )
        .await
        .unwrap();

    // Without a tenant it is set aside with its reason, and intake goes on.
    let mut headless = hire("hire-nobody", "nobody@example.com", "Engineering");
    headless.as_object_mut().unwrap().remove("tenantid");
    publisher
        .publish(
            &topology.hr_exchange(),
            "employee.hired",
            headless.to_string().as_bytes(),
            properties,
        )
        .await
        .unwrap();
    let reason = crate::helpers::next_dead_letter_reason(&app).await;
    assert!(reason.contains("tenantid"), "{reason}");
    // The re-sent event was ahead of the one set aside, so it has been handled.
    assert_eq!(
        count_requests(&app).await,
        1,
        "a re-sent event creates nothing new"
    );
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 1);
    publisher.close().await;
    app.stop().await;
}

#[tokio::test]
async fn a_dry_run_shows_what_an_employee_would_get_and_records_nothing() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    engineering_rule(&app, &integration_id).await;

    let preview: Value = app
        .post(
            "/v1/provisioning-rules/test",
            &json!({"employee": {"email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace", "department": "Engineering"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(preview["dry_run"], true);
    let requests = preview["requests"].as_array().unwrap();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0]["account"]["user_name"], "ada");
    assert_eq!(requests[0]["account"]["email"], "ada@example.com");
    assert!(requests[0]["would_fail"].is_null());
    assert_eq!(count_requests(&app).await, 0);

    let bad_template = app
        .post(
            "/v1/provisioning-rules",
            &json!({"name": "typo", "targets": [{"integration_id": integration_id, "account": {"user_name": "{{emial}}"}}]}),
        )
        .await;
    assert_eq!(bad_template.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = bad_template.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "targets.0.account");
    let unknown = app
        .post(
            "/v1/provisioning-rules",
            &json!({"name": "x", "targets": [{"integration_id": uuid::Uuid::new_v4()}]}),
        )
        .await;
    let problem: Value = unknown.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "targets.0.integration_id");
    app.stop().await;
}
