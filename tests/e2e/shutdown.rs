//! SIGTERM: a worker stops taking new work, finishes what it holds, and exits cleanly.

use std::time::Duration;

use provisioner_sim::Faults;

use crate::processes::Installation;

#[tokio::test]
async fn a_terminated_worker_finishes_what_it_holds_and_exits_cleanly() {
    const REQUESTS: usize = 10;
    // Slow answers, so the worker holds every request when it is asked to stop.
    let installation = Installation::start(Faults {
        latency_ms: 1500,
        ..Faults::default()
    })
    .await;
    let _projector = installation.run("projector");
    let mut worker = installation.run("worker");
    installation.submit(REQUESTS).await;
    crate::processes::eventually_in_progress(&installation, REQUESTS).await;

    let (took, clean) = worker.terminate(Duration::from_secs(60)).await;

    assert!(clean, "the worker exited with success");
    assert!(
        took < Duration::from_secs(15),
        "it drained within the bound: {took:?}\n{}",
        worker.log_tail(15)
    );
    let succeeded = installation
        .count("SELECT count(*) FROM provisioning_requests WHERE state = 'succeeded'")
        .await;
    assert_eq!(
        succeeded, REQUESTS,
        "what it held was finished, not dropped"
    );
    assert_eq!(worker.finished(), REQUESTS);
    assert_eq!(installation.sim.stats("acme").unwrap().accounts, REQUESTS);
    drop((worker, _projector));
    installation.stop().await;
}
