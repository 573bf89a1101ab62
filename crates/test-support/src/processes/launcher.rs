//! The `provisioner` binary against one database and one broker: its CLI subcommands
//! (`migrate`, `tenants create`, `tokens create`) run to completion, and `serve` and
//! `sim` started as [`Process`]es, all with the same environment, as an operator's
//! shell would give them.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde::Deserialize;
use serde_json::Value;

use super::{HarnessError, Process};

/// Set (to anything) to keep the logs of a [`Launcher::scratch`] run, to read after it.
pub const KEEP_LOGS_VAR: &str = "KEEP_PROCESS_LOGS";

/// What `tenants create` prints.
#[derive(Debug, Clone, Deserialize)]
pub struct Tenant {
    pub tenant_id: String,
    /// A token with every scope.
    pub token: String,
}

#[derive(Debug, Clone)]
enum Logs {
    /// `{dir}/{name}.log`, left for the caller to read or remove.
    Dir(PathBuf),
    /// A uniquely named file in the temp directory, removed with its process.
    Scratch { keep: bool },
}

#[derive(Debug, Clone)]
pub struct Launcher {
    binary: PathBuf,
    logs: Logs,
    env: Vec<(String, String)>,
}

impl Launcher {
    /// Runs `binary` on `database_url` and `amqp_url`, each process logging to
    /// `{log_dir}/{name}.log`.
    pub fn new(
        binary: impl Into<PathBuf>,
        database_url: &str,
        amqp_url: &str,
        log_dir: impl Into<PathBuf>,
    ) -> Self {
        Self::with_logs(
            binary.into(),
            database_url,
            amqp_url,
            Logs::Dir(log_dir.into()),
        )
    }

    /// Like [`Launcher::new`], for tests: each log is a file of its own in the temp
    /// directory, removed when its process is dropped unless [`KEEP_LOGS_VAR`] is set.
    pub fn scratch(binary: impl Into<PathBuf>, database_url: &str, amqp_url: &str) -> Self {
        let keep = std::env::var_os(KEEP_LOGS_VAR).is_some();
        Self::with_logs(
            binary.into(),
            database_url,
            amqp_url,
            Logs::Scratch { keep },
        )
    }

    fn with_logs(binary: PathBuf, database_url: &str, amqp_url: &str, logs: Logs) -> Self {
        let launcher = Self {
            binary,
            logs,
            env: Vec::new(),
        };
        launcher
            .env("DATABASE_URL", database_url)
            .env("AMQP_URL", amqp_url)
            // The simulator and the test's own services listen on 127.0.0.1.
            .env("PROVISIONER_ALLOW_PRIVATE_NETWORKS", "true")
    }

    /// One more variable for every command and process; a later one wins.
    pub fn env(mut self, key: &str, value: impl Into<String>) -> Self {
        self.env.push((key.to_owned(), value.into()));
        self
    }

    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The binary with these arguments and the launcher's environment, not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .envs(self.env.iter().map(|(k, v)| (k, v)));
        command
    }

    /// Runs a subcommand to completion and returns what it printed, failed or not.
    pub fn output(&self, args: &[&str]) -> Result<Output, HarnessError> {
        self.command(args).output().map_err(|source| {
            HarnessError::io(format!("running provisioner {}", args.join(" ")), source)
        })
    }

    /// `migrate`: creates the database if needed and applies the migrations; what it
    /// logs goes where this process's output goes.
    pub fn migrate(&self) -> Result<(), HarnessError> {
        let status = self
            .command(&["migrate"])
            .status()
            .map_err(|source| HarnessError::io("running provisioner migrate", source))?;
        if !status.success() {
            return Err(HarnessError::Failed {
                command: "migrate".into(),
                status,
                stderr: "(printed above)".into(),
            });
        }
        Ok(())
    }

    /// `tenants create --name NAME`.
    pub fn create_tenant(&self, name: &str) -> Result<Tenant, HarnessError> {
        self.json(&["tenants", "create", "--name", name])
    }

    /// `tokens create` for `tenant_id` with comma-separated `scopes`.
    pub fn create_token(&self, tenant_id: &str, scopes: &str) -> Result<Value, HarnessError> {
        self.json(&[
            "tokens", "create", "--tenant", tenant_id, "--scopes", scopes,
        ])
    }

    fn json<T: serde::de::DeserializeOwned>(&self, args: &[&str]) -> Result<T, HarnessError> {
        let output = self.output(args)?;
        let command = args.join(" ");
        if !output.status.success() {
            return Err(HarnessError::Failed {
                command,
                status: output.status,
                stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        serde_json::from_slice(&output.stdout).map_err(|source| HarnessError::Unreadable {
            command,
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            source,
        })
    }

    /// `serve --components COMPONENTS`, listening on `listen` (the api, or only health,
    /// readiness and metrics).
    pub fn serve(
        &self,
        name: &str,
        components: &str,
        listen: &str,
    ) -> Result<Process, HarnessError> {
        self.serve_with(name, components, listen, &[])
    }

    /// Like [`Launcher::serve`], with more environment for this process alone.
    pub fn serve_with(
        &self,
        name: &str,
        components: &str,
        listen: &str,
        env: &[(&str, &str)],
    ) -> Result<Process, HarnessError> {
        let mut command = self.command(&["serve", "--components", components]);
        command
            .env("PROVISIONER_LISTEN", listen)
            .envs(env.iter().copied());
        self.spawn(name, command)
    }

    /// `sim --listen LISTEN`: the SaaS simulator as a process of its own.
    pub fn sim(&self, name: &str, listen: &str) -> Result<Process, HarnessError> {
        self.spawn(name, self.command(&["sim", "--listen", listen]))
    }

    fn spawn(&self, name: &str, command: Command) -> Result<Process, HarnessError> {
        match &self.logs {
            Logs::Dir(dir) => Process::spawn(name, command, dir.join(format!("{name}.log"))),
            Logs::Scratch { keep } => {
                let file = format!("provisioner-{name}-{}.log", uuid::Uuid::new_v4());
                let process = Process::spawn(name, command, std::env::temp_dir().join(file))?;
                Ok(process.removing_log_on_drop(!keep))
            }
        }
    }
}
