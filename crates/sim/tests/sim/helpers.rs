//! Calls to the simulator's router, and what they answered.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use provisioner_sim::Simulator;
use serde_json::{json, Value};
use tower::ServiceExt;

pub const TOKEN: &str = "s3cret";

pub struct Answer {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Value,
}

pub fn sim_with_acme() -> (Simulator, Router) {
    let sim = Simulator::new();
    sim.put_workspace("acme", TOKEN);
    let router = sim.router();
    (sim, router)
}

pub async fn call(
    router: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Answer {
    call_raw(router, method, uri, token, body.map(|b| b.to_string())).await
}

pub async fn call_raw(
    router: &Router,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Option<String>,
) -> Answer {
    let mut request = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::HOST, "sim.test");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let request = match body {
        Some(body) => request
            .header(header::CONTENT_TYPE, "application/scim+json")
            .body(Body::from(body)),
        None => request.body(Body::empty()),
    }
    .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap()
    };
    Answer {
        status,
        headers,
        body,
    }
}

pub fn user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "displayName": "Ada Lovelace",
        "emails": [{"value": "ada@example.com", "type": "work", "primary": true}],
        "active": true,
        "externalId": "e-1"
    })
}

pub async fn create(router: &Router, user_name: &str) -> Answer {
    call(
        router,
        Method::POST,
        "/scim/acme/v2/Users",
        Some(TOKEN),
        Some(user(user_name)),
    )
    .await
}

pub fn assert_scim_error(answer: &Answer, status: u16, scim_type: Option<&str>) {
    assert_eq!(answer.status.as_u16(), status, "{}", answer.body);
    assert_eq!(
        answer.headers[header::CONTENT_TYPE],
        "application/scim+json"
    );
    assert_eq!(
        answer.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
    );
    assert_eq!(answer.body["status"], status.to_string());
    assert_eq!(
        answer.body["scimType"].as_str(),
        scim_type,
        "{}",
        answer.body
    );
    assert!(answer.body["detail"]
        .as_str()
        .is_some_and(|d| !d.is_empty()));
}
