//! A worker process makes at most `PROVISIONER_MAX_CALLS_IN_FLIGHT` SaaS calls at once,
//! however many deliveries it holds: each call holds a connection and its buffers.

use provisioner_sim::Faults;
use serde_json::json;

use crate::helpers::{eventually_state, scim_account, spawn_app_tuned};

#[tokio::test]
async fn a_worker_holding_many_requests_calls_at_most_its_limit_at_once() {
    let app = spawn_app_tuned(|settings| {
        settings.prefetch = 20;
        settings.max_calls_in_flight = 2;
    })
    .await;
    let integration_id = app.scim_integration("acme").await;
    let slow = Faults {
        latency_ms: 300,
        ..Faults::default()
    };
    app.sim.set_faults("acme", slow).unwrap();

    let mut ids = Vec::new();
    for n in 0..10 {
        let body =
            json!({"integration_id": integration_id, "account": scim_account(&format!("user{n}"))});
        ids.push(app.submit(&body).await);
    }
    for id in &ids {
        eventually_state(&app, id, "succeeded").await;
    }

    let stats = app.sim.stats("acme").unwrap();
    assert_eq!(stats.accounts, 10);
    assert_eq!(
        stats.peak_concurrent_calls, 2,
        "ten requests held at once, two calls at a time"
    );
    let waited_as_attempts = app
        .store
        .requests(app.tenant_id, &Default::default())
        .await
        .unwrap()
        .into_iter()
        .filter(|request| request.attempts != 1)
        .count();
    assert_eq!(
        waited_as_attempts, 0,
        "waiting for a turn is not an attempt"
    );
    app.stop().await;
}
