//! Logs go to stderr as JSON lines by default (one event per line, fields as keys), or
//! as text for a person at a terminal (`PROVISIONER_LOG_FORMAT=text`). `RUST_LOG`
//! filters.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,lapin=warn,sqlx=warn,tower_http=info"));
    let text = std::env::var("PROVISIONER_LOG_FORMAT").is_ok_and(|f| f == "text");
    let registry = tracing_subscriber::registry().with(filter);
    // try_init: a test process may already have a subscriber.
    if text {
        let _ = registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_writer(std::io::stderr),
            )
            .try_init();
    } else {
        let _ = registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .try_init();
    }
}

/// The process's metrics recorder, installed on first use. The `metrics` facade is
/// process-wide by design, so every component of a process shares it.
pub fn metrics() -> metrics_exporter_prometheus::PrometheusHandle {
    static HANDLE: std::sync::OnceLock<metrics_exporter_prometheus::PrometheusHandle> =
        std::sync::OnceLock::new();
    HANDLE
        .get_or_init(|| {
            // Seconds, from a fast SaaS answer to a slow retry series.
            let buckets = [
                0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
            ];
            let recorder = metrics_exporter_prometheus::PrometheusBuilder::new()
                .set_buckets(&buckets)
                .map(|builder| builder.build_recorder())
                .unwrap_or_else(|_| {
                    metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder()
                });
            let handle = recorder.handle();
            // Fails only if another recorder was installed first; then ours stays empty,
            // which tests of other recorders can live with.
            let _ = metrics::set_global_recorder(recorder);
            handle
        })
        .clone()
}
