//! The inventory: the accounts provisioner holds at each service. A success records
//! its account in the transaction that ends the request (`claims.rs`), so neither is
//! ever committed without the other.

use chrono::{DateTime, Utc};
use provisioner_core::cursor::Cursor;
use provisioner_core::{
    AccountId, AccountOrigin, AccountState, EmployeeId, IntegrationId, ProvisionOutcome, TenantId,
};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::requests::{RawRequestRow, RequestRow};
use crate::{Store, StoreError};

/// Records the account a success names and points the request at it. The key is the
/// account's id at the service: a second success for the same account (another request
/// for the same person, a replay that finds it again) names the row already there, and
/// fills in its employee only if the first did not know it. Its state is left alone:
/// moving it is what lifecycle operations do.
const RECORD: &str = "WITH account AS (
         INSERT INTO accounts
             (id, tenant_id, integration_id, employee_id, external_account_id, target,
              state, origin, found_by_lookup)
         VALUES ($3, $1, $4, $5, $6, $7, $8, $9, $10)
         ON CONFLICT (integration_id, external_account_id) DO UPDATE
         SET employee_id = COALESCE(accounts.employee_id, EXCLUDED.employee_id),
             updated_at = CASE WHEN accounts.employee_id IS NULL
                                    AND EXCLUDED.employee_id IS NOT NULL
                               THEN now() ELSE accounts.updated_at END
         RETURNING id, origin
     )
     UPDATE provisioning_requests
     SET account_id = (SELECT id FROM account), account_origin = (SELECT origin FROM account)
     WHERE tenant_id = $1 AND id = $2
     RETURNING *";

const SELECT: &str = "SELECT a.id, a.tenant_id, a.integration_id, i.service, i.workspace,
            a.employee_id, a.external_account_id, a.target, a.state, a.origin,
            a.found_by_lookup, a.created_at, a.updated_at, a.state_changed_at
     FROM accounts a
     JOIN integrations i ON i.tenant_id = a.tenant_id AND i.id = a.integration_id";

/// An account as read: ids typed, its state and origin decoded.
#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: AccountId,
    pub tenant_id: TenantId,
    pub integration_id: IntegrationId,
    pub service: String,
    pub workspace: String,
    pub employee_id: Option<EmployeeId>,
    pub external_account_id: String,
    pub target: String,
    pub state: AccountState,
    pub origin: AccountOrigin,
    /// Whether the success that recorded it found the account by lookup rather than by
    /// its own create call; `None` for accounts recorded before this was kept.
    pub found_by_lookup: Option<bool>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub state_changed_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct RawAccountRow {
    id: Uuid,
    tenant_id: Uuid,
    integration_id: Uuid,
    service: String,
    workspace: String,
    employee_id: Option<Uuid>,
    external_account_id: String,
    target: String,
    state: String,
    origin: String,
    found_by_lookup: Option<bool>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    state_changed_at: DateTime<Utc>,
}

impl TryFrom<RawAccountRow> for AccountRow {
    type Error = StoreError;

    fn try_from(raw: RawAccountRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: raw.id.into(),
            tenant_id: raw.tenant_id.into(),
            integration_id: raw.integration_id.into(),
            service: raw.service,
            workspace: raw.workspace,
            employee_id: raw.employee_id.map(Into::into),
            external_account_id: raw.external_account_id,
            target: raw.target,
            state: decode_account_state(&raw.state)?,
            origin: decode_origin(&raw.origin)?,
            found_by_lookup: raw.found_by_lookup,
            created_at: raw.created_at,
            updated_at: raw.updated_at,
            state_changed_at: raw.state_changed_at,
        })
    }
}

fn decode_account_state(name: &str) -> Result<AccountState, StoreError> {
    StoreError::decode("state", name, &AccountState::ALL, AccountState::as_str)
}

fn decode_origin(name: &str) -> Result<AccountOrigin, StoreError> {
    StoreError::decode("origin", name, &AccountOrigin::ALL, AccountOrigin::as_str)
}

fn typed(rows: Vec<RawAccountRow>) -> Result<Vec<AccountRow>, StoreError> {
    rows.into_iter().map(AccountRow::try_from).collect()
}

/// Which accounts to list; newest first, `limit` at a time (all when `None`).
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub integration_id: Option<IntegrationId>,
    pub employee_id: Option<EmployeeId>,
    pub service: Option<String>,
    pub state: Option<AccountState>,
    pub limit: Option<i64>,
    pub cursor: Option<Cursor>,
}

/// Records the account of a request that just succeeded, on the transaction's
/// connection, and returns the request naming it.
pub(crate) async fn record(
    connection: &mut PgConnection,
    request: &RequestRow,
    outcome: &ProvisionOutcome,
) -> Result<RequestRow, StoreError> {
    // A found account is provisioner's own unless the connector matched another's to
    // the person (`Linked`); either way it was found by lookup. An account already in
    // the inventory keeps its origin, and the request takes that one: linking what
    // another request of provisioner's created is not taking over someone else's.
    let (origin, found_by_lookup) = match outcome {
        ProvisionOutcome::Created { .. } => (AccountOrigin::Created, false),
        ProvisionOutcome::AlreadyExists { .. } => (AccountOrigin::Created, true),
        ProvisionOutcome::Linked { .. } => (AccountOrigin::Linked, true),
    };
    let raw: RawRequestRow = sqlx::query_as(RECORD)
        .bind(request.tenant_id.as_uuid())
        .bind(request.id.as_uuid())
        .bind(AccountId::new().as_uuid())
        .bind(request.integration_id.as_uuid())
        .bind(request.employee_id.map(|e| e.as_uuid()))
        .bind(outcome.external_id())
        .bind(&request.target)
        .bind(AccountState::Active.as_str())
        .bind(origin.as_str())
        .bind(found_by_lookup)
        .fetch_one(&mut *connection)
        .await?;
    raw.try_into()
}

impl Store {
    pub async fn account(
        &self,
        tenant_id: TenantId,
        id: AccountId,
    ) -> Result<Option<AccountRow>, StoreError> {
        let row: Option<RawAccountRow> =
            sqlx::query_as(&format!("{SELECT} WHERE a.tenant_id = $1 AND a.id = $2"))
                .bind(tenant_id.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
        row.map(AccountRow::try_from).transpose()
    }

    pub async fn accounts(
        &self,
        tenant_id: TenantId,
        filter: &AccountFilter,
    ) -> Result<Vec<AccountRow>, StoreError> {
        let rows: Vec<RawAccountRow> = sqlx::query_as(&format!(
            "{SELECT}
             WHERE a.tenant_id = $1
               AND ($2::uuid IS NULL OR a.integration_id = $2)
               AND ($3::uuid IS NULL OR a.employee_id = $3)
               AND ($4::text IS NULL OR i.service = $4)
               AND ($5::text IS NULL OR a.state = $5)
               AND ($6::timestamptz IS NULL OR (a.created_at, a.id) < ($6, $7))
             ORDER BY a.created_at DESC, a.id DESC
             LIMIT $8"
        ))
        .bind(tenant_id.as_uuid())
        .bind(filter.integration_id.map(|i| i.as_uuid()))
        .bind(filter.employee_id.map(|e| e.as_uuid()))
        .bind(&filter.service)
        .bind(filter.state.map(AccountState::as_str))
        .bind(filter.cursor.map(|c| c.at))
        .bind(filter.cursor.map(|c| c.id))
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await?;
        typed(rows)
    }
}
