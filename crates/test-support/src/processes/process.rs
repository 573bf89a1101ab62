//! One child process: its own log file, signals by name, a readiness wait with a
//! deadline, and a SIGKILL and reap when it is dropped.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::HarnessError;

/// How many log lines an error shows of a process that died.
const TAIL_LINES: usize = 15;

/// Signals other than SIGKILL, which [`Process::kill`] sends (and reaps) itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Asks for a graceful stop: the binary drains what it holds, then exits.
    Term,
    /// Freezes the process as a long GC pause or a stalled VM would.
    Stop,
    /// Lets a stopped process run on.
    Cont,
}

impl Signal {
    fn name(self) -> &'static str {
        match self {
            Self::Term => "TERM",
            Self::Stop => "STOP",
            Self::Cont => "CONT",
        }
    }
}

pub struct Process {
    name: String,
    child: Child,
    log: PathBuf,
    remove_log: bool,
}

impl Process {
    /// Starts `command` with stdin and stdout closed and stderr, where the binary logs,
    /// appended to `log`.
    pub fn spawn(name: &str, mut command: Command, log: PathBuf) -> Result<Self, HarnessError> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|source| HarnessError::io(format!("creating {}", log.display()), source))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .map_err(|source| HarnessError::io(format!("starting {name}"), source))?;
        Ok(Self {
            name: name.to_owned(),
            child,
            log,
            remove_log: false,
        })
    }

    /// Deletes the log file when the process is dropped.
    pub(crate) fn removing_log_on_drop(mut self, remove: bool) -> Self {
        self.remove_log = remove;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Everything the process has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The last `lines` lines of its log, to explain a failure.
    pub fn log_tail(&self, lines: usize) -> String {
        let text = self.log();
        let all: Vec<&str> = text.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    /// How many requests this process finished (a worker logs each one).
    pub fn finished(&self) -> usize {
        self.log()
            .lines()
            .filter(|line| line.contains("request finished"))
            .count()
    }

    pub fn has_exited(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(Some(_)))
    }

    /// Fails, with the end of its log, if the process has already exited.
    pub fn check_alive(&mut self) -> Result<(), HarnessError> {
        let status = self
            .child
            .try_wait()
            .map_err(|source| HarnessError::io(format!("waiting for {}", self.name), source))?;
        match status {
            Some(status) => Err(HarnessError::Exited {
                name: self.name.clone(),
                status,
                tail: self.log_tail(TAIL_LINES),
            }),
            None => Ok(()),
        }
    }

    /// Waits until `url` answers below 500 (`/readyz` answers 503 until ready; the
    /// simulator's admin API 404 for an unknown workspace); fails at once if the
    /// process dies, and after `timeout` if it never answers.
    pub async fn wait_ready(
        &mut self,
        client: &reqwest::Client,
        url: &str,
        timeout: Duration,
    ) -> Result<(), HarnessError> {
        let started = Instant::now();
        loop {
            self.check_alive()?;
            if let Ok(response) = client.get(url).send().await {
                if !response.status().is_server_error() {
                    return Ok(());
                }
            }
            if started.elapsed() > timeout {
                return Err(HarnessError::NotReady {
                    name: self.name.clone(),
                    url: url.to_owned(),
                    timeout,
                    tail: self.log_tail(TAIL_LINES),
                });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL, as a crash or an OOM kill would end it: no drain, no goodbye to the
    /// broker or the database. Reaped at once, so its pid is not left a zombie.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends `signal` (through `kill(1)`: this workspace forbids `unsafe`, so no libc).
    pub fn signal(&self, signal: Signal) -> Result<(), HarnessError> {
        let what = || format!("sending SIG{} to {}", signal.name(), self.name);
        let status = Command::new("kill")
            .arg(format!("-{}", signal.name()))
            .arg(self.pid().to_string())
            .stderr(Stdio::null())
            .status()
            .map_err(|source| HarnessError::io(what(), source))?;
        if status.success() {
            Ok(())
        } else {
            Err(HarnessError::io(
                what(),
                std::io::Error::other(status.to_string()),
            ))
        }
    }

    /// SIGSTOP: the process holds its connections and claims but does nothing.
    pub fn pause(&self) -> Result<(), HarnessError> {
        self.signal(Signal::Stop)
    }

    /// SIGCONT after [`Process::pause`].
    pub fn resume(&self) -> Result<(), HarnessError> {
        self.signal(Signal::Cont)
    }

    /// Asks the process to stop (SIGTERM) and waits for it without blocking this
    /// runtime (a simulator it talks to may run on it); returns how long it took and
    /// whether it exited cleanly. A process still running after `within` is killed and
    /// counts as not clean.
    pub async fn terminate(&mut self, within: Duration) -> (Duration, bool) {
        let started = Instant::now();
        let _ = self.signal(Signal::Term);
        while started.elapsed() < within {
            if let Ok(Some(status)) = self.child.try_wait() {
                return (started.elapsed(), status.success());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.kill();
        (started.elapsed(), false)
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
        if self.remove_log {
            let _ = std::fs::remove_file(&self.log);
        }
    }
}
