use lapin::BasicProperties;
use provisioner_broker::Publisher;
use provisioner_test_support::eventually;
use serde_json::json;

use crate::helpers::{scim_account, spawn_app, TestApp, WAIT};

async fn scrape(app: &TestApp) -> String {
    app.client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The sum of every series of `name` in the Prometheus text (labels ignored).
async fn total(app: &TestApp, name: &str) -> f64 {
    scrape(app)
        .await
        .lines()
        .filter(|line| line.starts_with(name) && line[name.len()..].starts_with(['{', ' ']))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

/// The value of `name` for one queue, if the series is there.
async fn queue_gauge(app: &TestApp, name: &str, queue: &str) -> Option<f64> {
    let series = format!("{name}{{queue=\"{queue}\"}} ");
    scrape(app)
        .await
        .lines()
        .find_map(|line| line.strip_prefix(&series)?.parse().ok())
}

#[tokio::test]
async fn metrics_count_what_the_requests_did() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let names = [
        "provisioner_requests_accepted_total",
        "provisioner_request_outcomes_total",
        "provisioner_log_entries_total",
        "provisioner_connector_call_seconds_count",
        "provisioner_request_end_to_end_seconds_count",
    ];
    let mut before = Vec::new();
    for name in names {
        before.push(total(&app, name).await);
    }

    for user in ["ada", "bad name"] {
        let id = app
            .submit(&json!({"integration_id": integration_id, "account": scim_account(user)}))
            .await;
        app.wait_until_finished(&id).await;
        app.wait_for_log_entry(&id).await;
    }

    let response = app.client.get(app.url("/metrics")).send().await.unwrap();
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    for (name, before) in names.into_iter().zip(before) {
        let after = total(&app, name).await;
        assert!(
            after >= before + 2.0,
            "{name} moved from {before} to {after}"
        );
    }

    // Every queue's depth is read; the dead-letter queue starts empty.
    let topology = provisioner::startup::topology(&app.settings);
    for queue in topology.queues() {
        eventually(WAIT, &format!("a depth gauge for {queue}"), || async {
            queue_gauge(&app, "provisioner_queue_messages", &queue).await
        })
        .await;
    }
    let dead_queue = topology.dead_letter_queue();
    assert_eq!(
        queue_gauge(&app, "provisioner_queue_messages", &dead_queue).await,
        Some(0.0)
    );
    let consumers = queue_gauge(
        &app,
        "provisioner_queue_consumers",
        &topology.requests_queue(),
    )
    .await;
    assert!(
        consumers >= Some(1.0),
        "the worker consumes the requests queue"
    );

    // A message no worker can read is set aside: counted, and the gauge follows.
    app.contract.expect_off_contract_events();
    let dead_before = total(&app, "provisioner_dead_letters_total").await;
    let publisher = Publisher::new(
        app.settings.amqp_url.clone(),
        "test-metrics",
        topology.clone(),
    );
    publisher
        .publish(
            &topology.requests_exchange(),
            "request.scim",
            b"not a request",
            BasicProperties::default(),
        )
        .await
        .unwrap();
    publisher.close().await;
    eventually(
        WAIT,
        "the dead-letter gauge to count the message",
        || async {
            let depth = queue_gauge(&app, "provisioner_queue_messages", &dead_queue).await;
            (depth == Some(1.0)).then_some(())
        },
    )
    .await;
    assert_eq!(
        total(&app, "provisioner_dead_letters_total").await,
        dead_before + 1.0
    );
    app.stop().await;
}

/// The value of the series written exactly as `series` (name and labels), if present.
fn series(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn the_first_scrape_of_a_fresh_app_shows_every_known_series() {
    let app = spawn_app().await;
    let page = scrape(&app).await;
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        series(
            &page,
            &format!("provisioner_build_info{{version=\"{version}\"}}")
        ),
        Some(1.0),
        "{page}"
    );
    // Nothing has happened: the counters of every service of the catalog are there, at 0.
    let catalog = provisioner::startup::catalog(&app.settings).unwrap();
    for service in catalog.services().iter().map(|s| s.key) {
        for name in [
            "provisioner_requests_accepted_total",
            "provisioner_retries_total",
            "provisioner_rate_limited_waits_total",
            "provisioner_paced_waits_total",
        ] {
            let labelled = format!("{name}{{service=\"{service}\"}}");
            assert_eq!(series(&page, &labelled), Some(0.0), "{labelled}");
        }
        for state in ["succeeded", "failed", "rejected", "dead"] {
            let labelled = format!(
                "provisioner_request_outcomes_total{{service=\"{service}\",state=\"{state}\"}}"
            );
            assert_eq!(series(&page, &labelled), Some(0.0), "{labelled}");
        }
    }
    let topology = provisioner::startup::topology(&app.settings);
    let labelled = format!(
        "provisioner_dead_letters_total{{exchange=\"{}\"}}",
        topology.requests_exchange()
    );
    assert_eq!(series(&page, &labelled), Some(0.0), "{labelled}");
    assert_eq!(series(&page, "provisioner_log_entries_total"), Some(0.0));
    // The process's own figures, from the operating system.
    for name in [
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_start_time_seconds",
    ] {
        let value = series(&page, name).unwrap_or_else(|| panic!("no {name} in {page}"));
        assert!(
            value > 0.0 || name == "process_cpu_seconds_total",
            "{name} = {value}"
        );
    }
    app.stop().await;
}
