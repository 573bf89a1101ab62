//! The measurements, in order, each bounded in count and time. Every figure comes from
//! the integration log in PostgreSQL, the place a user sees a job as done.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use crate::diagnose::Snapshot;
use crate::env::Env;
use crate::hop;
use crate::load::{self, Logged};
use crate::report::{Report, Verdict};
use crate::system::{Reading, System};

/// Sizes of the run; `BENCH_SCALE` (0.1 for a smoke run) multiplies the counts.
pub struct Plan {
    pub hop_messages: usize,
    pub requests: usize,
    pub concurrency: usize,
    pub slow_requests: usize,
    pub open_loop: Duration,
    /// Creates the simulator accepts per `allowance_window` in (6).
    pub allowance: usize,
    /// A minute at full scale; shorter in a smoke run, at the same rate.
    pub allowance_window: Duration,
    /// The longest any phase may wait for its log entries.
    pub phase_timeout: Duration,
}

impl Plan {
    pub fn scaled(scale: f64) -> Self {
        let n = |count: f64| ((count * scale) as usize).max(10);
        Self {
            hop_messages: n(20_000.0),
            requests: n(5_000.0),
            concurrency: 32,
            slow_requests: n(3_000.0),
            open_loop: Duration::from_secs_f64((15.0 * scale).max(3.0)),
            allowance: n(6_000.0),
            allowance_window: Duration::from_secs_f64((60.0 * scale).clamp(1.0, 60.0)),
            phase_timeout: Duration::from_secs(90),
        }
    }
}

pub async fn broker_limit(env: &Env, plan: &Plan, report: &mut Report) -> anyhow::Result<f64> {
    let limit = hop::measure(
        &env.amqp_url,
        &env.hop_queue(0),
        &env.hop_queue(1),
        plan.hop_messages,
    )
    .await?;
    let rate = limit.per_second();
    report.info(
        &format!(
            "(1) broker two-hop limit: quorum, confirms, window 256, {} B, {} msgs",
            hop::MESSAGE_BYTES,
            limit.messages
        ),
        format!("{rate:.0} msg/s"),
        Some(rate),
    );
    Ok(rate)
}

pub struct Throughput {
    pub jobs: f64,
    pub figure: String,
    /// CPU each process spent, as a share of one core.
    pub cpu: String,
    pub commits_per_job: f64,
}

/// Jobs per second from the first POST to the last log entry, with the CPU each
/// process spent meanwhile (as a share of one core), which tells where the time goes.
pub async fn closed_loop(
    system: &mut System,
    pool: &PgPool,
    plan: &Plan,
    integration: &str,
) -> anyhow::Result<Throughput> {
    let before = Snapshot::take(system, pool).await;
    let started = Utc::now();
    load::closed_loop(
        &system.api_client(),
        integration,
        plan.requests,
        plan.concurrency,
    )
    .await?;
    let logged = load::wait_for_log(pool, integration, plan.requests, plan.phase_timeout).await?;
    let seconds = elapsed(started, logged.last_recorded_at);
    // CPU is read at the last log entry, before the wait that settles the commit count.
    let cpu = Snapshot::take(system, pool).await.cpu_since(&before);
    let after = Snapshot::after(system, pool).await;
    system.check_alive()?;
    let jobs = rate(&logged, plan.requests, seconds);
    Ok(Throughput {
        jobs,
        figure: figure(jobs, &logged, plan.requests),
        cpu,
        commits_per_job: after.commits_per_job(&before, logged.entries),
    })
}

/// (2): the closed loop through one worker, next to the broker's own limit; the
/// simulator confirms the accounts the log counts exist.
pub async fn one_worker(
    system: &mut System,
    pool: &PgPool,
    plan: &Plan,
    limit: f64,
    report: &mut Report,
) -> anyhow::Result<Throughput> {
    let fast = system.integration("fast-1", 0).await?;
    let one = closed_loop(system, pool, plan, &fast).await?;
    let label = format!(
        "(2) e2e jobs/s, zero latency, 1 worker, {} requests, {} in flight",
        plan.requests, plan.concurrency
    );
    report.info(&label, one.figure.clone(), Some(one.jobs));
    let ratio = one.jobs / limit;
    report.add(
        "    ratio to the two-hop limit",
        format!("{ratio:.2}"),
        Some(ratio),
        ">= 0.5",
        Verdict::of(ratio >= 0.5),
    );
    report.info(
        "    CPU during (2) (100% = one core)",
        one.cpu.clone(),
        None,
    );
    let commits = one.commits_per_job;
    report.info(
        "    PostgreSQL commits per job in (2)",
        format!("{commits:.1}"),
        Some(commits),
    );
    // The log is what the figures count; the simulator confirms the accounts exist.
    let accounts = system.sim_accounts("fast-1").await?;
    report.info(
        "    accounts the simulator holds after (2)",
        accounts.to_string(),
        Some(accounts as f64),
    );
    Ok(one)
}

/// (5): a second worker process joins (worker-3; worker-2 replaced worker-1 in (3)),
/// and the closed loop again, against `one_worker_jobs` of (2).
pub async fn two_workers(
    system: &mut System,
    pool: &PgPool,
    plan: &Plan,
    one_worker_jobs: f64,
    report: &mut Report,
) -> anyhow::Result<()> {
    system.start_component("worker-3", "worker").await?;
    let fast_two = system.integration("fast-2", 0).await?;
    let two = closed_loop(system, pool, plan, &fast_two).await?;
    report.info(
        "(5) e2e jobs/s, zero latency, 2 workers",
        two.figure.clone(),
        Some(two.jobs),
    );
    report.info(
        "    2 workers / 1 worker",
        format!("{:.2}", two.jobs / one_worker_jobs),
        Some(two.jobs / one_worker_jobs),
    );
    report.info("    CPU during (5) (100% = one core)", two.cpu, None);
    let commits = two.commits_per_job;
    report.info(
        "    PostgreSQL commits per job in (5)",
        format!("{commits:.1}"),
        Some(commits),
    );
    Ok(())
}

/// Three thousand requests queued while no worker runs, then one fresh worker drains
/// them: the rate between its first and last log entry is the worker's, not the api's.
pub async fn slow_service(
    system: &mut System,
    pool: &PgPool,
    plan: &Plan,
    report: &mut Report,
) -> anyhow::Result<()> {
    let integration = system.integration("slow", 100).await?;
    system.stop("worker-1");
    load::closed_loop(
        &system.api_client(),
        &integration,
        plan.slow_requests,
        plan.concurrency,
    )
    .await?;
    system.start_component("worker-2", "worker").await?;
    let before = Snapshot::take(system, pool).await;
    let logged =
        load::wait_for_log(pool, &integration, plan.slow_requests, plan.phase_timeout).await?;
    let cpu = Snapshot::take(system, pool).await;
    system.check_alive()?;
    let seconds = match logged.first_recorded_at {
        Some(first) => elapsed(first, logged.last_recorded_at),
        None => f64::NAN,
    };
    let jobs = rate(&logged, plan.slow_requests, seconds);
    report.add(
        &format!(
            "(3) jobs/s, 100 ms SaaS latency, 1 worker, prefetch {}",
            crate::system::WORKER_PREFETCH
        ),
        figure(jobs, &logged, plan.slow_requests),
        Some(jobs),
        ">= 2,000 jobs/s",
        Verdict::of(jobs >= 2000.0),
    );
    report.info(
        "    CPU during (3) (100% = one core)",
        cpu.cpu_since(&before),
        None,
    );
    Ok(())
}

/// Open loop at half the peak rate; latency from each 202 to its log entry.
pub async fn half_load(
    system: &mut System,
    pool: &PgPool,
    plan: &Plan,
    peak: f64,
    report: &mut Report,
) -> anyhow::Result<()> {
    let integration = system.integration("open", 0).await?;
    let target_rate = (peak / 2.0).max(1.0);
    let (accepted, offered) = load::open_loop(
        &system.api_client(),
        &integration,
        target_rate,
        plan.open_loop,
    )
    .await?;
    let logged = load::wait_for_log(pool, &integration, accepted.len(), plan.phase_timeout).await?;
    system.check_alive()?;
    let latencies = load::latencies_ms(pool, &integration, &accepted).await?;
    report.info(
        &format!(
            "(4) open loop at half of (2) for {:.0} s",
            plan.open_loop.as_secs_f64()
        ),
        format!(
            "{offered:.0} req/s offered, {} of {} logged",
            logged.entries,
            accepted.len()
        ),
        Some(offered),
    );
    for (name, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
        let value = load::quantile(&latencies, q);
        let shown = value.map_or_else(|| "none".into(), |ms| format!("{ms:.0} ms"));
        let (target, verdict) = if name == "p99" {
            ("< 250 ms", Verdict::of(value.is_some_and(|ms| ms < 250.0)))
        } else {
            ("", Verdict::Info)
        };
        report.add(
            &format!("    {name} 202 -> log entry"),
            shown,
            value,
            target,
            verdict,
        );
    }
    let [queued, worked, projected] = load::stage_p99_ms(pool, &integration).await?;
    report.info(
        "    p99 by stage: accepted->claimed, claimed->result, result->log",
        format!("{queued:.0} ms, {worked:.0} ms, {projected:.0} ms"),
        None,
    );
    Ok(())
}

pub fn rss(system: &System, report: &mut Report) {
    let mut readings = system.retired.clone();
    readings.extend(system.processes.iter().map(Reading::of));
    for Reading { name, rss_kib, fds } in readings {
        let mib = rss_kib.map(|k| k as f64 / 1024.0);
        let mut shown = mib.map_or_else(|| "unknown".into(), |m| format!("{m:.1} MiB"));
        if let Some(fds) = fds {
            shown.push_str(&format!(" ({fds} open fds at the end)"));
        }
        // worker-2 is the one that held 1,000 deliveries in (3).
        let (target, verdict) = if name == "worker-2" {
            (
                "< 64 MiB with 1,000 in flight",
                Verdict::of(mib.is_some_and(|m| m < 64.0)),
            )
        } else {
            ("", Verdict::Info)
        };
        report.add(&format!("(5) peak RSS {name}"), shown, mib, target, verdict);
    }
}

pub fn figure(jobs: f64, logged: &Logged, expected: usize) -> String {
    let mut shown = format!("{jobs:.0} jobs/s");
    if logged.entries < expected {
        shown.push_str(&format!(
            " (only {} of {expected} logged in time)",
            logged.entries
        ));
    }
    if logged.succeeded < logged.entries {
        shown.push_str(&format!(" ({} failed)", logged.entries - logged.succeeded));
    }
    shown
}

fn rate(logged: &Logged, expected: usize, seconds: f64) -> f64 {
    logged.entries.min(expected) as f64 / seconds
}

fn elapsed(from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> f64 {
    to.and_then(|to| (to - from).num_microseconds())
        .map_or(f64::NAN, |us| us as f64 / 1e6)
}
