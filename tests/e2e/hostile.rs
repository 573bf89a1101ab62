//! Malformed, oversized and deeply nested input thrown at the HTTP API: every answer is
//! a 4xx problem, never a 5xx, and nothing is stored.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{count_requests, spawn_app};

fn hostile_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        ".{0,80}".prop_map(Value::String),
        Just(Value::String("x".repeat(5000))),
        Just(Value::String("00000000-0000-0000-0000-000000000000".into())),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("integration_id".to_owned()),
                    Just("employee_id".to_owned()),
                    Just("account".to_owned()),
                    Just("user_name".to_owned()),
                    Just("state".to_owned()),
                    "[a-z_]{1,10}",
                ],
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn samples(count: usize) -> Vec<Value> {
    let mut runner = TestRunner::deterministic();
    let strategy = hostile_value();
    (0..count)
        .map(|_| strategy.new_tree(&mut runner).expect("a sample").current())
        .collect()
}

#[tokio::test]
async fn hostile_bodies_get_a_problem_and_store_nothing() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let mut bodies = samples(300);
    // Half of them aimed at a real integration, so validation goes deeper.
    for body in bodies.iter_mut().step_by(2) {
        if let Value::Object(object) = body {
            object.insert("integration_id".into(), json!(integration_id));
        }
    }
    let deep = (0..200).fold(json!("x"), |inner, _| json!({"account": inner}));
    bodies.push(deep);
    for path in [
        "/v1/provisioning-requests",
        "/v1/employees",
        "/v1/integrations",
        "/v1/replays",
        "/v1/provisioning-rules",
    ] {
        for body in &bodies {
            let response = app.post(path, body).await;
            let status = response.status();
            if status == StatusCode::ACCEPTED
                || status == StatusCode::CREATED
                || status == StatusCode::OK
            {
                // A sample that happens to be valid is fine; it must just not be a 5xx.
                continue;
            }
            assert!(
                status.is_client_error(),
                "{path} answered {status} to {body}"
            );
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json",
                "{path} {body}"
            );
        }
    }
    assert_eq!(count_requests(&app).await, 0);
    app.stop().await;
}

/// Every operation of `schemas/openapi.yaml` with its path, method and the names of its
/// query and path parameters, and whether it takes a body.
struct Operation {
    method: reqwest::Method,
    path: String,
    query: Vec<String>,
    path_params: Vec<String>,
    body: bool,
}

fn spec_operations() -> Vec<Operation> {
    use serde_norway::Value as Yaml;
    let spec: Yaml = serde_norway::from_str(include_str!("../../schemas/openapi.yaml")).unwrap();
    let resolve = |parameter: &Yaml| -> Yaml {
        match parameter["$ref"].as_str() {
            Some(reference) => {
                let name = reference.trim_start_matches("#/components/parameters/");
                spec["components"]["parameters"][name].clone()
            }
            None => parameter.clone(),
        }
    };
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_mapping().unwrap() {
        for (method, operation) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if !["get", "post", "put", "patch", "delete"].contains(&method) {
                continue;
            }
            let parameters: Vec<Yaml> = [&operation["parameters"], &item["parameters"]]
                .into_iter()
                .filter_map(|list| list.as_sequence())
                .flatten()
                .map(resolve)
                .collect();
            let named = |place: &str| -> Vec<String> {
                parameters
                    .iter()
                    .filter(|p| p["in"].as_str() == Some(place))
                    .map(|p| p["name"].as_str().unwrap().to_owned())
                    .collect()
            };
            operations.push(Operation {
                method: reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(),
                path: path.as_str().unwrap().to_owned(),
                query: named("query"),
                path_params: named("path"),
                body: operation.get("requestBody").is_some(),
            });
        }
    }
    operations
}

async fn problem_of(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    (status, response.json().await.unwrap())
}

/// The NUL character PostgreSQL cannot store, sent to every operation of the spec that
/// takes a body, a query parameter or a path parameter: each answers a 4xx problem
/// naming the field, and nothing is stored.
#[tokio::test]
async fn nul_sent_to_any_operation_of_the_spec_is_refused_naming_the_field() {
    let app = spawn_app().await;
    let secret: Value = app
        .post("/v1/hr/signing-secrets", &json!({}))
        .await
        .json()
        .await
        .unwrap();
    let secret = secret["secret"].as_str().unwrap().to_owned();
    let some_id = uuid::Uuid::new_v4().to_string();
    let body = json!({"name": {"list": ["fine", "a\u{0}b"]}}).to_string();
    let mut checked = 0;
    for operation in spec_operations() {
        let Operation { method, path, .. } = &operation;
        let concrete = path.replace("{id}", &some_id);
        for name in &operation.query {
            let url = format!("{}?{name}=a%00b", app.url(&concrete));
            let response = app
                .client
                .request(method.clone(), url)
                .bearer_auth(&app.token)
                .send()
                .await
                .unwrap();
            let (status, problem) = problem_of(response).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{method} {path} {name}");
            assert_eq!(problem["errors"][0]["field"], name.as_str(), "{problem}");
            checked += 1;
        }
        for name in &operation.path_params {
            let url = app.url(&path.replace(&format!("{{{name}}}"), "a%00b"));
            let response = app
                .client
                .request(method.clone(), url)
                .bearer_auth(&app.token)
                .send()
                .await
                .unwrap();
            let (status, problem) = problem_of(response).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path} {name}");
            assert_eq!(problem["errors"][0]["field"], name.as_str(), "{problem}");
            checked += 1;
        }
        if operation.body {
            let now = chrono::Utc::now().timestamp();
            let response = app
                .client
                .request(method.clone(), app.url(&concrete))
                .bearer_auth(&app.token)
                .header("content-type", "application/json")
                .header("webhook-id", "msg_nul")
                .header("webhook-timestamp", now.to_string())
                .header(
                    "webhook-signature",
                    provisioner_hr_intake::signature::sign(
                        &secret,
                        "msg_nul",
                        now,
                        body.as_bytes(),
                    ),
                )
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let (status, problem) = problem_of(response).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{method} {path} {problem}"
            );
            assert_eq!(problem["errors"][0]["field"], "name.list.1", "{problem}");
            checked += 1;
        }
    }
    assert!(
        checked >= 30,
        "only {checked} parameters and bodies were tried"
    );
    // Lone surrogates never get as far: the JSON itself is refused.
    let surrogate = app
        .client
        .post(app.url("/v1/employees"))
        .bearer_auth(&app.token)
        .header("content-type", "application/json")
        .body(r#"{"email": "a@b.c", "given_name": "A", "family_name": "\ud800"}"#)
        .send()
        .await
        .unwrap();
    let (status, _) = problem_of(surrogate).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let too_long = app
        .get(&format!("/v1/integration-log?service={}", "s".repeat(5000)))
        .await;
    let (status, problem) = problem_of(too_long).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["errors"][0]["field"], "service");
    assert_eq!(count_requests(&app).await, 0);
    let employees: Value = app.get("/v1/employees").await.json().await.unwrap();
    assert_eq!(employees["employees"], json!([]));
    app.stop().await;
}
