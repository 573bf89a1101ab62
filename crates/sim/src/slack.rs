//! Slack's SCIM API v2 at Slack's own path, `/scim/v2` (no workspace in the path: the
//! OAuth token names the organization). The resources are SCIM's; errors come in
//! Slack's shape, `{"Errors": {"description", "code"}}`, and rate limits as 429 with
//! `Retry-After` (<https://docs.slack.dev/reference/scim-api/rate-limits>).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::HOST;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::error::{scim_json, ScimError};
use crate::gate::answer_by_token;
use crate::scim::Call;
use crate::setup::Vendor;
use crate::users::{create_in, list_in};
use crate::Simulator;

fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(HOST)
        .and_then(|value| value.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}/scim/v2")
}

fn unauthorized() -> Response {
    let error = ScimError::new(StatusCode::UNAUTHORIZED, None, String::new());
    error.into_slack(Some("invalid_authentication".into()))
}

/// Slack's member ids: `U` and ten upper-case letters or digits.
fn member_id() -> String {
    let hex = uuid::Uuid::new_v4().simple().to_string().to_uppercase();
    format!("U{}", &hex[..10])
}

pub(crate) async fn create(
    State(sim): State<Simulator>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let base = base_url(&headers);
    answer_by_token(
        &sim,
        Vendor::Slack,
        &headers,
        Call::Create,
        unauthorized,
        |entry| {
            // Injected failures come first, so a pending one is what a refusal is; only it
            // carries the description the test asked for.
            let injected = entry
                .faults
                .fail_next_creates
                .as_ref()
                .is_some_and(|fail| fail.count > 0);
            let reason = injected.then(|| entry.faults.fail_reason.clone()).flatten();
            create_in(entry, &base, &body, member_id())
                .unwrap_or_else(|error| error.into_slack(reason))
        },
    )
    .await
}

pub(crate) async fn list(
    State(sim): State<Simulator>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    answer_by_token(
        &sim,
        Vendor::Slack,
        &headers,
        Call::Other,
        unauthorized,
        |entry| list_in(entry, &params).unwrap_or_else(|error| error.into_slack(None)),
    )
    .await
}

pub(crate) async fn get(
    State(sim): State<Simulator>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    answer_by_token(
        &sim,
        Vendor::Slack,
        &headers,
        Call::Other,
        unauthorized,
        |entry| match entry.user(&id) {
            Some(user) => scim_json(StatusCode::OK, user),
            None => {
                ScimError::not_found(format!("there is no user with id {id:?}")).into_slack(None)
            }
        },
    )
    .await
}
