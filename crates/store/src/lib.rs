//! PostgreSQL persistence. `sqlx` stays inside this crate: callers see domain types and
//! [`StoreError`], whose variants say whether trying again can help.

mod accounts;
mod attempts;
mod call_slots;
mod claims;
mod credentials;
mod employees;
mod error;
mod hr;
mod integration_rows;
mod integrations;
mod log;
mod log_groups;
mod marks;
mod outage;
mod outbox;
mod pacing;
mod quarantine;
mod replays;
mod requests;
mod rules;
mod sealing;
mod tenants;
mod transitions;
mod writes;

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

pub use accounts::{AccountFilter, AccountRow};
pub use attempts::AttemptRecord;
pub use call_slots::CallLease;
pub use claims::{Claim, ClaimOutcome, TerminalUpdate};
pub use credentials::Credentials;
pub use employees::{Employee, NewEmployee};
pub use error::StoreError;
pub use integrations::{Integration, IntegrationTuning, NewIntegration};
pub use log::{LogAction, LogEntry, LogFilter, LogStatus};
pub use outage::through_outages;
pub use outbox::{OutboxBatch, PendingRequest, StallLimits};
pub use pacing::Reservation;
pub use replays::{ReplayOutcome, REPLAYABLE};
pub use requests::{NewRequest, RequestFilter, RequestRow, StoredRequest};
pub use rules::{Rule, RuleTarget};
pub use sealing::{Keyring, KeyringError, DEVELOPMENT_KEY_ID};
pub use tenants::{AuthenticatedToken, NewToken, TokenInfo};
pub use writes::Writes;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

#[derive(Clone, Debug)]
pub struct Store {
    pool: PgPool,
    keyring: Arc<Keyring>,
    marks: Arc<marks::PublishMarks>,
    log_queue: Arc<log_groups::LogQueue>,
}

impl Store {
    /// Connects lazily: components start even while PostgreSQL is still coming up, and
    /// each query reports the outage as a transient error.
    pub fn connect_lazy(database_url: &str, max_connections: u32) -> Result<Self, StoreError> {
        let options: PgConnectOptions = database_url.parse().map_err(StoreError::from)?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(5))
            .connect_lazy_with(options);
        Ok(Self {
            pool,
            keyring: Arc::new(Keyring::development()),
            marks: Arc::default(),
            log_queue: Arc::default(),
        })
    }

    /// Seals and opens integration credentials with these keys instead of the
    /// development key.
    pub fn with_keyring(mut self, keyring: Keyring) -> Self {
        self.keyring = Arc::new(keyring);
        self
    }

    /// Creates the database named in the URL when it does not exist yet, so a fresh
    /// machine needs no manual `createdb`.
    pub async fn create_database_if_missing(database_url: &str) -> Result<(), StoreError> {
        use sqlx::migrate::MigrateDatabase;
        if !sqlx::Postgres::database_exists(database_url).await? {
            sqlx::Postgres::create_database(database_url).await?;
        }
        Ok(())
    }

    pub async fn migrate(&self) -> Result<(), StoreError> {
        MIGRATOR
            .run(&self.pool)
            .await
            .map_err(|e| StoreError::Migration(Box::new(e)))
    }

    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}
