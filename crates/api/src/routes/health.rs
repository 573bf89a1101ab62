use crate::views::{Health, Readiness};
use crate::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

pub async fn alive() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Ready when both PostgreSQL and RabbitMQ answer.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let database = state.store.ping().await.is_ok();
    let broker = state.publisher.ping().await.is_ok();
    let status = if database && broker {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    let readiness = Readiness {
        status: word(database && broker),
        database: word(database),
        broker: word(broker),
    };
    (status, Json(readiness))
}

/// Prometheus text exposition: counters and histograms of this process.
pub async fn metrics(State(state): State<AppState>) -> impl axum::response::IntoResponse {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        (state.metrics)(),
    )
}
