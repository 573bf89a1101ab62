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
