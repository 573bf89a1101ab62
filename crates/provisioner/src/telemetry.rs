//! Logs go to stderr as JSON lines by default (one event per line, fields as keys), or
//! as text for a person at a terminal (`PROVISIONER_LOG_FORMAT=text`). `RUST_LOG`
//! filters.
//!
//! When `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set,
//! spans are also exported over OTLP (HTTP/protobuf), configured by the standard `OTEL_*`
//! variables: https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
//! Unset, no OpenTelemetry layer is installed, and spans cost what `tracing` spans cost.

use std::io::IsTerminal;
use std::time::Duration;

use async_trait::async_trait;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanExporter};
use opentelemetry_sdk::Resource;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, Registry};

const DEFAULT_LOG_FILTER: &str = "info,lapin=warn,sqlx=warn,tower_http=info";
/// Exported spans do not follow `RUST_LOG`: quieter logs must not cost the traces.
const EXPORT_FILTER: &str = "info,lapin=warn,sqlx=warn";

/// Keeps the span exporter of the process; dropping it sends the spans still buffered.
#[must_use = "dropping it at once stops the span export"]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

impl Telemetry {
    /// Sends every span ended so far to the exporter.
    pub fn flush(&self) {
        if let Some(provider) = &self.provider {
            let _ = provider.force_flush();
        }
    }
}

impl Drop for Telemetry {
    fn drop(&mut self) {
        if let Some(provider) = self.provider.take() {
            if let Err(error) = provider.shutdown() {
                tracing::warn!(error = %error, "spans still buffered could not be exported");
            }
        }
    }
}

/// Logging, and span export over OTLP when the environment asks for it. Call it inside
/// the Tokio runtime: the exporter sends on it.
pub fn init() -> Telemetry {
    let mut notes = Vec::new();
    let provider = match otlp_exporter(&mut notes) {
        Ok(Some(exporter)) => Some(
            SdkTracerProvider::builder()
                .with_resource(resource())
                .with_batch_exporter(exporter)
                .build(),
        ),
        Ok(None) => None,
        Err(error) => {
            notes.push(format!("spans are not exported: {error}"));
            None
        }
    };
    let telemetry = install(provider);
    for note in notes {
        tracing::warn!("{note}");
    }
    if telemetry.provider.is_some() {
        tracing::info!("exporting spans over OTLP");
    }
    telemetry
}

/// Logging and spans exported to `exporter` as each ends: for tests that read the spans
/// of one process (an in-memory exporter).
pub fn init_with_exporter(exporter: impl SpanExporter + 'static) -> Telemetry {
    install(Some(
        SdkTracerProvider::builder()
            .with_resource(resource())
            .with_simple_exporter(exporter)
            .build(),
    ))
}

fn install(provider: Option<SdkTracerProvider>) -> Telemetry {
    let log_filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_FILTER));
    let text = std::env::var("PROVISIONER_LOG_FORMAT").is_ok_and(|f| f == "text");
    let logs: Box<dyn Layer<Registry> + Send + Sync> = if text {
        tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .with_filter(log_filter)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .with_filter(log_filter)
            .boxed()
    };
    let spans = provider.as_ref().map(|provider| {
        tracing_opentelemetry::layer()
            .with_tracer(provider.tracer("provisioner"))
            .with_filter(EnvFilter::new(EXPORT_FILTER))
    });
    // try_init: a test process may already have a subscriber.
    let _ = tracing_subscriber::registry()
        .with(logs)
        .with(spans)
        .try_init();
    Telemetry { provider }
}

/// `OTEL_SERVICE_NAME` and `OTEL_RESOURCE_ATTRIBUTES` are read by the SDK; without a
/// service name from them, the service is `provisioner`.
fn resource() -> Resource {
    let named = std::env::var("OTEL_SERVICE_NAME").is_ok_and(|name| !name.is_empty())
        || std::env::var("OTEL_RESOURCE_ATTRIBUTES")
            .is_ok_and(|attributes| attributes.contains("service.name="));
    let builder = Resource::builder().with_attribute(opentelemetry::KeyValue::new(
        "service.version",
        env!("CARGO_PKG_VERSION"),
    ));
    if named {
        builder.build()
    } else {
        builder.with_service_name("provisioner").build()
    }
}

fn env_set(name: &str) -> bool {
    std::env::var(name).is_ok_and(|value| !value.trim().is_empty())
}

/// The OTLP exporter the environment asks for, if any. Endpoint, headers and timeout are
/// read by the exporter itself; the sampler and batching by the SDK.
fn otlp_exporter(
    notes: &mut Vec<String>,
) -> Result<Option<opentelemetry_otlp::SpanExporter>, String> {
    let asked =
        env_set("OTEL_EXPORTER_OTLP_ENDPOINT") || env_set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
    let disabled = std::env::var("OTEL_SDK_DISABLED").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
        || std::env::var("OTEL_TRACES_EXPORTER").is_ok_and(|v| v.eq_ignore_ascii_case("none"));
    if !asked || disabled {
        return Ok(None);
    }
    for variable in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        if let Ok(protocol) = std::env::var(variable) {
            if protocol != "http/protobuf" {
                notes.push(format!(
                    "{variable}={protocol} is not supported; spans are sent as http/protobuf"
                ));
            }
        }
    }
    let runtime = tokio::runtime::Handle::try_current()
        .map_err(|_| "no Tokio runtime to send them on".to_owned())?;
    let client = reqwest::Client::builder()
        .timeout(export_timeout())
        .build()
        .map_err(|error| format!("the HTTP client could not be built: {error}"))?;
    opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_http_client(OtlpClient { client, runtime })
        .build()
        .map(Some)
        .map_err(|error| error.to_string())
}

/// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT` or `OTEL_EXPORTER_OTLP_TIMEOUT`, in milliseconds;
/// 10 s as the specification says.
fn export_timeout() -> Duration {
    [
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "OTEL_EXPORTER_OTLP_TIMEOUT",
    ]
    .iter()
    .find_map(|variable| std::env::var(variable).ok()?.trim().parse().ok())
    .map_or(Duration::from_secs(10), Duration::from_millis)
}

/// The exporter's HTTP client: the reqwest the connectors already use, rather than a
/// second one. The batch processor exports from a thread of its own, so each call runs
/// on the process's Tokio runtime and is awaited from there.
#[derive(Debug)]
struct OtlpClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

#[async_trait]
impl HttpClient for OtlpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let request = reqwest::Request::try_from(request)?;
        let client = self.client.clone();
        let sent = self.runtime.spawn(async move {
            let response = client.execute(request).await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        });
        let (status, headers, body) = match sent.await? {
            Ok(answer) => answer,
            Err(error) => {
                tracing::warn!(error = %error, "the span collector could not be reached");
                return Err(error.into());
            }
        };
        if !status.is_success() {
            tracing::warn!(status = status.as_u16(), "the span collector refused spans");
        }
        let mut response = Response::builder().status(status).body(body)?;
        *response.headers_mut() = headers;
        Ok(response)
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
            process_metrics().describe();
            process_metrics().collect();
            keep_up(handle.clone());
            handle
        })
        .clone()
}

/// Resident memory, CPU seconds, open file descriptors, start time and the like, read
/// from the operating system whenever they are wanted.
fn process_metrics() -> &'static metrics_process::Collector {
    static COLLECTOR: std::sync::OnceLock<metrics_process::Collector> = std::sync::OnceLock::new();
    COLLECTOR.get_or_init(metrics_process::Collector::default)
}

/// The page `/metrics` answers, with the process's figures read just now.
pub fn scrape() -> String {
    let handle = metrics();
    process_metrics().collect();
    handle.render()
}

/// A recorder built by hand keeps every histogram sample until something drains it, and
/// only a scrape of `/metrics` does: a worker that nobody scraped grew with every
/// request it handled. A thread of its own folds the samples in every few seconds,
/// whatever runtime the process has.
fn keep_up(handle: metrics_exporter_prometheus::PrometheusHandle) {
    const EVERY: std::time::Duration = std::time::Duration::from_secs(5);
    let spawned = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || loop {
            std::thread::sleep(EVERY);
            process_metrics().collect();
            handle.run_upkeep();
        });
    if let Err(error) = spawned {
        tracing::warn!(error = %error, "metrics upkeep not started; histograms are drained only by scrapes");
    }
}
