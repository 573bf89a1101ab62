use std::collections::HashMap;

use axum::extract::{Path, Query as RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use provisioner_connectors::account_target;
use provisioner_core::account::{fill_from_employee, EmployeeFacts};
use provisioner_core::cursor::Cursor;
use provisioner_core::event::RequestMessage;
use provisioner_core::trace::TraceParent;
use provisioner_core::{RequestId, RequestState, Scope};
use provisioner_store::{NewRequest, RequestFilter, RequestRow, StoredRequest};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::auth::Caller;
use crate::input::{nested_field, Fields, JsonObject};
use crate::problem::Problem;
use crate::query::Query;
use crate::routes::path_id;
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
    let account_given = account.is_some();
    if !account_given && employee_id.is_none() && !fields.has_error("account") {
        fields.error(
            "account",
            "is required unless employee_id names an employee whose record fills it",
        );
    }
    let integration = match integration_id {
        Some(id) => state.store.integration(caller.tenant_id, id.into()).await?,
        None => None,
    };
    if integration_id.is_some() && integration.is_none() {
        fields.error("integration_id", "no integration with this id");
    }
    let service = integration
        .as_ref()
        .and_then(|i| state.catalog.service(&i.service));
    if let (Some(integration), Some(service)) = (&integration, service) {
        if !service.provisioning {
            fields.error(
                "integration_id",
                format!(
                    "{} ({}) cannot provision accounts",
                    service.name, integration.workspace
                ),
            );
        }
    }
    let employee = match employee_id {
        Some(id) => state.store.employee(caller.tenant_id, id.into()).await?,
        None => None,
    };
    if employee_id.is_some() && employee.is_none() {
        fields.error("employee_id", "no employee with this id");
    }
    let mut account: Map<String, Value> = account.unwrap_or_default();
    if let (Some(service), Some(employee)) = (service, &employee) {
        let facts = EmployeeFacts {
            email: &employee.email,
            given_name: &employee.given_name,
            family_name: &employee.family_name,
        };
        fill_from_employee(&mut account, &facts, &service.account_schema);
    }
    // Without fields from the body or the employee there is nothing to check yet; the
    // missing `account` is already reported.
    let has_fields = account_given || employee.is_some();
    if let Some(service) = service.filter(|s| s.provisioning && has_fields) {
        if let Err(errors) = state
            .catalog
            .validate_account(service.key, &Value::Object(account.clone()))
        {
            for error in errors {
                fields.error(&nested_field("account", &error.field), error.message);
            }
        }
    }
    fields.finish()?;
    let (Some(integration), Some(service)) = (integration, service) else {
        return Err(Problem::internal());
    };

    let new = NewRequest {
        integration_id: integration.id.into(),
        employee_id: employee.map(|e| e.id.into()),
        service: service.key.to_owned(),
        workspace: integration.workspace.clone(),
        target: account_target(&account),
        account: Value::Object(account),
        idempotency_key,
        request_hash,
        trace_id: Some(trace.trace_id().to_owned()),
    };
    let id = match state.store.insert_request(caller.tenant_id, &new).await? {
        StoredRequest::Created(id) => {
            metrics::counter!("provisioner_requests_accepted_total", "service" => new.service.clone())
                .increment(1);
            publish_now(&state, caller.tenant_id, id, &new.service, &trace).await;
            id
        }
        StoredRequest::Repeated(id) => id,
        StoredRequest::KeyReused => {
            return Err(Problem::invalid_field(
                "Idempotency-Key",
                "this key was already used with a different body",
            ))
        }
    };
    Ok(accepted(id))
}

pub(crate) fn accepted(id: RequestId) -> Response {
    let location = format!("/v1/provisioning-requests/{id}");
    (
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(json!({"id": id, "state": RequestState::Queued})),
    )
        .into_response()
}

pub(crate) async fn publish_now(
    state: &AppState,
    tenant_id: provisioner_core::TenantId,
    id: RequestId,
    service: &str,
    trace: &TraceParent,
) {
    let message = RequestMessage {
        tenant_id,
        request_id: id,
    };
    match state
        .publisher
        .publish_request(&message, service, trace)
        .await
    {
        Ok(()) => {
            if let Err(error) = state.store.mark_request_published(id).await {
                tracing::warn!(request_id = %id, error = %error, "published but not marked; the relay may publish it again");
            }
        }
        Err(error) => {
            tracing::warn!(request_id = %id, error = %error, "publish not confirmed; the relay will publish it");
        }
    }
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

pub fn view(request: &RequestRow) -> Value {
    let mut body = json!({
        "id": request.id,
        "state": request.state,
        "service": request.service,
        "workspace": request.workspace,
        "integration_id": request.integration_id,
        "target": request.target,
        "attempts": request.attempts,
        "replays": request.replays,
        "created_at": request.created_at,
        "updated_at": request.updated_at,
    });
    if let Some(trace_id) = &request.trace_id {
        body["trace_id"] = json!(trace_id);
    }
    if let Some(employee_id) = request.employee_id {
        body["employee_id"] = json!(employee_id);
    }
    if let Some(external) = &request.external_account_id {
        body["external_account_id"] = json!(external);
    }
    if let Some(error) = request.error() {
        body["error"] = json!(error);
    }
    body
}

pub async fn show(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    caller.require(Scope::RequestsRead)?;
    let id = path_id(&id, "provisioning request")?;
    let request = state
        .store
        .request(caller.tenant_id, id.into())
        .await?
        .ok_or_else(|| Problem::not_found("provisioning request"))?;
    let attempts = state.store.attempts_of(caller.tenant_id, id.into()).await?;
    let mut body = view(&request);
    body["attempt_history"] = json!(attempts);
    Ok(Json(body))
}

pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    RawQuery(params): RawQuery<HashMap<String, String>>,
) -> Result<Json<Value>, Problem> {
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
    let next_cursor = (rows.len() as i64 == filter.limit)
        .then(|| rows.last())
        .flatten()
        .map(|last| {
            Cursor {
                at: last.created_at,
                id: last.id,
            }
            .encode()
        });
    let items: Vec<Value> = rows.iter().map(view).collect();
    let mut body = json!({ "items": items });
    if let Some(cursor) = next_cursor {
        body["next_cursor"] = json!(cursor);
    }
    Ok(Json(body))
}
