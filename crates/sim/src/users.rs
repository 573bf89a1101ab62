//! `/Users`: create (RFC 7644 §3.3), query (§3.4.2) and read (§3.4.1).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::header::LOCATION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{SecondsFormat, Utc};
use serde_json::{json, Map, Value};
use uuid::Uuid;

use crate::error::{scim_json, ScimError};
use crate::faults::Documented;
use crate::filter::Filter;
use crate::scim::{answer, base_url, Call};
use crate::state::{FailCreates, Workspace};
use crate::Simulator;

pub(crate) const MAX_RESULTS: usize = 200;
const DEFAULT_COUNT: usize = 100;
const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
const MAX_USER_NAME_CHARS: usize = 64;

pub(crate) async fn create(
    State(sim): State<Simulator>,
    Path(workspace): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let base = base_url(&headers, &workspace);
    answer(&sim, &workspace, &headers, Call::Create, |entry| {
        let suffix = entry
            .faults
            .created_id_suffix
            .as_deref()
            .unwrap_or_default();
        let id = format!("{}{suffix}", Uuid::new_v4());
        create_in(entry, &base, &body, id).unwrap_or_else(IntoResponse::into_response)
    })
    .await
}

/// Creates the posted SCIM User under `id`; Slack shares it with its own ids and error
/// shape.
pub(crate) fn create_in(
    entry: &mut Workspace,
    base: &str,
    body: &[u8],
    id: String,
) -> Result<Response, ScimError> {
    let posted = serde_json::from_slice::<Value>(body);
    if let Some(user_name) = posted
        .as_ref()
        .ok()
        .and_then(|user| user.get("userName"))
        .and_then(Value::as_str)
    {
        entry.count_create_for(user_name);
    }
    // The allowance and injected failures come before any validation, as a gateway
    // answers without reading the request.
    if let Some(over) = entry.over_allowance() {
        let detail = format!(
            "too many requests: this workspace accepts {} creates per window",
            over.limit
        );
        return Err(ScimError::new(StatusCode::TOO_MANY_REQUESTS, None, detail)
            .with_retry_after(Some(over.retry_after_secs())));
    }
    if let Some(fail) = entry.take_create_failure() {
        tracing::debug!(status = fail.status, "simulator injected a create failure");
        return Err(injected(&fail));
    }
    let posted = posted.map_err(|error| {
        ScimError::bad_request(
            "invalidSyntax",
            format!("the request body is not valid JSON: {error}"),
        )
    })?;
    let Value::Object(mut user) = posted else {
        return Err(ScimError::bad_request(
            "invalidSyntax",
            "the request body must be a JSON object holding a SCIM User".into(),
        ));
    };
    let user_name = posted_user_name(&user)?;
    check_user_name(&user_name).map_err(|detail| ScimError::bad_request("invalidValue", detail))?;
    if entry.holds_key(&user_name) {
        let detail = format!(
            "userName {user_name:?} is already taken in this workspace \
             (user names are compared without regard to case)"
        );
        if entry.faults.answers(Documented::ConflictAs400) {
            let refusal = ScimError::bad_request("uniqueness", detail);
            return Err(refusal.taken("username_taken"));
        }
        return Err(ScimError::new(
            StatusCode::CONFLICT,
            Some("uniqueness"),
            detail,
        ));
    }

    let location = format!("{base}/Users/{id}");
    stamp(&mut user, &id, &location);
    let resource = Value::Object(user);
    entry.insert(id, &user_name, resource.clone());

    if entry.take_lost_response() {
        tracing::debug!(user_name, "simulator lost a create response");
        return Err(ScimError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "the server encountered an internal error".into(),
        ));
    }
    let mut response = scim_json(StatusCode::CREATED, &resource);
    if let Ok(value) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(LOCATION, value);
    }
    Ok(response)
}

/// The posted `userName`, which RFC 7643 requires as a string.
fn posted_user_name(user: &Map<String, Value>) -> Result<String, ScimError> {
    match user.get("userName") {
        Some(Value::String(user_name)) => Ok(user_name.clone()),
        Some(_) => Err(ScimError::bad_request(
            "invalidValue",
            "userName must be a string".to_owned(),
        )),
        None => Err(ScimError::bad_request(
            "invalidValue",
            "userName is required".to_owned(),
        )),
    }
}

/// The service owns `id` and `meta` (RFC 7643 §3.1); whatever the client sent for them is
/// replaced.
fn stamp(user: &mut Map<String, Value>, id: &str, location: &str) {
    let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
    user.entry("schemas")
        .or_insert_with(|| json!([USER_SCHEMA]));
    user.insert("id".into(), id.into());
    user.insert(
        "meta".into(),
        json!({
            "resourceType": "User",
            "created": now,
            "lastModified": now,
            "location": location,
            "version": "W/\"1\"",
        }),
    );
}

/// The rule of this service: `^[A-Za-z0-9._@+-]{1,64}$`, explained in words a person can
/// act on.
fn check_user_name(user_name: &str) -> Result<(), String> {
    if user_name.is_empty() {
        return Err("userName must not be empty".into());
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "._@+-".contains(c);
    if let Some(bad) = user_name.chars().find(|&c| !allowed(c)) {
        return Err(format!(
            "userName {user_name:?} is not valid: the character {bad:?} is not allowed; \
             use only letters A-Z, digits and . _ @ + -"
        ));
    }
    let length = user_name.chars().count();
    if length > MAX_USER_NAME_CHARS {
        return Err(format!(
            "userName {user_name:?} is too long: it has {length} characters \
             and at most {MAX_USER_NAME_CHARS} are allowed"
        ));
    }
    Ok(())
}

fn injected(fail: &FailCreates) -> ScimError {
    let status = StatusCode::from_u16(fail.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let scim_type = match status {
        StatusCode::BAD_REQUEST => Some("invalidValue"),
        StatusCode::CONFLICT => Some("uniqueness"),
        _ => None,
    };
    let detail = fail.detail.clone().unwrap_or_else(|| {
        match status {
            StatusCode::BAD_REQUEST => "the request is not valid",
            StatusCode::UNAUTHORIZED => "the bearer token is not valid",
            StatusCode::FORBIDDEN => "the token is not allowed to create users",
            StatusCode::CONFLICT => "a user with this userName already exists",
            StatusCode::TOO_MANY_REQUESTS => "too many requests; slow down",
            StatusCode::BAD_GATEWAY => "bad gateway: an upstream server did not answer",
            StatusCode::SERVICE_UNAVAILABLE => "the service is temporarily unavailable",
            _ => "the server encountered an internal error",
        }
        .to_owned()
    });
    let retry_after = fail
        .retry_after_secs
        .filter(|_| status == StatusCode::TOO_MANY_REQUESTS);
    ScimError::new(status, scim_type, detail).with_retry_after(retry_after)
}

pub(crate) async fn get(
    State(sim): State<Simulator>,
    Path((workspace, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    answer(
        &sim,
        &workspace,
        &headers,
        Call::Other,
        |entry| match entry.user(&id) {
            Some(user) => scim_json(StatusCode::OK, user),
            None => {
                ScimError::not_found(format!("there is no user with id {id:?}")).into_response()
            }
        },
    )
    .await
}

pub(crate) async fn list(
    State(sim): State<Simulator>,
    Path(workspace): Path<String>,
    Query(params): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    answer(&sim, &workspace, &headers, Call::Other, |entry| {
        list_in(entry, &params).unwrap_or_else(IntoResponse::into_response)
    })
    .await
}

pub(crate) fn list_in(
    entry: &Workspace,
    params: &HashMap<String, String>,
) -> Result<Response, ScimError> {
    let filter = match params.get("filter") {
        Some(raw) => Some(Filter::parse(raw).ok_or_else(|| {
            ScimError::bad_request(
                "invalidFilter",
                format!(
                    "the filter {raw:?} is not supported; this service understands \
                     userName, externalId or id eq \"value\""
                ),
            )
        })?),
        None => None,
    };
    // RFC 7644 §3.4.2.4: a startIndex below 1 means 1, a negative count means 0.
    let start_index = integer_param(params, "startIndex")?.unwrap_or(1).max(1);
    let count = integer_param(params, "count")?
        .map_or(DEFAULT_COUNT, |count| {
            usize::try_from(count.max(0)).unwrap_or(MAX_RESULTS)
        })
        .min(MAX_RESULTS);

    let matching: Vec<&Value> = entry
        .users()
        .iter()
        .filter(|user| filter.as_ref().is_none_or(|f| f.matches(user)))
        .collect();
    let skip = usize::try_from(start_index - 1).unwrap_or(usize::MAX);
    let page: Vec<&Value> = matching.iter().copied().skip(skip).take(count).collect();
    Ok(scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": matching.len(),
            "startIndex": start_index,
            "itemsPerPage": page.len(),
            "Resources": page,
        }),
    ))
}

fn integer_param(params: &HashMap<String, String>, name: &str) -> Result<Option<i64>, ScimError> {
    params
        .get(name)
        .map(|raw| {
            raw.trim().parse::<i64>().map_err(|_| {
                ScimError::bad_request(
                    "invalidValue",
                    format!("{name} must be an integer, not {raw:?}"),
                )
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_follow_the_services_rule() {
        assert!(check_user_name("ada.lovelace+test@example.com").is_ok());
        assert!(check_user_name(&"a".repeat(64)).is_ok());
        assert!(check_user_name("").is_err());
        assert!(check_user_name(&"a".repeat(65))
            .unwrap_err()
            .contains("too long"));
        assert!(check_user_name("ada lovelace").unwrap_err().contains("' '"));
    }
}
