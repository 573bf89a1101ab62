//! The harness on stand-ins for the binary (`sh` scripts), so that what it promises
//! holds without building or running the system.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use super::*;
use crate::eventually;

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("harness-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn sh(name: &str, script: &str, dir: &std::path::Path) -> Process {
    let mut command = Command::new("sh");
    command.args(["-c", script]);
    Process::spawn(name, command, dir.join(format!("{name}.log"))).unwrap()
}

/// The process's state letter in `/proc` (`T` while stopped), or `None` once reaped.
fn state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Waits for `process` to answer on a port nobody listens on.
async fn wait_on_a_silent_port(process: &mut Process, timeout: Duration) -> (String, HarnessError) {
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{}/readyz", free_port().unwrap());
    let error = process
        .wait_ready(&client, &url, timeout)
        .await
        .unwrap_err();
    (url, error)
}

/// A `provisioner` stand-in: prints a tenant, or logs its arguments and environment
/// and stays up until killed.
fn fake_binary(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("provisioner");
    let script = r#"#!/bin/sh
case "$1" in
  tenants) echo '{"tenant_id": "t-1", "token": "prv_x"}' ;;
  migrate) exit 3 ;;
  *) echo "args $* db=$DATABASE_URL listen=$PROVISIONER_LISTEN extra=$EXTRA" >&2; exec sleep 30 ;;
esac
"#;
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

#[tokio::test]
async fn a_killed_process_is_reaped_and_counts_as_exited() {
    let dir = scratch_dir();
    let mut process = sh("sleeper", "sleep 30", &dir);
    assert!(process.check_alive().is_ok());
    let pid = process.pid();
    process.kill();
    assert!(process.has_exited());
    assert_eq!(state(pid), None, "no zombie left behind");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn waiting_for_a_process_that_dies_fails_at_once_with_its_last_words() {
    let dir = scratch_dir();
    let mut process = sh("crasher", "echo 'cannot bind' >&2; exit 3", &dir);
    let started = std::time::Instant::now();
    let (_, error) = wait_on_a_silent_port(&mut process, Duration::from_secs(30)).await;
    assert!(started.elapsed() < Duration::from_secs(10));
    let text = error.to_string();
    assert!(matches!(error, HarnessError::Exited { .. }), "{text}");
    assert!(
        text.contains("crasher") && text.contains("cannot bind"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn waiting_for_a_process_that_never_answers_gives_up_at_the_deadline() {
    let dir = scratch_dir();
    let mut process = sh("silent", "sleep 30", &dir);
    let (url, error) = wait_on_a_silent_port(&mut process, Duration::from_millis(300)).await;
    assert!(
        matches!(&error, HarnessError::NotReady { url: named, .. } if *named == url),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_terminated_process_that_drains_exits_cleanly_and_one_that_hangs_is_killed() {
    let dir = scratch_dir();
    let mut graceful = sh(
        "graceful",
        "trap 'exit 0' TERM; while :; do sleep 0.05; done",
        &dir,
    );
    // The trap is set once the shell runs its first command.
    eventually(Duration::from_secs(5), "the shell to start", || async {
        (state(graceful.pid()) == Some('S')).then_some(())
    })
    .await;
    let (_, clean) = graceful.terminate(Duration::from_secs(10)).await;
    assert!(clean, "{}", graceful.log_tail(5));

    let mut stubborn = sh("stubborn", "trap '' TERM; sleep 30", &dir);
    let (took, clean) = stubborn.terminate(Duration::from_millis(300)).await;
    assert!(!clean);
    assert!(took < Duration::from_secs(5));
    assert!(stubborn.has_exited(), "killed after the bound");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_paused_process_is_stopped_until_it_is_resumed() {
    let dir = scratch_dir();
    let process = sh("pausable", "sleep 30", &dir);
    process.pause().unwrap();
    eventually(Duration::from_secs(5), "the stop", || async {
        (state(process.pid()) == Some('T')).then_some(())
    })
    .await;
    process.resume().unwrap();
    eventually(Duration::from_secs(5), "the resume", || async {
        (state(process.pid()) != Some('T')).then_some(())
    })
    .await;
    drop(process);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn the_launcher_gives_every_process_its_environment_and_a_log_of_its_own() {
    let dir = scratch_dir();
    let launcher =
        Launcher::new(fake_binary(&dir), "postgres://db", "amqp://mq", &dir).env("EXTRA", "shared");
    let tenant = launcher.create_tenant("Acme").unwrap();
    assert_eq!(
        (tenant.tenant_id.as_str(), tenant.token.as_str()),
        ("t-1", "prv_x")
    );
    let failed = launcher.migrate().unwrap_err();
    assert!(matches!(failed, HarnessError::Failed { .. }), "{failed}");

    let worker = launcher
        .serve_with("worker-1", "worker", "127.0.0.1:0", &[("EXTRA", "own")])
        .unwrap();
    assert_eq!(worker.log_path(), dir.join("worker-1.log"));
    let logged = eventually(Duration::from_secs(5), "the log line", || async {
        Some(worker.log()).filter(|log| !log.is_empty())
    })
    .await;
    assert_eq!(
        logged.trim(),
        "args serve --components worker db=postgres://db listen=127.0.0.1:0 extra=own"
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_scratch_log_is_removed_with_its_process() {
    let dir = scratch_dir();
    let launcher = Launcher::scratch(fake_binary(&dir), "postgres://db", "amqp://mq");
    let sim = launcher.sim("sim", "127.0.0.1:0").unwrap();
    let log = sim.log_path().to_owned();
    assert!(log.starts_with(std::env::temp_dir()) && log.exists());
    let keep = std::env::var_os(KEEP_LOGS_VAR).is_some();
    drop(sim);
    assert_eq!(log.exists(), keep);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_tenant_the_binary_cannot_print_is_an_error_that_shows_what_it_printed() {
    let launcher = Launcher::new("echo", "postgres://db", "amqp://mq", std::env::temp_dir());
    let error = launcher.create_tenant("Acme").unwrap_err();
    assert!(
        matches!(&error, HarnessError::Unreadable { stdout, .. } if stdout.contains("tenants create --name Acme")),
        "{error}"
    );
}
