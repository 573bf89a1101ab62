//! (6) A burst bigger than a known allowance: the simulator accepts N creates per
//! window and answers the rest 429, the integration's rate is set to N per window, and
//! the workers (two processes by then) must use the allowance without drawing 429s.

use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use sqlx::PgPool;

use crate::load;
use crate::phases::Plan;
use crate::report::{Report, Verdict};
use crate::system::System;

/// The burst outlasts one window by this share, so the workers are still busy when
/// the first window closes and the second one opens.
const BURST_OVER_ALLOWANCE: f64 = 1.2;

pub async fn phase(
    system: &mut System,
    pool: &PgPool,
    plan: &Plan,
    report: &mut Report,
) -> anyhow::Result<()> {
    let creates = plan.allowance;
    let window = plan.allowance_window.as_secs();
    let per_second = creates as f64 / window as f64;
    let workspace = "allowance";
    let faults = json!({"create_allowance": {"creates": creates, "window_seconds": window}});
    let integration = system
        .paced_integration(workspace, &faults, per_second)
        .await?;
    let requests = (creates as f64 * BURST_OVER_ALLOWANCE) as usize;
    load::closed_loop(
        &system.api_client(),
        &integration,
        requests,
        plan.concurrency,
    )
    .await?;
    let timeout = plan.allowance_window.mul_f64(BURST_OVER_ALLOWANCE) + Duration::from_secs(30);
    let logged = load::wait_for_log(pool, &integration, requests, timeout).await?;
    system.check_alive()?;

    let stats = system
        .sim_get(&format!("/_sim/workspaces/{workspace}"))
        .await?;
    let count = |name: &str| stats[name].as_u64().unwrap_or(0);
    let users = system
        .sim_get(&format!("/_sim/workspaces/{workspace}/users"))
        .await?;
    let created = creation_times(&users)?;
    let used = allowance_used(&created, per_second);
    let share_429 = count("rate_limited_calls") as f64 / count("create_calls").max(1) as f64;

    let mut figure = format!("{} accounts created", created.len());
    if logged.entries < requests {
        figure.push_str(&format!(
            " (only {} of {requests} logged in time)",
            logged.entries
        ));
    }
    if logged.succeeded < logged.entries {
        figure.push_str(&format!(" ({} failed)", logged.entries - logged.succeeded));
    }
    report.info(
        &format!(
            "(6) burst of {requests} against an allowance of {creates} creates per {window} s, \
             rate set to {per_second:.0}/s, 2 workers"
        ),
        figure,
        Some(created.len() as f64),
    );
    let shown = used.map_or_else(|| "none".into(), |u| format!("{:.1} %", u * 100.0));
    report.add(
        "    share of the allowance used, first to last create",
        shown,
        used.map(|u| u * 100.0),
        ">= 95 %",
        Verdict::of(used.is_some_and(|u| u >= 0.95)),
    );
    report.add(
        "    share of create calls answered 429",
        format!(
            "{:.2} % ({} of {})",
            share_429 * 100.0,
            count("rate_limited_calls"),
            count("create_calls")
        ),
        Some(share_429 * 100.0),
        "< 1 %",
        Verdict::of(share_429 < 0.01),
    );
    Ok(())
}

/// When the simulator created each account, oldest first.
fn creation_times(users: &Value) -> anyhow::Result<Vec<DateTime<Utc>>> {
    let mut times = users
        .as_array()
        .context("the simulator's users are not a list")?
        .iter()
        .map(|user| {
            let created = user["meta"]["created"]
                .as_str()
                .context("no meta.created")?;
            Ok(created.parse()?)
        })
        .collect::<anyhow::Result<Vec<DateTime<Utc>>>>()?;
    times.sort();
    Ok(times)
}

/// Creates between the first and the last one, against what the allowance's rate
/// allows in that time: one create every `1 / per_second` seconds uses all of it.
fn allowance_used(created: &[DateTime<Utc>], per_second: f64) -> Option<f64> {
    let (first, last) = (created.first()?, created.last()?);
    let seconds = (*last - *first).num_microseconds()? as f64 / 1e6;
    (seconds > 0.0).then(|| (created.len() - 1) as f64 / (seconds * per_second))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_exactly_at_the_rate_use_the_whole_allowance() {
        let start = Utc::now();
        let at = |ms: i64| start + chrono::Duration::milliseconds(ms);
        let paced: Vec<_> = (0..11).map(|n| at(n * 100)).collect();
        let used = allowance_used(&paced, 10.0).unwrap();
        assert!((used - 1.0).abs() < 1e-9, "{used}");
        // A one-second pause amid one second of creates leaves half the time unused.
        let paused: Vec<_> = (0..11)
            .map(|n| at(n * 100 + if n > 5 { 1_000 } else { 0 }))
            .collect();
        let used = allowance_used(&paused, 10.0).unwrap();
        assert!((used - 0.5).abs() < 1e-9, "{used}");
        assert_eq!(allowance_used(&paced[..1], 10.0), None);
    }
}
