use opentelemetry::trace::{SpanId, SpanKind};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SpanData};
use provisioner_broker::Topology;
use provisioner_test_support::eventually;
use serde_json::json;

use crate::helpers::{scim_account, spawn_app, WAIT};

#[tokio::test]
async fn a_callers_trace_id_follows_the_request_to_its_log_entry() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";

    let accepted: serde_json::Value = app
        .client
        .post(app.url("/v1/provisioning-requests"))
        .bearer_auth(&app.token)
        .header("traceparent", format!("00-{trace_id}-00f067aa0ba902b7-01"))
        .json(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = accepted["id"].as_str().unwrap();
    let request = app.wait_until_finished(id).await;
    assert_eq!(request["trace_id"], trace_id);
    let entry = app.wait_for_log_entry(id).await;
    assert_eq!(
        entry["trace_id"], trace_id,
        "through the worker and the result event"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_request_without_a_trace_gets_one_that_its_log_entry_shares() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;
    let trace_id = request["trace_id"].as_str().expect("a trace id");
    assert_eq!(trace_id.len(), 32);
    assert_eq!(app.wait_for_log_entry(&id).await["trace_id"], trace_id);
    app.stop().await;
}

/// What a test needs of one exported span.
fn attribute(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

fn trace_of(span: &SpanData) -> String {
    span.span_context.trace_id().to_string()
}

/// The one span of `kind` in `trace_id` whose parent is `parent` and whose attribute
/// `key` is `value`.
fn child<'a>(
    spans: &'a [SpanData],
    trace_id: &str,
    parent: &SpanData,
    kind: SpanKind,
    (key, value): (&str, &str),
) -> &'a SpanData {
    let found: Vec<&SpanData> = spans
        .iter()
        .filter(|s| trace_of(s) == trace_id && s.span_kind == kind)
        .filter(|s| attribute(s, key).as_deref() == Some(value))
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {kind:?} span with {key}={value} in trace {trace_id}: {found:#?}"
    );
    assert_eq!(
        found[0].parent_span_id,
        parent.span_context.span_id(),
        "{} continues {}",
        found[0].name,
        parent.name
    );
    found[0]
}

/// Every span one request leaves, from the HTTP accept to its log entry, in one trace
/// whose id is the request's `trace_id`, each the child of the one before.
fn assert_one_trace(spans: &[SpanData], trace_id: &str, topology: &Topology) -> SpanData {
    let servers: Vec<&SpanData> = spans
        .iter()
        .filter(|s| s.span_kind == SpanKind::Server && trace_of(s) == trace_id)
        .collect();
    assert_eq!(servers.len(), 1, "one server span in trace {trace_id}");
    let server = servers[0];
    assert_eq!(server.name, "POST /v1/provisioning-requests");
    assert_eq!(
        attribute(server, "http.request.method").as_deref(),
        Some("POST")
    );
    assert_eq!(
        attribute(server, "http.route").as_deref(),
        Some("/v1/provisioning-requests")
    );
    assert_eq!(
        attribute(server, "http.response.status_code").as_deref(),
        Some("202")
    );

    let destination = "messaging.destination.name";
    let accept = child(
        spans,
        trace_id,
        server,
        SpanKind::Producer,
        (destination, &topology.requests_exchange()),
    );
    assert_eq!(
        attribute(accept, "messaging.system").as_deref(),
        Some("rabbitmq")
    );
    assert_eq!(
        attribute(accept, "messaging.operation.type").as_deref(),
        Some("send")
    );
    let subscription = "messaging.destination.subscription.name";
    let worker = child(
        spans,
        trace_id,
        accept,
        SpanKind::Consumer,
        (subscription, &topology.requests_queue()),
    );
    assert_eq!(
        worker.name,
        format!("process {}", topology.requests_exchange())
    );
    assert_eq!(
        attribute(worker, "messaging.operation.type").as_deref(),
        Some("process")
    );
    let call = child(
        spans,
        trace_id,
        worker,
        SpanKind::Client,
        ("http.request.method", "POST"),
    );
    assert_eq!(
        attribute(call, "http.response.status_code").as_deref(),
        Some("201")
    );
    let result = child(
        spans,
        trace_id,
        worker,
        SpanKind::Producer,
        (destination, &topology.results_exchange()),
    );
    child(
        spans,
        trace_id,
        result,
        SpanKind::Consumer,
        (subscription, &topology.log_queue()),
    );
    server.clone()
}

#[tokio::test]
async fn one_requests_spans_share_its_trace_id_from_the_http_handler_to_the_projector() {
    let exporter = InMemorySpanExporter::default();
    let telemetry = provisioner::telemetry::init_with_exporter(exporter.clone());
    let app = spawn_app().await;
    let topology = provisioner::startup::topology(&app.settings);
    let integration_id = app.scim_integration("acme").await;

    // One request starts its own trace, one continues its caller's.
    let fresh = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let callers_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let callers_span = "00f067aa0ba902b7";
    let continued: serde_json::Value = app
        .client
        .post(app.url("/v1/provisioning-requests"))
        .bearer_auth(&app.token)
        .header(
            "traceparent",
            format!("00-{callers_trace}-{callers_span}-01"),
        )
        .json(&json!({"integration_id": integration_id, "account": scim_account("grace")}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let continued = continued["id"].as_str().unwrap().to_owned();

    for (id, expected) in [(&fresh, None), (&continued, Some(callers_trace))] {
        let request = app.wait_until_finished(id).await;
        let trace_id = request["trace_id"]
            .as_str()
            .expect("a stored trace id")
            .to_owned();
        if let Some(expected) = expected {
            assert_eq!(trace_id, expected);
        }
        assert_eq!(
            app.wait_for_log_entry(id).await["trace_id"],
            trace_id.as_str()
        );
        // The projector's span ends just after the entry is committed.
        let log_queue = topology.log_queue();
        let spans = eventually(WAIT, "the projector's span", || {
            telemetry.flush();
            let spans = exporter.get_finished_spans().unwrap();
            let done = spans.iter().any(|s| {
                trace_of(s) == trace_id
                    && attribute(s, "messaging.destination.subscription.name").as_deref()
                        == Some(log_queue.as_str())
            });
            std::future::ready(done.then_some(spans))
        })
        .await;
        let server = assert_one_trace(&spans, &trace_id, &topology);
        match expected {
            Some(_) => assert_eq!(server.parent_span_id.to_string(), callers_span),
            None => assert_eq!(server.parent_span_id, SpanId::INVALID, "a root span"),
        }
    }
    app.stop().await;
}
