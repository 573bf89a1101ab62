use std::time::Duration;

use chrono::{DateTime, Utc};
use provisioner_sim::{Allowance, Faults};
use provisioner_test_support::eventually;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{scim_account, spawn_app, TestApp};

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
    for max in [json!(0), json!(1001), json!(2.5), json!("many")] {
        let response = app
            .post(
                "/v1/integrations",
                &json!({"service": "salesforce", "workspace": format!("c{max}"), "credentials": {},
                        "max_concurrent_calls": max}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{max}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], "max_concurrent_calls");
    }
    app.stop().await;
}

/// Submits `count` requests for users `b0`, `b1`, … from several tasks at once, so the
/// queue fills faster than the integration may be called.
async fn burst(app: &TestApp, integration_id: &str, count: usize) {
    const SENDERS: usize = 10;
    let mut senders = tokio::task::JoinSet::new();
    for sender in 0..SENDERS {
        let (client, url, token) = (
            app.client.clone(),
            app.url("/v1/provisioning-requests"),
            app.token.clone(),
        );
        let integration_id = integration_id.to_owned();
        senders.spawn(async move {
            for n in (sender..count).step_by(SENDERS) {
                let body = json!({"integration_id": integration_id, "account": scim_account(&format!("b{n}"))});
                let response = client.post(&url).bearer_auth(&token).json(&body).send().await.unwrap();
                assert_eq!(response.status(), StatusCode::ACCEPTED);
            }
        });
    }
    while let Some(sent) = senders.join_next().await {
        sent.unwrap();
    }
}

/// Waits until `count` requests have ended; returns how many of them succeeded.
async fn wait_until_ended(app: &TestApp, count: usize, timeout: Duration) -> usize {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .connect(&app.settings.database_url)
        .await
        .unwrap();
    let (ended, succeeded) = eventually(timeout, "every request to end", || async {
        let (ended, succeeded): (i64, i64) = sqlx::query_as(
            "SELECT count(*) FILTER (WHERE state IN ('succeeded', 'failed', 'rejected', 'dead')),
                    count(*) FILTER (WHERE state = 'succeeded')
               FROM provisioning_requests",
        )
        .fetch_one(&pool)
        .await
        .ok()?;
        (ended as usize >= count).then_some((ended, succeeded))
    })
    .await;
    pool.close().await;
    assert_eq!(ended as usize, count);
    succeeded as usize
}

/// Seconds between the first and the last account the simulator created.
fn creation_spread(app: &TestApp, workspace: &str) -> f64 {
    let mut created: Vec<DateTime<Utc>> = app
        .sim
        .users(workspace)
        .unwrap()
        .iter()
        .map(|user| user["meta"]["created"].as_str().unwrap().parse().unwrap())
        .collect();
    created.sort();
    let (first, last) = (created[0], created[created.len() - 1]);
    (last - first).num_milliseconds() as f64 / 1000.0
}

#[tokio::test]
async fn a_burst_of_a_thousand_against_a_known_allowance_is_spread_out_with_almost_no_429s() {
    const REQUESTS: usize = 1000;
    // 300 creates per 3 s: 100 a second, so the burst needs four windows.
    let allowance = Allowance {
        creates: 300,
        window_seconds: 3,
    };
    let per_second = f64::from(allowance.creates) / f64::from(allowance.window_seconds);
    let app = spawn_app().await;
    app.sim.put_workspace("acme", "secret-acme");
    app.sim
        .set_faults(
            "acme",
            Faults {
                create_allowance: Some(allowance),
                ..Faults::default()
            },
        )
        .unwrap();
    let created: Value = app
        .post(
            "/v1/integrations",
            &json!({"service": "scim", "workspace": "acme", "base_url": app.sim_base_url("acme"),
                    "credentials": {"token": "secret-acme"}, "requests_per_second": per_second}),
        )
        .await
        .json()
        .await
        .unwrap();

    burst(&app, created["id"].as_str().unwrap(), REQUESTS).await;
    let succeeded = wait_until_ended(&app, REQUESTS, Duration::from_secs(60)).await;

    assert_eq!(succeeded, REQUESTS);
    let stats = app.sim.stats("acme").unwrap();
    assert_eq!(stats.accounts, REQUESTS);
    let share_429 = stats.rate_limited_calls as f64 / stats.create_calls as f64;
    let spread = creation_spread(&app, "acme");
    let windows = REQUESTS.div_ceil(allowance.creates as usize);
    let least = ((windows - 1) as f64 * f64::from(allowance.window_seconds))
        .max((REQUESTS - 1) as f64 / per_second * 0.9);
    eprintln!(
        "{REQUESTS} requests: {} create calls, {} answered 429 ({:.2} %), spread over {spread:.1} s",
        stats.create_calls,
        stats.rate_limited_calls,
        share_429 * 100.0
    );
    assert!(
        share_429 < 0.01,
        "{:.2} % of the calls answered 429",
        share_429 * 100.0
    );
    assert!(
        spread >= least,
        "spread over {spread:.1} s, not at least {least:.1} s"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_429_holds_every_call_back_even_where_no_rate_is_known() {
    const REQUESTS: usize = 150;
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    // 50 per 2 s, and the integration does not know it: only the 429s can tell.
    let allowance = Allowance {
        creates: 50,
        window_seconds: 2,
    };
    app.sim
        .set_faults(
            "acme",
            Faults {
                create_allowance: Some(allowance),
                ..Faults::default()
            },
        )
        .unwrap();

    burst(&app, &integration_id, REQUESTS).await;
    let succeeded = wait_until_ended(&app, REQUESTS, Duration::from_secs(45)).await;

    assert_eq!(succeeded, REQUESTS);
    let stats = app.sim.stats("acme").unwrap();
    eprintln!(
        "{} create calls, {} answered 429",
        stats.create_calls, stats.rate_limited_calls
    );
    // Only calls already under way when a window filled can be refused: at most the
    // worker's prefetch per window, far fewer than the 100 over the first window alone.
    let windows = REQUESTS.div_ceil(allowance.creates as usize) as u64;
    let prefetch = u64::from(app.settings.prefetch);
    assert!(
        stats.rate_limited_calls <= windows * prefetch,
        "{} calls answered 429",
        stats.rate_limited_calls
    );
    app.stop().await;
}

#[tokio::test]
async fn an_integrations_call_limits_are_changed_and_cleared() {
    let app = spawn_app().await;
    let id = app.scim_integration("acme").await;
    let patch = |body: Value| {
        let request = app
            .client
            .patch(app.url(&format!("/v1/integrations/{id}")))
            .bearer_auth(&app.token)
            .json(&body);
        async move { request.send().await.unwrap() }
    };

    let set: Value = patch(json!({"requests_per_second": 7.5, "max_concurrent_calls": 4}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            set["requests_per_second"].clone(),
            set["max_concurrent_calls"].clone()
        ),
        (json!(7.5), json!(4))
    );

    let cleared: Value = patch(json!({"max_concurrent_calls": null}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(cleared["requests_per_second"], 7.5, "left as it was");
    assert!(cleared.get("max_concurrent_calls").is_none(), "{cleared}");

    let refused = patch(json!({"max_concurrent_calls": 0, "credentials": {}})).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let problem: Value = refused.json().await.unwrap();
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["max_concurrent_calls", "credentials"]);

    let shown: Value = app
        .get(&format!("/v1/integrations/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(shown["requests_per_second"], 7.5);
    app.stop().await;
}
