//! What `/metrics` shows before anything has happened. A series appears only once
//! something touches it, so without this a fresh deployment answered an empty page and
//! its dashboards and alerts (a rate of failures, say) saw no series at all rather than
//! zero. Every counter whose label values are known up front — the catalog's services,
//! the end states, the exchanges messages are consumed from — is registered at zero,
//! next to the build and the process's own figures.

use provisioner_broker::Topology;
use provisioner_core::{RequestState, ServiceKey};

/// Registers the known series; counting from zero, never resetting one that a component
/// of this process already moved.
pub fn register(services: &[ServiceKey], topology: &Topology) {
    metrics::gauge!("provisioner_build_info", "version" => env!("CARGO_PKG_VERSION")).set(1.0);
    for name in [
        "provisioner_log_entries_total",
        "provisioner_stalled_requests_resent_total",
    ] {
        metrics::counter!(name).increment(0);
    }
    for service in services {
        for name in [
            "provisioner_requests_accepted_total",
            "provisioner_retries_total",
            "provisioner_rate_limited_waits_total",
            "provisioner_paced_waits_total",
        ] {
            metrics::counter!(name, "service" => service.as_str().to_owned()).increment(0);
        }
        for state in RequestState::ALL.into_iter().filter(|s| s.is_terminal()) {
            let labels = [
                ("service", service.as_str().to_owned()),
                ("state", state.as_str().to_owned()),
            ];
            metrics::counter!("provisioner_request_outcomes_total", &labels).increment(0);
        }
    }
    for exchange in [
        topology.requests_exchange(),
        topology.results_exchange(),
        topology.hr_exchange(),
    ] {
        metrics::counter!("provisioner_dead_letters_total", "exchange" => exchange).increment(0);
    }
}
