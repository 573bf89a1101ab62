//! What tests do behind the API's back: write to the database directly, as a crash
//! would leave it, act at the simulated SaaS as its own admin, and wait for outcomes.

use provisioner_test_support::eventually;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{scim_account, TestApp, WAIT};

/// Stores a request the way the api does, without publishing it, as if the process died
/// right after the commit.
pub async fn insert_unpublished_request(
    app: &TestApp,
    integration_id: &str,
    user_name: &str,
) -> String {
    let new = provisioner_store::NewRequest {
        integration_id: integration_id.parse().unwrap(),
        employee_id: None,
        service: "scim".into(),
        workspace: "acme".into(),
        target: user_name.into(),
        account: scim_account(user_name),
        idempotency_key: None,
        request_hash: vec![],
        trace_id: None,
    };
    match app.store.insert_request(app.tenant_id, &new).await.unwrap() {
        provisioner_store::StoredRequest::Created(id) => id.to_string(),
        other => panic!("unexpected {other:?}"),
    }
}

/// Makes a claim look abandoned by a worker that died long ago.
pub async fn age_claim(app: &TestApp, request_id: &str) {
    let mut connection: sqlx::PgConnection = sqlx::Connection::connect(&app.settings.database_url)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE provisioning_requests SET claimed_at = now() - interval '1 hour' WHERE id = $1",
    )
    .bind(uuid::Uuid::parse_str(request_id).unwrap())
    .execute(&mut connection)
    .await
    .unwrap();
}

pub async fn count_requests(app: &TestApp) -> i64 {
    let mut connection: sqlx::PgConnection = sqlx::Connection::connect(&app.settings.database_url)
        .await
        .unwrap();
    let (count,): (i64,) = sqlx::query_as("SELECT count(*) FROM provisioning_requests")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    count
}

/// Creates an account directly at the simulated SaaS, as its own admin would.
pub async fn create_at_service(app: &TestApp, workspace: &str, user_name: &str) {
    let response = app
        .client
        .post(format!("{}/Users", app.sim_base_url(workspace)))
        .bearer_auth(format!("secret-{workspace}"))
        .header("content-type", "application/scim+json")
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// Creates at the simulated SaaS what a create of the request `request_id` leaves there
/// when its answer never comes back: the account, stamped with the request's id.
pub async fn create_ours_at_service(
    app: &TestApp,
    workspace: &str,
    user_name: &str,
    request_id: &str,
) {
    let response = app
        .client
        .post(format!("{}/Users", app.sim_base_url(workspace)))
        .bearer_auth(format!("secret-{workspace}"))
        .header("content-type", "application/scim+json")
        .json(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": user_name,
            "externalId": request_id,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
}

/// Waits until the request has `count` log entries and returns them, newest first.
pub async fn eventually_log(app: &TestApp, request_id: &str, count: usize) -> Vec<Value> {
    let query = format!("?request_id={request_id}");
    eventually(WAIT, "the log entries", || async {
        let entries = app.log_entries(&query).await;
        (entries.len() >= count).then_some(entries)
    })
    .await
}

/// Waits until some request of the tenant is in `state`; returns its id.
pub async fn eventually_request(app: &TestApp, state: &str) -> String {
    let path = format!("/v1/provisioning-requests?state={state}");
    eventually(WAIT, "a request in that state", || async {
        let body: Value = app.get(&path).await.json().await.ok()?;
        body["items"].as_array()?.first()?["id"]
            .as_str()
            .map(str::to_owned)
    })
    .await
}

/// The reason header of the next message in the dead-letter queue.
pub async fn next_dead_letter_reason(app: &TestApp) -> String {
    crate::poison::next_dead_letter(app).await.1
}
