//! From a hire and the tenant's rules to the requests to make.

use provisioner_core::rules::{render_account, template_facts, HiredEmployee};
use provisioner_core::trace::TraceParent;
use provisioner_core::{EmployeeId, IntegrationId, RequestError, TenantId};
use provisioner_requests::{Action, Ask, Employee, Prepared, Refusal, Requests};
use provisioner_store::{NewRequest, RuleTarget, Store, StoreError};
use serde_json::{Map, Value};

/// A request a rule gives for the hire. `refused` holds why it cannot even be tried
/// (its fields do not fit the service); it is then recorded as `failed` at once, with
/// its cause in the integration log, rather than dropped.
#[derive(Debug, Clone)]
pub struct PlannedRequest {
    pub integration_id: IntegrationId,
    pub service: String,
    pub workspace: String,
    pub target: String,
    pub account: Value,
    pub refused: Option<RequestError>,
}

impl PlannedRequest {
    /// The request to store for hire `event_id` of employee `employee_id`. Idempotent on
    /// (event, integration): two rules naming one integration give one request.
    pub fn prepare(self, event_id: &str, employee_id: EmployeeId, trace: &TraceParent) -> Prepared {
        let key = format!("hr:{event_id}:{}", self.integration_id);
        Prepared {
            request: NewRequest {
                integration_id: self.integration_id,
                employee_id: Some(employee_id),
                service: self.service,
                workspace: self.workspace,
                target: self.target,
                account: self.account,
                idempotency_key: Some(key),
                request_hash: Vec::new(),
                trace_id: Some(trace.trace_id().to_owned()),
            },
            refused: self.refused,
            trace: trace.clone(),
        }
    }
}

pub async fn plan(
    store: &Store,
    requests: &Requests,
    tenant_id: TenantId,
    employee: &HiredEmployee,
) -> Result<Vec<PlannedRequest>, StoreError> {
    let mut planned = Vec::new();
    for rule in store.rules(tenant_id).await? {
        if !rule.matches.matches(employee) {
            continue;
        }
        for target in &rule.targets {
            if let Some(request) =
                plan_one(requests, tenant_id, employee, &rule.name, target).await?
            {
                planned.push(request);
            }
        }
    }
    Ok(planned)
}

/// The request one rule target gives, checked the way every request is; `None` when the
/// target names an integration that no longer exists.
async fn plan_one(
    requests: &Requests,
    tenant_id: TenantId,
    employee: &HiredEmployee,
    rule: &str,
    target: &RuleTarget,
) -> Result<Option<PlannedRequest>, StoreError> {
    let (account, template_error) = match render_account(&target.account, &template_facts(employee))
    {
        Ok(account) => (account, None),
        Err(error) => (Map::new(), Some(error.to_string())),
    };
    let ask = Ask {
        action: Action::Create,
        integration_id: target.integration_id.into(),
        employee: Employee::Hired {
            id: None,
            employee: employee.clone(),
        },
        account: Some(account),
        idempotency_key: None,
        request_hash: Vec::new(),
        trace: TraceParent::new_root(),
    };
    let checked = requests.check(tenant_id, &ask).await?;
    let Some(request) = checked.request else {
        tracing::warn!(rule, integration_id = %target.integration_id,
            "rule names an integration that no longer exists; skipped");
        return Ok(None);
    };
    Ok(Some(PlannedRequest {
        integration_id: request.integration_id,
        service: request.service,
        workspace: request.workspace,
        target: request.target,
        account: request.account,
        refused: refusal(rule, template_error, &checked.refusals),
    }))
}

/// Why a rule's request fails at once: a service that cannot provision outweighs a
/// template that did not render, which outweighs fields that do not fit.
fn refusal(
    rule: &str,
    template_error: Option<String>,
    refusals: &[Refusal],
) -> Option<RequestError> {
    let refuse = |code: &str, message: String| RequestError {
        code: code.to_owned(),
        message: format!("rule {rule:?}: {message}"),
        retryable: false,
    };
    let not_provisionable = refusals.iter().find_map(|refusal| match refusal {
        Refusal::NotProvisionable { service, .. } => Some(service),
        _ => None,
    });
    if let Some(service) = not_provisionable {
        return Some(refuse(
            "not_provisionable",
            format!("{service} cannot provision accounts"),
        ));
    }
    if let Some(error) = template_error {
        return Some(refuse("invalid_template", error));
    }
    refusals.iter().find_map(|refusal| match refusal {
        Refusal::InvalidFields(errors) => {
            let fields: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            Some(refuse("invalid_fields", fields.join("; ")))
        }
        _ => None,
    })
}
