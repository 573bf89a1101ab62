use chrono::{DateTime, Utc};
use provisioner_core::cursor::Cursor;
use provisioner_core::event::AccountResult;
use provisioner_core::{
    AccountOrigin, EmployeeId, IntegrationId, RequestId, RequestState, TenantId,
};
use serde::Serialize;
use uuid::Uuid;

use crate::requests::decode_state;
use crate::{Store, StoreError};

/// What a log entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogAction {
    /// An account was asked for: the request's outcome.
    Create,
    /// An operator sent the request through again.
    Replay,
    /// An account was asked for and the person's existing one was taken over.
    Link,
}

impl LogAction {
    pub const ALL: [LogAction; 3] = [Self::Create, Self::Replay, Self::Link];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Replay => "replay",
            Self::Link => "link",
        }
    }

    /// The action of the entry a result event writes.
    pub fn of_result(result: &AccountResult) -> Self {
        match result.account_origin {
            Some(AccountOrigin::Linked) => Self::Link,
            Some(AccountOrigin::Created) | None => Self::Create,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStatus {
    Success,
    Failure,
}

impl LogStatus {
    pub const ALL: [LogStatus; 2] = [Self::Success, Self::Failure];

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failure => "failure",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct LogEntry {
    pub id: Uuid,
    #[serde(skip)]
    pub tenant_id: TenantId,
    pub at: DateTime<Utc>,
    pub action: LogAction,
    pub status: LogStatus,
    pub service: String,
    pub workspace: String,
    pub integration_id: IntegrationId,
    pub target: String,
    pub request_id: RequestId,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<EmployeeId>,
    pub state: RequestState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    pub attempts: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
}

#[derive(sqlx::FromRow)]
struct RawLogEntry {
    id: Uuid,
    tenant_id: Uuid,
    at: DateTime<Utc>,
    action: String,
    status: String,
    service: String,
    workspace: String,
    integration_id: Uuid,
    target: String,
    request_id: Uuid,
    employee_id: Option<Uuid>,
    state: String,
    external_account_id: Option<String>,
    cause: Option<String>,
    attempts: i32,
    trace_id: Option<String>,
}

impl TryFrom<RawLogEntry> for LogEntry {
    type Error = StoreError;

    fn try_from(raw: RawLogEntry) -> Result<Self, StoreError> {
        Ok(Self {
            id: raw.id,
            tenant_id: raw.tenant_id.into(),
            at: raw.at,
            action: StoreError::decode("action", &raw.action, &LogAction::ALL, LogAction::as_str)?,
            status: StoreError::decode("status", &raw.status, &LogStatus::ALL, LogStatus::as_str)?,
            service: raw.service,
            workspace: raw.workspace,
            integration_id: raw.integration_id.into(),
            target: raw.target,
            request_id: raw.request_id.into(),
            employee_id: raw.employee_id.map(Into::into),
            state: decode_state(&raw.state)?,
            external_account_id: raw.external_account_id,
            cause: raw.cause,
            attempts: raw.attempts,
            trace_id: raw.trace_id,
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct LogFilter {
    pub action: Option<String>,
    pub status: Option<String>,
    pub service: Option<String>,
    pub integration_id: Option<IntegrationId>,
    pub employee_id: Option<EmployeeId>,
    pub request_id: Option<RequestId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

impl Store {
    pub async fn log_entries(
        &self,
        tenant_id: TenantId,
        filter: &LogFilter,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let rows: Vec<RawLogEntry> = sqlx::query_as(
            "SELECT * FROM integration_log
             WHERE tenant_id = $1
               AND ($2::text IS NULL OR action = $2)
               AND ($3::text IS NULL OR status = $3)
               AND ($4::text IS NULL OR service = $4)
               AND ($5::uuid IS NULL OR integration_id = $5)
               AND ($6::uuid IS NULL OR employee_id = $6)
               AND ($7::uuid IS NULL OR request_id = $7)
               AND ($8::timestamptz IS NULL OR at >= $8)
               AND ($9::timestamptz IS NULL OR at < $9)
               AND ($10::timestamptz IS NULL OR (at, id) < ($10, $11))
             ORDER BY at DESC, id DESC
             LIMIT $12",
        )
        .bind(tenant_id.as_uuid())
        .bind(&filter.action)
        .bind(&filter.status)
        .bind(&filter.service)
        .bind(filter.integration_id.map(|i| i.as_uuid()))
        .bind(filter.employee_id.map(|e| e.as_uuid()))
        .bind(filter.request_id.map(|r| r.as_uuid()))
        .bind(filter.from)
        .bind(filter.to)
        .bind(filter.cursor.map(|c| c.at))
        .bind(filter.cursor.map(|c| c.id))
        .bind(filter.limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(LogEntry::try_from).collect()
    }
}
