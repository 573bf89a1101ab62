use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::AppState;

pub async fn alive() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when both PostgreSQL and RabbitMQ answer.
pub async fn ready(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let database = state.store.ping().await.is_ok();
    let broker = state.publisher.ping().await.is_ok();
    let status = if database && broker {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let word = |ok: bool| if ok { "ok" } else { "unavailable" };
    (
        status,
        Json(
            json!({"status": word(database && broker), "database": word(database), "broker": word(broker)}),
        ),
    )
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
