//! The account of a run, Jepsen-style: what was accepted, and of that what was lost,
//! left unfinished, done twice, or logged wrongly.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::Duration;

use sqlx::PgPool;
use uuid::Uuid;

use crate::scenario::Scenario;

#[derive(Debug, Clone)]
pub struct Event {
    pub at: Duration,
    pub what: String,
}

#[derive(Debug, Clone, Default)]
pub struct Report {
    pub setting: String,
    pub events: Vec<Event>,
    pub accepted: usize,
    pub terminal: usize,
    pub by_state: Vec<(String, usize)>,
    /// Accepted (202 with an id) but not in the database.
    pub lost: usize,
    pub not_terminal: usize,
    /// Accounts created twice for one request's account, at the service, plus
    /// requests that adopted an account another request owns.
    pub duplicate_accounts_at_service: u64,
    /// Which: `workspace/key`.
    pub duplicated_keys: Vec<String>,
    pub shared_account_ids: usize,
    pub accounts_at_service: u64,
    pub log_missing: usize,
    pub log_doubled: usize,
    pub dead: usize,
    pub dead_letter_messages: u64,
    pub attempts: i64,
    pub submit_time: Duration,
    pub drain_time: Duration,
    pub drained: bool,
    pub exited_on_their_own: Vec<String>,
}

impl Report {
    pub fn new(scenario: &Scenario, events: Vec<Event>) -> Self {
        Self {
            setting: format!(
                "{} requests over {} integrations (scim, slack, microsoft365, zoom in turn), {} \
                 workers; at the service {} % 503, {} % 429 (Retry-After: 1), {} % lost answers, \
                 0-{} ms latency, duplicates not refused; up to {} attempts, waits {}-{} s",
                scenario.requests,
                scenario.integrations,
                scenario.workers,
                scenario.error_percent,
                scenario.rate_limit_percent,
                scenario.lost_answer_percent,
                scenario.latency_ms,
                scenario.max_attempts,
                scenario.retry_base_delay_seconds,
                scenario.retry_max_delay_seconds,
            ),
            events,
            ..Self::default()
        }
    }

    /// Reads every request and log entry and checks them against what was accepted.
    pub async fn count(
        &mut self,
        pool: &PgPool,
        accepted: &HashMap<usize, String>,
    ) -> anyhow::Result<()> {
        let rows: Vec<(Uuid, String, i32)> =
            sqlx::query_as("SELECT id, state::text, attempts FROM provisioning_requests")
                .fetch_all(pool)
                .await?;
        let states: HashMap<String, String> = rows
            .iter()
            .map(|(id, state, _)| (id.to_string(), state.clone()))
            .collect();
        let terminal = ["succeeded", "failed", "rejected", "dead"];
        let accepted_ids: HashSet<&String> = accepted.values().collect();
        self.lost = accepted_ids
            .iter()
            .filter(|id| !states.contains_key(**id))
            .count();
        self.not_terminal = accepted_ids
            .iter()
            .filter_map(|id| states.get(*id))
            .filter(|state| !terminal.contains(&state.as_str()))
            .count();
        self.terminal = states
            .values()
            .filter(|s| terminal.contains(&s.as_str()))
            .count();
        let mut by_state: HashMap<String, usize> = HashMap::new();
        for state in states.values() {
            *by_state.entry(state.clone()).or_default() += 1;
        }
        let mut by_state: Vec<_> = by_state.into_iter().collect();
        by_state.sort();
        self.dead = by_state
            .iter()
            .find(|(s, _)| s == "dead")
            .map_or(0, |(_, n)| *n);
        self.by_state = by_state;
        self.attempts = rows.iter().map(|(_, _, a)| i64::from(*a)).sum();

        let (shared,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM (SELECT integration_id, external_account_id
               FROM provisioning_requests WHERE external_account_id IS NOT NULL
              GROUP BY 1, 2 HAVING count(*) > 1) AS shared",
        )
        .fetch_one(pool)
        .await?;
        self.shared_account_ids = shared as usize;
        let (missing, doubled): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM provisioning_requests r
                      WHERE state IN ('succeeded', 'failed', 'rejected', 'dead')
                        AND NOT EXISTS (SELECT 1 FROM integration_log l WHERE l.request_id = r.id)),
                    (SELECT coalesce(sum(n - 1), 0)::bigint FROM
                       (SELECT count(*) AS n FROM integration_log GROUP BY request_id) AS per_request)",
        )
        .fetch_one(pool)
        .await?;
        self.log_missing = missing as usize;
        self.log_doubled = doubled as usize;
        Ok(())
    }

    /// Nothing lost, nothing unfinished, nothing done or logged twice, nothing missing,
    /// and no process fell over by itself.
    pub fn passed(&self) -> bool {
        self.drained
            && self.lost == 0
            && self.not_terminal == 0
            && self.duplicate_accounts_at_service == 0
            && self.shared_account_ids == 0
            && self.log_missing == 0
            && self.log_doubled == 0
            && self.exited_on_their_own.is_empty()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "chaos: {}", self.setting)?;
        for event in &self.events {
            writeln!(f, "  {:>7.1} s  {}", event.at.as_secs_f64(), event.what)?;
        }
        let states: Vec<String> = self
            .by_state
            .iter()
            .map(|(state, n)| format!("{state} {n}"))
            .collect();
        let retries = self.attempts - self.terminal as i64;
        let rows = [
            ("accepted", self.accepted.to_string()),
            ("terminal", format!("{}  ({})", self.terminal, states.join(", "))),
            ("lost", self.lost.to_string()),
            ("not terminal", self.not_terminal.to_string()),
            (
                "duplicated accounts",
                format!(
                    "{}  (created twice at the service {}, one account held by two requests {})",
                    self.duplicate_accounts_at_service as usize + self.shared_account_ids,
                    self.duplicate_accounts_at_service,
                    self.shared_account_ids
                ),
            ),
            ("log entries missing", self.log_missing.to_string()),
            ("log entries doubled", self.log_doubled.to_string()),
            (
                "dead-lettered",
                format!(
                    "{}  (requests dead after their last attempt; {} messages in the dead-letter queue)",
                    self.dead, self.dead_letter_messages
                ),
            ),
            (
                "attempts",
                format!("{}  ({} retries)", self.attempts, retries.max(0)),
            ),
            ("accounts at the service", self.accounts_at_service.to_string()),
            ("time to submit", format!("{:.1} s", self.submit_time.as_secs_f64())),
            (
                "time to drain",
                if self.drained {
                    format!("{:.1} s after the last request was accepted", self.drain_time.as_secs_f64())
                } else {
                    format!("did not drain within {:.0} s", self.drain_time.as_secs_f64())
                },
            ),
        ];
        for (name, value) in rows {
            writeln!(f, "  {name:<24} {value}")?;
        }
        for key in &self.duplicated_keys {
            writeln!(f, "  created twice: {key}")?;
        }
        for exited in &self.exited_on_their_own {
            writeln!(f, "  exited on its own: {exited}")?;
        }
        write!(
            f,
            "  {:<24} {}",
            "verdict",
            if self.passed() { "PASS" } else { "FAIL" }
        )
    }
}
