//! What every test against real services needs: a database of its own, broker names of
//! its own, and a way to wait for something without fixed sleeps; and, in
//! [`processes`], the real binary run as child processes.

use std::future::Future;
use std::time::{Duration, Instant};

use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

pub mod processes;

pub const DEFAULT_DATABASE_URL: &str = "postgres://provisioner:provisioner@127.0.0.1:5432/postgres";
pub const DEFAULT_AMQP_URL: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";
/// Every database a test creates starts with this, so stale ones are easy to drop.
pub const TEST_DATABASE_PREFIX: &str = "prov_test_";

/// The server tests use: `TEST_DATABASE_URL`, else the local default.
pub fn database_server_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_DATABASE_URL.to_owned())
}

pub fn amqp_url() -> String {
    std::env::var("TEST_AMQP_URL").unwrap_or_else(|_| DEFAULT_AMQP_URL.to_owned())
}

/// Creates an empty database with a unique name and returns its URL.
pub async fn fresh_database() -> String {
    let server = database_server_url();
    let name = format!("{TEST_DATABASE_PREFIX}{}", Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(&server)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at {server}: {e}"));
    admin
        .execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .expect("create test database");
    let (base, _) = server.rsplit_once('/').expect("database URL has a path");
    format!("{base}/{name}")
}

/// A name prefix for exchanges and queues that no other test shares.
pub fn unique_amqp_prefix() -> String {
    format!("test.{}.", &Uuid::new_v4().simple().to_string()[..12])
}

/// Polls `probe` until it yields a value or `timeout` passes; panics naming `what`.
pub async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        if started.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}
