//! `make bench`: drives the real `provisioner` binaries, each its own process, against a
//! fresh database and a unique broker prefix, next to the broker's own two-hop limit
//! measured in the same run. Prints one table and writes it to `bench/results/`.
//!
//! Environment: `BENCH_DATABASE_URL` (a server URL for the `provisioner` role),
//! `AMQP_URL`, `PROVISIONER_BIN` (default `target/release/provisioner`), `BENCH_SCALE`.

mod allowance;
mod diagnose;
mod env;
mod hop;
mod load;
mod machine;
mod phases;
mod procfs;
mod report;
mod system;

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use sqlx::postgres::PgPoolOptions;

use crate::env::Env;
use crate::machine::Machine;
use crate::phases::Plan;
use crate::report::Report;
use crate::system::System;

const RESULTS_DIR: &str = "bench/results";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let server = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://provisioner:provisioner@127.0.0.1:5432/postgres".into());
    let amqp = std::env::var("AMQP_URL")
        .unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into());
    let binary = PathBuf::from(
        std::env::var("PROVISIONER_BIN").unwrap_or_else(|_| "target/release/provisioner".into()),
    );
    let scale = std::env::var("BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    anyhow::ensure!(
        binary.exists(),
        "{binary:?} is missing; build it with cargo build --release -p provisioner"
    );
    for url in [&server, &amqp] {
        anyhow::ensure!(
            url.contains("@127.0.0.1:") || url.contains("@localhost:"),
            "the bench runs only against this machine, not {url}"
        );
    }

    let env = Env::create(server, amqp).await?;
    // Whatever happens, Ctrl-C included, the processes stop (dropped with `run`'s
    // future) before the queues and the database are removed.
    let outcome = tokio::select! {
        outcome = run(&env, &binary, Plan::scaled(scale)) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    env.teardown().await;
    let report = outcome?;
    println!("{}", report.text());
    report.write(Path::new(RESULTS_DIR))?;
    println!("written to {RESULTS_DIR}/latest.json and latest.md");
    Ok(())
}

async fn run(env: &Env, binary: &Path, plan: Plan) -> anyhow::Result<Report> {
    let started = Instant::now();
    let started_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let log_dir = std::env::temp_dir().join(format!("provisioner-{}", env.database_name));
    std::fs::create_dir_all(&log_dir)?;
    eprintln!("bench: process logs in {log_dir:?}");
    let pool = PgPoolOptions::new()
        .max_connections(2)
        .connect(&env.database_url)
        .await
        .context("connecting to the bench database")?;
    let mut report = Report {
        started_at,
        seconds: 0.0,
        machine: Machine::describe(&pool).await,
        rows: Vec::new(),
    };

    eprintln!("bench: (1) the broker's two-hop limit");
    let limit = phases::broker_limit(env, &plan, &mut report).await?;

    eprintln!("bench: starting sim, api+relay, projector, worker-1");
    let mut system = System::start(binary, env, &log_dir).await?;

    eprintln!("bench: (2) end to end, zero latency, 1 worker");
    let one = phases::one_worker(&mut system, &pool, &plan, limit, &mut report).await?;

    eprintln!("bench: (3) 100 ms at the service, 1 worker");
    phases::slow_service(&mut system, &pool, &plan, &mut report).await?;

    eprintln!("bench: (4) latency at half of the peak rate");
    phases::half_load(&mut system, &pool, &plan, one.jobs, &mut report).await?;

    eprintln!("bench: (5) 2 worker processes");
    phases::two_workers(&mut system, &pool, &plan, one.jobs, &mut report).await?;
    phases::rss(&system, &mut report);

    eprintln!("bench: (6) a burst against a known allowance, 2 worker processes");
    allowance::phase(&mut system, &pool, &plan, &mut report).await?;

    report.seconds = started.elapsed().as_secs_f64();
    pool.close().await;
    drop(system);
    let _ = std::fs::remove_dir_all(&log_dir);
    Ok(report)
}
