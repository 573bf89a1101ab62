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
