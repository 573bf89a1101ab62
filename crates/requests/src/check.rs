//! Checking an ask: the integration exists in the tenant and its service can provision,
//! the account is filled from the employee, and it fits the service's schema.

use provisioner_connectors::{account_target, ServiceDescriptor};
use provisioner_core::account::{fill_from_employee, EmployeeFacts};
use provisioner_core::{EmployeeId, TenantId};
use provisioner_store::{Integration, NewRequest, StoreError};
use serde_json::{Map, Value};

use crate::ask::{Ask, Employee, Refusal};
use crate::Requests;

/// What an ask comes to before anything is written.
#[derive(Debug, Clone)]
pub struct Checked {
    /// The row to store; `None` when there is no integration to build it on.
    pub request: Option<NewRequest>,
    /// Why it cannot be accepted; empty when it can.
    pub refusals: Vec<Refusal>,
}

/// The employee's name and address, for filling account fields.
struct Facts {
    id: Option<EmployeeId>,
    email: String,
    given_name: String,
    family_name: String,
}

impl Facts {
    fn borrowed(&self) -> EmployeeFacts<'_> {
        EmployeeFacts {
            email: &self.email,
            given_name: &self.given_name,
            family_name: &self.family_name,
        }
    }
}

impl Requests {
    /// Checks `ask` without writing anything: what would be stored, or why not.
    pub async fn check(&self, tenant_id: TenantId, ask: &Ask) -> Result<Checked, StoreError> {
        let mut refusals = Vec::new();
        if ask.account.is_none() && matches!(ask.employee, Employee::Unnamed) {
            refusals.push(Refusal::AccountRequired);
        }
        let integration = self
            .store
            .integration(tenant_id, ask.integration_id)
            .await?;
        if integration.is_none() {
            refusals.push(Refusal::UnknownIntegration);
        }
        let service = integration
            .as_ref()
            .and_then(|i| provisionable(self.catalog.service(&i.service), i, &mut refusals));
        let facts = self.facts(tenant_id, &ask.employee, &mut refusals).await?;
        let mut account = ask.account.clone().unwrap_or_default();
        if let (Some(service), Some(facts)) = (service, &facts) {
            fill_from_employee(&mut account, &facts.borrowed(), &service.account_schema);
        }
        // Without fields from the caller or the employee there is nothing to check yet;
        // the missing account is already refused.
        let has_fields = ask.account.is_some() || facts.is_some();
        if let Some(service) = service.filter(|_| has_fields) {
            if let Err(errors) = self
                .catalog
                .validate_account(service.key, &Value::Object(account.clone()))
            {
                refusals.push(Refusal::InvalidFields(errors));
            }
        }
        let request = integration
            .map(|integration| new_request(ask, &integration, account, facts.and_then(|f| f.id)));
        Ok(Checked { request, refusals })
    }

    async fn facts(
        &self,
        tenant_id: TenantId,
        employee: &Employee,
        refusals: &mut Vec<Refusal>,
    ) -> Result<Option<Facts>, StoreError> {
        Ok(match employee {
            Employee::Unnamed => None,
            Employee::Stored(id) => match self.store.employee(tenant_id, *id).await? {
                Some(found) => Some(Facts {
                    id: Some(found.id),
                    email: found.email,
                    given_name: found.given_name,
                    family_name: found.family_name,
                }),
                None => {
                    refusals.push(Refusal::UnknownEmployee);
                    None
                }
            },
            Employee::Hired { id, employee } => Some(Facts {
                id: *id,
                email: employee.email.clone(),
                given_name: employee.given_name.clone(),
                family_name: employee.family_name.clone(),
            }),
        })
    }
}

/// The integration's service, when it can provision accounts.
fn provisionable<'c>(
    service: Option<&'c ServiceDescriptor>,
    integration: &Integration,
    refusals: &mut Vec<Refusal>,
) -> Option<&'c ServiceDescriptor> {
    match service {
        Some(service) if service.provisioning => Some(service),
        _ => {
            refusals.push(Refusal::NotProvisionable {
                service: integration.service.clone(),
                name: service
                    .map_or(integration.service.as_str(), |s| s.name)
                    .to_owned(),
                workspace: integration.workspace.clone(),
            });
            None
        }
    }
}

fn new_request(
    ask: &Ask,
    integration: &Integration,
    account: Map<String, Value>,
    employee_id: Option<EmployeeId>,
) -> NewRequest {
    NewRequest {
        integration_id: integration.id,
        employee_id,
        service: integration.service.clone(),
        workspace: integration.workspace.clone(),
        target: account_target(&account),
        account: Value::Object(account),
        idempotency_key: ask.idempotency_key.clone(),
        request_hash: ask.request_hash.clone(),
        trace_id: Some(ask.trace.trace_id().to_owned()),
    }
}
