//! Provisioning rules: which hires get which accounts, with account-field templates.

use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use provisioner_core::rules::{render_account, template_facts, HiredEmployee, RuleMatch};
use provisioner_core::Scope;
use provisioner_store::RuleTarget;
use serde_json::{Map, Value};

use crate::auth::Caller;
use crate::input::{json_type, Fields, JsonObject};
use crate::problem::{FieldError, Problem};
use crate::routes::path_id;
use crate::views::{PlannedView, RuleDryRun, RuleList, RuleView};
use crate::AppState;

pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<RuleList>, Problem> {
    caller.require(Scope::IntegrationsAdmin)?;
    let rules = state.store.rules(caller.tenant_id).await?;
    let rules = rules.into_iter().map(Into::into).collect();
    Ok(Json(RuleList { rules }))
}

pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<RuleView>), Problem> {
    caller.require(Scope::IntegrationsAdmin)?;
    let mut fields = Fields::new(body);
    let name = fields.required_string("name", 200);
    let matches = fields.optional_object("match").map(|object| {
        let mut inner = Fields::new(object);
        let matches = RuleMatch {
            department: inner.optional_string("department", 200),
            employment_type: inner.optional_string("employment_type", 200),
            location: inner.optional_string("location", 200),
        };
        (matches, inner)
    });
    let matches = match matches {
        Some((matches, inner)) => {
            if let Err(problem) = inner.finish() {
                for error in problem.errors {
                    fields.error(&format!("match.{}", error.field), error.detail);
                }
            }
            matches
        }
        None => RuleMatch::default(),
    };
    let targets = fields.required_list("targets", 50);
    let mut checked = Vec::new();
    for (index, target) in targets.into_iter().flatten().enumerate() {
        match check_target(&state, &caller, index, target).await? {
            Ok(target) => checked.push(target),
            Err((field, detail)) => fields.error(&field, detail),
        }
    }
    fields.finish()?;
    let Some(name) = name else {
        return Err(Problem::internal());
    };
    let rule = state
        .store
        .insert_rule(caller.tenant_id, &name, &matches, &checked)
        .await?;
    Ok((StatusCode::CREATED, Json(rule.into())))
}

/// A target names one of the tenant's integrations and a template whose placeholders
/// all exist; a sample employee is rendered so a typo shows now, not at the next hire.
async fn check_target(
    state: &AppState,
    caller: &Caller,
    index: usize,
    target: Value,
) -> Result<Result<RuleTarget, (String, String)>, Problem> {
    let at = |field: &str| format!("targets.{index}.{field}");
    let Value::Object(mut object) = target else {
        return Ok(Err((
            format!("targets.{index}"),
            format!("must be an object, not {}", json_type(&target)),
        )));
    };
    let integration_id = match object.remove("integration_id") {
        Some(Value::String(raw)) => match uuid::Uuid::parse_str(&raw) {
            Ok(id) => id,
            Err(_) => return Ok(Err((at("integration_id"), "must be a UUID".into()))),
        },
        _ => return Ok(Err((at("integration_id"), "is required".into()))),
    };
    if state
        .store
        .integration(caller.tenant_id, integration_id.into())
        .await?
        .is_none()
    {
        return Ok(Err((
            at("integration_id"),
            "no integration with this id".into(),
        )));
    }
    let account = match object.remove("account") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(account)) => account,
        Some(other) => {
            return Ok(Err((
                at("account"),
                format!("must be an object, not {}", json_type(&other)),
            )))
        }
    };
    if let Some(extra) = object.keys().next() {
        return Ok(Err((at(extra), "is not a field of a rule target".into())));
    }
    let sample = HiredEmployee {
        email: "sample@example.com".into(),
        given_name: "Sample".into(),
        family_name: "Person".into(),
        ..HiredEmployee::default()
    };
    if let Err(error) = render_account(&account, &template_facts(&sample)) {
        return Ok(Err((at("account"), error.to_string())));
    }
    Ok(Ok(RuleTarget {
        integration_id,
        account,
    }))
}

pub async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    caller.require(Scope::IntegrationsAdmin)?;
    let id = path_id(&id, "provisioning rule")?;
    if !state.store.delete_rule(caller.tenant_id, id).await? {
        return Err(Problem::not_found("provisioning rule"));
    }
    Ok(StatusCode::NO_CONTENT)
}

/// A dry run: what the rules would give this employee, recording nothing.
pub async fn test(
    caller: Caller,
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<Json<RuleDryRun>, Problem> {
    caller.require(Scope::IntegrationsAdmin)?;
    let mut fields = Fields::new(body);
    let employee = fields.required_object("employee");
    fields.finish()?;
    let employee = hired_employee(employee.unwrap_or_default())?;
    let planned = state.intake.preview(caller.tenant_id, &employee).await?;
    let mut seen = HashMap::new();
    let requests = planned
        .into_iter()
        // One request per integration, as the intake makes.
        .filter(|p| seen.insert(p.integration_id, ()).is_none())
        .map(PlannedView::from)
        .collect();
    Ok(Json(RuleDryRun {
        dry_run: true,
        requests,
    }))
}

/// The employee of a dry run, in the shape an HR event gives it: an optional fact is
/// a string when present (`null` is no department, and the HR event schema refuses it).
fn hired_employee(object: Map<String, Value>) -> Result<HiredEmployee, Problem> {
    let errors: Vec<FieldError> = ["department", "employment_type", "location"]
        .into_iter()
        .filter_map(|name| match object.get(name) {
            None | Some(Value::String(_)) => None,
            Some(other) => Some(FieldError::new(
                format!("employee.{name}"),
                format!("must be a string, not {}", json_type(other)),
            )),
        })
        .collect();
    if !errors.is_empty() {
        return Err(Problem::invalid_fields(errors));
    }
    let employee: HiredEmployee = serde_json::from_value(Value::Object(object))
        .map_err(|error| Problem::invalid_field("employee", error.to_string()))?;
    // What the intake would refuse in an HR event, the dry run refuses too, rather
    // than showing requests that would never be made.
    if let Some((field, reason)) = employee.invalid_field() {
        return Err(Problem::invalid_field(&format!("employee.{field}"), reason));
    }
    Ok(employee)
}
