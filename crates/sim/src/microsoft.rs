//! Microsoft Graph users (`/v1.0/users`, `/v1.0/organization`) and the Microsoft identity
//! platform's client-credentials token endpoint (`POST /{tenant}/oauth2/v2.0/token`).
//! Access tokens name the tenant's workspace. Errors are Graph's `{"error": {"code",
//! "message", "details"}}`; a taken `userPrincipalName` is 400 `Request_BadRequest` with
//! a detail coded `ObjectConflict`, as Graph answers it.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use serde_json::{json, Value};

use crate::faults::Documented;
use crate::gate::answer_by_token;
use crate::oauth::token_answer;
use crate::scim::Call;
use crate::setup::{Vendor, WorkspaceSetup};
use crate::state::{FailCreates, Workspace};
use crate::Simulator;

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const CONTEXT: &str = "https://graph.microsoft.com/v1.0/$metadata#users";

fn error(status: StatusCode, code: &str, message: &str, details: Option<Value>) -> Response {
    let mut body = json!({"error": {"code": code, "message": message}});
    if let Some(details) = details {
        body["error"]["details"] = details;
    }
    (status, Json(body)).into_response()
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        "Access token has expired or is not yet valid.",
        None,
    )
}

fn token_error(status: StatusCode, code: &str, number: u32, description: &str) -> Response {
    let body = json!({
        "error": code,
        "error_description": format!("AADSTS{number}: {description}"),
        "error_codes": [number],
    });
    (status, Json(body)).into_response()
}

pub(crate) async fn token(
    State(sim): State<Simulator>,
    Path(tenant): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if field("grant_type") != "client_credentials" {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            "The app requested an unsupported grant type.",
        );
    }
    if field("scope") != GRAPH_SCOPE {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            "The provided value for scope is not valid.",
        );
    }
    let mut state = sim.lock();
    let workspace = state.find_workspace(Vendor::Microsoft, |setup| {
        matches!(setup, WorkspaceSetup::Microsoft { tenant_id, .. } if tenant_id.eq_ignore_ascii_case(&tenant))
    });
    let Some(workspace) = workspace else {
        let description = format!("Tenant '{tenant}' not found.");
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &description,
        );
    };
    let valid = matches!(
        state.workspaces.get(&workspace).map(|w| &w.setup),
        Some(WorkspaceSetup::Microsoft { client_id, client_secret, .. })
            if field("client_id") == client_id && field("client_secret") == client_secret
    );
    if !valid {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000215,
            "Invalid client secret provided.",
        );
    }
    token_answer(&mut state, &workspace, json!({"ext_expires_in": 3599}))
}

pub(crate) async fn organization(State(sim): State<Simulator>, headers: HeaderMap) -> Response {
    answer_by_token(
        &sim,
        Vendor::Microsoft,
        &headers,
        Call::Other,
        unauthorized,
        |entry| {
            let tenant = match &entry.setup {
                WorkspaceSetup::Microsoft { tenant_id, .. } => tenant_id.clone(),
                _ => String::new(),
            };
            Json(json!({"value": [{"id": tenant, "displayName": "Simulated tenant"}]}))
                .into_response()
        },
    )
    .await
}

/// `userPrincipalName eq '…'`, a quote inside the value doubled (OData).
fn upn_filter(raw: &str) -> Option<String> {
    let rest = raw.trim().strip_prefix("userPrincipalName")?.trim_start();
    let rest = rest.strip_prefix("eq")?.trim();
    let quoted = rest.strip_prefix('\'')?.strip_suffix('\'')?;
    Some(quoted.replace("''", "'"))
}

pub(crate) async fn list_users(
    State(sim): State<Simulator>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    answer_by_token(
        &sim,
        Vendor::Microsoft,
        &headers,
        Call::Other,
        unauthorized,
        |entry| {
            let found: Vec<Value> = match params.get("$filter") {
                None => entry.users().to_vec(),
                Some(raw) => match upn_filter(raw) {
                    Some(upn) => entry.user_by_key(&upn).cloned().into_iter().collect(),
                    None => {
                        return error(
                            StatusCode::BAD_REQUEST,
                            "Request_UnsupportedQuery",
                            "Unsupported Query.",
                            None,
                        )
                    }
                },
            };
            Json(json!({"@odata.context": CONTEXT, "value": found})).into_response()
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
        Vendor::Microsoft,
        &headers,
        Call::Create,
        unauthorized,
        |entry| create_in(entry, &body),
    )
    .await
}

fn create_in(entry: &mut Workspace, body: &[u8]) -> Response {
    let posted = serde_json::from_slice::<Value>(body).ok();
    let text = |name: &str| {
        posted
            .as_ref()
            .and_then(|posted| posted.get(name))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|value| !value.trim().is_empty())
    };
    let upn = text("userPrincipalName");
    if let Some(upn) = &upn {
        entry.count_create_for(upn);
    }
    if let Some(over) = entry.over_allowance() {
        return injected(&over.as_failure(429), None);
    }
    let reason = entry.faults.fail_reason.clone();
    if let Some(fail) = entry.take_create_failure() {
        return injected(&fail, reason.as_deref());
    }
    let Some(posted) = posted.as_ref().filter(|posted| posted.is_object()) else {
        let message = "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.";
        return error(StatusCode::BAD_REQUEST, "BadRequest", message, None);
    };
    let upn = match required_fields(posted, upn) {
        Ok(upn) => upn,
        Err(message) => {
            return error(
                StatusCode::BAD_REQUEST,
                "Request_BadRequest",
                &message,
                None,
            )
        }
    };
    if entry.holds_key(&upn) {
        return conflict(entry);
    }
    let id = uuid::Uuid::new_v4().to_string();
    let user = json!({
        "@odata.context": format!("{CONTEXT}/$entity"),
        "id": id,
        "businessPhones": [],
        "displayName": text("displayName"),
        "givenName": text("givenName"),
        "surname": text("surname"),
        "mail": text("mail"),
        "userPrincipalName": upn,
    });
    entry.insert(id, &upn, user.clone());
    if entry.take_lost_response() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "serviceNotAvailable",
            "Service unavailable.",
            None,
        );
    }
    (StatusCode::CREATED, Json(user)).into_response()
}

/// A taken key, as Graph usually answers it (400 with an `ObjectConflict` detail) or in
/// the other ways it is seen to: 409, 400 without details, or on `proxyAddresses`.
fn conflict(entry: &Workspace) -> Response {
    let message = |property: &str| {
        format!("Another object with the same value for property {property} already exists.")
    };
    let faults = &entry.faults;
    let (status, property, detailed) = if faults.answers(Documented::ConflictAs409) {
        (StatusCode::CONFLICT, "userPrincipalName", false)
    } else if faults.answers(Documented::ProxyAddressesConflict) {
        (StatusCode::BAD_REQUEST, "proxyAddresses", false)
    } else if faults.answers(Documented::ConflictAs400) {
        (StatusCode::BAD_REQUEST, "userPrincipalName", false)
    } else {
        (StatusCode::BAD_REQUEST, "userPrincipalName", true)
    };
    let message = message(property);
    let details = detailed
        .then(|| json!([{"code": "ObjectConflict", "message": message, "target": property}]));
    error(status, "Request_BadRequest", &message, details)
}

/// Graph's message for a create missing what it requires (a 400 `Request_BadRequest`),
/// else the user principal name.
fn required_fields(posted: &Value, upn: Option<String>) -> Result<String, String> {
    let text = |name: &str| {
        posted
            .get(name)
            .and_then(Value::as_str)
            .filter(|value| !value.trim().is_empty())
    };
    let password = posted
        .pointer("/passwordProfile/password")
        .and_then(Value::as_str);
    let required = [
        (
            "accountEnabled",
            posted.get("accountEnabled").is_some_and(Value::is_boolean),
        ),
        ("displayName", text("displayName").is_some()),
        ("mailNickname", text("mailNickname").is_some()),
        ("userPrincipalName", upn.is_some()),
        ("passwordProfile", password.is_some_and(|p| !p.is_empty())),
    ];
    if let Some((missing, _)) = required.iter().find(|(_, present)| !present) {
        return Err(format!(
            "A value is required for property '{missing}' of resource 'User'."
        ));
    }
    let Some(upn) = upn.filter(|upn| upn.contains('@')) else {
        return Err("Property userPrincipalName is invalid.".to_owned());
    };
    Ok(upn)
}

fn injected(fail: &FailCreates, reason: Option<&str>) -> Response {
    let status = StatusCode::from_u16(fail.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (code, message) = match status {
        StatusCode::TOO_MANY_REQUESTS => ("TooManyRequests", "Too many requests."),
        StatusCode::UNAUTHORIZED => (
            "InvalidAuthenticationToken",
            "Access token has expired or is not yet valid.",
        ),
        StatusCode::FORBIDDEN => (
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        ),
        StatusCode::SERVICE_UNAVAILABLE => ("serviceNotAvailable", "Service unavailable."),
        _ => ("generalException", "General exception while processing."),
    };
    let code = reason.unwrap_or(code);
    let mut response = error(
        status,
        code,
        fail.detail.as_deref().unwrap_or(message),
        None,
    );
    if let Some(seconds) = fail.retry_after_secs {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_upn_filter_reads_odata_quotes() {
        assert_eq!(
            upn_filter("userPrincipalName eq 'ada@contoso.com'"),
            Some("ada@contoso.com".into())
        );
        assert_eq!(
            upn_filter("userPrincipalName eq 'o''hara@contoso.com'"),
            Some("o'hara@contoso.com".into())
        );
        assert_eq!(upn_filter("mail eq 'ada@contoso.com'"), None);
    }
}
