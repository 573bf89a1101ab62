//! From a hire and the tenant's rules to the requests to make.

use provisioner_connectors::{account_target, Catalog};
use provisioner_core::account::{fill_from_employee, EmployeeFacts};
use provisioner_core::rules::{render_account, template_facts, HiredEmployee};
use provisioner_core::{RequestError, TenantId};
use provisioner_store::{PlannedRequest, Store, StoreError};
use serde_json::Value;

pub async fn plan(
    store: &Store,
    catalog: &Catalog,
    tenant_id: TenantId,
    employee: &HiredEmployee,
) -> Result<Vec<PlannedRequest>, StoreError> {
    let facts = template_facts(employee);
    let mut planned = Vec::new();
    for rule in store.rules(tenant_id).await? {
        if !rule.matches.matches(employee) {
            continue;
        }
        for target in &rule.targets {
            let Some(integration) = store
                .integration(tenant_id, target.integration_id.into())
                .await?
            else {
                tracing::warn!(rule = %rule.name, integration_id = %target.integration_id,
                    "rule names an integration that no longer exists; skipped");
                continue;
            };
            let refuse = |code: &str, message: String| RequestError {
                code: code.to_owned(),
                message: format!("rule {:?}: {message}", rule.name),
                retryable: false,
            };
            let mut refused = None;
            let mut account = match render_account(&target.account, &facts) {
                Ok(account) => account,
                Err(error) => {
                    refused = Some(refuse("invalid_template", error.to_string()));
                    serde_json::Map::new()
                }
            };
            match catalog.service(&integration.service) {
                Some(service) if service.provisioning => {
                    let known = EmployeeFacts {
                        email: &employee.email,
                        given_name: &employee.given_name,
                        family_name: &employee.family_name,
                    };
                    fill_from_employee(&mut account, &known, &service.account_schema);
                    if refused.is_none() {
                        if let Err(errors) =
                            catalog.validate_account(service.key, &Value::Object(account.clone()))
                        {
                            let fields: Vec<String> = errors
                                .iter()
                                .map(|e| format!("{}: {}", e.field, e.message))
                                .collect();
                            refused = Some(refuse("invalid_fields", fields.join("; ")));
                        }
                    }
                }
                _ => {
                    refused = Some(refuse(
                        "not_provisionable",
                        format!("{} cannot provision accounts", integration.service),
                    ));
                }
            }
            planned.push(PlannedRequest {
                integration_id: integration.id.into(),
                service: integration.service.clone(),
                workspace: integration.workspace.clone(),
                target: account_target(&account),
                account: Value::Object(account),
                refused,
            });
        }
    }
    Ok(planned)
}
