//! Every response body the api sends, as a type: what `schemas/openapi.yaml` promises
//! is written down once here, and a field marked optional in the contract is left out
//! rather than sent as `null`.

mod accounts;
mod integrations;
mod requests;

use chrono::{DateTime, Utc};
use provisioner_connectors::ServiceDescriptor;
use provisioner_core::retry::RetryPolicy;
use provisioner_core::rules::RuleMatch;
use provisioner_core::{EmployeeId, IntegrationId, RequestError, Scope};
use provisioner_hr_intake::PlannedRequest;
use provisioner_store::{Employee, Rule, RuleTarget, TokenInfo};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

pub use accounts::{AccountList, AccountPage, AccountView};
pub use integrations::{IntegrationList, IntegrationView};
pub use requests::{Accepted, LogPage, ReplaySummary, RequestDetail, RequestPage};

/// `GET /healthz`.
#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
}

/// `GET /readyz`: each backing service, and the whole.
#[derive(Debug, Serialize)]
pub struct Readiness {
    pub status: &'static str,
    pub database: &'static str,
    pub broker: &'static str,
}

/// A retry policy as clients read it.
#[derive(Debug, Serialize)]
pub struct RetryPolicyView {
    pub max_attempts: u32,
    pub base_delay_seconds: f64,
    pub max_delay_seconds: f64,
    pub jitter: &'static str,
    pub deadline_seconds: u64,
}

impl From<&RetryPolicy> for RetryPolicyView {
    fn from(policy: &RetryPolicy) -> Self {
        Self {
            max_attempts: policy.max_attempts,
            base_delay_seconds: policy.base_delay.as_secs_f64(),
            max_delay_seconds: policy.cap().as_secs_f64(),
            jitter: policy.jitter.as_str(),
            deadline_seconds: policy.deadline.as_secs(),
        }
    }
}

/// `GET /v1/services`.
#[derive(Debug, Serialize)]
pub struct ServiceList {
    pub services: Vec<ServiceView>,
}

#[derive(Debug, Serialize)]
pub struct ServiceView {
    pub key: provisioner_connectors::ServiceKey,
    pub name: &'static str,
    pub provisioning: bool,
    pub requires_base_url: bool,
    pub default_base_url: Option<&'static str>,
    pub account_schema: Value,
    pub credentials_schema: Value,
    pub retry_policy: RetryPolicyView,
}

impl ServiceView {
    pub fn new(service: &ServiceDescriptor, policy: &RetryPolicy) -> Self {
        Self {
            key: service.key,
            name: service.name,
            provisioning: service.provisioning,
            requires_base_url: service.requires_base_url,
            default_base_url: service.default_base_url,
            account_schema: service.account_schema.clone(),
            credentials_schema: service.credentials_schema.clone(),
            retry_policy: policy.into(),
        }
    }
}

/// An employee; the facts HR did not give are `null`, as the contract has them.
#[derive(Debug, Serialize)]
pub struct EmployeeView {
    pub id: EmployeeId,
    pub email: String,
    pub given_name: String,
    pub family_name: String,
    pub department: Option<String>,
    pub employment_type: Option<String>,
    pub location: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<Employee> for EmployeeView {
    fn from(employee: Employee) -> Self {
        Self {
            id: employee.id,
            email: employee.email,
            given_name: employee.given_name,
            family_name: employee.family_name,
            department: employee.department,
            employment_type: employee.employment_type,
            location: employee.location,
            created_at: employee.created_at,
        }
    }
}

/// `GET /v1/employees`.
#[derive(Debug, Serialize)]
pub struct EmployeeList {
    pub employees: Vec<EmployeeView>,
}

/// A provisioning rule.
#[derive(Debug, Serialize)]
pub struct RuleView {
    pub id: Uuid,
    pub name: String,
    #[serde(rename = "match")]
    pub matches: RuleMatch,
    pub targets: Vec<RuleTarget>,
    pub created_at: DateTime<Utc>,
}

impl From<Rule> for RuleView {
    fn from(rule: Rule) -> Self {
        Self {
            id: rule.id,
            name: rule.name,
            matches: rule.matches,
            targets: rule.targets,
            created_at: rule.created_at,
        }
    }
}

/// `GET /v1/provisioning-rules`.
#[derive(Debug, Serialize)]
pub struct RuleList {
    pub rules: Vec<RuleView>,
}

/// `POST /v1/provisioning-rules/test`: what the rules would ask for, nothing recorded.
#[derive(Debug, Serialize)]
pub struct RuleDryRun {
    pub dry_run: bool,
    pub requests: Vec<PlannedView>,
}

#[derive(Debug, Serialize)]
pub struct PlannedView {
    pub integration_id: IntegrationId,
    pub service: String,
    pub workspace: String,
    pub account: Value,
    /// Why the request would fail at once; `null` when it would be queued.
    pub would_fail: Option<RequestError>,
}

impl From<PlannedRequest> for PlannedView {
    fn from(planned: PlannedRequest) -> Self {
        Self {
            integration_id: planned.integration_id,
            service: planned.service,
            workspace: planned.workspace,
            account: planned.account,
            would_fail: planned.refused,
        }
    }
}

/// `POST /v1/hr/events`: what the intake made of the event.
#[derive(Debug, Serialize)]
pub struct HrReceipt {
    pub event_id: String,
    pub duplicate: bool,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub recorded: Option<HrRecorded>,
}

#[derive(Debug, Serialize)]
pub struct HrRecorded {
    pub employee_id: Uuid,
    pub requests_queued: usize,
    pub requests_failed: usize,
}

/// `POST /v1/hr/signing-secrets`: the secret is shown this once.
#[derive(Debug, Serialize)]
pub struct SigningSecret {
    pub id: Uuid,
    pub secret: String,
}

/// A token as listed: never its secret.
#[derive(Debug, Serialize)]
pub struct TokenView {
    pub id: Uuid,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<TokenInfo> for TokenView {
    fn from(token: TokenInfo) -> Self {
        Self {
            id: token.id,
            scopes: token.scopes,
            created_at: token.created_at,
            revoked_at: token.revoked_at,
        }
    }
}

/// `GET /v1/tokens`.
#[derive(Debug, Serialize)]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

/// `POST /v1/tokens`: the secret is shown this once.
#[derive(Debug, Serialize)]
pub struct CreatedToken {
    pub id: Uuid,
    pub token: String,
    pub scopes: Vec<Scope>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{HrReceipt, HrRecorded};

    #[test]
    fn a_duplicate_hire_says_so_and_nothing_more() {
        let duplicate = HrReceipt {
            event_id: "evt-1".into(),
            duplicate: true,
            recorded: None,
        };
        assert_eq!(
            serde_json::to_value(duplicate).unwrap(),
            json!({"event_id": "evt-1", "duplicate": true})
        );
    }

    #[test]
    fn a_recorded_hire_names_its_employee_and_requests() {
        let employee_id = uuid::Uuid::nil();
        let recorded = HrReceipt {
            event_id: "evt-2".into(),
            duplicate: false,
            recorded: Some(HrRecorded {
                employee_id,
                requests_queued: 2,
                requests_failed: 1,
            }),
        };
        assert_eq!(
            serde_json::to_value(recorded).unwrap(),
            json!({"event_id": "evt-2", "duplicate": false, "employee_id": employee_id,
                   "requests_queued": 2, "requests_failed": 1})
        );
    }
}
