//! The admin API under `/_sim`: set up workspaces, inject faults, inspect what happened.
//! JSON without auth, because it is a test tool that never faces the internet.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::state::{Faults, SimError};
use crate::Simulator;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutWorkspace {
    token: String,
}

fn refuse(status: StatusCode, message: String) -> Response {
    (status, Json(json!({"error": message}))).into_response()
}

fn unknown(workspace: &str) -> Response {
    let error = SimError::UnknownWorkspace(workspace.to_owned());
    refuse(StatusCode::NOT_FOUND, error.to_string())
}

pub(crate) async fn put_workspace(
    State(sim): State<Simulator>,
    Path(workspace): Path<String>,
    body: Bytes,
) -> Response {
    match serde_json::from_slice::<PutWorkspace>(&body) {
        Ok(put) if put.token.is_empty() => {
            refuse(StatusCode::BAD_REQUEST, "token must not be empty".into())
        }
        Ok(put) => Json(sim.put_workspace(&workspace, &put.token)).into_response(),
        Err(error) => refuse(
            StatusCode::BAD_REQUEST,
            format!("the body must be {{\"token\": \"…\"}}: {error}"),
        ),
    }
}

pub(crate) async fn get_workspace(
    State(sim): State<Simulator>,
    Path(workspace): Path<String>,
) -> Response {
    match sim.stats(&workspace) {
        Some(stats) => Json(stats).into_response(),
        None => unknown(&workspace),
    }
}

pub(crate) async fn list_users(
    State(sim): State<Simulator>,
    Path(workspace): Path<String>,
) -> Response {
    match sim.users(&workspace) {
        Some(users) => Json(users).into_response(),
        None => unknown(&workspace),
    }
}

pub(crate) async fn put_faults(
    State(sim): State<Simulator>,
    Path(workspace): Path<String>,
    body: Bytes,
) -> Response {
    // Every field is optional, so an empty body is as good as `{}`: no faults.
    let faults = if body.iter().all(u8::is_ascii_whitespace) {
        Ok(Faults::default())
    } else {
        serde_json::from_slice::<Faults>(&body)
    };
    let faults = match faults {
        Ok(faults) => faults,
        Err(error) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                format!("the body is not a valid set of faults: {error}"),
            )
        }
    };
    match sim.set_faults(&workspace, faults.clone()) {
        Ok(()) => Json(faults).into_response(),
        Err(SimError::UnknownWorkspace(_)) => unknown(&workspace),
        Err(error) => refuse(StatusCode::BAD_REQUEST, error.to_string()),
    }
}

pub(crate) async fn clear_faults(
    State(sim): State<Simulator>,
    Path(workspace): Path<String>,
) -> Response {
    match sim.clear_faults(&workspace) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(_) => unknown(&workspace),
    }
}
