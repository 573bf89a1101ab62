use std::collections::HashMap;

use axum::extract::{Path, Query as RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use provisioner_core::cursor::Cursor;
use provisioner_core::trace::TraceParent;
use provisioner_core::{RequestId, RequestState, Scope};
use provisioner_requests::{Action, Ask, Employee, Refusal, SubmitError};
use provisioner_store::RequestFilter;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::input::{nested_field, Fields, JsonObject};
use crate::problem::{FieldError, Problem};
use crate::query::{next_cursor, Query};
use crate::routes::path_id;
use crate::views::{Accepted, RequestDetail, RequestPage};
use crate::AppState;

const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Accepts a request for one account. It answers 202 only once the row is committed;
/// the publish that follows is a fast path, and the relay covers it if it fails.
pub async fn submit(
    caller: Caller,
    State(state): State<AppState>,
    Extension(trace): Extension<TraceParent>,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Response, Problem> {
    caller.require(Scope::RequestsWrite)?;
    let idempotency_key = idempotency_key(&headers)?;
    let request_hash = Sha256::digest(Value::Object(body.clone()).to_string()).to_vec();
    let mut fields = Fields::new(body);
    let integration_id = fields.required_uuid("integration_id");
    let employee_id = fields.optional_uuid("employee_id");
    let account = fields.optional_object("account");
    let ask = Ask {
        action: Action::Create,
        // An id no integration has stands in for one that could not be read, so the
        // other parts are still checked; its own error is listed already.
        integration_id: integration_id.unwrap_or_default().into(),
        employee: employee_id.map_or(Employee::Unnamed, |id| Employee::Stored(id.into())),
        account,
        idempotency_key,
        request_hash,
        trace,
    };
    if let Err(mut problem) = fields.finish() {
        let checked = state.requests.check(caller.tenant_id, &ask).await?;
        let unread: Vec<String> = problem.errors.iter().map(|e| e.field.clone()).collect();
        problem.errors.extend(
            refusal_errors(&checked.refusals)
                .into_iter()
                .filter(|error| !unread.contains(&error.field)),
        );
        return Err(Problem::invalid_fields(problem.errors));
    }
    match state.requests.submit(caller.tenant_id, ask).await {
        Ok(request) => {
            if request.fresh {
                metrics::counter!("provisioner_requests_accepted_total", "service" => request.service)
                    .increment(1);
            }
            Ok(accepted(request.request_id))
        }
        Err(SubmitError::Refused(refusals)) => {
            Err(Problem::invalid_fields(refusal_errors(&refusals)))
        }
        Err(SubmitError::KeyReused) => Err(Problem::invalid_field(
            "Idempotency-Key",
            "this key was already used with a different body",
        )),
        Err(SubmitError::Store(error)) => Err(error.into()),
    }
}

/// Each refusal as the body field it is about.
fn refusal_errors(refusals: &[Refusal]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for refusal in refusals {
        match refusal {
            Refusal::UnknownIntegration => errors.push(FieldError::new(
                "integration_id",
                "no integration with this id",
            )),
            Refusal::NotProvisionable {
                name, workspace, ..
            } => errors.push(FieldError::new(
                "integration_id",
                format!("{name} ({workspace}) cannot provision accounts"),
            )),
            Refusal::UnknownEmployee => {
                errors.push(FieldError::new("employee_id", "no employee with this id"))
            }
            Refusal::AccountRequired => errors.push(FieldError::new(
                "account",
                "is required unless employee_id names an employee whose record fills it",
            )),
            Refusal::InvalidFields(invalid) => errors.extend(invalid.iter().map(|error| {
                FieldError::new(nested_field("account", &error.field), &error.message)
            })),
        }
    }
    errors
}

pub(crate) fn accepted(id: RequestId) -> Response {
    let location = format!("/v1/provisioning-requests/{id}");
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(Accepted {
            id,
            state: RequestState::Queued,
        }),
    )
        .into_response()
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, Problem> {
    let Some(value) = headers.get(IDEMPOTENCY_KEY) else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255)
        .ok_or_else(|| {
            Problem::bad_parameter(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
        })?;
    Ok(Some(key.to_owned()))
}

pub async fn show(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<RequestDetail>, Problem> {
    caller.require(Scope::RequestsRead)?;
    let id = path_id(&id, "provisioning request")?;
    let request = state
        .store
        .request(caller.tenant_id, id.into())
        .await?
        .ok_or_else(|| Problem::not_found("provisioning request"))?;
    let attempts = state.store.attempts_of(caller.tenant_id, id.into()).await?;
    Ok(Json(RequestDetail {
        request: request.into(),
        attempt_history: attempts.into_iter().map(Into::into).collect(),
    }))
}

pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    RawQuery(params): RawQuery<HashMap<String, String>>,
) -> Result<Json<RequestPage>, Problem> {
    caller.require(Scope::RequestsRead)?;
    let query = Query::new(
        params,
        &[
            "state",
            "service",
            "integration_id",
            "since",
            "limit",
            "cursor",
        ],
    )?;
    let filter = RequestFilter {
        state: query.parsed::<RequestState>("state", "a request state")?,
        service: query.string("service"),
        integration_id: query
            .parsed::<uuid::Uuid>("integration_id", "a UUID")?
            .map(Into::into),
        since: query.time("since")?,
        limit: query.limit()?,
        cursor: query.cursor()?,
    };
    let rows = state.store.requests(caller.tenant_id, &filter).await?;
    let next_cursor = next_cursor(&rows, filter.limit, |last| Cursor {
        at: last.created_at,
        id: last.id.as_uuid(),
    });
    Ok(Json(RequestPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}
