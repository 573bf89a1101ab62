//! The server span of every API request, and the trace the request belongs to.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use provisioner_core::trace::TraceParent;
use tracing::Instrument;

/// Runs the request in a server span of the caller's trace (`traceparent`) or of a new
/// one, and hands that trace to handlers as an extension, so that what they store and
/// publish belongs to it: the trace id a request keeps is its server span's.
pub(crate) async fn traced(mut request: Request, next: Next) -> Response {
    let incoming = request
        .headers()
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .and_then(TraceParent::parse);
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned());
    let span = provisioner_trace::http_server(
        request.method().as_str(),
        route.as_deref(),
        request.uri().path(),
    );
    if let Some(trace) = &incoming {
        provisioner_trace::follow(&span, trace);
    }
    let trace = provisioner_trace::handed_on(&span)
        .or(incoming)
        .unwrap_or_else(TraceParent::new_root);
    span.record("trace_id", trace.trace_id());
    request.extensions_mut().insert(trace);

    let started = Instant::now();
    let response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    provisioner_trace::record_http_status(&span, status);
    tracing::debug!(parent: &span, status, latency_ms = started.elapsed().as_millis() as u64, "answered");
    response
}
