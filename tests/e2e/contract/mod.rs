//! Every answer and event an end-to-end test sees is checked against the published
//! contract (`schemas/openapi.yaml`, `schemas/events/`); what breaks it fails the test.
//!
//! With `CONTRACT_SUMMARY=<file>` each checked answer and event appends one line to the
//! file, so a run can count what was validated.

pub mod events;
pub mod proxy;
pub mod spec;
mod tests;

use std::io::Write;
use std::sync::{Arc, Mutex};

use spec::Verdict;

/// What one test app's answers and events did against the contract.
#[derive(Clone, Default)]
pub struct Findings {
    inner: Arc<Mutex<Recorded>>,
}

#[derive(Default)]
struct Recorded {
    breaches: Vec<String>,
    /// A test that publishes off-contract messages on purpose says so.
    events_off_contract_expected: bool,
}

impl Findings {
    pub fn record_response(&self, verdict: Verdict, status: u16) {
        let mut recorded = self.inner.lock().unwrap();
        match verdict {
            Verdict::Valid { operation } => summarise(&format!("response {operation} {status}")),
            Verdict::Unspecified => {}
            Verdict::Invalid(breach) => recorded.breaches.push(breach),
        }
    }

    pub fn record_event(&self, exchange: &str, verdict: Result<String, String>) {
        let mut recorded = self.inner.lock().unwrap();
        match verdict {
            Ok(schema) => summarise(&format!("event {schema}")),
            Err(_) if recorded.events_off_contract_expected => {}
            Err(breach) => recorded
                .breaches
                .push(format!("event on {exchange}: {breach}")),
        }
    }

    pub fn record_breach(&self, breach: String) {
        self.inner.lock().unwrap().breaches.push(breach);
    }

    /// For a test that puts malformed messages on the broker itself.
    pub fn expect_off_contract_events(&self) {
        self.inner.lock().unwrap().events_off_contract_expected = true;
    }

    /// Panics naming every breach seen so far.
    pub fn assert_kept(&self) {
        let breaches = std::mem::take(&mut self.inner.lock().unwrap().breaches);
        assert!(
            breaches.is_empty(),
            "the contract was broken:\n{}",
            breaches.join("\n")
        );
    }
}

fn summarise(line: &str) {
    let Some(path) = std::env::var_os("CONTRACT_SUMMARY") else {
        return;
    };
    if let Ok(mut file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
    {
        let _ = writeln!(file, "{line}");
    }
}
