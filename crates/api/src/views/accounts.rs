//! The inventory: the accounts provisioner holds.

use chrono::{DateTime, Utc};
use provisioner_core::{AccountId, AccountOrigin, AccountState, EmployeeId, IntegrationId};
use provisioner_store::AccountRow;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct AccountView {
    pub id: AccountId,
    pub integration_id: IntegrationId,
    pub service: String,
    pub workspace: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<EmployeeId>,
    pub external_account_id: String,
    pub target: String,
    pub state: AccountState,
    pub origin: AccountOrigin,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<AccountRow> for AccountView {
    fn from(account: AccountRow) -> Self {
        Self {
            id: account.id,
            integration_id: account.integration_id,
            service: account.service,
            workspace: account.workspace,
            employee_id: account.employee_id,
            external_account_id: account.external_account_id,
            target: account.target,
            state: account.state,
            origin: account.origin,
            created_at: account.created_at,
            updated_at: account.updated_at,
        }
    }
}

/// `GET /v1/accounts`: a page, newest first.
#[derive(Debug, Serialize)]
pub struct AccountPage {
    pub items: Vec<AccountView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `GET /v1/employees/{id}/accounts`: every account of one employee, newest first.
#[derive(Debug, Serialize)]
pub struct AccountList {
    pub items: Vec<AccountView>,
}
