//! A RabbitMQ node and a PostgreSQL cluster of the run's own, on free ports in a
//! directory of their own, so that restarting them disturbs nothing else on the machine.
//! Both are stopped and removed when dropped.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{bail, Context};
use provisioner_test_support::processes::free_port;
use tokio::process::Command;

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

/// `program` run as `user` when this process is root (the servers refuse to run as
/// root), and as the current user otherwise.
fn as_user(user: &str, program: &Path) -> std::process::Command {
    if is_root() {
        let mut command = std::process::Command::new("runuser");
        command.args(["-u", user, "--"]).arg(program);
        command
    } else {
        std::process::Command::new(program)
    }
}

async fn run(mut command: Command, what: &str) -> anyhow::Result<String> {
    let output = command
        .output()
        .await
        .with_context(|| format!("running {what}"))?;
    if !output.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn own_directory(root: &Path, name: &str, owner: &str) -> anyhow::Result<PathBuf> {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {dir:?}"))?;
    // Only root can hand the directory over; otherwise the servers run as us.
    let _ = std::process::Command::new("chown")
        .args(["-R", owner, &dir.to_string_lossy()])
        .stderr(std::process::Stdio::null())
        .status();
    Ok(dir)
}

pub struct RabbitNode {
    pub name: String,
    pub port: u16,
    dir: PathBuf,
}

impl RabbitNode {
    pub async fn start_new(root: &Path) -> anyhow::Result<Self> {
        let id = uuid::Uuid::new_v4().simple().to_string();
        let dir = own_directory(root, "rabbitmq", "rabbitmq")?;
        let port = free_port()?;
        let dist_port = free_port()?;
        std::fs::write(
            dir.join("rabbitmq.conf"),
            format!("listeners.tcp.local = 127.0.0.1:{port}\nloopback_users = none\n"),
        )?;
        std::fs::write(dir.join("enabled_plugins"), "[].\n")?;
        let node = Self {
            name: format!("chaos-{}@localhost", &id[..8]),
            port,
            dir,
        };
        node.write_env(dist_port)?;
        node.start().await?;
        Ok(node)
    }

    pub fn amqp_url(&self) -> String {
        format!("amqp://guest:guest@127.0.0.1:{}/%2f", self.port)
    }

    fn write_env(&self, dist_port: u16) -> anyhow::Result<()> {
        let dir = self.dir.to_string_lossy();
        let env = format!(
            "RABBITMQ_NODENAME={}\nRABBITMQ_CONFIG_FILE={dir}/rabbitmq\n\
             RABBITMQ_MNESIA_BASE={dir}/mnesia\nRABBITMQ_LOG_BASE={dir}/log\n\
             RABBITMQ_ENABLED_PLUGINS_FILE={dir}/enabled_plugins\n\
             RABBITMQ_DIST_PORT={dist_port}\nRABBITMQ_PID_FILE={dir}/pid\n",
            self.name
        );
        std::fs::write(self.dir.join("env"), env)?;
        Ok(())
    }

    fn server_command(&self, program: &str) -> anyhow::Result<Command> {
        let mut command = Command::new(program);
        for line in std::fs::read_to_string(self.dir.join("env"))?.lines() {
            if let Some((key, value)) = line.split_once('=') {
                command.env(key, value);
            }
        }
        Ok(command)
    }

    pub async fn start(&self) -> anyhow::Result<()> {
        let mut server = self.server_command("rabbitmq-server")?;
        server.arg("-detached");
        run(server, "rabbitmq-server -detached").await?;
        // The node registers its name a moment after it forks; until then the CLI
        // cannot even find it.
        let mut last = None;
        for _ in 0..60 {
            let mut wait = self.server_command("rabbitmqctl")?;
            wait.args(["-n", &self.name, "await_startup", "--timeout", "30"]);
            match run(wait, "rabbitmqctl await_startup").await {
                Ok(_) => return Ok(()),
                Err(error) => last = Some(error),
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        Err(last.unwrap_or_else(|| anyhow::anyhow!("the node did not start")))
            .with_context(|| format!("starting RabbitMQ node {}", self.name))
    }

    /// Stops the whole node (not just the app) and waits until its process is gone.
    pub async fn stop(&self) -> anyhow::Result<()> {
        let mut stop = self.server_command("rabbitmqctl")?;
        stop.args([
            "-n",
            &self.name,
            "stop",
            &self.dir.join("pid").to_string_lossy(),
        ]);
        run(stop, "rabbitmqctl stop").await.map(|_| ())
    }

    pub async fn restart(&self, down_for: Duration) -> anyhow::Result<()> {
        self.stop().await?;
        tokio::time::sleep(down_for).await;
        self.start().await
    }

    /// Messages in each queue, from the node itself.
    pub async fn queue_depths(&self) -> anyhow::Result<Vec<(String, u64)>> {
        let mut list = self.server_command("rabbitmqctl")?;
        list.args(["-n", &self.name, "-q", "list_queues", "name", "messages"]);
        list.args(["--formatter", "json"]);
        let text = run(list, "rabbitmqctl list_queues").await?;
        let queues: Vec<serde_json::Value> = serde_json::from_str(text.trim())
            .with_context(|| format!("rabbitmqctl list_queues printed {text:?}"))?;
        Ok(queues
            .iter()
            .filter_map(|queue| {
                let name = queue["name"].as_str()?.to_owned();
                Some((name, queue["messages"].as_u64()?))
            })
            .collect())
    }
}

impl Drop for RabbitNode {
    fn drop(&mut self) {
        let name = self.name.clone();
        let pid_file = self.dir.join("pid");
        let _ = std::process::Command::new("rabbitmqctl")
            .args(["-n", &name, "stop", &pid_file.to_string_lossy()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

pub struct PostgresCluster {
    pub port: u16,
    dir: PathBuf,
    bin: PathBuf,
}

impl PostgresCluster {
    pub async fn start_new(root: &Path) -> anyhow::Result<Self> {
        let dir = own_directory(root, "postgres", "postgres")?;
        let cluster = Self {
            port: free_port()?,
            bin: postgres_bin_dir()?,
            dir,
        };
        let mut initdb = cluster.tool("initdb");
        initdb.args([
            "-D",
            &cluster.data(),
            "-A",
            "trust",
            "-U",
            "postgres",
            "--no-sync",
        ]);
        run(initdb, "initdb").await?;
        cluster.start().await?;
        Ok(cluster)
    }

    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn data(&self) -> String {
        self.dir.join("data").to_string_lossy().into_owned()
    }

    fn tool(&self, name: &str) -> Command {
        Command::from(as_user("postgres", &self.bin.join(name)))
    }

    pub async fn start(&self) -> anyhow::Result<()> {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections=200",
            self.port,
            self.dir.to_string_lossy()
        );
        let log = self.dir.join("postgres.log");
        let mut start = self.tool("pg_ctl");
        start.args([
            "-D",
            &self.data(),
            "-o",
            &options,
            "-l",
            &log.to_string_lossy(),
        ]);
        start.args(["-w", "-t", "60", "start"]);
        run(start, "pg_ctl start").await.map(|_| ())
    }

    /// Stops as a crash would (`immediate`: no checkpoint, recovery on the next start).
    pub async fn crash(&self) -> anyhow::Result<()> {
        let mut stop = self.tool("pg_ctl");
        stop.args(["-D", &self.data(), "-m", "immediate", "-w", "stop"]);
        run(stop, "pg_ctl stop").await.map(|_| ())
    }

    pub async fn restart(&self, down_for: Duration) -> anyhow::Result<()> {
        self.crash().await?;
        tokio::time::sleep(down_for).await;
        self.start().await
    }
}

impl Drop for PostgresCluster {
    fn drop(&mut self) {
        let _ = as_user("postgres", &self.bin.join("pg_ctl"))
            .args(["-D", &self.data(), "-m", "immediate", "-w", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The newest installed server's programs (`initdb` and `pg_ctl` are not on PATH on
/// Debian).
fn postgres_bin_dir() -> anyhow::Result<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("no PostgreSQL server under /usr/lib/postgresql")?
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, bin)| bin)
        .context("no initdb under /usr/lib/postgresql/*/bin")
}
