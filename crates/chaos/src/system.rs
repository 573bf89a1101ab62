//! The system under test as separate processes on the run's own broker and database:
//! the simulator, one api+relay, one projector and the workers.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context};
use provisioner_test_support::processes::{free_port, ApiClient, Launcher, Process, SimAdmin};
use serde_json::{json, Value};

const READY_TIMEOUT: Duration = Duration::from_secs(60);

pub struct System {
    launcher: Launcher,
    pub api: ApiClient,
    pub sim: SimAdmin,
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
        let launcher = Launcher::new(binary, database_url, amqp_url, log_dir)
            .env("PROVISIONER_PREFETCH", "50")
            .env("PROVISIONER_DB_MAX_CONNECTIONS", "8")
            .env("PROVISIONER_LOG_FORMAT", "text")
            .env(
                "PROVISIONER_CLAIM_LEASE_SECONDS",
                claim_lease_seconds.to_string(),
            );
        launcher.migrate()?;
        let tenant = launcher
            .create_tenant("Chaos")
            .context("creating the tenant")?;
        let sim_listen = format!("127.0.0.1:{}", free_port()?);
        let api_listen = format!("127.0.0.1:{}", free_port()?);
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()?;
        let mut system = Self {
            sim_process: launcher.sim("sim", &sim_listen)?,
            api_process: launcher.serve("api", "api,relay", &api_listen)?,
            projector: launcher.serve("projector", "projector", "127.0.0.1:0")?,
            launcher,
            api: ApiClient::new(client.clone(), &api_listen, tenant.token),
            sim: SimAdmin::new(client, &sim_listen),
            workers: Vec::new(),
            started_workers: 0,
        };
        for _ in 0..workers {
            let worker = system.start_worker()?;
            system.workers.push(worker);
        }
        let api_ready = format!("{}/readyz", system.api.api);
        let sim_ready = format!("{}/_sim/workspaces/none", system.sim.base);
        let client = &system.api.client;
        system
            .api_process
            .wait_ready(client, &api_ready, READY_TIMEOUT)
            .await?;
        system
            .sim_process
            .wait_ready(client, &sim_ready, READY_TIMEOUT)
            .await?;
        Ok(system)
    }

    /// A new worker process, numbered in start order.
    pub fn start_worker(&mut self) -> anyhow::Result<Process> {
        self.started_workers += 1;
        let name = format!("worker-{}", self.started_workers);
        Ok(self.launcher.serve(&name, "worker", "127.0.0.1:0")?)
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
        let (setup, path, credentials) = match service {
            "scim" => (
                json!({"token": secret}),
                format!("/scim/{name}/v2"),
                json!({"token": secret}),
            ),
            "slack" => (
                json!({"vendor": "slack", "token": secret}),
                "/scim/v2".to_owned(),
                json!({"token": secret}),
            ),
            "microsoft365" => (
                json!({"vendor": "microsoft", "tenant_id": name, "client_id": "chaos", "client_secret": secret}),
                "/v1.0".to_owned(),
                json!({"tenant_id": name, "client_id": "chaos", "client_secret": secret}),
            ),
            "zoom" => (
                json!({"vendor": "zoom", "account_id": name, "client_id": "chaos", "client_secret": secret}),
                "/v2".to_owned(),
                json!({"account_id": name, "client_id": "chaos", "client_secret": secret}),
            ),
            other => bail!("the chaos run has no set-up for {other}"),
        };
        self.sim.put_workspace(&name, &setup).await?;
        self.sim.set_faults(&name, faults).await?;
        let mut body = json!({"service": service, "workspace": name,
                              "base_url": format!("{}{path}", self.sim.base),
                              "credentials": credentials});
        if let (Some(body), Some(retry)) = (body.as_object_mut(), retry.as_object()) {
            body.extend(retry.clone());
        }
        let integration_id = self
            .api
            .create_integration(&body)
            .await
            .with_context(|| format!("creating the {service} integration"))?;
        Ok(Target {
            service,
            sim_workspace: name,
            integration_id,
        })
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
                exited.push(format!("{}:\n{}", process.name(), process.log_tail(10)));
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
