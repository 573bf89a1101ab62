//! The system under test as separate processes on the run's own broker and database:
//! the simulator, one api+relay, one projector and the workers.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{bail, Context};
use serde_json::{json, Value};

use crate::nodes::free_port;
use crate::process::Process;

/// Starts `provisioner serve` processes, all on the same database and broker.
struct Launcher {
    binary: PathBuf,
    log_dir: PathBuf,
    database_url: String,
    amqp_url: String,
    claim_lease_seconds: u64,
}

impl Launcher {
    fn serve(&self, name: &str, components: &str, listen: &str) -> anyhow::Result<Process> {
        let mut command = Command::new(&self.binary);
        command
            .args(["serve", "--components", components])
            .env("DATABASE_URL", &self.database_url)
            .env("AMQP_URL", &self.amqp_url)
            .env("PROVISIONER_LISTEN", listen)
            .env("PROVISIONER_ALLOW_PRIVATE_NETWORKS", "true")
            .env("PROVISIONER_PREFETCH", "50")
            .env("PROVISIONER_DB_MAX_CONNECTIONS", "8")
            .env("PROVISIONER_LOG_FORMAT", "text")
            .env(
                "PROVISIONER_CLAIM_LEASE_SECONDS",
                self.claim_lease_seconds.to_string(),
            );
        Process::spawn(name, command, &self.log_dir)
    }
}

pub struct System {
    launcher: Launcher,
    pub client: reqwest::Client,
    pub api: String,
    pub sim: String,
    pub token: String,
    pub sim_process: Process,
    pub api_process: Process,
    pub projector: Process,
    pub workers: Vec<Process>,
    started_workers: usize,
}

/// One simulated workspace and the integration that provisions into it.
pub struct Target {
    pub service: &'static str,
    pub sim_workspace: String,
    pub integration_id: String,
}

impl System {
    pub async fn start(
        binary: &Path,
        log_dir: &Path,
        database_url: &str,
        amqp_url: &str,
        workers: usize,
        claim_lease_seconds: u64,
    ) -> anyhow::Result<Self> {
        let status = Command::new(binary)
            .arg("migrate")
            .env("DATABASE_URL", database_url)
            .env("PROVISIONER_LOG_FORMAT", "text")
            .status()
            .context("running provisioner migrate")?;
        if !status.success() {
            bail!("provisioner migrate failed: {status}");
        }
        let output = Command::new(binary)
            .args(["tenants", "create", "--name", "Chaos"])
            .env("DATABASE_URL", database_url)
            .output()
            .context("creating the tenant")?;
        let tenant: Value = serde_json::from_slice(&output.stdout)
            .with_context(|| format!("tenants create printed {:?}", output.stdout))?;
        let token = tenant["token"].as_str().context("no token")?.to_owned();

        let sim_listen = format!("127.0.0.1:{}", free_port()?);
        let api_listen = format!("127.0.0.1:{}", free_port()?);
        let mut sim_command = Command::new(binary);
        sim_command
            .args(["sim", "--listen", &sim_listen])
            .env("PROVISIONER_LOG_FORMAT", "text");
        let sim_process = Process::spawn("sim", sim_command, log_dir)?;
        let launcher = Launcher {
            binary: binary.to_owned(),
            log_dir: log_dir.to_owned(),
            database_url: database_url.to_owned(),
            amqp_url: amqp_url.to_owned(),
            claim_lease_seconds,
        };
        let mut system = Self {
            api_process: launcher.serve("api", "api,relay", &api_listen)?,
            projector: launcher.serve("projector", "projector", "127.0.0.1:0")?,
            launcher,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()?,
            api: format!("http://{api_listen}"),
            sim: format!("http://{sim_listen}"),
            token,
            sim_process,
            workers: Vec::new(),
            started_workers: 0,
        };
        for _ in 0..workers {
            let worker = system.start_worker()?;
            system.workers.push(worker);
        }
        system.wait_ready().await?;
        Ok(system)
    }

    /// A new worker process, numbered in start order.
    pub fn start_worker(&mut self) -> anyhow::Result<Process> {
        self.started_workers += 1;
        let name = format!("worker-{}", self.started_workers);
        self.launcher.serve(&name, "worker", "127.0.0.1:0")
    }

    async fn wait_ready(&mut self) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let api = self.client.get(format!("{}/readyz", self.api)).send().await;
            let sim = self
                .client
                .get(format!("{}/_sim/workspaces/none", self.sim))
                .send()
                .await;
            if api.is_ok_and(|r| r.status().is_success()) && sim.is_ok() {
                return Ok(());
            }
            for process in [&mut self.api_process, &mut self.sim_process] {
                if process.has_exited() {
                    bail!("{} exited:\n{}", process.name, process.log_tail(20));
                }
            }
            if tokio::time::Instant::now() > deadline {
                bail!(
                    "the api did not become ready:\n{}",
                    self.api_process.log_tail(20)
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A simulated workspace of `service` with these faults, and an integration for it
    /// with these retry overrides.
    pub async fn add_target(
        &self,
        index: usize,
        service: &'static str,
        faults: &Value,
        retry: &Value,
    ) -> anyhow::Result<Target> {
        let name = format!("chaos-{index}");
        let secret = format!("secret-{index}-{}", uuid::Uuid::new_v4().simple());
        let (setup, workspace, path, credentials) = match service {
            "scim" => (
                json!({"token": secret}),
                name.clone(),
                format!("/scim/{name}/v2"),
                json!({"token": secret}),
            ),
            "slack" => (
                json!({"vendor": "slack", "token": secret}),
                name.clone(),
                "/scim/v2".to_owned(),
                json!({"token": secret}),
            ),
            "microsoft365" => (
                json!({"vendor": "microsoft", "tenant_id": name, "client_id": "chaos", "client_secret": secret}),
                name.clone(),
                "/v1.0".to_owned(),
                json!({"tenant_id": name, "client_id": "chaos", "client_secret": secret}),
            ),
            "zoom" => (
                json!({"vendor": "zoom", "account_id": name, "client_id": "chaos", "client_secret": secret}),
                name.clone(),
                "/v2".to_owned(),
                json!({"account_id": name, "client_id": "chaos", "client_secret": secret}),
            ),
            other => bail!("the chaos run has no set-up for {other}"),
        };
        self.sim_call(
            reqwest::Method::PUT,
            &format!("/_sim/workspaces/{name}"),
            &setup,
        )
        .await?;
        self.sim_call(
            reqwest::Method::PUT,
            &format!("/_sim/workspaces/{name}/faults"),
            faults,
        )
        .await?;
        let mut body = json!({"service": service, "workspace": workspace,
                              "base_url": format!("{}{path}", self.sim),
                              "credentials": credentials});
        if let (Some(body), Some(retry)) = (body.as_object_mut(), retry.as_object()) {
            body.extend(retry.clone());
        }
        let response = self
            .client
            .post(format!("{}/v1/integrations", self.api))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await?;
        let status = response.status();
        let created: Value = response.json().await?;
        if !status.is_success() {
            bail!("creating the {service} integration answered {status}: {created}");
        }
        Ok(Target {
            service,
            sim_workspace: name,
            integration_id: created["id"]
                .as_str()
                .context("no integration id")?
                .to_owned(),
        })
    }

    pub async fn sim_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: &Value,
    ) -> anyhow::Result<Value> {
        let response = self
            .client
            .request(method, format!("{}{path}", self.sim))
            .json(body)
            .send()
            .await?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("the simulator answered {status} to {path}: {answer}");
        }
        Ok(answer)
    }

    pub async fn sim_stats(&self, workspace: &str) -> anyhow::Result<Value> {
        let response = self
            .client
            .get(format!("{}/_sim/workspaces/{workspace}", self.sim))
            .send()
            .await?;
        Ok(response.error_for_status()?.json().await?)
    }

    /// Processes that ended without being told to (a worker killed by the run is
    /// replaced, so it does not count).
    pub fn exited_on_their_own(&mut self) -> Vec<String> {
        let mut exited = Vec::new();
        for process in [
            &mut self.sim_process,
            &mut self.api_process,
            &mut self.projector,
        ]
        .into_iter()
        .chain(self.workers.iter_mut())
        {
            if process.has_exited() {
                exited.push(format!("{}:\n{}", process.name, process.log_tail(10)));
            }
        }
        exited
    }
}

/// The account asked for as request `n`, in the shape the service's schema wants.
pub fn account(service: &str, n: usize) -> Value {
    let email = format!("user{n}@chaos.example");
    match service {
        "microsoft365" => {
            json!({"user_name": email, "given_name": "Chaos", "family_name": format!("User{n}")})
        }
        "zoom" => json!({"email": email, "given_name": "Chaos", "family_name": format!("User{n}")}),
        _ => json!({"user_name": format!("user{n}"), "email": email,
                    "given_name": "Chaos", "family_name": format!("User{n}")}),
    }
}
