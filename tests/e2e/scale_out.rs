//! Several workers and projectors, each its own process, share one installation: the
//! work is spread between them and nothing is done twice.

use std::time::Duration;

use provisioner_sim::Faults;

use crate::processes::Installation;

#[tokio::test]
async fn two_workers_and_two_projectors_share_the_work_and_double_nothing() {
    const REQUESTS: usize = 200;
    // Each request waits a little at the service, so both workers get some.
    let installation = Installation::start(Faults {
        latency_ms: 20,
        ..Faults::default()
    })
    .await;
    let workers = [installation.run("worker"), installation.run("worker")];
    let _projectors = [installation.run("projector"), installation.run("projector")];

    installation.submit(REQUESTS).await;
    installation
        .wait_for_log_entries(REQUESTS, Duration::from_secs(120))
        .await;

    let succeeded = installation
        .count("SELECT count(*) FROM provisioning_requests WHERE state = 'succeeded'")
        .await;
    assert_eq!(succeeded, REQUESTS);
    let entries = installation
        .count("SELECT count(*) FROM integration_log")
        .await;
    let distinct = installation
        .count("SELECT count(DISTINCT request_id) FROM integration_log")
        .await;
    assert_eq!(
        (entries, distinct),
        (REQUESTS, REQUESTS),
        "one log entry per request"
    );
    let stats = installation.sim.stats("acme").unwrap();
    assert_eq!(stats.accounts, REQUESTS);
    assert!(
        stats
            .create_calls_by_user_name
            .values()
            .all(|calls| *calls == 1),
        "no account created twice"
    );
    let shares: Vec<usize> = workers.iter().map(|worker| worker.finished()).collect();
    eprintln!("requests finished by each worker: {shares:?}");
    assert_eq!(shares.iter().sum::<usize>(), REQUESTS, "{shares:?}");
    assert!(
        shares.iter().all(|share| *share > 0),
        "both workers took part: {shares:?}"
    );
    drop((workers, _projectors));
    installation.stop().await;
}
