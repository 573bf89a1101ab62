//! A small chaos run in every `make test`: a few hundred requests while the service
//! fails, loses answers and worker processes are killed without warning. At the end,
//! Jepsen-style: nothing lost, nothing done twice, every request ended and logged once.

use std::time::Duration;

use provisioner_sim::{FailCreates, Faults};

use crate::processes::Installation;

#[tokio::test]
async fn killed_workers_and_a_failing_service_lose_nothing_and_double_nothing() {
    const REQUESTS: usize = 300;
    let faults = Faults {
        latency_ms: 50,
        fail_next_creates: Some(FailCreates {
            count: 45,
            status: 503,
            retry_after_secs: None,
            detail: Some("overloaded".into()),
        }),
        lose_next_create_responses: 30,
        ..Faults::default()
    };
    let installation = Installation::start(faults).await;
    let _projector = installation.run("projector");
    let mut first = installation.run("worker");
    let mut second = installation.run("worker");

    // Kills while requests arrive and are worked on, so they fall before, during and
    // after SaaS calls and commits.
    let kills = async {
        for pause_ms in [100, 250, 400, 600, 900] {
            tokio::time::sleep(Duration::from_millis(pause_ms)).await;
            first.kill();
            first = installation.run("worker");
            std::mem::swap(&mut first, &mut second);
        }
    };
    tokio::join!(installation.submit(REQUESTS), kills);
    installation
        .wait_for_log_entries(REQUESTS, Duration::from_secs(150))
        .await;

    let count = |sql: &'static str| installation.count(sql);
    let terminal = count(
        "SELECT count(*) FROM provisioning_requests
         WHERE state IN ('succeeded', 'failed', 'rejected', 'dead')",
    )
    .await;
    let succeeded =
        count("SELECT count(*) FROM provisioning_requests WHERE state = 'succeeded'").await;
    let distinct_accounts =
        count("SELECT count(DISTINCT external_account_id) FROM provisioning_requests").await;
    let retried = count("SELECT count(*) FROM provisioning_requests WHERE attempts > 1").await;
    let entries = count("SELECT count(*) FROM integration_log").await;
    let logged_requests = count("SELECT count(DISTINCT request_id) FROM integration_log").await;
    let at_service = installation.sim.stats("acme").unwrap().accounts;
    eprintln!(
        "accepted {REQUESTS}, terminal {terminal}, succeeded {succeeded}, accounts at the service \
         {at_service}, distinct account ids {distinct_accounts}, log entries {entries} for \
         {logged_requests} requests; {retried} needed more than one attempt"
    );
    assert_eq!(terminal, REQUESTS, "every request ended (none lost)");
    assert_eq!(
        succeeded, REQUESTS,
        "retries and lookups carried every one through"
    );
    assert_eq!(
        at_service, REQUESTS,
        "one account per request at the service"
    );
    assert_eq!(
        distinct_accounts, REQUESTS,
        "no two requests adopted one account"
    );
    assert_eq!(
        (entries, logged_requests),
        (REQUESTS, REQUESTS),
        "one log entry each, none doubled"
    );
    drop((first, second, _projector));
    installation.stop().await;
}
