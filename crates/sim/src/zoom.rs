//! Zoom's users API (`/v2/users`, `/v2/users/{userId}`) and its Server-to-Server OAuth
//! token endpoint (`POST /oauth/token?grant_type=account_credentials&account_id=…` with
//! the app's client credentials as Basic auth). Access tokens name the account's
//! workspace. Errors are Zoom's `{"code", "message"}`; an email already in the account
//! is 409 with code 1005, an unknown user 404 with code 1001 (or 400 with code 1120,
//! as Zoom also answers it), a refused token 401 with code 124
//! (<https://developers.zoom.us/docs/api/errors>).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::faults::Documented;
use crate::gate::answer_by_token;
use crate::oauth::{basic_credentials, token_answer};
use crate::scim::Call;
use crate::setup::{Vendor, WorkspaceSetup};
use crate::state::{FailCreates, Workspace};
use crate::Simulator;

const ACTIONS: [&str; 4] = ["create", "autoCreate", "custCreate", "ssoCreate"];
const TYPES: [i64; 4] = [1, 2, 4, 99];

fn error(status: StatusCode, code: i64, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

fn unauthorized() -> Response {
    error(StatusCode::UNAUTHORIZED, 124, "Invalid access token.")
}

fn oauth_error(status: StatusCode, error: &str, reason: &str) -> Response {
    (status, Json(json!({"reason": reason, "error": error}))).into_response()
}

pub(crate) async fn token(
    State(sim): State<Simulator>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    if params.get("grant_type").map(String::as_str) != Some("account_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Unsupported grant type",
        );
    }
    let account_id = params.get("account_id").cloned().unwrap_or_default();
    let mut state = sim.lock();
    let workspace = state.find_workspace(
        Vendor::Zoom,
        |setup| matches!(setup, WorkspaceSetup::Zoom { account_id: own, .. } if *own == account_id),
    );
    let Some(workspace) = workspace else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Invalid request : account_id is invalid",
        );
    };
    let valid = match (
        basic_credentials(&headers),
        state.workspaces.get(&workspace).map(|w| &w.setup),
    ) {
        (
            Some((id, secret)),
            Some(WorkspaceSetup::Zoom {
                client_id,
                client_secret,
                ..
            }),
        ) => id == *client_id && secret == *client_secret,
        _ => false,
    };
    if !valid {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client_id or client_secret",
        );
    }
    token_answer(
        &mut state,
        &workspace,
        json!({"scope": "user:read:admin user:write:admin", "api_url": "https://api.zoom.us"}),
    )
}

pub(crate) async fn get_user(
    State(sim): State<Simulator>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer_by_token(
        &sim,
        Vendor::Zoom,
        &headers,
        Call::Other,
        unauthorized,
        |entry| {
            if user_id == "me" {
                let owner = json!({"id": "sim-owner", "email": "owner@example.com", "type": 2, "role_name": "Owner"});
                return Json(owner).into_response();
            }
            // Zoom's userId is the id or the email.
            let user = entry.user(&user_id).or_else(|| entry.user_by_key(&user_id));
            match user {
                Some(user) => Json(user.clone()).into_response(),
                None if entry.faults.answers(Documented::UnknownUserAs1120) => error(
                    StatusCode::BAD_REQUEST,
                    1120,
                    &format!("Invalid user: {user_id}. User does not exist."),
                ),
                None => error(
                    StatusCode::NOT_FOUND,
                    1001,
                    &format!("User does not exist: {user_id}."),
                ),
            }
        },
    )
    .await
}

pub(crate) async fn create(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer_by_token(
        &sim,
        Vendor::Zoom,
        &headers,
        Call::Create,
        unauthorized,
        |entry| create_in(entry, &body),
    )
    .await
}

fn create_in(entry: &mut Workspace, body: &[u8]) -> Response {
    let posted = serde_json::from_slice::<Value>(body).ok();
    let info = posted.as_ref().and_then(|posted| posted.get("user_info"));
    let email = info
        .and_then(|info| info.get("email"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(email) = &email {
        entry.count_create_for(email);
    }
    if let Some(over) = entry.over_allowance() {
        return injected(&over.as_failure(429), None);
    }
    let reason = entry.faults.fail_reason.clone();
    if let Some(fail) = entry.take_create_failure() {
        return injected(&fail, reason.as_deref());
    }
    let Some(posted) = posted.as_ref().filter(|posted| posted.is_object()) else {
        return error(
            StatusCode::BAD_REQUEST,
            300,
            "Request Body should be a valid JSON object.",
        );
    };
    let action = posted.get("action").and_then(Value::as_str);
    let user_type = info
        .and_then(|info| info.get("type"))
        .and_then(Value::as_i64);
    let mut invalid = Vec::new();
    if !action.is_some_and(|action| ACTIONS.contains(&action)) {
        invalid.push("action");
    }
    let email = email.filter(|email| email.contains('@'));
    if email.is_none() {
        invalid.push("user_info.email");
    }
    if !user_type.is_some_and(|t| TYPES.contains(&t)) {
        invalid.push("user_info.type");
    }
    let (Some(email), Some(user_type), true) = (email, user_type, invalid.is_empty()) else {
        let errors: Vec<Value> = invalid
            .iter()
            .map(|field| json!({"field": field, "message": "Invalid field."}))
            .collect();
        let body = json!({"code": 300, "message": "Validation Failed.", "errors": errors});
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    };
    if entry.holds_key(&email) {
        return error(
            StatusCode::CONFLICT,
            1005,
            &format!("User already in the account: {email}"),
        );
    }
    let text = |name: &str| info.and_then(|info| info.get(name)).cloned();
    let id = uuid::Uuid::new_v4().simple().to_string()[..22].to_owned();
    let user = json!({
        "id": id,
        "email": email,
        "first_name": text("first_name"),
        "last_name": text("last_name"),
        "type": user_type,
        "status": "pending",
    });
    entry.insert(id, &email, user.clone());
    if entry.take_lost_response() {
        return error(StatusCode::INTERNAL_SERVER_ERROR, 500, "Internal Error.");
    }
    (StatusCode::CREATED, Json(user)).into_response()
}

fn injected(fail: &FailCreates, reason: Option<&str>) -> Response {
    let status = StatusCode::from_u16(fail.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let code = reason
        .and_then(|reason| reason.parse::<i64>().ok())
        .unwrap_or(i64::from(status.as_u16()));
    let default = match status {
        StatusCode::TOO_MANY_REQUESTS => {
            "You have reached the maximum per-second rate limit for this API. Try again later."
        }
        StatusCode::UNAUTHORIZED => "Invalid access token.",
        _ => "Internal Error.",
    };
    let mut response = error(status, code, fail.detail.as_deref().unwrap_or(default));
    if let Some(seconds) = fail.retry_after_secs {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
