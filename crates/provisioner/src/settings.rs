//! Configuration: environment variables with flags that override them, and defaults
//! that work against local PostgreSQL and RabbitMQ.

use std::time::Duration;

use clap::Args;

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

    /// Lets connectors call loopback and private addresses (the simulator, tests).
    #[arg(
        long,
        env = "PROVISIONER_ALLOW_PRIVATE_NETWORKS",
        default_value_t = false
    )]
    pub allow_private_networks: bool,

    /// Seconds in-flight work may take to finish after SIGTERM.
    #[arg(long, env = "PROVISIONER_DRAIN_SECONDS", default_value_t = 20)]
    pub drain_seconds: u64,
}

impl Settings {
    pub fn drain_timeout(&self) -> Duration {
        Duration::from_secs(self.drain_seconds)
    }
}
