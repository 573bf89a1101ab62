//! The system under test: `provisioner sim`, `serve --components api,relay`, a projector
//! and one or more workers, each its own process on the bench database and prefix.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::diagnose::open_fds;
use crate::env::Env;
use crate::load::ApiClient;
use crate::process::{free_port, wait_ready, Process};

const READY_TIMEOUT: Duration = Duration::from_secs(60);
/// Deliveries a worker holds at once: high enough that 100 ms at the service does not
/// limit one worker (1,000 in flight / 0.1 s = 10,000 jobs/s of headroom).
pub const WORKER_PREFETCH: &str = "1000";

pub struct System {
    binary: PathBuf,
    log_dir: PathBuf,
    database_url: String,
    amqp_url: String,
    prefix: String,
    pub client: reqwest::Client,
    pub api: String,
    pub sim: String,
    pub token: String,
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
            name: process.name.clone(),
            rss_kib: process.peak_rss_kib(),
            fds: open_fds(process.pid()),
        }
    }
}

impl System {
    pub async fn start(binary: &Path, env: &Env, log_dir: &Path) -> anyhow::Result<Self> {
        let status = Command::new(binary)
            .arg("migrate")
            .env("DATABASE_URL", &env.database_url)
            .env("PROVISIONER_LOG_FORMAT", "text")
            .status()
            .context("running provisioner migrate")?;
        if !status.success() {
            bail!("provisioner migrate failed: {status}");
        }
        let output = Command::new(binary)
            .args(["tenants", "create", "--name", "Bench"])
            .env("DATABASE_URL", &env.database_url)
            .output()
            .context("creating the bench tenant")?;
        let tenant: Value = serde_json::from_slice(&output.stdout)
            .with_context(|| format!("tenants create printed {:?}", output.stdout))?;
        let token = tenant["token"].as_str().context("no token")?.to_owned();

        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .build()?;
        let sim_port = free_port()?;
        let api_port = free_port()?;
        let mut system = Self {
            binary: binary.to_owned(),
            log_dir: log_dir.to_owned(),
            database_url: env.database_url.clone(),
            amqp_url: env.amqp_url.clone(),
            prefix: env.prefix.clone(),
            client,
            api: format!("http://127.0.0.1:{api_port}"),
            sim: format!("http://127.0.0.1:{sim_port}"),
            token,
            processes: Vec::new(),
            retired: Vec::new(),
        };
        let mut sim = Command::new(binary);
        sim.args(["sim", "--listen", &format!("127.0.0.1:{sim_port}")]);
        system
            .add(Process::spawn("sim", sim, log_dir)?, "/_sim/workspaces/-")
            .await?;
        let api = system.serve("api+relay", "api,relay", api_port)?;
        system.add(api, "/readyz").await?;
        system.start_component("projector", "projector").await?;
        system.start_component("worker-1", "worker").await?;
        Ok(system)
    }

    fn serve(&self, name: &str, components: &str, port: u16) -> anyhow::Result<Process> {
        let mut command = Command::new(&self.binary);
        command
            .args(["serve", "--components", components])
            .env("DATABASE_URL", &self.database_url)
            .env("AMQP_URL", &self.amqp_url)
            .env("PROVISIONER_AMQP_PREFIX", &self.prefix)
            .env("PROVISIONER_ALLOW_PRIVATE_NETWORKS", "true")
            .env("PROVISIONER_LISTEN", format!("127.0.0.1:{port}"))
            .env("PROVISIONER_PREFETCH", WORKER_PREFETCH);
        Process::spawn(name, command, &self.log_dir)
    }

    /// Starts a process that runs `components`, listening only for health and metrics.
    pub async fn start_component(&mut self, name: &str, components: &str) -> anyhow::Result<()> {
        let port = free_port()?;
        let process = self.serve(name, components, port)?;
        let base = format!("http://127.0.0.1:{port}");
        let mut process = process;
        wait_ready(
            &mut process,
            &self.client,
            &format!("{base}/readyz"),
            READY_TIMEOUT,
        )
        .await?;
        self.processes.push(process);
        Ok(())
    }

    async fn add(&mut self, mut process: Process, ready_path: &str) -> anyhow::Result<()> {
        let base = if process.name == "sim" {
            &self.sim
        } else {
            &self.api
        };
        let url = format!("{base}{ready_path}");
        wait_ready(&mut process, &self.client, &url, READY_TIMEOUT).await?;
        self.processes.push(process);
        Ok(())
    }

    pub fn api_client(&self) -> ApiClient {
        ApiClient {
            client: self.client.clone(),
            api: self.api.clone(),
            token: self.token.clone(),
        }
    }

    /// Stops the process named `name` (SIGKILL: its unacked deliveries go back to the
    /// queue), keeping its peak RSS for the report.
    pub fn stop(&mut self, name: &str) {
        if let Some(index) = self.processes.iter().position(|p| p.name == name) {
            let process = self.processes.remove(index);
            self.retired.push(Reading::of(&process));
        }
    }

    /// Fails if any process has died, so a figure never comes from a half-dead system.
    pub fn check_alive(&mut self) -> anyhow::Result<()> {
        self.processes.iter_mut().try_for_each(Process::check_alive)
    }

    /// A SCIM workspace in the simulator with `latency_ms` on every answer, and an
    /// integration on it; returns the integration id.
    pub async fn integration(&self, workspace: &str, latency_ms: u64) -> anyhow::Result<String> {
        let secret = format!("bench-{workspace}");
        self.client
            .put(format!("{}/_sim/workspaces/{workspace}", self.sim))
            .json(&json!({"token": secret}))
            .send()
            .await?
            .error_for_status()?;
        self.client
            .put(format!("{}/_sim/workspaces/{workspace}/faults", self.sim))
            .json(&json!({"latency_ms": latency_ms}))
            .send()
            .await?
            .error_for_status()?;
        let created: Value = self
            .client
            .post(format!("{}/v1/integrations", self.api))
            .bearer_auth(&self.token)
            .json(&json!({"service": "scim", "workspace": workspace,
                          "base_url": format!("{}/scim/{workspace}/v2", self.sim),
                          "credentials": {"token": secret}}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let id = created["id"].as_str().context("integration without id")?;
        Ok(id.to_owned())
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
        self.client
            .put(format!("{}/_sim/workspaces/{workspace}/faults", self.sim))
            .json(faults)
            .send()
            .await?
            .error_for_status()?;
        self.client
            .patch(format!("{}/v1/integrations/{id}", self.api))
            .bearer_auth(&self.token)
            .json(&json!({"requests_per_second": per_second}))
            .send()
            .await?
            .error_for_status()?;
        Ok(id)
    }

    /// A document of the simulator's admin API, such as a workspace's stats.
    pub async fn sim_get(&self, path: &str) -> anyhow::Result<Value> {
        let answer = self
            .client
            .get(format!("{}{path}", self.sim))
            .send()
            .await?
            .error_for_status()?;
        Ok(answer.json().await?)
    }

    /// Accounts the simulator holds in `workspace`: a check that the log is not lying.
    pub async fn sim_accounts(&self, workspace: &str) -> anyhow::Result<u64> {
        let stats: Value = self
            .client
            .get(format!("{}/_sim/workspaces/{workspace}", self.sim))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        stats["accounts"].as_u64().context("stats without accounts")
    }
}
