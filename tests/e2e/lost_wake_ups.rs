//! The broker can lose a message: a quorum queue dead-letters at most once, and a node
//! that stops may drop what it was handing over. The request table is the truth, so the
//! relay notices a request that has had no news past its time and sends it again.

use std::time::Duration;

use lapin::options::QueuePurgeOptions;
use provisioner::startup::Components;
use provisioner_broker::{Publisher, Topology};
use provisioner_relay::RelayConfig;
use provisioner_sim::{FailCreates, Faults};
use provisioner_store::{ClaimOutcome, StallLimits};
use serde_json::{json, Value};

use crate::helpers::{scim_account, spawn_app_with, TestApp};

async fn request(app: &TestApp, id: &str) -> Value {
    app.get(&format!("/v1/provisioning-requests/{id}"))
        .await
        .json()
        .await
        .unwrap()
}

/// The installation's topology as its processes declare it.
fn topology_of(app: &TestApp) -> Topology {
    let expiry = app.settings.amqp_queue_expiry_seconds.unwrap_or(120);
    Topology::new(app.settings.amqp_prefix.clone()).with_queue_expiry(Duration::from_secs(expiry))
}

/// A request whose first create failed with a 503, now waiting `retry_seconds` for
/// its retry.
async fn waiting_for_a_retry(app: &TestApp, retry_seconds: u64) -> String {
    app.sim.put_workspace("acme", "secret");
    let integration: Value = app
        .post(
            "/v1/integrations",
            &json!({"service": "scim", "workspace": "acme", "base_url": app.sim_base_url("acme"),
                    "credentials": {"token": "secret"},
                    "retry_base_delay_seconds": retry_seconds, "retry_jitter": "none"}),
        )
        .await
        .json()
        .await
        .unwrap();
    app.sim
        .set_faults(
            "acme",
            Faults {
                fail_next_creates: Some(FailCreates {
                    count: 1,
                    status: 503,
                    retry_after_secs: None,
                    detail: None,
                }),
                ..Faults::default()
            },
        )
        .unwrap();
    let id = app
        .submit(&json!({"integration_id": integration["id"], "account": scim_account("ada")}))
        .await;
    crate::helpers::eventually_state(app, &id, "retrying").await;
    id
}

async fn result_marked_published(app: &TestApp, id: &str) -> Option<()> {
    let mut connection: sqlx::PgConnection = sqlx::Connection::connect(&app.settings.database_url)
        .await
        .ok()?;
    let (marked,): (bool,) = sqlx::query_as(
        "SELECT result_published_at IS NOT NULL FROM provisioning_requests WHERE id = $1",
    )
    .bind(uuid::Uuid::parse_str(id).ok()?)
    .fetch_one(&mut connection)
    .await
    .ok()?;
    marked.then_some(())
}

#[tokio::test]
async fn a_retry_whose_wake_up_the_broker_lost_is_sent_again_and_finishes() {
    // Everything but the relay, whose sweep this test runs by hand.
    let without_relay = Components {
        relay: false,
        ..Components::ALL
    };
    let app = spawn_app_with(without_relay, None).await;
    let id = waiting_for_a_retry(&app, 4).await;

    // The broker loses the wake-up.
    let topology = topology_of(&app);
    let connection = provisioner_broker::connect(&app.settings.amqp_url, "test-purge")
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let delay_queue = topology.delay_queue(Duration::from_secs(4)).queue;
    let purged = channel
        .queue_purge(delay_queue.as_str().into(), QueuePurgeOptions::default())
        .await
        .unwrap();
    assert_eq!(purged, 1, "the parked retry was in {delay_queue}");
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(
        request(&app, &id).await["state"],
        "retrying",
        "past its time, nothing woke it"
    );

    let publisher = Publisher::new(app.settings.amqp_url.clone(), "test-relay", topology);
    let config = RelayConfig {
        grace: Duration::ZERO,
        stall: StallLimits {
            retry_overdue: Duration::from_secs(1),
            claim_abandoned: Duration::from_secs(180),
            queued_unclaimed: Duration::from_secs(600),
        },
        ..RelayConfig::default()
    };
    let sent = provisioner_relay::sweep(&app.store, &publisher, &config)
        .await
        .unwrap();
    assert_eq!(sent, 1, "the stalled request was sent again");
    let finished = app.wait_until_finished(&id).await;
    assert_eq!(finished["state"], "succeeded", "{finished}");
    assert_eq!(finished["attempts"], 2);
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 1);
    // The worker marks its result's confirmed publish just after the request ends; a sweep
    // with no grace before that mark rightly sends the result once more, which is not what
    // this asks.
    provisioner_test_support::eventually(
        crate::helpers::WAIT,
        "the result's publish marked",
        || result_marked_published(&app, &id),
    )
    .await;
    assert_eq!(
        provisioner_relay::sweep(&app.store, &publisher, &config)
            .await
            .unwrap(),
        0,
        "a finished request is never sent again"
    );
    publisher.close().await;
    let _ = connection.close(200, "done".into()).await;
    app.stop().await;
}

#[tokio::test]
async fn an_early_copy_of_a_retry_waits_until_the_retry_is_due() {
    let app = crate::helpers::spawn_app().await;
    let id = waiting_for_a_retry(&app, 3).await;

    // A second copy of the request's message arrives at once, as a re-sent one would.
    let publisher = Publisher::new(
        app.settings.amqp_url.clone(),
        "test-copy",
        topology_of(&app),
    );
    let message = provisioner_core::event::RequestMessage {
        tenant_id: app.tenant_id,
        request_id: id.parse().unwrap(),
    };
    publisher
        .publish_request(
            &message,
            "scim",
            &provisioner_core::trace::TraceParent::new_root(),
        )
        .await
        .unwrap();
    let finished = app.wait_until_finished(&id).await;
    assert_eq!(finished["state"], "succeeded", "{finished}");
    let history = finished["attempt_history"].as_array().unwrap();
    assert_eq!(history.len(), 2, "{finished}");
    let retry_at: chrono::DateTime<chrono::Utc> =
        history[0]["retry_at"].as_str().unwrap().parse().unwrap();
    let second_started: chrono::DateTime<chrono::Utc> =
        history[1]["started_at"].as_str().unwrap().parse().unwrap();
    assert!(
        second_started >= retry_at,
        "the copy did not start the retry early: planned {retry_at}, started {second_started}"
    );
    publisher.close().await;
    app.stop().await;
}

/// The api only, so that no worker takes the request the test claims by hand.
async fn a_request_to_claim_by_hand() -> (TestApp, provisioner_core::RequestId) {
    let api_only = Components {
        api: true,
        ..Components::NONE
    };
    let app = spawn_app_with(api_only, None).await;
    let integration_id = app.scim_integration("acme").await;
    let id = crate::helpers::insert_unpublished_request(&app, &integration_id, "ada").await;
    (app, id.parse().unwrap())
}

#[tokio::test]
async fn a_worker_that_lost_its_database_mid_attempt_takes_its_own_claim_over_and_no_other() {
    let (app, id) = a_request_to_claim_by_hand().await;
    let lease = Duration::from_secs(120);
    let claim = |held| app.store.claim_request(app.tenant_id, id, held, lease);
    assert!(matches!(claim(None).await.unwrap(), ClaimOutcome::Claimed(c) if c.attempt() == 1));
    assert!(
        matches!(claim(None).await.unwrap(), ClaimOutcome::HeldElsewhere(_)),
        "a redelivered or copied message waits out the lease"
    );
    assert!(
        matches!(
            claim(Some(7)).await.unwrap(),
            ClaimOutcome::HeldElsewhere(_)
        ),
        "holding another attempt gives no right to this one"
    );
    assert!(
        matches!(claim(Some(1)).await.unwrap(), ClaimOutcome::Claimed(c) if c.attempt() == 2),
        "the holder of attempt 1 takes it up again"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_claim_renewed_within_its_lease_is_not_taken_over_and_one_taken_over_is_not_renewed() {
    let (app, id) = a_request_to_claim_by_hand().await;
    let lease = Duration::from_secs(3);
    let claim = || app.store.claim_request(app.tenant_id, id, None, lease);
    let ClaimOutcome::Claimed(mut first) = claim().await.unwrap() else {
        panic!("the request was free")
    };

    // A worker that waited long for a call slot renews before calling.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(app.store.renew_claim(&mut first).await.unwrap());
    assert!(first.age() < Duration::from_secs(1));
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        matches!(claim().await.unwrap(), ClaimOutcome::HeldElsewhere(_)),
        "past the lease of the claim, but within that of its renewal: not taken over"
    );

    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        matches!(claim().await.unwrap(), ClaimOutcome::Claimed(c) if c.attempt() == 2),
        "past the renewed lease a copy takes the request over"
    );
    assert!(
        !app.store.renew_claim(&mut first).await.unwrap(),
        "the first holder lost its claim and must not call"
    );
    app.stop().await;
}
