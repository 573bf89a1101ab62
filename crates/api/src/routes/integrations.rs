use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use provisioner_connectors::IntegrationTarget;
use provisioner_core::{IntegrationStatus, Scope};
use provisioner_store::{CallLimitsUpdate, Integration, NewIntegration, StoreError};
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::input::{nested_field, Fields, JsonObject};
use crate::problem::Problem;
use crate::routes::path_id;
use crate::AppState;

/// The call limits an integration may set.
const RATE: std::ops::RangeInclusive<f64> = 0.0..=10_000.0;
const CONCURRENCY: std::ops::RangeInclusive<i64> = 1..=1000;

fn max_concurrent_calls(fields: &mut Fields) -> Option<i32> {
    fields
        .optional_integer("max_concurrent_calls", CONCURRENCY)
        .and_then(|n| i32::try_from(n).ok())
}

/// What clients see of an integration: never its credentials.
pub fn view(integration: &Integration) -> Value {
    let mut body = json!({
        "id": integration.id,
        "service": integration.service,
        "workspace": integration.workspace,
        "status": integration.status,
        "checked_at": integration.checked_at,
        "created_at": integration.created_at,
    });
    if let Some(base_url) = &integration.base_url {
        body["base_url"] = json!(base_url);
    }
    if let Some(max_attempts) = integration.max_attempts {
        body["max_attempts"] = json!(max_attempts);
    }
    if let Some(rate) = integration.requests_per_second {
        body["requests_per_second"] = json!(rate);
    }
    if let Some(max) = integration.max_concurrent_calls {
        body["max_concurrent_calls"] = json!(max);
    }
    if let Some(reason) = &integration.status_reason {
        body["status_reason"] = json!(reason);
    }
    body
}

pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), Problem> {
    caller.require(Scope::IntegrationsAdmin)?;
    let mut fields = Fields::new(body);
    let service_key = fields.required_string("service", 100);
    let workspace = fields.required_string("workspace", 200);
    let base_url = fields.optional_string("base_url", 2000);
    let credentials = fields.required_object("credentials");
    let requests_per_second = fields.optional_number("requests_per_second", RATE);
    let max_concurrent_calls = max_concurrent_calls(&mut fields);
    let max_attempts = fields
        .optional_integer("max_attempts", 1..=20)
        .and_then(|n| i32::try_from(n).ok());
    let service = service_key.as_deref().and_then(|key| {
        let found = state.catalog.service(key);
        if found.is_none() {
            let known: Vec<&str> = state.catalog.services().iter().map(|s| s.key).collect();
            fields.error(
                "service",
                format!("unknown service; expected one of {}", known.join(", ")),
            );
        }
        found
    });
    if let Some(service) = service {
        if let Some(raw) = &base_url {
            if let Err(error) = state.catalog.base_url(service.key, Some(raw)) {
                fields.error("base_url", error.to_string());
            }
        }
        if service.requires_base_url && base_url.is_none() {
            fields.error("base_url", format!("is required for {}", service.name));
        }
        if let Some(credentials) = &credentials {
            if let Err(errors) = state
                .catalog
                .validate_credentials(service.key, &Value::Object(credentials.clone()))
            {
                for error in errors {
                    fields.error(&nested_field("credentials", &error.field), error.message);
                }
            }
        }
    }
    fields.finish()?;
    let (Some(service), Some(workspace), Some(credentials)) = (service, workspace, credentials)
    else {
        return Err(Problem::internal());
    };

    let mut new = NewIntegration {
        service: service.key.to_owned(),
        workspace,
        base_url,
        credentials: Value::Object(credentials),
        status: IntegrationStatus::Ok,
        status_reason: None,
        requests_per_second,
        max_attempts,
        max_concurrent_calls,
    };
    let (status, reason) = check_at_service(
        &state,
        &new.service,
        &new.workspace,
        new.base_url.as_deref(),
        &new.credentials,
    )
    .await;
    new.status = status;
    new.status_reason = reason;
    match state.store.insert_integration(caller.tenant_id, &new).await {
        Ok(integration) => Ok((StatusCode::CREATED, Json(view(&integration)))),
        Err(StoreError::AlreadyExists(_)) => Err(Problem::conflict(format!(
            "an integration for {} workspace {} already exists",
            new.service, new.workspace
        ))),
        Err(error) => Err(error.into()),
    }
}

pub async fn list(caller: Caller, State(state): State<AppState>) -> Result<Json<Value>, Problem> {
    caller.require_any(&[Scope::IntegrationsAdmin, Scope::RequestsWrite])?;
    let integrations = state.store.integrations(caller.tenant_id).await?;
    let items: Vec<Value> = integrations.iter().map(view).collect();
    Ok(Json(json!({ "integrations": items })))
}

pub async fn show(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    caller.require_any(&[Scope::IntegrationsAdmin, Scope::RequestsWrite])?;
    let integration = find(&state, &caller, &id).await?;
    Ok(Json(view(&integration)))
}

/// Changes the integration's call limits; `null` clears one, so the service's own
/// default applies again. Nothing else of an integration changes here: credentials are
/// changed by integrating again.
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, Problem> {
    caller.require(Scope::IntegrationsAdmin)?;
    let integration = find(&state, &caller, &id).await?;
    // Absent leaves a limit as it is; `null` clears it (Fields reads null as absent).
    let named = |name: &str| body.contains_key(name);
    let (rate_named, concurrency_named) =
        (named("requests_per_second"), named("max_concurrent_calls"));
    let mut fields = Fields::new(body);
    let rate = fields.optional_number("requests_per_second", RATE);
    let concurrency = max_concurrent_calls(&mut fields);
    fields.finish()?;
    let limits = CallLimitsUpdate {
        requests_per_second: rate_named.then_some(rate),
        max_concurrent_calls: concurrency_named.then_some(concurrency),
    };
    let updated = state
        .store
        .set_call_limits(caller.tenant_id, integration.id.into(), &limits)
        .await?
        .ok_or_else(|| Problem::not_found("integration"))?;
    tracing::info!(integration_id = %updated.id, "integration call limits changed");
    Ok(Json(view(&updated)))
}

/// Re-checks the integration at the SaaS (what a person does after re-integrating).
pub async fn check(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, Problem> {
    caller.require(Scope::IntegrationsAdmin)?;
    let integration = find(&state, &caller, &id).await?;
    let (status, reason) = check_at_service(
        &state,
        &integration.service,
        &integration.workspace,
        integration.base_url.as_deref(),
        &integration.credentials,
    )
    .await;
    let updated = state
        .store
        .set_integration_status(
            caller.tenant_id,
            integration.id.into(),
            status,
            reason.as_deref(),
        )
        .await?;
    tracing::info!(integration_id = %integration.id, status = status.as_str(), "integration checked");
    Ok(Json(view(&updated)))
}

/// The caller's integration named in the path; any other id is simply not found.
async fn find(state: &AppState, caller: &Caller, raw_id: &str) -> Result<Integration, Problem> {
    let id = path_id(raw_id, "integration")?;
    state
        .store
        .integration(caller.tenant_id, id.into())
        .await?
        .ok_or_else(|| Problem::not_found("integration"))
}

/// Asks the SaaS whether the integration works. A service without a connector has
/// nothing to ask; it is recorded as usable and says so.
async fn check_at_service(
    state: &AppState,
    service: &str,
    workspace: &str,
    base_url: Option<&str>,
    credentials: &Value,
) -> (IntegrationStatus, Option<String>) {
    let Some(connector) = state.catalog.connector(service) else {
        return (
            IntegrationStatus::Ok,
            Some("this service has no connector yet; nothing was checked".into()),
        );
    };
    // The vendor's own API unless the integration names another, as the worker does.
    let base_url = match state.catalog.base_url(service, base_url) {
        Ok(base_url) => base_url,
        Err(error) => return (IntegrationStatus::Error, Some(error.to_string())),
    };
    let target = IntegrationTarget {
        workspace: workspace.to_owned(),
        base_url,
        credentials: credentials.clone(),
    };
    match connector.check(&target).await {
        Ok(()) => (IntegrationStatus::Ok, None),
        Err(failure) => (IntegrationStatus::Error, Some(failure.to_string())),
    }
}
