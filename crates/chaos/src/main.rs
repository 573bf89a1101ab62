//! `make chaos`: the full run, or a smaller one with flags; exits 1 unless nothing was
//! lost, left unfinished, duplicated, or logged wrongly.

use std::path::PathBuf;
use std::process::ExitCode;

use provisioner_chaos::Scenario;

const USAGE: &str = "usage: provisioner-chaos [--binary PATH] [--requests N] [--integrations N] \
[--workers N] [--kills N] [--small] [--keep]
  --binary    the provisioner binary to run (default: target/release/provisioner)
  --small     the smaller run of `make test` (300 requests, 2 kills, 10 s claim lease);
              flags after it change it further
  --keep      leave the work directory with every process's log";

#[tokio::main]
async fn main() -> ExitCode {
    let mut scenario = Scenario::full(PathBuf::from("target/release/provisioner"));
    let mut keep = false;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |what: &str| -> Option<usize> {
            let value = args.next().and_then(|v| v.parse().ok());
            if value.is_none() {
                eprintln!("{what} needs a number\n{USAGE}");
            }
            value
        };
        let parsed = match arg.as_str() {
            "--binary" => args
                .next()
                .map(|path| scenario.binary = PathBuf::from(path)),
            "--requests" => number("--requests").map(|n| scenario.requests = n),
            "--integrations" => number("--integrations").map(|n| scenario.integrations = n.max(1)),
            "--workers" => number("--workers").map(|n| scenario.workers = n.max(1)),
            "--kills" => number("--kills").map(|n| scenario.kills = n),
            "--small" => {
                scenario = Scenario::small(scenario.binary.clone());
                Some(())
            }
            "--keep" => {
                keep = true;
                Some(())
            }
            _ => None,
        };
        if parsed.is_none() {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    }
    let work_dir = std::env::temp_dir().join(format!("provisioner-chaos-{}", std::process::id()));
    eprintln!("chaos: working in {}", work_dir.display());
    // Ctrl-C drops the run, and with it the broker node, the database and every
    // process it started.
    let outcome = tokio::select! {
        outcome = scenario.run(work_dir.clone(), keep) => outcome,
        _ = tokio::signal::ctrl_c() => {
            eprintln!("chaos: interrupted; stopping everything it started");
            return ExitCode::from(130);
        }
    };
    match outcome {
        Ok(report) => {
            println!("{report}");
            if keep {
                println!("  logs: {}", work_dir.join("logs").display());
            }
            if report.passed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(error) => {
            eprintln!("chaos: the run could not be completed: {error:#}");
            ExitCode::FAILURE
        }
    }
}
