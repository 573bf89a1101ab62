//! What the worker counts, named after what operators ask: how many requests ended how,
//! how long they took from acceptance, how the SaaS calls went, how often we waited.

use std::time::Instant;

use chrono::{DateTime, Utc};
use provisioner_core::{ConnectorFailure, ProvisionOutcome, RequestState};

pub(crate) fn request_finished(service: &str, state: RequestState, accepted_at: DateTime<Utc>) {
    let labels = [
        ("service", service.to_owned()),
        ("state", state.as_str().to_owned()),
    ];
    metrics::counter!("provisioner_request_outcomes_total", &labels).increment(1);
    let seconds = (Utc::now() - accepted_at).num_microseconds().unwrap_or(0) as f64 / 1e6;
    metrics::histogram!("provisioner_request_end_to_end_seconds", "service" => service.to_owned())
        .record(seconds.max(0.0));
}

pub(crate) fn connector_called(
    service: &str,
    started: Instant,
    result: &Result<ProvisionOutcome, ConnectorFailure>,
) {
    let outcome = match result {
        Ok(ProvisionOutcome::Created { .. }) => "created",
        Ok(ProvisionOutcome::AlreadyExists { .. }) => "already_exists",
        Ok(ProvisionOutcome::Linked { .. }) => "linked",
        Err(ConnectorFailure::RateLimited { .. }) => "rate_limited",
        Err(ConnectorFailure::Transient { .. }) => "transient",
        Err(ConnectorFailure::Permanent { .. }) => "permanent",
        Err(ConnectorFailure::AuthFailed { .. }) => "auth_failed",
    };
    let labels = [
        ("service", service.to_owned()),
        ("outcome", outcome.to_owned()),
    ];
    metrics::histogram!("provisioner_connector_call_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
}

pub(crate) fn retry_parked(service: &str, rate_limited: bool) {
    metrics::counter!("provisioner_retries_total", "service" => service.to_owned()).increment(1);
    if rate_limited {
        metrics::counter!("provisioner_rate_limited_waits_total", "service" => service.to_owned())
            .increment(1);
    }
}
