//! One trace per request, from the HTTP accept through the broker, the worker and the
//! SaaS call to the log entry.
//!
//! The trace id is chosen once, where a request enters (a caller's `traceparent`, or a new
//! trace), stored with the request and carried in every message about it as a W3C
//! [`TraceParent`]. Spans are `tracing` spans. When the process exports them (the
//! OpenTelemetry layer is installed), [`follow`] makes a span's OpenTelemetry parent that
//! trace, so the exported trace id is the stored one, and [`handed_on`] gives the context
//! to pass on, naming the span that passes it. Without the layer both are no-ops and the
//! spans cost what `tracing` spans cost.
//!
//! Names and attributes follow OpenTelemetry's semantic conventions for HTTP
//! (https://opentelemetry.io/docs/specs/semconv/http/http-spans/) and messaging
//! (https://opentelemetry.io/docs/specs/semconv/messaging/rabbitmq/).

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use provisioner_core::trace::TraceParent;
use tracing::field::Empty;
use tracing::{Level, Span};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Makes `span` part of `trace`. A span opened inside work of the same trace already
/// descends from the span it runs in and keeps that parent; one that picks a trace up
/// from outside (a header, a stored id) continues it from the span the trace names.
/// Call it before the span is first entered.
pub fn follow(span: &Span, trace: &TraceParent) {
    let Some(remote) = span_context(trace) else {
        return;
    };
    if Context::current().span().span_context().trace_id() == remote.trace_id() {
        return;
    }
    // An error means no exporting layer, or a span filtered out: nothing to link.
    let _ = span.set_parent(Context::new().with_remote_span_context(remote));
}

/// The context that work under `span` hands on (to a message header, a stored row): the
/// span's own trace and id when spans are exported, `None` when they are not.
pub fn handed_on(span: &Span) -> Option<TraceParent> {
    let context = span.context();
    let otel_span = context.span();
    let span_context = otel_span.span_context();
    if !span_context.is_valid() {
        return None;
    }
    TraceParent::parse(&format!(
        "00-{}-{}-{:02x}",
        span_context.trace_id(),
        span_context.span_id(),
        span_context.trace_flags().to_u8()
    ))
}

fn span_context(trace: &TraceParent) -> Option<SpanContext> {
    let trace_id = TraceId::from_hex(trace.trace_id()).ok()?;
    let span_id = SpanId::from_hex(trace.parent_id()).ok()?;
    let flags = if trace.sampled() {
        TraceFlags::SAMPLED
    } else {
        TraceFlags::default()
    };
    Some(SpanContext::new(
        trace_id,
        span_id,
        flags,
        true,
        TraceState::default(),
    ))
}

/// The server span of one HTTP request, named `{method} {route}` (the method alone when
/// no route matched). Probes and scrapes get a debug-level span, so that the default
/// filter neither logs nor exports them every few seconds.
pub fn http_server(method: &str, route: Option<&str>, path: &str) -> Span {
    let name = match route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    macro_rules! server_span {
        ($level:expr) => {
            tracing::span!(
                $level,
                "http.server",
                otel.name = name,
                otel.kind = "server",
                otel.status_code = Empty,
                http.request.method = method,
                http.route = route,
                url.path = path,
                http.response.status_code = Empty,
                trace_id = Empty,
            )
        };
    }
    if matches!(path, "/healthz" | "/readyz" | "/metrics") {
        server_span!(Level::DEBUG)
    } else {
        server_span!(Level::INFO)
    }
}

/// Records the answer on a span from [`http_server`]; a server error marks the span
/// failed, a client's mistake does not.
pub fn record_http_status(span: &Span, status: u16) {
    span.record("http.response.status_code", status);
    if status >= 500 {
        span.record("otel.status_code", "ERROR");
    }
}

/// The span of one publish to `exchange` (the default exchange is `""`, as the
/// conventions ask).
pub fn producer(exchange: &str, routing_key: &str, message_id: Option<&str>) -> Span {
    tracing::info_span!(
        "publish",
        otel.name = span_name("publish", exchange),
        otel.kind = "producer",
        otel.status_code = Empty,
        error.type = Empty,
        messaging.system = "rabbitmq",
        messaging.operation.type = "send",
        messaging.operation.name = "publish",
        messaging.destination.name = exchange,
        messaging.rabbitmq.destination.routing_key = routing_key,
        messaging.message.id = message_id,
    )
}

/// `{operation} {exchange}`, or the operation alone for the default exchange (`""`), as
/// the messaging conventions name spans.
fn span_name(operation: &str, exchange: &str) -> String {
    if exchange.is_empty() {
        operation.to_owned()
    } else {
        format!("{operation} {exchange}")
    }
}

/// What one delivery was, for its [`consumer`] span.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryFacts<'a> {
    pub queue: &'a str,
    pub exchange: &'a str,
    pub routing_key: &'a str,
    pub message_id: Option<&'a str>,
    pub delivery_tag: u64,
}

/// The span of handling one delivery, named after the exchange it was published to.
pub fn consumer(delivery: DeliveryFacts<'_>) -> Span {
    tracing::info_span!(
        "process",
        otel.name = span_name("process", delivery.exchange),
        otel.kind = "consumer",
        otel.status_code = Empty,
        error.type = Empty,
        messaging.system = "rabbitmq",
        messaging.operation.type = "process",
        messaging.operation.name = "process",
        messaging.destination.name = delivery.exchange,
        messaging.destination.subscription.name = delivery.queue,
        messaging.rabbitmq.destination.routing_key = delivery.routing_key,
        messaging.rabbitmq.message.delivery_tag = delivery.delivery_tag,
        messaging.message.id = delivery.message_id,
        trace_id = Empty,
    )
}

/// Marks `span` failed with a short, low-cardinality class of error (`error.type`).
pub fn record_error(span: &Span, error_type: &str) {
    span.record("otel.status_code", "ERROR");
    span.record("error.type", error_type);
}

#[cfg(test)]
mod tests {
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider};
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    #[test]
    fn a_span_continues_the_trace_it_is_given_and_hands_on_its_own_id() {
        let exporter = InMemorySpanExporter::default();
        // Kept to the end: a provider dropped shuts down and exports nothing more.
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("test"));
        let subscriber = tracing_subscriber::registry().with(layer);
        let incoming =
            TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        let handed = tracing::subscriber::with_default(subscriber, || {
            let span = producer("provisioning", "request.scim", Some("42"));
            follow(&span, &incoming);
            let handed = handed_on(&span).expect("exported spans hand on their context");
            let child = span.in_scope(|| {
                let child = producer("provisioning", "request.scim", None);
                follow(&child, &handed);
                handed_on(&child).unwrap()
            });
            drop(span);
            (handed, child)
        });
        let (handed, child) = handed;
        assert_eq!(handed.trace_id(), incoming.trace_id());
        assert_ne!(handed.parent_id(), incoming.parent_id());
        assert_eq!(child.trace_id(), incoming.trace_id());

        let spans = exporter.get_finished_spans().unwrap();
        let outer = spans
            .iter()
            .find(|s| s.span_context.span_id().to_string() == handed.parent_id())
            .unwrap();
        assert_eq!(outer.parent_span_id.to_string(), incoming.parent_id());
        assert_eq!(outer.name, "publish provisioning");
        let inner = spans
            .iter()
            .find(|s| s.span_context.span_id().to_string() == child.parent_id())
            .unwrap();
        assert_eq!(
            inner.parent_span_id,
            outer.span_context.span_id(),
            "a local parent is kept"
        );
    }

    #[test]
    fn without_an_exporting_layer_nothing_is_handed_on() {
        let subscriber = tracing_subscriber::registry();
        tracing::subscriber::with_default(subscriber, || {
            let span = http_server(
                "POST",
                Some("/v1/provisioning-requests"),
                "/v1/provisioning-requests",
            );
            follow(&span, &TraceParent::new_root());
            assert!(handed_on(&span).is_none());
        });
    }
}
