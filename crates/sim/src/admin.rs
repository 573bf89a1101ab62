//! The admin API under `/_sim`: set up workspaces, inject faults, inspect what happened.
//! JSON without auth, because it is a test tool that never faces the internet.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

use crate::setup::WorkspaceSetup;
use crate::state::{Faults, SimError};
use crate::Simulator;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PutWorkspace {
    token: String,
}

/// `{"token": "…"}` is a SCIM workspace, as it always was; a body naming a `vendor`
/// sets up that vendor's workspace.
fn parse_setup(body: &[u8]) -> Result<WorkspaceSetup, String> {
    let names_vendor = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .is_some_and(|value| value.get("vendor").is_some());
    if names_vendor {
        let setup = serde_json::from_slice::<WorkspaceSetup>(body)
            .map_err(|error| format!("the body is not a valid workspace setup: {error}"))?;
        setup.check()?;
        return Ok(setup);
    }
    match serde_json::from_slice::<PutWorkspace>(body) {
        Ok(put) if put.token.is_empty() => Err("token must not be empty".into()),
        Ok(put) => Ok(WorkspaceSetup::Scim { token: put.token }),
        Err(error) => Err(format!("the body must be {{\"token\": \"…\"}}: {error}")),
    }
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
    match parse_setup(&body) {
        Ok(setup) => Json(sim.setup_workspace(&workspace, setup)).into_response(),
        Err(message) => refuse(StatusCode::BAD_REQUEST, message),
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
