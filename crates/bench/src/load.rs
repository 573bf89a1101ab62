//! Requests POSTed to the api, and the wait for their integration-log entries. Time is
//! wall-clock UTC on both sides, so the client's clock and PostgreSQL's `recorded_at`
//! compare directly (both run on this machine).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use chrono::{DateTime, Utc};
use futures_util::stream::{self, StreamExt};
use provisioner_test_support::processes::ApiClient;
use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

/// User names must differ across every phase: the simulator refuses a second account
/// with the same name.
static NEXT_USER: AtomicU64 = AtomicU64::new(0);

/// When each request's 202 came back, by request id.
pub type Accepted = HashMap<Uuid, DateTime<Utc>>;

async fn submit_one(
    system: &ApiClient,
    integration_id: &str,
) -> anyhow::Result<(Uuid, DateTime<Utc>)> {
    let n = NEXT_USER.fetch_add(1, Ordering::Relaxed);
    let body = json!({"integration_id": integration_id, "account": {
        "user_name": format!("u{n}"), "email": format!("u{n}@example.com"),
        "given_name": "Bench", "family_name": "User"}});
    let response = system
        .client
        .post(format!("{}/v1/provisioning-requests", system.api))
        .bearer_auth(&system.token)
        .json(&body)
        .send()
        .await?;
    let accepted_at = Utc::now();
    let status = response.status();
    if status.as_u16() != 202 {
        bail!(
            "the api answered {status}: {}",
            response.text().await.unwrap_or_default()
        );
    }
    let answer: Value = response.json().await?;
    let id = answer["id"].as_str().context("202 without id")?.parse()?;
    Ok((id, accepted_at))
}

/// `count` requests with at most `concurrency` in flight; returns when each was sent.
pub async fn closed_loop(
    system: &ApiClient,
    integration_id: &str,
    count: usize,
    concurrency: usize,
) -> anyhow::Result<Accepted> {
    let results: Vec<_> = stream::iter(0..count)
        .map(|_| submit_one(system, integration_id))
        .buffer_unordered(concurrency)
        .collect()
        .await;
    results.into_iter().collect()
}

/// Open loop: one request every `1 / rate` seconds for `duration`, whether or not the
/// earlier ones were answered, so a slow system shows as latency rather than as a
/// lower offered rate. Also returns the rate actually offered.
pub async fn open_loop(
    system: &ApiClient,
    integration_id: &str,
    rate: f64,
    duration: Duration,
) -> anyhow::Result<(Accepted, f64)> {
    let mut ticks = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    while started.elapsed() < duration {
        ticks.tick().await;
        let system = system.clone();
        let integration_id = integration_id.to_owned();
        tasks.spawn(async move { submit_one(&system, &integration_id).await });
    }
    let offered = tasks.len() as f64 / started.elapsed().as_secs_f64();
    let mut accepted = Accepted::new();
    while let Some(result) = tasks.join_next().await {
        let (id, at) = result??;
        accepted.insert(id, at);
    }
    Ok((accepted, offered))
}

/// What the log holds for one integration once `expected` entries are in, or when
/// `timeout` passes (then with fewer).
pub struct Logged {
    pub entries: usize,
    pub succeeded: usize,
    pub first_recorded_at: Option<DateTime<Utc>>,
    pub last_recorded_at: Option<DateTime<Utc>>,
}

type Counts = (i64, i64, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

pub async fn wait_for_log(
    pool: &PgPool,
    integration_id: &str,
    expected: usize,
    timeout: Duration,
) -> anyhow::Result<Logged> {
    let integration: Uuid = integration_id.parse()?;
    let started = Instant::now();
    loop {
        let (entries, succeeded, first, last): Counts = sqlx::query_as(
            "SELECT count(*), count(*) FILTER (WHERE status = 'success'),
                    min(recorded_at), max(recorded_at)
               FROM integration_log WHERE integration_id = $1",
        )
        .bind(integration)
        .fetch_one(pool)
        .await?;
        let logged = Logged {
            entries: entries as usize,
            succeeded: succeeded as usize,
            first_recorded_at: first,
            last_recorded_at: last,
        };
        if logged.entries >= expected || started.elapsed() > timeout {
            return Ok(logged);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Milliseconds from each 202 to its log entry, sorted.
pub async fn latencies_ms(
    pool: &PgPool,
    integration_id: &str,
    accepted: &Accepted,
) -> anyhow::Result<Vec<f64>> {
    let integration: Uuid = integration_id.parse()?;
    let rows: Vec<(Uuid, DateTime<Utc>)> = sqlx::query_as(
        "SELECT request_id, recorded_at FROM integration_log WHERE integration_id = $1",
    )
    .bind(integration)
    .fetch_all(pool)
    .await?;
    let mut latencies: Vec<f64> = rows
        .iter()
        .filter_map(|(id, recorded_at)| {
            let accepted_at = accepted.get(id)?;
            Some((*recorded_at - *accepted_at).num_microseconds()? as f64 / 1000.0)
        })
        .collect();
    latencies.sort_by(f64::total_cmp);
    Ok(latencies)
}

/// The `q` quantile (0..=1) of sorted values, nearest rank.
pub fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    Some(sorted[rank - 1])
}

/// p99 of each stage a job passes, in ms: accepted → claimed by a worker (publish,
/// broker, queueing), claimed → result event (the SaaS call and the worker's writes),
/// result event → log entry (result publish and the projector). The p99s do not add
/// up; they show which stage holds the tail.
pub async fn stage_p99_ms(pool: &PgPool, integration_id: &str) -> anyhow::Result<[f64; 3]> {
    let integration: Uuid = integration_id.parse()?;
    let (queued, worked, projected): (Option<f64>, Option<f64>, Option<f64>) = sqlx::query_as(
        "SELECT percentile_cont(0.99) WITHIN GROUP
                  (ORDER BY extract(epoch FROM r.claimed_at - r.created_at)::float8 * 1000),
                percentile_cont(0.99) WITHIN GROUP
                  (ORDER BY extract(epoch FROM l.at - r.claimed_at)::float8 * 1000),
                percentile_cont(0.99) WITHIN GROUP
                  (ORDER BY extract(epoch FROM l.recorded_at - l.at)::float8 * 1000)
           FROM integration_log l JOIN provisioning_requests r ON r.id = l.request_id
          WHERE l.integration_id = $1",
    )
    .bind(integration)
    .fetch_one(pool)
    .await?;
    Ok([queued, worked, projected].map(|p| p.unwrap_or(f64::NAN)))
}
