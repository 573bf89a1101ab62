//! A whole installation of the real binary as separate processes: one api+relay, and
//! as many workers and projectors as a test starts, sharing a fresh database and broker
//! names of their own, with the simulator in this process.

use std::time::Duration;

use provisioner_sim::{Faults, Simulator};
use provisioner_test_support::processes::{free_port, Launcher, Process};
use provisioner_test_support::{amqp_url, eventually, fresh_database, unique_amqp_prefix};
use serde_json::{json, Value};

use crate::helpers::WAIT;

const BINARY: &str = env!("CARGO_BIN_EXE_provisioner");

pub struct Installation {
    pub prefix: String,
    pub api: String,
    pub token: String,
    pub client: reqwest::Client,
    pub sim: Simulator,
    pub integration_id: String,
    pub pool: sqlx::PgPool,
    launcher: Launcher,
    _api: Process,
}

impl Installation {
    /// Migrates a fresh database, makes a tenant, starts the api and relay and an
    /// integration for the simulated workspace `acme` with these faults.
    pub async fn start(faults: Faults) -> Self {
        let database_url = fresh_database().await;
        let prefix = unique_amqp_prefix();
        let launcher = Launcher::scratch(BINARY, &database_url, &amqp_url())
            .env("PROVISIONER_AMQP_PREFIX", &prefix)
            .env("PROVISIONER_AMQP_QUEUE_EXPIRY_SECONDS", "120")
            .env("PROVISIONER_PREFETCH", "10")
            // Several installations may run at once; PostgreSQL allows 100 connections.
            .env("PROVISIONER_DB_MAX_CONNECTIONS", "4");
        launcher.migrate().unwrap();
        let tenant = launcher.create_tenant("Acme").unwrap();
        let sim = Simulator::new();
        let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim_address = format!("http://{}", sim_listener.local_addr().unwrap());
        tokio::spawn(sim.clone().serve(sim_listener, std::future::pending()));
        sim.put_workspace("acme", "secret");
        sim.set_faults("acme", faults).unwrap();

        let listen = format!("127.0.0.1:{}", free_port().unwrap());
        let mut api_process = launcher.serve("api,relay", "api,relay", &listen).unwrap();
        let api = format!("http://{listen}");
        let client = reqwest::Client::new();
        api_process
            .wait_ready(&client, &format!("{api}/readyz"), WAIT)
            .await
            .unwrap();
        let token = tenant.token;
        let integration: Value = client
            .post(format!("{api}/v1/integrations"))
            .bearer_auth(&token)
            .json(&json!({"service": "scim", "workspace": "acme",
                          "base_url": format!("{sim_address}/scim/acme/v2"), "credentials": {"token": "secret"}}))
            .send().await.unwrap().json().await.unwrap();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(2)
            .connect(&database_url)
            .await
            .unwrap();
        Self {
            integration_id: integration["id"].as_str().unwrap().to_owned(),
            prefix,
            api,
            token,
            client,
            sim,
            pool,
            launcher,
            _api: api_process,
        }
    }

    /// Stops the api and relay, then deletes the installation's queues and exchanges;
    /// the test's other processes must be dropped first.
    pub async fn stop(self) {
        let prefix = self.prefix.clone();
        drop(self);
        let settings = crate::helpers::test_settings(String::new());
        let topology = provisioner_broker::Topology::new(prefix);
        let connection = provisioner_broker::connect(&settings.amqp_url, "test-cleanup")
            .await
            .expect("broker reachable for cleanup");
        let channel = connection.create_channel().await.unwrap();
        topology
            .delete(&channel)
            .await
            .expect("installation topology deleted");
        let _ = connection.close(200, "done".into()).await;
    }

    /// Starts one more process of the installation running `components`.
    pub fn run(&self, components: &str) -> Process {
        self.run_with(components, &[])
    }

    /// Like [`Installation::run`], with more environment.
    pub fn run_with(&self, components: &str, env: &[(&str, &str)]) -> Process {
        self.launcher
            .serve_with(components, components, "127.0.0.1:0", env)
            .unwrap()
    }

    /// Submits `count` requests for users `u0`, `u1`, …; every one must be accepted.
    pub async fn submit(&self, count: usize) {
        for n in 0..count {
            let account = json!({"user_name": format!("u{n}"), "email": format!("u{n}@example.com"),
                                 "given_name": "U", "family_name": "N"});
            let response = self
                .client
                .post(format!("{}/v1/provisioning-requests", self.api))
                .bearer_auth(&self.token)
                .json(&json!({"integration_id": self.integration_id, "account": account}))
                .send()
                .await
                .unwrap();
            let status = response.status();
            assert_eq!(status, 202, "{}", response.text().await.unwrap_or_default());
        }
    }

    pub async fn count(&self, sql: &str) -> usize {
        let (count,): (i64,) = sqlx::query_as(sql).fetch_one(&self.pool).await.unwrap();
        count as usize
    }

    /// Waits until the integration log holds at least `count` entries.
    pub async fn wait_for_log_entries(&self, count: usize, timeout: Duration) {
        eventually(timeout, "every request logged", || async {
            let (logged,): (i64,) = sqlx::query_as("SELECT count(*) FROM integration_log")
                .fetch_one(&self.pool)
                .await
                .ok()?;
            (logged as usize >= count).then_some(())
        })
        .await;
    }
}

/// Waits until `count` requests are in progress at a worker.
pub async fn eventually_in_progress(installation: &Installation, count: usize) {
    eventually(WAIT, "requests in progress", || async {
        let (held,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM provisioning_requests WHERE state = 'in_progress'",
        )
        .fetch_one(&installation.pool)
        .await
        .ok()?;
        (held as usize >= count).then_some(())
    })
    .await;
}
