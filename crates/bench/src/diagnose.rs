//! Where the time goes during a phase: the CPU each process spent (our children, the
//! bench itself, PostgreSQL and RabbitMQ), and how many PostgreSQL commits a job costs.

use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::procfs::{cpu_seconds, cpu_seconds_of};
use crate::system::System;

pub struct Snapshot {
    at: Instant,
    cpu: Vec<(String, f64)>,
    commits: i64,
}

impl Snapshot {
    pub async fn take(system: &System, pool: &PgPool) -> Self {
        let mut cpu: Vec<(String, f64)> = system
            .processes
            .iter()
            .map(|p| {
                (
                    p.name().to_owned(),
                    cpu_seconds(&p.pid().to_string()).unwrap_or(0.0),
                )
            })
            .collect();
        cpu.push(("bench".into(), cpu_seconds("self").unwrap_or(0.0)));
        cpu.push(("postgres".into(), cpu_seconds_of("postgres")));
        cpu.push(("rabbitmq".into(), cpu_seconds_of("beam.smp")));
        Self {
            at: Instant::now(),
            cpu,
            commits: commits(pool).await.unwrap_or(0),
        }
    }

    /// A snapshot at the end of a phase. PostgreSQL publishes a backend's commit count
    /// up to a second late, so the wait makes the count whole.
    pub async fn after(system: &System, pool: &PgPool) -> Self {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        Self::take(system, pool).await
    }

    /// CPU per process as a share of one core over the wall time between the two
    /// snapshots (a process started in between counts from zero).
    pub fn cpu_since(&self, before: &Snapshot) -> String {
        let seconds = (self.at - before.at).as_secs_f64();
        let shares: Vec<String> = self
            .cpu
            .iter()
            .map(|(name, after)| {
                let start = before
                    .cpu
                    .iter()
                    .find(|(n, _)| n == name)
                    .map_or(0.0, |(_, s)| *s);
                format!("{name} {:.0}%", 100.0 * (after - start) / seconds)
            })
            .collect();
        shares.join(", ")
    }

    /// Commits in the bench database per job (the bench's own polling included, about
    /// ten a second).
    pub fn commits_per_job(&self, before: &Snapshot, jobs: usize) -> f64 {
        (self.commits - before.commits) as f64 / jobs.max(1) as f64
    }
}

async fn commits(pool: &PgPool) -> anyhow::Result<i64> {
    let (commits,): (i64,) = sqlx::query_as(
        "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()",
    )
    .fetch_one(pool)
    .await?;
    Ok(commits)
}

/// Open file descriptors of a process: with an HTTP client, mostly its connections.
pub fn open_fds(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}
