//! GitHub organization invitations, as `api.github.com` serves them: `GET /orgs/{org}`,
//! `GET|POST /orgs/{org}/invitations`, `GET /orgs/{org}/memberships/{username}`. The organization in the path names the
//! workspace; the token must be the one set up for it. Errors are GitHub's
//! `{"message", "errors", "documentation_url", "status"}`.
//!
//! An email with a pending invitation is refused with 422 and an error on the
//! invitation's `data`; so is the email of a member (`Faults::members`), in GitHub's
//! words "Invitee is already a part of this organization". Injected
//! 403/429 failures are secondary rate limits carrying `retry-after`, or primary ones
//! (`x-ratelimit-remaining: 0`, `x-ratelimit-reset`) when `fail_reason` is `"primary"`.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::RETRY_AFTER;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::allowance::OverAllowance;
use crate::gate::{bearer_token, InFlight};
use crate::scim::Call;
use crate::setup::{Vendor, WorkspaceSetup};
use crate::state::{FailCreates, Workspace};
use crate::Simulator;

const DOCS: &str = "https://docs.github.com/rest/orgs/members#create-an-organization-invitation";
const ROLES: [&str; 4] = ["admin", "direct_member", "billing_manager", "reinstate"];

fn error(status: StatusCode, message: &str, errors: Option<Value>) -> Response {
    let mut body = json!({
        "message": message,
        "documentation_url": DOCS,
        "status": status.as_u16().to_string(),
    });
    if let Some(errors) = errors {
        body["errors"] = errors;
    }
    (status, Json(body)).into_response()
}

fn validation_failed(field: &str, code: &str, message: &str) -> Response {
    let errors = json!([{"resource": "OrganizationInvitation", "code": code, "field": field, "message": message}]);
    error(
        StatusCode::UNPROCESSABLE_ENTITY,
        "Validation Failed",
        Some(errors),
    )
}

/// Finds the organization's workspace, checks the token, counts the call and delays
/// the answer like every simulated call.
async fn answer(
    sim: &Simulator,
    org: &str,
    headers: &HeaderMap,
    call: Call,
    work: impl FnOnce(&mut Workspace) -> Response,
) -> Response {
    let (latency, response, _in_flight) = {
        let mut state = sim.lock();
        let name = state.find_workspace(Vendor::Github, |setup| {
            matches!(setup, WorkspaceSetup::Github { org: own, .. } if own.eq_ignore_ascii_case(org))
        });
        let Some((name, entry)) =
            name.and_then(|name| state.workspaces.get_mut(&name).map(|entry| (name, entry)))
        else {
            return error(StatusCode::NOT_FOUND, "Not Found", None);
        };
        entry.begin_call(call);
        let in_flight = InFlight::new(sim, name);
        let token = bearer_token(headers);
        let response = if token.is_some() && token == entry.setup.static_token() {
            work(entry)
        } else {
            error(StatusCode::UNAUTHORIZED, "Bad credentials", None)
        };
        (entry.latency(), response, in_flight)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    response
}

pub(crate) async fn organization(
    State(sim): State<Simulator>,
    Path(org): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer(&sim, &org, &headers, Call::Other, |_| {
        Json(json!({"login": org, "id": 1, "type": "Organization"})).into_response()
    })
    .await
}

pub(crate) async fn invite(
    State(sim): State<Simulator>,
    Path(org): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&sim, &org, &headers, Call::Create, |entry| {
        invite_in(entry, &body)
    })
    .await
}

fn invite_in(entry: &mut Workspace, body: &[u8]) -> Response {
    let posted = serde_json::from_slice::<Value>(body).ok();
    let email = posted
        .as_ref()
        .and_then(|posted| posted.get("email"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    if let Some(email) = &email {
        entry.count_create_for(email);
    }
    if let Some(over) = entry.over_allowance() {
        return primary_limit(&over);
    }
    let reason = entry.faults.fail_reason.clone();
    if let Some(fail) = entry.take_create_failure() {
        return injected(&fail, reason.as_deref());
    }
    let Some(posted) = posted else {
        return error(StatusCode::BAD_REQUEST, "Problems parsing JSON", None);
    };
    let Some(email) = email.filter(|email| email.contains('@')) else {
        return validation_failed(
            "data",
            "unprocessable",
            "Invite requires either user or email",
        );
    };
    let role = posted
        .get("role")
        .and_then(Value::as_str)
        .unwrap_or("direct_member");
    if !ROLES.contains(&role) {
        return validation_failed("role", "invalid", "role is not included in the list");
    }
    if entry
        .faults
        .members
        .iter()
        .any(|member| member.email.eq_ignore_ascii_case(&email))
    {
        return validation_failed(
            "data",
            "unprocessable",
            "Invitee is already a part of this organization",
        );
    }
    if entry.holds_key(&email) {
        return validation_failed(
            "data",
            "unprocessable",
            "A user with this email address has already been invited to this organization",
        );
    }
    let id = 1000 + entry.users().len() as u64 + 1;
    let invitation = json!({
        "id": id,
        "node_id": format!("OI_sim{id}"),
        "login": null,
        "email": email,
        "role": role,
        "created_at": Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true),
        "failed_at": null,
        "failed_reason": null,
        "inviter": {"login": "provisioner-bot", "id": 1},
        "team_count": posted.get("team_ids").and_then(Value::as_array).map_or(0, Vec::len),
        "invitation_source": "member",
    });
    entry.insert(id.to_string(), &email, invitation.clone());
    if entry.take_lost_response() {
        return error(StatusCode::INTERNAL_SERVER_ERROR, "Server Error", None);
    }
    (StatusCode::CREATED, Json(invitation)).into_response()
}

/// GitHub's primary limit: 403 with the `x-ratelimit-*` headers, `reset` naming when
/// the window closes (<https://docs.github.com/rest/using-the-rest-api/rate-limits-for-the-rest-api>).
fn primary_limit(over: &OverAllowance) -> Response {
    let message =
        "API rate limit exceeded for installation. Please wait until the rate limit resets.";
    let mut response = error(StatusCode::FORBIDDEN, message, None);
    let headers = response.headers_mut();
    headers.insert("x-ratelimit-limit", HeaderValue::from(over.limit));
    headers.insert("x-ratelimit-remaining", HeaderValue::from(0));
    headers.insert("x-ratelimit-used", HeaderValue::from(over.limit));
    headers.insert(
        "x-ratelimit-reset",
        HeaderValue::from(over.reset_epoch_secs()),
    );
    headers.insert("x-ratelimit-resource", HeaderValue::from_static("core"));
    response
}

fn injected(fail: &FailCreates, reason: Option<&str>) -> Response {
    let status = StatusCode::from_u16(fail.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let rate_limit = matches!(status.as_u16(), 403 | 429);
    let default = if rate_limit {
        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
    } else {
        "Server Error"
    };
    let message = fail.detail.as_deref().unwrap_or(default);
    let mut response = error(status, message, None);
    let headers = response.headers_mut();
    match (rate_limit, reason, fail.retry_after_secs) {
        (true, Some("primary"), wait) => {
            let reset = Utc::now().timestamp() + i64::try_from(wait.unwrap_or(60)).unwrap_or(60);
            headers.insert("x-ratelimit-remaining", HeaderValue::from(0));
            headers.insert("x-ratelimit-reset", HeaderValue::from(reset));
        }
        (true, _, Some(seconds)) => {
            headers.insert(RETRY_AFTER, HeaderValue::from(seconds));
        }
        _ => {}
    }
    response
}

pub(crate) async fn invitations(
    State(sim): State<Simulator>,
    Path(org): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let number = |name: &str, default: usize| {
        params
            .get(name)
            .and_then(|raw| raw.parse::<usize>().ok())
            .unwrap_or(default)
    };
    let per_page = number("per_page", 30).clamp(1, 100);
    let page = number("page", 1).max(1);
    answer(&sim, &org, &headers, Call::Other, |entry| {
        let listed: Vec<&Value> = entry
            .users()
            .iter()
            .skip((page - 1) * per_page)
            .take(per_page)
            .collect();
        Json(listed).into_response()
    })
    .await
}

/// `GET /orgs/{org}/memberships/{username}`: an active membership of a member, else 404
/// (<https://docs.github.com/rest/orgs/members#get-organization-membership-for-a-user>).
pub(crate) async fn membership(
    State(sim): State<Simulator>,
    Path((org, username)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    answer(&sim, &org, &headers, Call::Other, |entry| {
        let mut members = entry.faults.members.iter().enumerate();
        match members.find(|(_, member)| member.login.eq_ignore_ascii_case(&username)) {
            Some((index, member)) => Json(json!({
                "state": "active",
                "role": "member",
                "organization": {"login": org},
                "user": {"login": member.login, "id": 500 + index as u64},
            }))
            .into_response(),
            None => error(StatusCode::NOT_FOUND, "Not Found", None),
        }
    })
    .await
}
