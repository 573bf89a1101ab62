//! The HTTP client every connector shares: bounded in time and in what it reads, never
//! following redirects (a redirect could carry the bearer token to another host), and
//! turning transport errors into failures a worker knows how to handle.

use std::error::Error;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use provisioner_core::ConnectorFailure;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{Method, RequestBuilder, StatusCode};
use serde_json::Value;
use tracing::field::Empty;
use tracing::{Instrument, Span};
use url::Url;

use crate::failure::parse_retry_after;
use crate::net::{self, AddressRefused, Reach, Within};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpOptions {
    pub connect_timeout: Duration,
    /// For the whole call, body included.
    pub timeout: Duration,
    /// Bodies are read up to this size, so a misbehaving service cannot exhaust memory.
    pub max_body_bytes: usize,
    /// Lets connectors call loopback and private addresses (the simulator, tests); see
    /// `PROVISIONER_ALLOW_PRIVATE_NETWORKS` in API.md.
    pub allow_private_networks: bool,
    /// Refuses every address but 127.0.0.0/8 and ::1, whatever `allow_private_networks`
    /// says: for tests whose base URLs a fuzzer chooses, which must never reach beyond
    /// the machine (the vendors' default base URLs included).
    pub loopback_only: bool,
}

impl Default for HttpOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            timeout: Duration::from_secs(30),
            max_body_bytes: 1024 * 1024,
            allow_private_networks: false,
            loopback_only: false,
        }
    }
}

impl HttpOptions {
    /// The addresses calls are limited to; `None` when any address may be called.
    fn reach(&self) -> Option<Reach> {
        if self.loopback_only {
            Some(Reach::Loopback)
        } else if self.allow_private_networks {
            None
        } else {
            Some(Reach::Public)
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("could not build the HTTP client for connectors")]
pub struct HttpClientError(#[source] reqwest::Error);

/// Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    options: HttpOptions,
}

/// An answer read within the size cap.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub retry_after: Option<Duration>,
    /// For vendors that signal more than `Retry-After` in headers (GitHub's
    /// `x-ratelimit-*`).
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// The body was larger than the cap; `body` holds its beginning only.
    pub truncated: bool,
}

impl HttpClient {
    /// The default options: public addresses only.
    pub fn new() -> Result<Self, HttpClientError> {
        Self::with_options(HttpOptions::default())
    }

    pub fn with_options(options: HttpOptions) -> Result<Self, HttpClientError> {
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .timeout(options.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("provisioner/", env!("CARGO_PKG_VERSION")));
        if let Some(reach) = options.reach() {
            builder = builder.dns_resolver(Arc::new(Within(reach)));
        }
        let client = builder.build().map_err(HttpClientError)?;
        Ok(Self { client, options })
    }

    pub fn options(&self) -> &HttpOptions {
        &self.options
    }

    pub(crate) fn request(&self, method: Method, url: Url) -> RequestBuilder {
        self.client.request(method, url)
    }

    pub(crate) async fn send(&self, request: RequestBuilder) -> Result<Answer, ConnectorFailure> {
        let request = request
            .build()
            .map_err(|error| ConnectorFailure::Permanent {
                code: "invalid_request".into(),
                cause: format!(
                    "could not build the request: {}",
                    root_cause(&error.without_url())
                ),
            })?;
        let span = client_span(&request);
        let answer = self.exchange(request).instrument(span.clone()).await;
        match &answer {
            Ok(answer) => {
                span.record("http.response.status_code", answer.status.as_u16());
                if answer.status.is_client_error() || answer.status.is_server_error() {
                    span.record("error.type", answer.status.as_str());
                    span.record("otel.status_code", "ERROR");
                }
            }
            Err(failure) => {
                span.record("error.type", failure.code());
                span.record("otel.status_code", "ERROR");
            }
        }
        answer
    }

    async fn exchange(&self, request: reqwest::Request) -> Result<Answer, ConnectorFailure> {
        let host = request.url().host_str().unwrap_or("the service").to_owned();
        if let Some(reach) = self.options.reach() {
            net::check_literal(request.url(), reach).map_err(refused)?;
        }
        let mut response = self
            .client
            .execute(request)
            .await
            .map_err(|error| self.transport_failure(&host, &error))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, Utc::now()));

        let headers = response.headers().clone();
        let cap = self.options.max_body_bytes;
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| self.transport_failure(&host, &error))?
        {
            let room = cap - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break;
            }
            body.extend_from_slice(&chunk);
        }
        tracing::debug!(
            host,
            status = status.as_u16(),
            bytes = body.len(),
            truncated,
            "service answered"
        );
        Ok(Answer {
            status,
            retry_after,
            headers,
            body,
            truncated,
        })
    }

    fn transport_failure(&self, host: &str, error: &reqwest::Error) -> ConnectorFailure {
        if let Some(refusal) = net::refusal_in(error) {
            return refused(refusal.clone());
        }
        let reason = root_cause(error);
        let cause = if error.is_connect() && error.is_timeout() {
            let limit = self.options.connect_timeout;
            format!("could not connect to {host} within {limit:?}")
        } else if error.is_timeout() {
            let limit = self.options.timeout;
            format!("{host} did not answer within {limit:?}")
        } else if error.is_connect() {
            format!("could not connect to {host}: {reason}")
        } else if error.is_body() || error.is_decode() {
            format!("the answer from {host} was cut off: {reason}")
        } else {
            format!("the call to {host} failed: {reason}")
        };
        tracing::debug!(host, cause, "call to the service failed");
        ConnectorFailure::Transient { cause }
    }
}

impl Answer {
    /// The body of a success answer as JSON (`None` when it is not JSON); a body cut at
    /// the cap is a transient failure, because its end, and maybe the id, is missing.
    pub(crate) fn whole_json(&self) -> Result<Option<Value>, ConnectorFailure> {
        if self.truncated {
            return Err(ConnectorFailure::Transient {
                cause: format!(
                    "the service answered {} with a body larger than {} bytes, which \
                     connectors do not read",
                    self.status.as_u16(),
                    self.body.len()
                ),
            });
        }
        Ok(serde_json::from_slice(&self.body).ok())
    }

    /// The body of an error answer as JSON, when it is JSON and whole.
    pub(crate) fn error_json(&self) -> Option<Value> {
        serde_json::from_slice(&self.body).ok()
    }
}

fn refused(refusal: AddressRefused) -> ConnectorFailure {
    ConnectorFailure::Permanent {
        code: "address_not_allowed".into(),
        cause: refusal.to_string(),
    }
}

/// The client span of one call to a service, named by its method as OpenTelemetry's HTTP
/// conventions ask. `url.full` leaves out the query and any user info: lookups put
/// people's names and addresses there, and credentials never belong in a trace.
fn client_span(request: &reqwest::Request) -> Span {
    let url = request.url();
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let _ = shown.set_username("");
    let _ = shown.set_password(None);
    tracing::info_span!(
        "http.client",
        otel.name = %request.method(),
        otel.kind = "client",
        otel.status_code = Empty,
        http.request.method = %request.method(),
        server.address = url.host_str(),
        server.port = url.port_or_known_default(),
        url.full = %shown,
        http.response.status_code = Empty,
        error.type = Empty,
    )
}

/// The innermost error says what happened ("connection refused"); the outer ones only
/// repeat that a request failed, with the URL.
fn root_cause(error: &(dyn Error + 'static)) -> String {
    let mut innermost = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    innermost.to_string()
}
