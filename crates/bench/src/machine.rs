//! The machine the figures come from: without it a figure cannot be compared.

use std::process::Command;

use serde::Serialize;
use sqlx::PgPool;

#[derive(Debug, Serialize)]
pub struct Machine {
    pub nproc: usize,
    pub memory_mib: u64,
    pub cpu_model: String,
    pub rabbitmq: String,
    pub postgresql: String,
    /// `/proc/loadavg` when the bench started: other work on the machine shows here.
    pub load_at_start: String,
}

impl Machine {
    pub async fn describe(pool: &PgPool) -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        let postgresql: Option<(String,)> = sqlx::query_as("SHOW server_version")
            .fetch_optional(pool)
            .await
            .ok()
            .flatten();
        Self {
            nproc: std::thread::available_parallelism().map_or(0, usize::from),
            memory_mib: meminfo
                .lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
                .map_or(0, |kib| kib / 1024),
            cpu_model: cpuinfo
                .lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
                .unwrap_or_else(|| "unknown".into()),
            rabbitmq: rabbitmq_version(),
            postgresql: postgresql.map_or_else(|| "unknown".into(), |(version,)| version),
            load_at_start: std::fs::read_to_string("/proc/loadavg")
                .map(|load| {
                    load.split_whitespace()
                        .take(3)
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default(),
        }
    }
}

/// `rabbitmqctl version` asks the running node; the package version is the fallback
/// when the CLI cannot reach it (no Erlang cookie for this user).
fn rabbitmq_version() -> String {
    let attempts: [(&str, &[&str]); 2] = [
        ("rabbitmqctl", &["-q", "version"]),
        ("dpkg-query", &["-W", "-f=${Version}", "rabbitmq-server"]),
    ];
    attempts
        .iter()
        .find_map(|(program, args)| {
            let output = Command::new(program).args(*args).output().ok()?;
            let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            (output.status.success() && !text.is_empty()).then_some(text)
        })
        .unwrap_or_else(|| "unknown".into())
}
