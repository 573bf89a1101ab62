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

/// The spec accepts `value` for the query parameter `name`, and the code answers 200.
async fn both_accept_query(app: &TestApp, path: &str, name: &str, value: &str) {
    let spec = openapi()
        .query_errors("GET", path, name, value)
        .expect("a query parameter of the spec");
    assert!(
        spec.is_empty(),
        "the spec refuses {name}={value:?}: {spec:?}"
    );
    let response = get_with_query(app, path, name, value).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}?{name}={value:?}");
}

async fn get_with_query(app: &TestApp, path: &str, name: &str, value: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .query(&[(name, value)])
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("the api answers")
}

/// The spec refuses `value` for the query parameter `name`, and the code answers 400
/// naming it.
async fn both_refuse_query(app: &TestApp, path: &str, name: &str, value: &str) {
    let spec = openapi()
        .query_errors("GET", path, name, value)
        .expect("a query parameter of the spec");
    assert!(!spec.is_empty(), "the spec accepts {name}={value:?}");
    let response = get_with_query(app, path, name, value).await;
    assert_eq!(
        response.status(),
        StatusCode::BAD_REQUEST,
        "{path}?{name}={value:?}"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], name, "{problem}");
}

#[tokio::test]
async fn an_empty_filter_or_cursor_counts_as_absent_in_the_spec_and_the_code() {
    let app = spawn_app().await;
    for (path, name) in [
        ("/v1/provisioning-requests", "state"),
        ("/v1/provisioning-requests", "integration_id"),
        ("/v1/provisioning-requests", "cursor"),
        ("/v1/integration-log", "action"),
        ("/v1/integration-log", "status"),
        ("/v1/integration-log", "integration_id"),
        ("/v1/integration-log", "employee_id"),
        ("/v1/integration-log", "request_id"),
        ("/v1/integration-log", "cursor"),
    ] {
        both_accept_query(&app, path, name, "").await;
    }
    app.stop().await;
}

#[tokio::test]
async fn every_cursor_of_the_spec_pattern_names_a_position_and_nothing_else_does() {
    let app = spawn_app().await;
    for path in ["/v1/provisioning-requests", "/v1/integration-log"] {
        for cursor in [
            "0.00000000000000000000000000000000",
            "-9999999999999999.FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
            "1790000000123456.0123456789abcdef0123456789abcdef",
        ] {
            both_accept_query(&app, path, "cursor", cursor).await;
        }
        for cursor in [
            "garbage",
            "MTc5MDAwMDAwMDEyMzQ1Ni4wMTIz",
            "12345678901234567.0123456789abcdef0123456789abcdef",
        ] {
            both_refuse_query(&app, path, "cursor", cursor).await;
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn a_free_text_filter_is_bounded_alike_by_the_spec_and_the_code() {
    let app = spawn_app().await;
    let long = "s".repeat(1001);
    for path in ["/v1/provisioning-requests", "/v1/integration-log"] {
        both_refuse_query(&app, path, "service", &long).await;
        both_refuse_query(&app, path, "service", "a\u{0}b").await;
        both_accept_query(&app, path, "service", &"s".repeat(1000)).await;
    }
    app.stop().await;
}

#[tokio::test]
async fn a_replay_gives_a_reason_that_is_not_blank_or_none() {
    let app = spawn_app().await;
    let path = format!("/v1/provisioning-requests/{}/replay", uuid::Uuid::new_v4());
    both_refuse(&app, Method::POST, &path, json!({"reason": ""}), "reason").await;
    both_refuse(&app, Method::POST, &path, json!({"reason": " "}), "reason").await;
    app.stop().await;
}

#[tokio::test]
async fn a_dry_run_employee_is_held_to_what_an_hr_event_may_carry() {
    let app = spawn_app().await;
    let path = "/v1/provisioning-rules/test";
    let employee =
        json!({"email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace"});
    let with = |name: &str, value: Value| {
        let mut employee = employee.clone();
        employee[name] = value;
        json!({ "employee": employee })
    };
    for (name, value) in [
        ("email", json!("")),
        ("email", json!("ada")),
        ("email", json!("a@b@example.com")),
        ("given_name", json!(" ")),
        ("family_name", json!("")),
        ("family_name", json!("é".repeat(201))),
    ] {
        let field = format!("employee.{name}");
        both_refuse(&app, Method::POST, path, with(name, value), &field).await;
    }
    // Other members are ignored, but held to what PostgreSQL can store, as all input.
    both_refuse(
        &app,
        Method::POST,
        path,
        with("note", json!({"a": ["b\u{0}"]})),
        "employee.note.a.0",
    )
    .await;
    both_accept(&app, Method::POST, path, with("note", json!({"a": ["b"]}))).await;
    both_accept(
        &app,
        Method::POST,
        path,
        with("given_name", json!("é".repeat(200))),
    )
    .await;
    app.stop().await;
}
