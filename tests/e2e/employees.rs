use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test]
async fn a_service_added_to_an_employee_takes_the_fields_the_record_has() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let employee_id = app
        .create_employee("grace@example.com", "Grace", "Hopper")
        .await;

    let id = app
        .submit(
            &json!({"integration_id": integration_id, "employee_id": employee_id, "account": {}}),
        )
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    assert_eq!(request["employee_id"], employee_id.as_str());
    let user = &app.sim.users("acme").unwrap()[0];
    assert_eq!(user["userName"], "grace@example.com");
    assert_eq!(user["name"]["givenName"], "Grace");
    assert_eq!(user["name"]["familyName"], "Hopper");
    assert_eq!(user["emails"][0]["value"], "grace@example.com");
    let entry = app.wait_for_log_entry(&id).await;
    assert_eq!(entry["employee_id"], employee_id.as_str());
    app.stop().await;
}

#[tokio::test]
async fn fields_typed_in_the_request_win_over_the_employee_record() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let employee_id = app
        .create_employee("grace@example.com", "Grace", "Hopper")
        .await;

    let id = app
        .submit(&json!({
            "integration_id": integration_id,
            "employee_id": employee_id,
            "account": {"user_name": "ghopper"},
        }))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "succeeded");
    assert_eq!(app.sim.users("acme").unwrap()[0]["userName"], "ghopper");
    app.stop().await;
}

#[tokio::test]
async fn an_employee_is_read_back_and_a_duplicate_email_is_a_conflict() {
    let app = spawn_app().await;
    let id = app
        .create_employee("ada@example.com", "Ada", "Lovelace")
        .await;

    let body: Value = app
        .get(&format!("/v1/employees/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["email"], "ada@example.com");
    assert_eq!(body["given_name"], "Ada");

    let again = app
        .post(
            "/v1/employees",
            &json!({"email": "ada@example.com", "given_name": "A", "family_name": "L"}),
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let invalid = app
        .post("/v1/employees", &json!({"email": "not-an-email"}))
        .await;
    assert_eq!(invalid.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = invalid.json().await.unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["given_name", "family_name", "email"]);
    app.stop().await;
}

#[tokio::test]
async fn employees_are_listed_by_family_then_given_name_and_only_the_tenants_own() {
    let app = spawn_app().await;
    app.create_employee("grace@example.com", "Grace", "Hopper")
        .await;
    app.create_employee("ada@example.com", "Ada", "Lovelace")
        .await;
    app.create_employee("alan@example.com", "Alan", "Hopper")
        .await;
    let other = app.store.create_tenant("Other").await.unwrap();
    let other_token = app
        .store
        .create_token(other, &provisioner_core::Scope::ALL)
        .await
        .unwrap()
        .token;

    let response = app.get("/v1/employees").await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let emails: Vec<&str> = body["employees"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["email"].as_str().unwrap())
        .collect();
    assert_eq!(
        emails,
        ["alan@example.com", "grace@example.com", "ada@example.com"]
    );
    let theirs: Value = app
        .get_as("/v1/employees", &other_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(theirs["employees"], json!([]));
    app.stop().await;
}
