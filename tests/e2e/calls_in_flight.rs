//! Calls under way at once: an integration's `max_concurrent_calls`, held across worker
//! processes with leased slots, and a worker process's own
//! `PROVISIONER_MAX_CALLS_IN_FLIGHT`, however many deliveries it holds (each call holds a
//! connection and its buffers).

use std::time::{Duration, Instant};

use provisioner_core::IntegrationId;
use provisioner_sim::Faults;
use provisioner_test_support::eventually;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{eventually_state, scim_account, spawn_app, spawn_app_tuned};
use crate::processes::Installation;

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

#[tokio::test]
async fn a_call_slot_whose_worker_died_frees_itself_when_its_lease_expires() {
    let app = spawn_app().await;
    let id: IntegrationId = app.scim_integration("acme").await.parse().unwrap();
    let lease = Duration::from_secs(1);
    let held = app.store.acquire_call_slot(id, 1, lease).await.unwrap();
    assert!(held.is_some());
    assert_eq!(
        app.store.acquire_call_slot(id, 1, lease).await.unwrap(),
        None,
        "the one slot is held"
    );

    // Its holder never releases it, as a killed worker would not.
    let started = Instant::now();
    let taken = eventually(
        Duration::from_secs(5),
        "the slot to be free again",
        || async {
            app.store
                .acquire_call_slot(id, 1, Duration::from_secs(60))
                .await
                .unwrap()
        },
    )
    .await;
    assert!(
        started.elapsed() >= Duration::from_millis(800),
        "{:?}",
        started.elapsed()
    );
    // The late holder's release cannot free the slot its new holder has.
    app.store.release_call_slot(&held.unwrap()).await.unwrap();
    assert_eq!(
        app.store.acquire_call_slot(id, 1, lease).await.unwrap(),
        None
    );
    app.store.release_call_slot(&taken).await.unwrap();
    assert!(app
        .store
        .acquire_call_slot(id, 1, lease)
        .await
        .unwrap()
        .is_some());
    app.stop().await;
}

#[tokio::test]
async fn calls_in_flight_stay_within_the_limit_across_two_worker_processes() {
    const REQUESTS: usize = 40;
    const LIMIT: u64 = 3;
    // Each call takes a while at the service, so without the limit both workers would
    // have their whole prefetch in flight.
    let installation = Installation::start(Faults {
        latency_ms: 150,
        ..Faults::default()
    })
    .await;
    let limited = installation
        .client
        .patch(format!(
            "{}/v1/integrations/{}",
            installation.api, installation.integration_id
        ))
        .bearer_auth(&installation.token)
        .json(&json!({"max_concurrent_calls": LIMIT}))
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::OK);
    let workers = [installation.run("worker"), installation.run("worker")];
    let projector = installation.run("projector");

    installation.submit(REQUESTS).await;
    installation
        .wait_for_log_entries(REQUESTS, Duration::from_secs(60))
        .await;

    let succeeded_first_time = installation
        .count(
            "SELECT count(*) FROM provisioning_requests WHERE state = 'succeeded' AND attempts = 1",
        )
        .await;
    assert_eq!(
        succeeded_first_time, REQUESTS,
        "waiting for a slot is not an attempt"
    );
    let stats = installation.sim.stats("acme").unwrap();
    assert_eq!(stats.accounts, REQUESTS);
    assert!(
        (2..=LIMIT).contains(&stats.peak_concurrent_calls),
        "{} calls in flight at once",
        stats.peak_concurrent_calls
    );
    let shares: Vec<usize> = workers.iter().map(|worker| worker.finished()).collect();
    assert!(
        shares.iter().all(|share| *share > 0),
        "both workers took part: {shares:?}"
    );
    drop((workers, projector));
    installation.stop().await;
}
