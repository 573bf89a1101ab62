//! Configuration: environment variables with flags that override them, and defaults
//! that work against local PostgreSQL and RabbitMQ.

use std::time::Duration;

use anyhow::Context;
use clap::Args;
use provisioner_store::{Keyring, Store};

#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// PostgreSQL connection URL.
    #[arg(
        long,
        env = "DATABASE_URL",
        default_value = "postgres://provisioner:provisioner@127.0.0.1:5432/provisioner"
    )]
    pub database_url: String,

    /// Largest number of PostgreSQL connections this process opens.
    #[arg(long, env = "PROVISIONER_DB_MAX_CONNECTIONS", default_value_t = 16)]
    pub db_max_connections: u32,

    /// RabbitMQ connection URL.
    #[arg(
        long,
        env = "AMQP_URL",
        default_value = "amqp://guest:guest@127.0.0.1:5672/%2f"
    )]
    pub amqp_url: String,

    /// Prefix for every exchange and queue name, to run several installations on one
    /// broker.
    #[arg(long, env = "PROVISIONER_AMQP_PREFIX", default_value = "")]
    pub amqp_prefix: String,

    /// When set, the broker deletes this installation's queues after they have been
    /// unused this many seconds. For throwaway installations (tests, demos) only.
    #[arg(long, env = "PROVISIONER_AMQP_QUEUE_EXPIRY_SECONDS")]
    pub amqp_queue_expiry_seconds: Option<u64>,

    /// Unacknowledged deliveries a worker or projector holds at once.
    #[arg(long, env = "PROVISIONER_PREFETCH", default_value_t = 100)]
    pub prefetch: u16,

    /// SaaS calls one worker process makes at once, over every integration; its other
    /// deliveries wait their turn. Each call holds an HTTP connection and its buffers,
    /// so this bounds a worker's memory however large its prefetch.
    #[arg(long, env = "PROVISIONER_MAX_CALLS_IN_FLIGHT", default_value_t = 256)]
    pub max_calls_in_flight: u32,

    /// Lets connectors call loopback and private addresses (the simulator, tests).
    #[arg(
        long,
        env = "PROVISIONER_ALLOW_PRIVATE_NETWORKS",
        default_value_t = false
    )]
    pub allow_private_networks: bool,

    /// Limits connectors to loopback addresses, whatever `allow_private_networks` says:
    /// set only by tests whose base URLs a fuzzer chooses, never from the environment.
    #[arg(skip)]
    pub loopback_only: bool,

    /// Keys that seal integration credentials at rest, as `id:base64,id:base64` (32-byte
    /// keys); the first seals, all open. Unset, a development key is used, with a warning.
    #[arg(long, env = "PROVISIONER_CREDENTIAL_KEYS", hide_env_values = true)]
    pub credential_keys: Option<String>,

    /// Seconds a worker's claim on a request lasts. Only then may another worker take
    /// the request over (after a crash); an attempt's SaaS calls are cut off at three
    /// quarters of it, so a claim is never taken from a worker still calling. The relay
    /// re-sends the message of a claim three times this old.
    #[arg(long, env = "PROVISIONER_CLAIM_LEASE_SECONDS", default_value_t = 60)]
    pub claim_lease_seconds: u64,

    /// Seconds in-flight work may take to finish after SIGTERM.
    #[arg(long, env = "PROVISIONER_DRAIN_SECONDS", default_value_t = 20)]
    pub drain_seconds: u64,

    /// Seconds between two readings of the queues' depths for `/metrics`, in processes
    /// that consume.
    #[arg(long, env = "PROVISIONER_QUEUE_METRICS_SECONDS", default_value_t = 5)]
    pub queue_metrics_seconds: u64,
}

impl Settings {
    /// The store these settings name, with their credential keys.
    pub fn store(&self, max_connections: u32) -> anyhow::Result<Store> {
        let store = Store::connect_lazy(&self.database_url, max_connections)
            .context("DATABASE_URL is not a valid PostgreSQL URL")?;
        let Some(spec) = &self.credential_keys else {
            return Ok(store);
        };
        let keyring = Keyring::parse(spec).context("PROVISIONER_CREDENTIAL_KEYS")?;
        Ok(store.with_keyring(keyring))
    }

    pub fn drain_timeout(&self) -> Duration {
        Duration::from_secs(self.drain_seconds)
    }
}
