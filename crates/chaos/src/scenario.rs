//! One chaos run: requests submitted while the service fails, workers are killed and
//! the broker and the database restart; then a wait until everything has ended, and
//! an account of every request from the database and the simulator.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use provisioner_test_support::processes::ApiClient;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgConnection, PgPool};
use tokio::sync::Mutex as AsyncMutex;

use crate::nodes::{PostgresCluster, RabbitNode};
use crate::report::{Event, Report};
use crate::system::{account, System, Target};

/// The services the run spreads its integrations over, in turn.
const SERVICES: [&str; 4] = ["scim", "slack", "microsoft365", "zoom"];

#[derive(Debug, Clone)]
pub struct Scenario {
    /// The `provisioner` binary to run.
    pub binary: PathBuf,
    pub requests: usize,
    pub integrations: usize,
    pub workers: usize,
    pub kills: usize,
    pub broker_restarts: usize,
    pub postgres_restarts: usize,
    /// How long the broker or the database stays down at each restart.
    pub down_for: Duration,
    /// Percent of creates answered 503 / 429, and of creates whose answer is lost.
    pub error_percent: u8,
    pub rate_limit_percent: u8,
    pub lost_answer_percent: u8,
    /// Random extra latency of every simulated call, up to this.
    pub latency_ms: u64,
    pub max_attempts: u32,
    /// How long a dead worker's claims last before another worker takes them over.
    pub claim_lease_seconds: u64,
    /// The integrations' retry policy: short waits, so the run drains in minutes.
    pub retry_base_delay_seconds: f64,
    pub retry_max_delay_seconds: f64,
    /// Requests sent at once.
    pub submitters: usize,
    pub drain_timeout: Duration,
}

impl Scenario {
    /// What the issue asks of `make chaos`: 10,000 requests, 30 % 5xx, 10 % 429,
    /// random latency, five SIGKILLs, one restart of each server.
    pub fn full(binary: PathBuf) -> Self {
        Self {
            binary,
            requests: 10_000,
            // Every 429 holds its integration's calls back for its Retry-After, across
            // all workers; with one create in ten answered 429, spreading the requests
            // over more integrations keeps the run to minutes.
            integrations: 40,
            workers: 2,
            kills: 5,
            broker_restarts: 1,
            postgres_restarts: 1,
            down_for: Duration::from_secs(5),
            error_percent: 30,
            rate_limit_percent: 10,
            lost_answer_percent: 5,
            latency_ms: 100,
            max_attempts: 8,
            claim_lease_seconds: 60,
            retry_base_delay_seconds: 1.0,
            retry_max_delay_seconds: 10.0,
            submitters: 32,
            drain_timeout: Duration::from_secs(900),
        }
    }

    pub fn retry(&self) -> Value {
        json!({
            "max_attempts": self.max_attempts,
            "retry_base_delay_seconds": self.retry_base_delay_seconds,
            "retry_max_delay_seconds": self.retry_max_delay_seconds,
            "retry_jitter": "full",
        })
    }

    /// The version that runs in every `make test`: a few hundred requests, the same
    /// kinds of trouble, fewer of them.
    pub fn small(binary: PathBuf) -> Self {
        Self {
            requests: 300,
            integrations: 4,
            kills: 2,
            down_for: Duration::from_secs(3),
            error_percent: 20,
            latency_ms: 50,
            claim_lease_seconds: 10,
            retry_base_delay_seconds: 0.5,
            retry_max_delay_seconds: 3.0,
            submitters: 8,
            drain_timeout: Duration::from_secs(240),
            ..Self::full(binary)
        }
    }

    pub fn faults(&self) -> Value {
        json!({
            "latency_jitter_ms": self.latency_ms,
            "create_error_percent": self.error_percent,
            "create_rate_limit_percent": self.rate_limit_percent,
            "lose_create_response_percent": self.lost_answer_percent,
            "allow_duplicates": true,
        })
    }

    /// Runs the scenario on a broker and a database of its own under `work_dir`, which
    /// it removes at the end unless `keep` is set (the process logs are there).
    pub async fn run(&self, work_dir: PathBuf, keep: bool) -> anyhow::Result<Report> {
        std::fs::create_dir_all(&work_dir)?;
        let outcome = self.run_in(&work_dir).await;
        if !keep {
            let _ = std::fs::remove_dir_all(&work_dir);
        }
        outcome
    }

    async fn run_in(&self, work_dir: &std::path::Path) -> anyhow::Result<Report> {
        let (rabbit, postgres) = tokio::try_join!(
            RabbitNode::start_new(work_dir),
            PostgresCluster::start_new(work_dir)
        )?;
        let mut admin = PgConnection::connect(&postgres.url("postgres")).await?;
        admin.execute("CREATE DATABASE provisioner").await?;
        admin.close().await?;
        let database_url = postgres.url("provisioner");
        let logs = work_dir.join("logs");
        std::fs::create_dir_all(&logs)?;
        let system = System::start(
            &self.binary,
            &logs,
            &database_url,
            &rabbit.amqp_url(),
            self.workers,
            self.claim_lease_seconds,
        )
        .await?;
        let targets = self.add_targets(&system).await?;
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy(&database_url)?;

        let started = Instant::now();
        let api = system.api.clone();
        let system = AsyncMutex::new(system);
        let accepted = Arc::new(Mutex::new(HashMap::<usize, String>::new()));
        let submitted = Arc::new(AtomicUsize::new(0));
        let events = Mutex::new(Vec::new());
        let submit = submit_all(self, &api, &targets, &accepted, &submitted);
        let chaos = self.cause_trouble(&system, &rabbit, &postgres, &submitted, &events, started);
        let (submit_outcome, chaos_outcome) = tokio::join!(submit, chaos);
        submit_outcome?;
        chaos_outcome?;
        let submitted_in = started.elapsed();

        let drained = wait_for_drain(&pool, self.drain_timeout).await;
        let drain_time = submitted_in.max(started.elapsed()) - submitted_in;
        let mut system = system.into_inner();
        let accepted = accepted.lock().map(|a| a.clone()).unwrap_or_default();
        let mut report = Report::new(self, events.into_inner().unwrap_or_default());
        report.accepted = accepted.len();
        report.submit_time = submitted_in;
        report.drain_time = drain_time;
        report.drained = drained;
        report.count(&pool, &accepted).await?;
        count_at_the_service(&mut report, &system, &targets).await?;
        report.dead_letter_messages = rabbit
            .queue_depths()
            .await?
            .into_iter()
            .filter(|(name, _)| name.ends_with("provisioning.dead"))
            .map(|(_, count)| count)
            .sum();
        report.exited_on_their_own = system.exited_on_their_own();
        pool.close().await;
        Ok(report)
    }

    /// The integrations, spread over the services in turn, each on a workspace of its
    /// own with the run's faults.
    async fn add_targets(&self, system: &System) -> anyhow::Result<Vec<Target>> {
        let faults = self.faults();
        let retry = self.retry();
        let mut targets = Vec::new();
        for index in 0..self.integrations {
            let service = SERVICES[index % SERVICES.len()];
            targets.push(system.add_target(index, service, &faults, &retry).await?);
        }
        Ok(targets)
    }

    /// Kills and restarts at random moments while the requests go in: each waits until
    /// a random share of them has been accepted.
    async fn cause_trouble(
        &self,
        system: &AsyncMutex<System>,
        rabbit: &RabbitNode,
        postgres: &PostgresCluster,
        submitted: &AtomicUsize,
        events: &Mutex<Vec<Event>>,
        started: Instant,
    ) -> anyhow::Result<()> {
        let mut plan: Vec<(f64, Trouble)> = Vec::new();
        let mut rng = rand::thread_rng();
        for _ in 0..self.kills {
            plan.push((rng.gen_range(0.05..0.95), Trouble::KillWorker));
        }
        for _ in 0..self.broker_restarts {
            plan.push((rng.gen_range(0.2..0.5), Trouble::RestartBroker));
        }
        for _ in 0..self.postgres_restarts {
            plan.push((rng.gen_range(0.5..0.8), Trouble::RestartPostgres));
        }
        plan.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (share, trouble) in plan {
            let due = (share * self.requests as f64) as usize;
            while submitted.load(Ordering::Relaxed) < due {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let jitter = Duration::from_millis(rand::thread_rng().gen_range(0..300));
            tokio::time::sleep(jitter).await;
            let at = started.elapsed();
            let what = match trouble {
                Trouble::KillWorker => {
                    let mut system = system.lock().await;
                    let index = {
                        let indexes: Vec<usize> = (0..system.workers.len()).collect();
                        *indexes
                            .choose(&mut rand::thread_rng())
                            .context("no workers")?
                    };
                    system.workers[index].kill();
                    let killed = system.workers[index].name().to_owned();
                    let replacement = system.start_worker()?;
                    let name = replacement.name().to_owned();
                    system.workers[index] = replacement;
                    format!("SIGKILL {killed}; started {name}")
                }
                Trouble::RestartBroker => {
                    rabbit.restart(self.down_for).await?;
                    format!("RabbitMQ node stopped, down {:?}, started", self.down_for)
                }
                Trouble::RestartPostgres => {
                    postgres.restart(self.down_for).await?;
                    format!(
                        "PostgreSQL crashed (immediate stop), down {:?}, started",
                        self.down_for
                    )
                }
            };
            eprintln!("chaos: {:>7.1} s  {what}", at.as_secs_f64());
            events.lock().map(|mut e| e.push(Event { at, what })).ok();
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy)]
enum Trouble {
    KillWorker,
    RestartBroker,
    RestartPostgres,
}

/// What the simulator holds: the accounts, and any made twice, across every target.
async fn count_at_the_service(
    report: &mut Report,
    system: &System,
    targets: &[Target],
) -> anyhow::Result<()> {
    for target in targets {
        let stats = system.sim.stats(&target.sim_workspace).await?;
        report.duplicate_accounts_at_service += stats["duplicate_accounts"].as_u64().unwrap_or(0);
        report.accounts_at_service += stats["accounts"].as_u64().unwrap_or(0);
        for key in stats["duplicated_keys"].as_array().into_iter().flatten() {
            let key = key.as_str().unwrap_or_default();
            report.duplicated_keys.push(format!(
                "{} ({}) {key}",
                target.sim_workspace, target.service
            ));
        }
    }
    Ok(())
}

/// Sends every request, each with its own idempotency key, and sends it again after
/// any answer but 202 that could be an outage, so that every request is accepted once.
async fn submit_all(
    scenario: &Scenario,
    api: &ApiClient,
    targets: &[Target],
    accepted: &Mutex<HashMap<usize, String>>,
    submitted: &AtomicUsize,
) -> anyhow::Result<()> {
    let next = AtomicUsize::new(0);
    let submitter = || async {
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            if n >= scenario.requests {
                return Ok::<(), anyhow::Error>(());
            }
            let target = &targets[n % targets.len()];
            let body = json!({"integration_id": target.integration_id,
                              "account": account(target.service, n)});
            let id = submit_one(api, n, &body).await?;
            accepted.lock().map(|mut a| a.insert(n, id)).ok();
            submitted.fetch_add(1, Ordering::Relaxed);
        }
    };
    futures_util::future::try_join_all((0..scenario.submitters).map(|_| submitter())).await?;
    Ok(())
}

async fn submit_one(api: &ApiClient, n: usize, body: &Value) -> anyhow::Result<String> {
    let give_up = Instant::now() + Duration::from_secs(300);
    loop {
        let response = api
            .client
            .post(format!("{}/v1/provisioning-requests", api.api))
            .bearer_auth(&api.token)
            .header("Idempotency-Key", format!("chaos-{n}"))
            .json(body)
            .send()
            .await;
        match response {
            Ok(response) if response.status() == reqwest::StatusCode::ACCEPTED => {
                let answer: Value = response.json().await?;
                return answer["id"]
                    .as_str()
                    .map(str::to_owned)
                    .with_context(|| format!("202 without an id: {answer}"));
            }
            Ok(response)
                if response.status().is_client_error()
                    && response.status() != reqwest::StatusCode::TOO_MANY_REQUESTS
                    && response.status() != reqwest::StatusCode::REQUEST_TIMEOUT =>
            {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                anyhow::bail!("request {n} was refused with {status}: {text}");
            }
            // 5xx or no answer: the database or the api is away; the same key again is
            // safe whether or not the first try was committed.
            _ if Instant::now() < give_up => {
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Ok(response) => {
                anyhow::bail!("request {n}: still {} after 5 minutes", response.status())
            }
            Err(error) => anyhow::bail!("request {n}: no answer for 5 minutes: {error}"),
        }
    }
}

/// Waits until no request is left unfinished and every finished one is logged; false
/// if that did not happen within `timeout`.
async fn wait_for_drain(pool: &PgPool, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let open: Result<(i64, i64), _> = sqlx::query_as(
            "SELECT (SELECT count(*) FROM provisioning_requests
                      WHERE state NOT IN ('succeeded', 'failed', 'rejected', 'dead')),
                    (SELECT count(*) FROM provisioning_requests r
                      WHERE NOT EXISTS (SELECT 1 FROM integration_log l WHERE l.request_id = r.id))",
        )
        .fetch_one(pool)
        .await;
        if let Ok((0, 0)) = open {
            return true;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    false
}
