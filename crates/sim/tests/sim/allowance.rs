//! A workspace's allowance of creates per window, answered in each vendor's own shape.

use std::time::Duration;

use axum::http::{header, Method, StatusCode};
use provisioner_sim::{Allowance, Faults, WorkspaceSetup};
use serde_json::json;

use crate::helpers::*;

fn allowance(creates: u32, window_seconds: u32) -> Faults {
    Faults {
        create_allowance: Some(Allowance {
            creates,
            window_seconds,
        }),
        ..Faults::default()
    }
}

#[tokio::test]
async fn creates_over_the_allowance_are_answered_429_until_the_window_closes() {
    let (sim, router) = sim_with_acme();
    sim.set_faults("acme", allowance(2, 60)).unwrap();
    assert_eq!(create(&router, "ada").await.status, StatusCode::CREATED);
    assert_eq!(create(&router, "grace").await.status, StatusCode::CREATED);

    let refused = create(&router, "alan").await;
    assert_scim_error(&refused, 429, None);
    let retry_after: u64 = refused.headers[header::RETRY_AFTER]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((59..=60).contains(&retry_after), "{retry_after}");

    // Reads are not creates: they take nothing from the allowance.
    let listed = call(
        &router,
        Method::GET,
        "/scim/acme/v2/Users",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(listed.status, StatusCode::OK);
    let stats = sim.stats("acme").unwrap();
    assert_eq!(
        (stats.accounts, stats.create_calls, stats.rate_limited_calls),
        (2, 3, 1)
    );
}

#[tokio::test]
async fn a_new_window_opens_once_the_last_one_closed() {
    let (sim, router) = sim_with_acme();
    sim.set_faults("acme", allowance(1, 1)).unwrap();
    assert_eq!(create(&router, "ada").await.status, StatusCode::CREATED);
    let refused = create(&router, "grace").await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(refused.headers[header::RETRY_AFTER], "1");

    tokio::time::sleep(Duration::from_millis(1_050)).await;
    assert_eq!(create(&router, "grace").await.status, StatusCode::CREATED);
}

#[tokio::test]
async fn injected_429s_count_as_rate_limited_too() {
    let (sim, router) = sim_with_acme();
    sim.set_faults(
        "acme",
        Faults {
            create_rate_limit_percent: 100,
            ..Faults::default()
        },
    )
    .unwrap();
    create(&router, "ada").await;
    assert_eq!(sim.stats("acme").unwrap().rate_limited_calls, 1);
}

#[tokio::test]
async fn github_answers_its_primary_limit_with_the_reset_time() {
    let sim = provisioner_sim::Simulator::new();
    let setup = WorkspaceSetup::Github {
        token: TOKEN.into(),
        org: "acme-inc".into(),
    };
    sim.setup_workspace("gh", setup);
    sim.set_faults("gh", allowance(1, 30)).unwrap();
    let router = sim.router();
    let invite = |email: &'static str| {
        let router = router.clone();
        async move {
            let body = json!({"email": email});
            call(
                &router,
                Method::POST,
                "/orgs/acme-inc/invitations",
                Some(TOKEN),
                Some(body),
            )
            .await
        }
    };
    assert_eq!(invite("ada@example.com").await.status, StatusCode::CREATED);

    let refused = invite("grace@example.com").await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert_eq!(refused.headers["x-ratelimit-remaining"], "0");
    assert_eq!(refused.headers["x-ratelimit-limit"], "1");
    let reset: i64 = refused.headers["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let left = reset - chrono::Utc::now().timestamp();
    assert!((29..=31).contains(&left), "{left}");
    assert_eq!(sim.stats("gh").unwrap().rate_limited_calls, 1);
}

#[tokio::test]
async fn the_peak_of_calls_answered_at_once_is_counted() {
    let (sim, router) = sim_with_acme();
    sim.set_faults(
        "acme",
        Faults {
            latency_ms: 200,
            ..Faults::default()
        },
    )
    .unwrap();
    let calls = ["a", "b", "c"].map(|name| {
        let router = router.clone();
        tokio::spawn(async move { create(&router, name).await.status })
    });
    for call in calls {
        assert_eq!(call.await.unwrap(), StatusCode::CREATED);
    }
    create(&router, "d").await;
    assert_eq!(sim.stats("acme").unwrap().peak_concurrent_calls, 3);
}

#[tokio::test]
async fn an_empty_allowance_is_refused() {
    let (sim, _router) = sim_with_acme();
    assert!(sim.set_faults("acme", allowance(0, 60)).is_err());
    assert!(sim.set_faults("acme", allowance(5, 0)).is_err());
}
