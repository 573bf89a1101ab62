use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{count_requests, scim_account, spawn_app, TestApp};

async fn problem_fields(response: reqwest::Response, status: StatusCode) -> Vec<String> {
    assert_eq!(response.status(), status);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let problem: Value = response.json().await.unwrap();
    assert_eq!(problem["status"], status.as_u16());
    problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["field"].as_str().unwrap().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn assert_nothing_stored(app: &TestApp) {
    assert_eq!(count_requests(app).await, 0, "nothing was stored");
    if let Some(stats) = app.sim.stats("acme") {
        assert_eq!(stats.create_calls, 0, "nothing reached the service");
    }
}

#[tokio::test]
async fn missing_and_ill_typed_account_fields_are_each_named() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;

    let missing = app
        .post(
            "/v1/provisioning-requests",
            &json!({"integration_id": integration_id, "account": {}}),
        )
        .await;
    let mut fields = problem_fields(missing, StatusCode::UNPROCESSABLE_ENTITY).await;
    fields.sort();
    assert_eq!(
        fields,
        [
            "account.email",
            "account.family_name",
            "account.given_name",
            "account.user_name"
        ]
    );

    let mut account = scim_account("ada");
    account["user_name"] = json!(42);
    account["email"] = json!("not an email");
    let ill_typed = app
        .post(
            "/v1/provisioning-requests",
            &json!({"integration_id": integration_id, "account": account}),
        )
        .await;
    let mut fields = problem_fields(ill_typed, StatusCode::UNPROCESSABLE_ENTITY).await;
    fields.sort();
    assert_eq!(fields, ["account.email", "account.user_name"]);
    assert_nothing_stored(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn unknown_references_and_server_owned_fields_are_refused() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let cases = [
        (
            json!({"integration_id": uuid::Uuid::new_v4(), "account": scim_account("a")}),
            "integration_id",
        ),
        (
            json!({"integration_id": "not-a-uuid", "account": scim_account("a")}),
            "integration_id",
        ),
        (json!({"account": scim_account("a")}), "integration_id"),
        (json!({"integration_id": integration_id}), "account"),
        (
            json!({"integration_id": integration_id, "account": "ada"}),
            "account",
        ),
        (
            json!({"integration_id": integration_id, "employee_id": uuid::Uuid::new_v4(), "account": scim_account("a")}),
            "employee_id",
        ),
        (
            json!({"integration_id": integration_id, "account": scim_account("a"), "state": "succeeded"}),
            "state",
        ),
        (
            json!({"integration_id": integration_id, "account": scim_account("a"), "tenant_id": uuid::Uuid::new_v4()}),
            "tenant_id",
        ),
    ];
    for (body, field) in cases {
        let response = app.post("/v1/provisioning-requests", &body).await;
        let fields = problem_fields(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert_eq!(fields, [field], "{body}");
    }
    assert_nothing_stored(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn every_part_of_a_body_is_checked_even_when_one_cannot_be_read() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let cases = [
        (
            json!({"integration_id": "not-a-uuid", "employee_id": uuid::Uuid::new_v4(), "account": scim_account("a")}),
            vec!["employee_id", "integration_id"],
        ),
        (
            json!({"integration_id": integration_id, "account": {"user_name": 42}, "state": "queued"}),
            vec![
                "account.email",
                "account.family_name",
                "account.given_name",
                "account.user_name",
                "state",
            ],
        ),
        (
            json!({"integration_id": integration_id, "account": "ada", "employee_id": "nobody"}),
            vec!["account", "employee_id"],
        ),
    ];
    for (body, expected) in cases {
        let response = app.post("/v1/provisioning-requests", &body).await;
        let mut fields = problem_fields(response, StatusCode::UNPROCESSABLE_ENTITY).await;
        fields.sort();
        assert_eq!(fields, expected, "{body}");
    }
    assert_nothing_stored(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn a_service_that_cannot_provision_is_refused() {
    let app = spawn_app().await;
    let created = app
        .post(
            "/v1/integrations",
            &json!({"service": "salesforce", "workspace": "acme-sales", "credentials": {}}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let integration: Value = created.json().await.unwrap();

    let response = app
        .post(
            "/v1/provisioning-requests",
            &json!({"integration_id": integration["id"], "account": {"user_name": "ada"}}),
        )
        .await;
    assert_eq!(
        problem_fields(response, StatusCode::UNPROCESSABLE_ENTITY).await,
        ["integration_id"]
    );
    assert_nothing_stored(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn a_malformed_body_gets_a_problem_not_a_crash() {
    let app = spawn_app().await;
    let url = app.url("/v1/provisioning-requests");
    let send = |body: &'static str, content_type: &'static str| {
        app.client
            .post(&url)
            .bearer_auth(&app.token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    for (body, content_type, status) in [
        ("{not json", "application/json", StatusCode::BAD_REQUEST),
        ("[1, 2]", "application/json", StatusCode::BAD_REQUEST),
        ("", "application/json", StatusCode::BAD_REQUEST),
        (
            "integration_id=1",
            "application/x-www-form-urlencoded",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ] {
        let response = send(body, content_type).await.unwrap();
        assert_eq!(response.status(), status, "{body}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json"
        );
    }
    let huge = "x".repeat(100 * 1024);
    let response = app
        .client
        .post(&url)
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body(format!(r#"{{"account": {{"user_name": "{huge}"}}}}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_nothing_stored(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn callers_without_a_valid_token_or_scope_are_turned_away() {
    let app = spawn_app().await;
    let anonymous = app
        .client
        .get(app.url("/v1/services"))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(anonymous.headers()["www-authenticate"], "Bearer");
    let unknown = app.get_as("/v1/services", "prv_not-a-real-token").await;
    assert_eq!(unknown.status(), StatusCode::UNAUTHORIZED);

    let reader = app
        .store
        .create_token(app.tenant_id, &[provisioner_core::Scope::LogRead])
        .await
        .unwrap()
        .token;
    let response = app
        .post_as("/v1/provisioning-requests", &json!({}), &reader)
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        app.get_as("/v1/integration-log", &reader).await.status(),
        StatusCode::OK
    );

    let no_route = app.get("/v1/nothing-here").await;
    assert_eq!(no_route.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        no_route.headers()["content-type"],
        "application/problem+json"
    );
    assert_nothing_stored(&app).await;
    app.stop().await;
}

#[tokio::test]
async fn an_integration_whose_address_is_not_a_web_url_is_refused() {
    let app = spawn_app().await;
    for base_url in ["ftp://saas.example.com/scim", "not a url"] {
        let response = app
            .post(
                "/v1/integrations",
                &json!({"service": "scim", "workspace": "acme", "base_url": base_url,
                        "credentials": {"token": "t"}}),
            )
            .await;
        assert_eq!(
            problem_fields(response, StatusCode::UNPROCESSABLE_ENTITY).await,
            ["base_url"]
        );
    }
    app.stop().await;
}
