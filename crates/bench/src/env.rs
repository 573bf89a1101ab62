//! What the bench owns outside its processes: a fresh database and a unique broker
//! prefix. Both are removed by `teardown`, which `main` runs whatever happened.

use anyhow::Context;
use lapin::options::QueueDeleteOptions;
use provisioner_broker::Topology;
use sqlx::{Connection, Executor, PgConnection};
use uuid::Uuid;

/// Each bench queue the broker-limit hop declares, under the bench prefix.
pub const HOP_QUEUES: [&str; 2] = ["bench.hop.a", "bench.hop.b"];

pub struct Env {
    /// The server URL with the `provisioner` role, on a database that always exists.
    pub server_url: String,
    pub database_name: String,
    pub database_url: String,
    pub amqp_url: String,
    pub prefix: String,
}

impl Env {
    pub async fn create(server_url: String, amqp_url: String) -> anyhow::Result<Self> {
        let id = Uuid::new_v4().simple().to_string();
        let database_name = format!("prov_bench_{id}");
        let mut admin = PgConnection::connect(&server_url)
            .await
            .with_context(|| format!("connecting to {server_url}"))?;
        admin
            .execute(format!(r#"CREATE DATABASE "{database_name}""#).as_str())
            .await
            .context("creating the bench database")?;
        let (base, _) = server_url
            .rsplit_once('/')
            .context("the database URL has no path")?;
        Ok(Self {
            database_url: format!("{base}/{database_name}"),
            server_url: server_url.clone(),
            database_name,
            amqp_url,
            prefix: format!("bench.{}.", &id[..12]),
        })
    }

    /// The system's topology under the bench prefix, as the processes declare it.
    pub fn topology(&self) -> Topology {
        Topology::new(self.prefix.clone())
    }

    pub fn hop_queue(&self, index: usize) -> String {
        format!("{}{}", self.prefix, HOP_QUEUES[index])
    }

    /// Deletes the queues and the database; reports what it could not remove.
    pub async fn teardown(&self) {
        if let Err(error) = self.delete_queues().await {
            eprintln!(
                "bench: could not delete the queues under {}: {error:#}",
                self.prefix
            );
        }
        if let Err(error) = self.drop_database().await {
            eprintln!("bench: could not drop {}: {error:#}", self.database_name);
        }
    }

    async fn delete_queues(&self) -> anyhow::Result<()> {
        let connection = provisioner_broker::connect(&self.amqp_url, "bench-teardown").await?;
        let channel = connection.create_channel().await?;
        self.topology().delete(&channel).await?;
        for index in 0..HOP_QUEUES.len() {
            channel
                .queue_delete(
                    self.hop_queue(index).as_str().into(),
                    QueueDeleteOptions::default(),
                )
                .await?;
        }
        let _ = connection.close(200, "bench done".into()).await;
        Ok(())
    }

    async fn drop_database(&self) -> anyhow::Result<()> {
        let mut admin = PgConnection::connect(&self.server_url).await?;
        // WITH (FORCE) ends any connection a killed process left behind (PostgreSQL 13+).
        admin
            .execute(
                format!(
                    r#"DROP DATABASE IF EXISTS "{}" WITH (FORCE)"#,
                    self.database_name
                )
                .as_str(),
            )
            .await?;
        Ok(())
    }
}
