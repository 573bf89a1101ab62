use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use provisioner_connectors::Catalog;
use provisioner_connectors::IntegrationTarget;
use provisioner_core::{IntegrationStatus, Scope};
use provisioner_store::{Integration, IntegrationTuning, NewIntegration, StoreError};
use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::input::{nested_field, Fields, JsonObject};
use crate::problem::Problem;
use crate::routes::path_id;
use crate::routes::tuning::TuningChanges;
use crate::views::{IntegrationList, IntegrationView};
use crate::AppState;

/// What clients see of an integration: never its credentials.
fn view(integration: &Integration, catalog: &Catalog) -> IntegrationView {
    IntegrationView::new(integration, catalog.retry_policy(&integration.service))
}

pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<IntegrationView>), Problem> {
    caller.require(Scope::IntegrationsAdmin)?;
    let mut new = read_new(&state.catalog, body)?;
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
        Ok(integration) => Ok((
            StatusCode::CREATED,
            Json(view(&integration, &state.catalog)),
        )),
        Err(StoreError::AlreadyExists(_)) => Err(Problem::conflict(format!(
            "an integration for {} workspace {} already exists",
            new.service, new.workspace
        ))),
        Err(error) => Err(error.into()),
    }
}

/// The integration a create body asks for, every wrong field listed; its status is
/// set once the service has been asked.
fn read_new(catalog: &Catalog, body: Map<String, Value>) -> Result<NewIntegration, Problem> {
    let mut fields = Fields::new(body);
    let service_key = fields.required_string("service", 100);
    let workspace = fields.required_string("workspace", 200);
    let base_url = fields.optional_string("base_url", 2000);
    let credentials = fields.required_object("credentials");
    let tuning = TuningChanges::read(&mut fields).applied_to(IntegrationTuning::default());
    let service = service_key.as_deref().and_then(|key| {
        let found = catalog.service(key);
        if found.is_none() {
            let known: Vec<_> = catalog.services().iter().map(|s| s.key).collect();
            fields.error(
                "service",
                format!("unknown service; expected one of {}", known.join(", ")),
            );
        }
        found
    });
    if let Some(service) = service {
        if let Some(raw) = &base_url {
            if let Err(error) = catalog.base_url(service.key, Some(raw)) {
                fields.error("base_url", error.to_string());
            }
        }
        if service.requires_base_url && base_url.is_none() {
            fields.error("base_url", format!("is required for {}", service.name));
        }
        if let Some(credentials) = &credentials {
            if let Err(errors) =
                catalog.validate_credentials(service.key, &Value::Object(credentials.clone()))
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
    Ok(NewIntegration {
        service: service.key.to_string(),
        workspace,
        base_url,
        credentials: Value::Object(credentials),
        status: IntegrationStatus::Ok,
        status_reason: None,
        requests_per_second: tuning.requests_per_second,
        max_concurrent_calls: tuning.max_concurrent_calls,
        retry: tuning.retry,
    })
}

pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<IntegrationList>, Problem> {
    caller.require_any(&[Scope::IntegrationsAdmin, Scope::RequestsWrite])?;
    let integrations = state.store.integrations(caller.tenant_id).await?;
    let integrations = integrations
        .iter()
        .map(|integration| view(integration, &state.catalog))
        .collect();
    Ok(Json(IntegrationList { integrations }))
}

pub async fn show(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IntegrationView>, Problem> {
    caller.require_any(&[Scope::IntegrationsAdmin, Scope::RequestsWrite])?;
    let integration = find(&state, &caller, &id).await?;
    Ok(Json(view(&integration, &state.catalog)))
}

/// Changes how the integration is paced and retried; fields not named keep their
/// value, `null` clears an override back to the service's default.
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<IntegrationView>, Problem> {
    caller.require(Scope::IntegrationsAdmin)?;
    let integration = find(&state, &caller, &id).await?;
    let mut fields = Fields::new(body);
    let changes = TuningChanges::read(&mut fields);
    fields.finish()?;
    let current = IntegrationTuning {
        requests_per_second: integration.requests_per_second,
        max_concurrent_calls: integration.max_concurrent_calls,
        retry: integration.retry,
    };
    let updated = state
        .store
        .tune_integration(
            caller.tenant_id,
            integration.id,
            &changes.applied_to(current),
        )
        .await?
        .ok_or_else(|| Problem::not_found("integration"))?;
    tracing::info!(integration_id = %updated.id, "integration tuned");
    Ok(Json(view(&updated, &state.catalog)))
}

/// Re-checks the integration at the SaaS (what a person does after re-integrating).
pub async fn check(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<IntegrationView>, Problem> {
    caller.require(Scope::IntegrationsAdmin)?;
    let integration = find(&state, &caller, &id).await?;
    let (status, reason) = check_at_service(
        &state,
        &integration.service,
        &integration.workspace,
        integration.base_url.as_deref(),
        integration.credentials.expose(),
    )
    .await;
    let updated = state
        .store
        .set_integration_status(caller.tenant_id, integration.id, status, reason.as_deref())
        .await?;
    tracing::info!(integration_id = %integration.id, status = status.as_str(), "integration checked");
    Ok(Json(view(&updated, &state.catalog)))
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
