//! The HTTP API (`../../schemas/openapi.yaml`). Handlers stay thin: they check the
//! caller, read the input into domain types, call the store, and answer.

mod auth;
mod console;
mod input;
mod parameters;
mod problem;
mod query;
mod routes;
mod traced;
mod views;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use axum::Router;
use provisioner_broker::Publisher;
use provisioner_connectors::Catalog;
use provisioner_hr_intake::Intake;
use provisioner_requests::Requests;
use provisioner_store::Store;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use problem::{FieldError, Problem};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub publisher: Arc<Publisher>,
    pub catalog: Arc<Catalog>,
    pub intake: Intake,
    /// The one way a provisioning request comes in.
    pub requests: Requests,
    /// Renders the process's metrics in the Prometheus text format.
    pub metrics: Arc<dyn Fn() -> String + Send + Sync>,
}

/// Every route the API serves, as `(method, path)` in OpenAPI's path syntax. A test
/// checks that this list, the router and `schemas/openapi.yaml` agree.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/v1/services"),
    ("GET", "/v1/integrations"),
    ("POST", "/v1/integrations"),
    ("GET", "/v1/integrations/{id}"),
    ("PATCH", "/v1/integrations/{id}"),
    ("POST", "/v1/integrations/{id}/check"),
    ("GET", "/v1/employees"),
    ("POST", "/v1/employees"),
    ("GET", "/v1/employees/{id}"),
    ("GET", "/v1/employees/{id}/accounts"),
    ("GET", "/v1/accounts"),
    ("GET", "/v1/accounts/{id}"),
    ("GET", "/v1/provisioning-requests"),
    ("POST", "/v1/provisioning-requests"),
    ("GET", "/v1/provisioning-requests/{id}"),
    ("POST", "/v1/provisioning-requests/{id}/replay"),
    ("POST", "/v1/replays"),
    ("GET", "/v1/integration-log"),
    ("GET", "/v1/provisioning-rules"),
    ("POST", "/v1/provisioning-rules"),
    ("DELETE", "/v1/provisioning-rules/{id}"),
    ("POST", "/v1/provisioning-rules/test"),
    ("POST", "/v1/hr/events"),
    ("POST", "/v1/hr/signing-secrets"),
    ("GET", "/v1/tokens"),
    ("POST", "/v1/tokens"),
    ("DELETE", "/v1/tokens/{id}"),
];

/// Request bodies are small JSON documents; anything bigger is refused unread.
const BODY_LIMIT_BYTES: usize = 64 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(routes::health::alive))
        .route("/readyz", get(routes::health::ready))
        .route("/metrics", get(routes::health::metrics))
        .route("/v1/services", get(routes::services::list))
        .route(
            "/v1/integrations",
            get(routes::integrations::list).post(routes::integrations::create),
        )
        .route(
            "/v1/integrations/{id}",
            get(routes::integrations::show).patch(routes::integrations::update),
        )
        .route(
            "/v1/integrations/{id}/check",
            post(routes::integrations::check),
        )
        .route(
            "/v1/employees",
            get(routes::employees::list).post(routes::employees::create),
        )
        .route("/v1/employees/{id}", get(routes::employees::show))
        .route(
            "/v1/employees/{id}/accounts",
            get(routes::accounts::of_employee),
        )
        .route("/v1/accounts", get(routes::accounts::list))
        .route("/v1/accounts/{id}", get(routes::accounts::show))
        .route(
            "/v1/provisioning-requests",
            get(routes::requests::list).post(routes::requests::submit),
        )
        .route(
            "/v1/provisioning-requests/{id}",
            get(routes::requests::show),
        )
        .route(
            "/v1/provisioning-requests/{id}/replay",
            post(routes::replays::replay_one),
        )
        .route("/v1/replays", post(routes::replays::replay_many))
        .route("/v1/integration-log", get(routes::log::list))
        .route(
            "/v1/tokens",
            get(routes::tokens::list).post(routes::tokens::create),
        )
        .route("/v1/tokens/{id}", delete(routes::tokens::revoke))
        .route(
            "/v1/provisioning-rules",
            get(routes::rules::list).post(routes::rules::create),
        )
        .route("/v1/provisioning-rules/{id}", delete(routes::rules::delete))
        .route("/v1/provisioning-rules/test", post(routes::rules::test))
        .route("/v1/hr/events", post(routes::hr::receive))
        .route("/v1/hr/signing-secrets", post(routes::hr::create_secret))
        .merge(console::routes())
        .fallback(|| async { Problem::no_route() })
        .method_not_allowed_fallback(|| async { Problem::method_not_allowed() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT_BYTES))
        .layer(axum::middleware::from_fn(parameters::checked))
        .layer(axum::middleware::from_fn(traced::traced))
        .with_state(state)
}

/// Only `/healthz`, `/readyz` and `/metrics`: what a process running no api still
/// answers, so every component can be probed and scraped.
pub fn ops_router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(routes::health::alive))
        .route("/readyz", get(routes::health::ready))
        .route("/metrics", get(routes::health::metrics))
        .fallback(|| async { Problem::no_route() })
        .with_state(state)
}

/// Serves `router` until `shutdown` is cancelled, then finishes the requests in hand.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: CancellationToken,
) -> std::io::Result<()> {
    tracing::info!(address = %listener.local_addr()?, "listening");
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
