//! A worker SIGKILLed at each point of an attempt that matters: before the SaaS call,
//! after it but before the commit, after the commit but before the ack. The service in
//! these tests does not refuse duplicates, so a create made twice would show as two
//! accounts; each case must end with one account, one succeeded request, one log entry.

use std::time::Duration;

use provisioner_sim::Faults;
use provisioner_test_support::eventually;

use crate::helpers::WAIT;
use crate::processes::Installation;

async fn killed_at(point: &str) -> (Installation, usize) {
    let faults = Faults {
        allow_duplicates: true,
        ..Faults::default()
    };
    let installation = Installation::start(faults).await;
    let mut frozen = installation.run_with("worker", &[("PROVISIONER_FREEZE_AT", point)]);
    installation.submit(1).await;
    eventually(WAIT, "the worker frozen at the point", || async {
        frozen
            .log_tail(15)
            .contains("frozen at a fault-injection point")
            .then_some(())
    })
    .await;
    frozen.kill();
    let calls_before_recovery = installation.sim.stats("acme").unwrap().create_calls as usize;
    (installation, calls_before_recovery)
}

async fn recovers_with_one_account(installation: Installation, expected_attempts: i64) {
    let _projector = installation.run("projector");
    // The dead worker's claim is taken over once its lease ends, shortened here so the
    // test does not wait the production minute.
    let _worker = installation.run_with("worker", &[("PROVISIONER_CLAIM_LEASE_SECONDS", "4")]);
    installation
        .wait_for_log_entries(1, Duration::from_secs(60))
        .await;
    let (state, attempts): (String, i32) =
        sqlx::query_as("SELECT state, attempts FROM provisioning_requests")
            .fetch_one(&installation.pool)
            .await
            .unwrap();
    let stats = installation.sim.stats("acme").unwrap();
    assert_eq!(state, "succeeded");
    assert_eq!(i64::from(attempts), expected_attempts);
    assert_eq!(stats.accounts, 1, "one account, never two");
    assert_eq!(stats.duplicate_accounts, 0);
    assert_eq!(
        installation
            .count("SELECT count(*) FROM integration_log")
            .await,
        1
    );
    drop(_worker);
    drop(_projector);
    installation.stop().await;
}

#[tokio::test]
async fn killed_before_the_call_the_request_is_taken_over_and_done_once() {
    let (installation, creates) = killed_at("before_call").await;
    assert_eq!(creates, 0, "frozen before any call");
    recovers_with_one_account(installation, 2).await;
}

#[tokio::test]
async fn killed_after_the_call_before_the_commit_the_account_is_found_not_made_again() {
    let (installation, creates) = killed_at("after_call").await;
    assert_eq!(creates, 1, "the account was made before the kill");
    recovers_with_one_account(installation, 2).await;
}

#[tokio::test]
async fn killed_after_the_commit_before_the_ack_the_redelivery_changes_nothing() {
    let (installation, creates) = killed_at("after_commit").await;
    assert_eq!(creates, 1);
    let (state,): (String,) = sqlx::query_as("SELECT state FROM provisioning_requests")
        .fetch_one(&installation.pool)
        .await
        .unwrap();
    assert_eq!(state, "succeeded", "committed before the kill");
    recovers_with_one_account(installation, 1).await;
}
