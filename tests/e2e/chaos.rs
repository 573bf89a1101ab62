//! The chaos run of `make chaos`, smaller, in every `make test`: a few hundred requests
//! while the service fails, rate-limits and loses answers, workers are SIGKILLed, and
//! the run's own RabbitMQ node and PostgreSQL cluster are restarted. At the end,
//! Jepsen-style: nothing lost, nothing done twice, every request ended and logged once.

use std::path::PathBuf;

use provisioner_chaos::Scenario;

#[tokio::test]
async fn kills_and_restarts_of_the_broker_and_the_database_lose_nothing_and_double_nothing() {
    let scenario = Scenario::small(PathBuf::from(env!("CARGO_BIN_EXE_provisioner")));
    let work_dir = std::env::temp_dir().join(format!(
        "provisioner-chaos-test-{}",
        uuid::Uuid::new_v4().simple()
    ));
    let keep = std::env::var_os("KEEP_PROCESS_LOGS").is_some();
    let report = scenario
        .run(work_dir, keep)
        .await
        .expect("the chaos run completes");
    eprintln!("{report}");

    assert_eq!(report.accepted, scenario.requests);
    assert_eq!(
        report.events.len(),
        scenario.kills + scenario.broker_restarts + scenario.postgres_restarts,
        "every kill and restart happened"
    );
    assert!(
        report.attempts > scenario.requests as i64,
        "the faults made retries happen"
    );
    assert!(report.passed(), "{report}");
}
