//! Google's Admin SDK Directory users (`/admin/directory/v1/users[/{userKey}]`) and
//! Google's OAuth token endpoint for service accounts (`POST /token` with a JWT-bearer
//! assertion, RFC 7523). An assertion is verified against the public key set up for the
//! service account that signed it (`iss`), and its token names that workspace. Errors
//! are Google's `{"error": {"code", "message", "errors": [{"reason"}], "status"}}`; a
//! taken `primaryEmail` is 409 `duplicate`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Form, Json};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use chrono::{SecondsFormat, Utc};
use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};
use serde_json::{json, Value};

use crate::gate::answer_by_token;
use crate::oauth::token_answer;
use crate::scim::Call;
use crate::setup::{Vendor, WorkspaceSetup};
use crate::state::{FailCreates, Workspace};
use crate::Simulator;

const SCOPE: &str = "https://www.googleapis.com/auth/admin.directory.user";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

fn error(status: StatusCode, reason: &str, message: &str) -> Response {
    let body = json!({"error": {
        "code": status.as_u16(),
        "message": message,
        "errors": [{"message": message, "domain": "global", "reason": reason}],
    }});
    (status, Json(body)).into_response()
}

fn unauthorized() -> Response {
    error(
        StatusCode::UNAUTHORIZED,
        "authError",
        "Request had invalid authentication credentials. Expected OAuth 2 access token.",
    )
}

fn token_error(status: StatusCode, code: &str, description: &str) -> Response {
    let body = json!({"error": code, "error_description": description});
    (status, Json(body)).into_response()
}

/// The claims of an assertion whose RS256 signature the key verifies.
fn verified_claims(jwt: &str, public_key_pem: &str) -> Option<Value> {
    let (signing_input, signature) = jwt.rsplit_once('.')?;
    let (header, claims) = signing_input.split_once('.')?;
    let header: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
    if header.get("alg").and_then(Value::as_str) != Some("RS256") {
        return None;
    }
    let der: String = public_key_pem
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with("-----"))
        .collect();
    let key = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, STANDARD.decode(der).ok()?);
    key.verify(
        signing_input.as_bytes(),
        &URL_SAFE_NO_PAD.decode(signature).ok()?,
    )
    .ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()
}

/// The issuer named in an assertion, read before its signature can be checked.
fn issuer(jwt: &str) -> Option<String> {
    let claims = jwt.split('.').nth(1)?;
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).ok()?).ok()?;
    claims.get("iss")?.as_str().map(str::to_owned)
}

pub(crate) async fn token(
    State(sim): State<Simulator>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    if form.get("grant_type").map(String::as_str) != Some(JWT_BEARER) {
        return token_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Invalid grant_type.",
        );
    }
    let assertion = form.get("assertion").cloned().unwrap_or_default();
    let iss = issuer(&assertion).unwrap_or_default();
    let mut state = sim.lock();
    let workspace = state.find_workspace(Vendor::Google, |setup| {
        matches!(setup, WorkspaceSetup::Google { client_email, .. } if *client_email == iss)
    });
    let key =
        workspace
            .as_ref()
            .and_then(|name| match state.workspaces.get(name).map(|w| &w.setup) {
                Some(WorkspaceSetup::Google { public_key_pem, .. }) => Some(public_key_pem.clone()),
                _ => None,
            });
    let (Some(workspace), Some(key)) = (workspace, key) else {
        return token_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "The OAuth client was not found.",
        );
    };
    let Some(claims) = verified_claims(&assertion, &key) else {
        return token_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "Invalid JWT Signature.",
        );
    };
    let now = Utc::now().timestamp();
    let number = |name: &str| claims.get(name).and_then(Value::as_i64).unwrap_or_default();
    if number("exp") <= now || number("iat") > now + 60 {
        return token_error(StatusCode::BAD_REQUEST, "invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.");
    }
    let scopes = claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let delegated = claims
        .get("sub")
        .and_then(Value::as_str)
        .is_some_and(|sub| sub.contains('@'));
    if !scopes.split(' ').any(|scope| scope == SCOPE) || !delegated {
        return token_error(StatusCode::UNAUTHORIZED, "unauthorized_client", "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.");
    }
    token_answer(&mut state, &workspace, json!({}))
}

fn customer_matches(entry: &Workspace, params: &HashMap<String, String>) -> bool {
    let WorkspaceSetup::Google {
        customer_id,
        domain,
        ..
    } = &entry.setup
    else {
        return false;
    };
    match (params.get("customer"), params.get("domain")) {
        (Some(customer), _) => customer == "my_customer" || customer == customer_id,
        (None, Some(asked)) => asked.eq_ignore_ascii_case(domain),
        (None, None) => false,
    }
}

pub(crate) async fn list(
    State(sim): State<Simulator>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    answer_by_token(
        &sim,
        Vendor::Google,
        &headers,
        Call::Other,
        unauthorized,
        |entry| {
            if !customer_matches(entry, &params) {
                return error(StatusCode::BAD_REQUEST, "badRequest", "Bad Request");
            }
            let max = params
                .get("maxResults")
                .and_then(|raw| raw.parse::<usize>().ok())
                .unwrap_or(100)
                .clamp(1, 500);
            let users: Vec<&Value> = entry.users().iter().take(max).collect();
            let mut body = json!({"kind": "admin#directory#users", "etag": "\"sim\""});
            if !users.is_empty() {
                body["users"] = json!(users);
            }
            Json(body).into_response()
        },
    )
    .await
}

pub(crate) async fn get(
    State(sim): State<Simulator>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer_by_token(
        &sim,
        Vendor::Google,
        &headers,
        Call::Other,
        unauthorized,
        |entry| match entry.user(&key).or_else(|| entry.user_by_key(&key)) {
            Some(user) => Json(user.clone()).into_response(),
            // A user outside the admin's domain or customer is not shown.
            None if entry.faults.taken_elsewhere(&key) => error(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Not Authorized to access this resource/api",
            ),
            None => error(
                StatusCode::NOT_FOUND,
                "notFound",
                "Resource Not Found: userKey",
            ),
        },
    )
    .await
}

pub(crate) async fn insert(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer_by_token(
        &sim,
        Vendor::Google,
        &headers,
        Call::Create,
        unauthorized,
        |entry| insert_in(entry, &body),
    )
    .await
}

fn insert_in(entry: &mut Workspace, body: &[u8]) -> Response {
    let posted = serde_json::from_slice::<Value>(body).ok();
    let text = |pointer: &str| {
        posted
            .as_ref()
            .and_then(|posted| posted.pointer(pointer))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .filter(|value| !value.trim().is_empty())
    };
    let email = text("/primaryEmail");
    if let Some(email) = &email {
        entry.count_create_for(email);
    }
    if let Some(over) = entry.over_allowance() {
        return injected(&over.as_failure(403), Some("userRateLimitExceeded"));
    }
    let reason = entry.faults.fail_reason.clone();
    if let Some(fail) = entry.take_create_failure() {
        return injected(&fail, reason.as_deref());
    }
    let (
        WorkspaceSetup::Google {
            domain,
            customer_id,
            ..
        },
        Some(email),
    ) = (&entry.setup, email)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "required",
            "Invalid Input: primary_user_email",
        );
    };
    let (given, family) = match check_fields(&email, domain, &text) {
        Ok(names) => names,
        Err((reason, message)) => return error(StatusCode::BAD_REQUEST, reason, message),
    };
    if entry.holds_key(&email) || entry.faults.taken_elsewhere(&email) {
        return error(StatusCode::CONFLICT, "duplicate", "Entity already exists.");
    }
    let id = format!("1{:020}", entry.users().len() as u64 + 1);
    let user = json!({
        "kind": "admin#directory#user",
        "id": id,
        "primaryEmail": email,
        "name": {"givenName": given, "familyName": family, "fullName": format!("{given} {family}")},
        "isAdmin": false,
        "creationTime": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        "customerId": customer_id,
        "orgUnitPath": text("/orgUnitPath").unwrap_or_else(|| "/".into()),
        "changePasswordAtNextLogin": posted.as_ref().and_then(|p| p.get("changePasswordAtNextLogin")).cloned().unwrap_or(Value::Bool(false)),
    });
    entry.insert(id, &email, user.clone());
    if entry.take_lost_response() {
        return error(
            StatusCode::SERVICE_UNAVAILABLE,
            "backendError",
            "Backend Error",
        );
    }
    Json(user).into_response()
}

/// Google's refusals of a create whose fields it does not accept, in the order it checks
/// them (400 with a reason and a message); else the given and family names.
fn check_fields(
    email: &str,
    domain: &str,
    text: &impl Fn(&str) -> Option<String>,
) -> Result<(String, String), (&'static str, &'static str)> {
    let in_domain = email
        .rsplit_once('@')
        .is_some_and(|(_, at)| at.eq_ignore_ascii_case(domain));
    if !in_domain {
        return Err(("invalid", "Invalid Input: primary_user_email"));
    }
    let (Some(given), Some(family)) = (text("/name/givenName"), text("/name/familyName")) else {
        return Err(("required", "Invalid Given/Family Name: FamilyName"));
    };
    if text("/password").is_none_or(|password| password.chars().count() < 8) {
        return Err(("invalid", "Invalid Password"));
    }
    Ok((given, family))
}

fn injected(fail: &FailCreates, reason: Option<&str>) -> Response {
    let status = StatusCode::from_u16(fail.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let (default_reason, default_message) = match status.as_u16() {
        403 => ("userRateLimitExceeded", "User Rate Limit Exceeded"),
        429 => ("rateLimitExceeded", "Rate Limit Exceeded"),
        401 => ("authError", "Invalid Credentials"),
        503 => ("backendError", "Backend Error"),
        _ => ("internalError", "Internal Error"),
    };
    let message = fail.detail.as_deref().unwrap_or(default_message);
    let mut response = error(status, reason.unwrap_or(default_reason), message);
    if let Some(seconds) = fail.retry_after_secs {
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
