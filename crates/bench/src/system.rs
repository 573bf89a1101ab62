//! The system under test: `provisioner sim`, `serve --components api,relay`, a projector
//! and one or more workers, each its own process on the bench database and prefix.

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use provisioner_test_support::processes::{free_port, ApiClient, Launcher, Process, SimAdmin};
use serde_json::{json, Value};

use crate::diagnose::open_fds;
use crate::env::Env;
use crate::procfs::peak_rss_kib;

const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Deliveries a worker holds at once: high enough that 100 ms at the service does not
/// limit one worker (1,000 in flight / 0.1 s = 10,000 jobs/s of headroom).
pub const WORKER_PREFETCH: &str = "1000";

pub struct System {
    launcher: Launcher,
    api: ApiClient,
    sim: SimAdmin,
    pub processes: Vec<Process>,
    /// Processes already stopped, read just before they were.
    pub retired: Vec<Reading>,
}

/// What the report shows of a process's memory.
#[derive(Clone)]
pub struct Reading {
    pub name: String,
    pub rss_kib: Option<u64>,
    pub fds: Option<usize>,
}

impl Reading {
    pub fn of(process: &Process) -> Self {
        Self {
            name: process.name().to_owned(),
            rss_kib: peak_rss_kib(process.pid()),
            fds: open_fds(process.pid()),
        }
    }
}

impl System {
    pub async fn start(binary: &Path, env: &Env, log_dir: &Path) -> anyhow::Result<Self> {
        let launcher = Launcher::new(binary, &env.database_url, &env.amqp_url, log_dir)
            .env("PROVISIONER_AMQP_PREFIX", &env.prefix)
            .env("PROVISIONER_PREFETCH", WORKER_PREFETCH)
            .env("PROVISIONER_LOG_FORMAT", "text");
        launcher.migrate()?;
        let tenant = launcher
            .create_tenant("Bench")
            .context("creating the bench tenant")?;
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()?;
        let sim_listen = format!("127.0.0.1:{}", free_port()?);
        let api_listen = format!("127.0.0.1:{}", free_port()?);
        let mut system = Self {
            api: ApiClient::new(client.clone(), &api_listen, tenant.token),
            sim: SimAdmin::new(client, &sim_listen),
            launcher,
            processes: Vec::new(),
            retired: Vec::new(),
        };
        let sim = system.launcher.sim("sim", &sim_listen)?;
        let sim_ready = format!("{}/_sim/workspaces/-", system.sim.base);
        system.add(sim, &sim_ready).await?;
        let api = system
            .launcher
            .serve("api+relay", "api,relay", &api_listen)?;
        let api_ready = format!("{}/readyz", system.api.api);
        system.add(api, &api_ready).await?;
        system.start_component("projector", "projector").await?;
        system.start_component("worker-1", "worker").await?;
        Ok(system)
    }

    /// Starts a process that runs `components`, listening only for health and metrics.
    pub async fn start_component(&mut self, name: &str, components: &str) -> anyhow::Result<()> {
        let listen = format!("127.0.0.1:{}", free_port()?);
        let process = self.launcher.serve(name, components, &listen)?;
        self.add(process, &format!("http://{listen}/readyz")).await
    }

    async fn add(&mut self, mut process: Process, ready_url: &str) -> anyhow::Result<()> {
        process
            .wait_ready(&self.api.client, ready_url, READY_TIMEOUT)
            .await?;
        self.processes.push(process);
        Ok(())
    }

    pub fn api_client(&self) -> ApiClient {
        self.api.clone()
    }

    /// Stops the process named `name` (SIGKILL: its unacked deliveries go back to the
    /// queue), keeping its peak RSS for the report.
    pub fn stop(&mut self, name: &str) {
        if let Some(index) = self.processes.iter().position(|p| p.name() == name) {
            let process = self.processes.remove(index);
            self.retired.push(Reading::of(&process));
        }
    }

    /// Fails if any process has died, so a figure never comes from a half-dead system.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        for process in &mut self.processes {
            process.check_alive()?;
        }
        Ok(())
    }

    /// A SCIM workspace in the simulator with `latency_ms` on every answer, and an
    /// integration on it; returns the integration id.
    pub async fn integration(&self, workspace: &str, latency_ms: u64) -> anyhow::Result<String> {
        let secret = format!("bench-{workspace}");
        self.sim
            .put_workspace(workspace, &json!({"token": secret}))
            .await?;
        self.sim
            .set_faults(workspace, &json!({"latency_ms": latency_ms}))
            .await?;
        let body = json!({"service": "scim", "workspace": workspace,
                          "base_url": format!("{}/scim/{workspace}/v2", self.sim.base),
                          "credentials": {"token": secret}});
        Ok(self.api.create_integration(&body).await?)
    }

    /// A SCIM workspace in the simulator with `faults`, and an integration on it paced
    /// to `per_second`; returns the integration id.
    pub async fn paced_integration(
        &self,
        workspace: &str,
        faults: &Value,
        per_second: f64,
    ) -> anyhow::Result<String> {
        let id = self.integration(workspace, 0).await?;
        self.sim.set_faults(workspace, faults).await?;
        self.api
            .update_integration(&id, &json!({"requests_per_second": per_second}))
            .await?;
        Ok(id)
    }

    /// A document of the simulator's admin API, such as a workspace's stats.
    pub async fn sim_get(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self.sim.get(path).await?)
    }

    /// Accounts the simulator holds in `workspace`: a check that the log is not lying.
    pub async fn sim_accounts(&self, workspace: &str) -> anyhow::Result<u64> {
        let stats = self.sim.stats(workspace).await?;
        stats["accounts"].as_u64().context("stats without accounts")
    }
}
