//! What the simulated OAuth token endpoints share: reading client credentials and
//! answering with an access token bound to a workspace.

use axum::http::header::AUTHORIZATION;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use serde_json::json;

use crate::state::{State, ACCESS_TOKEN_SECONDS};

/// `Authorization: Basic base64(client_id:client_secret)` (RFC 6749 §2.3.1).
pub(crate) fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Issues a token for the workspace and answers RFC 6749 §5.1, with `extra` fields the
/// vendor adds.
pub(crate) fn token_answer(
    state: &mut State,
    workspace: &str,
    extra: serde_json::Value,
) -> Response {
    let token = state.issue_token(workspace);
    let mut body = json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": ACCESS_TOKEN_SECONDS,
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    Json(body).into_response()
}
