//! Where the spec and the code once disagreed about a request: each case here is
//! judged by both, and both must give the same answer (the answer itself is checked
//! against the spec on its way, as every answer is).

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::contract::spec::openapi;
use crate::helpers::{spawn_app, TestApp};

/// Sends `body` and returns the status and the problem's field names.
async fn send(
    app: &TestApp,
    method: Method,
    path: &str,
    body: &Value,
) -> (StatusCode, Vec<String>) {
    let response = app
        .client
        .request(method, app.url(path))
        .bearer_auth(&app.token)
        .json(body)
        .send()
        .await
        .expect("the api answers");
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or_default();
    let fields = answer["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    (status, fields)
}

/// The spec refuses `body`, and the code answers 422 naming `field`.
async fn both_refuse(app: &TestApp, method: Method, path: &str, body: Value, field: &str) {
    let spec = openapi()
        .request_errors(method.as_str(), path, &body)
        .expect("an operation of the spec");
    assert!(!spec.is_empty(), "the spec accepts {body}");
    let (status, fields) = send(app, method, path, &body).await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the code accepts {body}"
    );
    assert!(
        fields.iter().any(|f| f == field),
        "{field} not named in {fields:?}"
    );
}

/// The spec accepts `body`, and so does the code.
async fn both_accept(app: &TestApp, method: Method, path: &str, body: Value) {
    let spec = openapi()
        .request_errors(method.as_str(), path, &body)
        .expect("an operation of the spec");
    assert!(spec.is_empty(), "the spec refuses {body}: {spec:?}");
    let (status, fields) = send(app, method, path, &body).await;
    assert!(
        status.is_success(),
        "the code refuses {body}: {status} {fields:?}"
    );
}

#[tokio::test]
async fn an_empty_time_in_a_query_is_refused_naming_the_parameter() {
    let app = spawn_app().await;
    for (path, name) in [
        ("/v1/integration-log?to=", "to"),
        ("/v1/integration-log?from=", "from"),
        ("/v1/provisioning-requests?since=", "since"),
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{path}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], name, "{problem}");
    }
    app.stop().await;
}

#[tokio::test]
async fn a_dry_run_employee_with_a_null_fact_is_refused_naming_it() {
    let app = spawn_app().await;
    let employee =
        json!({"email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace"});
    let mut with_null = employee.clone();
    with_null["location"] = Value::Null;
    let path = "/v1/provisioning-rules/test";
    both_refuse(
        &app,
        Method::POST,
        path,
        json!({"employee": with_null}),
        "employee.location",
    )
    .await;
    let mut with_location = employee;
    with_location["location"] = json!("Lisbon");
    both_accept(&app, Method::POST, path, json!({"employee": with_location})).await;
    app.stop().await;
}

#[tokio::test]
async fn tuning_is_bounded_alike_by_the_spec_and_the_code() {
    let app = spawn_app().await;
    let id = app.scim_integration("acme").await;
    let path = format!("/v1/integrations/{id}");
    both_refuse(
        &app,
        Method::PATCH,
        &path,
        json!({"retry_base_delay_seconds": 0.0005}),
        "retry_base_delay_seconds",
    )
    .await;
    both_accept(
        &app,
        Method::PATCH,
        &path,
        json!({"retry_base_delay_seconds": 0.001, "max_concurrent_calls": 4}),
    )
    .await;
    // JSON Schema's integer: 3.0 is one.
    both_accept(&app, Method::PATCH, &path, json!({"max_attempts": 3.0})).await;
    // `null` clears an override, this one as every other.
    both_accept(
        &app,
        Method::PATCH,
        &path,
        json!({"max_concurrent_calls": null}),
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_rule_needs_a_name_that_is_not_blank_and_may_match_everyone() {
    let app = spawn_app().await;
    let id = app.scim_integration("acme").await;
    let targets = json!([{"integration_id": id, "account": {"user_name": "{{email_local}}"}}]);
    let path = "/v1/provisioning-rules";
    both_refuse(
        &app,
        Method::POST,
        path,
        json!({"name": "  ", "targets": targets}),
        "name",
    )
    .await;
    both_refuse(
        &app,
        Method::POST,
        path,
        json!({"name": "x", "match": {"location": ""}, "targets": targets}),
        "match.location",
    )
    .await;
    both_accept(
        &app,
        Method::POST,
        path,
        json!({"name": "everyone", "match": null, "targets": targets}),
    )
    .await;
    app.stop().await;
}

#[tokio::test]
async fn a_bulk_replay_reads_its_filter_alike_in_the_spec_and_the_code() {
    let app = spawn_app().await;
    let path = "/v1/replays";
    let long = "s".repeat(101);
    both_refuse(
        &app,
        Method::POST,
        path,
        json!({"filter": {"state": "dead", "service": long}}),
        "filter.service",
    )
    .await;
    both_refuse(
        &app,
        Method::POST,
        path,
        json!({"filter": {"state": "dead"}, "reason": " "}),
        "reason",
    )
    .await;
    both_accept(
        &app,
        Method::POST,
        path,
        json!({"filter": {"state": "dead", "service": null}, "dry_run": true}),
    )
    .await;
    app.stop().await;
}
