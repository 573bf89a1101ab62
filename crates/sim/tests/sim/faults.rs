//! Injected faults.

use axum::http::{header, Method, StatusCode};
use provisioner_sim::{Documented, FailCreates, Faults};

use crate::helpers::*;

#[tokio::test]
async fn failing_creates_answer_429_with_retry_after_then_the_service_recovers() {
    let (sim, router) = sim_with_acme();
    let fail = FailCreates {
        count: 2,
        status: 429,
        retry_after_secs: Some(7),
        detail: None,
    };
    sim.set_faults(
        "acme",
        Faults {
            fail_next_creates: Some(fail),
            ..Faults::default()
        },
    )
    .unwrap();
    for _ in 0..2 {
        let answer = create(&router, "ada").await;
        assert_scim_error(&answer, 429, None);
        assert_eq!(answer.headers[header::RETRY_AFTER], "7");
    }
    assert_eq!(sim.stats("acme").unwrap().accounts, 0);
    assert_eq!(create(&router, "ada").await.status, StatusCode::CREATED);
    assert_eq!(sim.stats("acme").unwrap().create_calls, 3);
}

#[tokio::test]
async fn a_lost_create_response_still_creates_the_account() {
    let (sim, router) = sim_with_acme();
    sim.set_faults(
        "acme",
        Faults {
            lose_next_create_responses: 1,
            ..Faults::default()
        },
    )
    .unwrap();
    let lost = create(&router, "ada").await;
    assert_scim_error(&lost, 500, None);
    assert_eq!(sim.stats("acme").unwrap().accounts, 1);
    assert_scim_error(&create(&router, "ada").await, 409, Some("uniqueness"));
}

#[tokio::test]
async fn latency_delays_the_answer() {
    let (sim, router) = sim_with_acme();
    sim.set_faults(
        "acme",
        Faults {
            latency_ms: 150,
            ..Faults::default()
        },
    )
    .unwrap();
    let started = std::time::Instant::now();
    call(
        &router,
        Method::GET,
        "/scim/acme/v2/ServiceProviderConfig",
        Some(TOKEN),
        None,
    )
    .await;
    assert!(started.elapsed() >= std::time::Duration::from_millis(150));
}

#[tokio::test]
async fn a_taken_user_name_can_be_answered_400_with_scim_type_uniqueness() {
    let (sim, router) = sim_with_acme();
    sim.set_faults(
        "acme",
        Faults {
            documented: vec![Documented::ConflictAs400],
            ..Faults::default()
        },
    )
    .unwrap();
    assert_eq!(create(&router, "ada").await.status, StatusCode::CREATED);
    assert_scim_error(&create(&router, "Ada").await, 400, Some("uniqueness"));
    assert_eq!(sim.stats("acme").unwrap().accounts, 1);
}
