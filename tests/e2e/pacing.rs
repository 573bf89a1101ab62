use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{scim_account, spawn_app};

#[tokio::test]
async fn calls_to_an_integration_are_spread_out_to_its_rate() {
    const REQUESTS: usize = 20;
    const PER_SECOND: f64 = 5.0;
    let app = spawn_app().await;
    app.sim.put_workspace("acme", "secret-acme");
    let created = app
        .post(
            "/v1/integrations",
            &json!({"service": "scim", "workspace": "acme", "base_url": app.sim_base_url("acme"),
                    "credentials": {"token": "secret-acme"}, "requests_per_second": PER_SECOND}),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let integration: Value = created.json().await.unwrap();
    assert_eq!(integration["requests_per_second"], PER_SECOND);

    let mut ids = Vec::new();
    for n in 0..REQUESTS {
        ids.push(
            app.submit(&json!({"integration_id": integration["id"], "account": scim_account(&format!("p{n}"))}))
                .await,
        );
    }
    let mut ended = Vec::new();
    for id in &ids {
        let request = app.wait_until_finished(id).await;
        assert_eq!(request["state"], "succeeded", "{request}");
        // Waiting for a slot, in the worker or in the broker, is not an attempt.
        assert_eq!(request["attempts"], 1, "{request}");
        let at: DateTime<Utc> = request["attempt_history"][0]["ended_at"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        ended.push(at);
    }
    ended.sort();
    let spread = (ended[REQUESTS - 1] - ended[0]).num_milliseconds() as f64 / 1000.0;
    let least = (REQUESTS - 1) as f64 / PER_SECOND;
    assert!(
        spread >= least * 0.85,
        "{REQUESTS} calls at {PER_SECOND}/s took {spread:.2} s, not about {least:.1} s"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_rate_that_is_not_a_positive_number_is_refused() {
    let app = spawn_app().await;
    for rate in [json!(0), json!(-1), json!("fast"), json!(1e9)] {
        let response = app
            .post(
                "/v1/integrations",
                &json!({"service": "salesforce", "workspace": format!("w{rate}"), "credentials": {},
                        "requests_per_second": rate}),
            )
            .await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{rate}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "requests_per_second");
    }
    app.stop().await;
}
