//! A reverse proxy in front of the api under test: every answer a test sees passes
//! through it and is checked against `schemas/openapi.yaml` on its way.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::contract::spec::openapi;
use crate::contract::Findings;

#[derive(Clone)]
struct Upstream {
    address: String,
    client: reqwest::Client,
    findings: Findings,
}

/// Serves on a fresh port until `shutdown`, forwarding to `upstream`; returns its
/// address.
pub async fn start(upstream: String, findings: Findings, shutdown: CancellationToken) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
    let address = format!("http://{}", listener.local_addr().expect("proxy address"));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .build()
        .expect("proxy client");
    let router = Router::new().fallback(forward).with_state(Upstream {
        address: upstream,
        client,
        findings,
    });
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
    });
    address
}

async fn forward(State(upstream): State<Upstream>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| parts.uri.path().to_owned());
    let Ok(body) = to_bytes(body, usize::MAX).await else {
        return bad_gateway("the test's request body could not be read");
    };
    let sent_body = body.clone();
    let mut headers = parts.headers.clone();
    strip_hop_by_hop(&mut headers);
    headers.remove(header::HOST);
    headers.remove(header::CONTENT_LENGTH);
    let sent = upstream
        .client
        .request(
            parts.method.clone(),
            format!("{}{target}", upstream.address),
        )
        .headers(headers)
        .body(body.clone())
        .send()
        .await;
    let answer = match sent {
        Ok(answer) => answer,
        Err(error) => return bad_gateway(&format!("the api did not answer: {error}")),
    };
    let status = answer.status();
    let mut headers = answer.headers().clone();
    let Ok(bytes) = answer.bytes().await else {
        return bad_gateway("the api's answer broke off");
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let verdict = openapi().check(
        parts.method.as_str(),
        parts.uri.path(),
        status.as_u16(),
        content_type,
        &bytes,
    );
    upstream.findings.record_response(verdict, status.as_u16());
    if status.is_success() {
        if let Some(breach) = accepted_off_spec(parts.method.as_str(), parts.uri.path(), &sent_body)
        {
            upstream.findings.record_breach(breach);
        }
    }
    strip_hop_by_hop(&mut headers);
    headers.remove(header::CONTENT_LENGTH);
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    *response.headers_mut() = headers;
    response
}

/// A JSON body the api took (a 2xx) though the spec refuses it: the code is looser
/// than its contract.
pub fn accepted_off_spec(method: &str, path: &str, body: &[u8]) -> Option<String> {
    let body: serde_json::Value = serde_json::from_slice(body).ok()?;
    let errors = openapi().request_errors(method, path, &body)?;
    (!errors.is_empty()).then(|| {
        format!(
            "{method} {path} accepted a body the spec refuses: {}; body {body}",
            errors.join("; ")
        )
    })
}

fn strip_hop_by_hop(headers: &mut HeaderMap) {
    for name in [
        header::CONNECTION,
        header::TRANSFER_ENCODING,
        header::TE,
        header::UPGRADE,
        header::PROXY_AUTHORIZATION,
    ] {
        headers.remove(name);
    }
    headers.remove("keep-alive");
}

fn bad_gateway(why: &str) -> Response {
    let mut response = Response::new(Body::from(why.to_owned()));
    *response.status_mut() = StatusCode::BAD_GATEWAY;
    response
}
