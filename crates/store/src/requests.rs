use chrono::{DateTime, Utc};
use provisioner_core::cursor::Cursor;
use provisioner_core::event::{AccountResult, CloudEvent};
use provisioner_core::trace::TraceParent;
use provisioner_core::{
    AccountId, AccountOrigin, EmployeeId, EventId, IntegrationId, RequestAction, RequestError,
    RequestId, RequestState, TenantId,
};
use serde_json::Value;
use uuid::Uuid;

use crate::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct NewRequest {
    pub integration_id: IntegrationId,
    pub employee_id: Option<EmployeeId>,
    pub service: String,
    pub workspace: String,
    pub target: String,
    pub account: Value,
    pub idempotency_key: Option<String>,
    /// A digest of what the client sent, so a reused idempotency key with another body
    /// is told apart from an honest retry.
    pub request_hash: Vec<u8>,
    /// The W3C trace id the request was accepted under.
    pub trace_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredRequest {
    Created(RequestId),
    /// The same idempotency key and body were seen before: the first request stands.
    Repeated(RequestId),
    /// The idempotency key was used before with another body.
    KeyReused,
}

/// A request as read: ids typed, its state decoded.
#[derive(Debug, Clone)]
pub struct RequestRow {
    pub id: RequestId,
    pub tenant_id: TenantId,
    pub integration_id: IntegrationId,
    pub employee_id: Option<EmployeeId>,
    pub service: String,
    pub workspace: String,
    pub target: String,
    pub account: Value,
    pub state: RequestState,
    pub attempts: i32,
    pub external_account_id: Option<String>,
    /// The account in the inventory this request's success recorded.
    pub account_id: Option<AccountId>,
    /// How the request came to hold its account; `None` when it holds none or
    /// succeeded before linking existed.
    pub account_origin: Option<AccountOrigin>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub error_retryable: Option<bool>,
    pub result_event_id: Option<EventId>,
    pub replays: i32,
    pub trace_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The row as PostgreSQL hands it over (`SELECT *` or `RETURNING *`).
#[derive(sqlx::FromRow)]
pub(crate) struct RawRequestRow {
    id: Uuid,
    tenant_id: Uuid,
    integration_id: Uuid,
    employee_id: Option<Uuid>,
    service: String,
    workspace: String,
    target: String,
    account: Value,
    state: String,
    attempts: i32,
    external_account_id: Option<String>,
    account_id: Option<Uuid>,
    account_origin: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    error_retryable: Option<bool>,
    result_event_id: Option<Uuid>,
    replays: i32,
    trace_id: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<RawRequestRow> for RequestRow {
    type Error = StoreError;

    fn try_from(raw: RawRequestRow) -> Result<Self, StoreError> {
        Ok(Self {
            id: raw.id.into(),
            tenant_id: raw.tenant_id.into(),
            integration_id: raw.integration_id.into(),
            employee_id: raw.employee_id.map(Into::into),
            service: raw.service,
            workspace: raw.workspace,
            target: raw.target,
            account: raw.account,
            state: decode_state(&raw.state)?,
            attempts: raw.attempts,
            external_account_id: raw.external_account_id,
            account_id: raw.account_id.map(Into::into),
            account_origin: raw
                .account_origin
                .as_deref()
                .map(|name| {
                    StoreError::decode("origin", name, &AccountOrigin::ALL, AccountOrigin::as_str)
                })
                .transpose()?,
            error_code: raw.error_code,
            error_message: raw.error_message,
            error_retryable: raw.error_retryable,
            result_event_id: raw.result_event_id.map(Into::into),
            replays: raw.replays,
            trace_id: raw.trace_id,
            created_at: raw.created_at,
            updated_at: raw.updated_at,
        })
    }
}

pub(crate) fn decode_state(name: &str) -> Result<RequestState, StoreError> {
    StoreError::decode("state", name, &RequestState::ALL, RequestState::as_str)
}

/// Decodes the rows of a query, refusing the lot if one holds an unknown value.
pub(crate) fn typed(rows: Vec<RawRequestRow>) -> Result<Vec<RequestRow>, StoreError> {
    rows.into_iter().map(RequestRow::try_from).collect()
}

impl RequestRow {
    /// The CloudEvent announcing this request's terminal outcome, once it has one. Its id
    /// was fixed when the outcome was committed, so every publish of it is the same event.
    pub fn result_event(&self) -> Option<CloudEvent<AccountResult>> {
        let event_id = self.result_event_id?;
        let state = self.state;
        if !state.is_terminal() {
            return None;
        }
        let data = AccountResult {
            tenant_id: self.tenant_id,
            request_id: self.id,
            integration_id: self.integration_id,
            employee_id: self.employee_id,
            state,
            service: self.service.clone(),
            workspace: self.workspace.clone(),
            target: self.target.clone(),
            attempts: self.attempts,
            external_account_id: self.external_account_id.clone(),
            error: self.error(),
            account_id: self.account_id,
            account_origin: self.account_origin,
        };
        let mut event = CloudEvent::account_result(event_id, self.updated_at, data);
        event.traceparent = self.trace().map(|trace| trace.to_string());
        Some(event)
    }

    /// What the request does to its account: every request stored so far creates one.
    pub fn action(&self) -> RequestAction {
        RequestAction::Create
    }

    /// The request's trace, continued by a new span.
    pub fn trace(&self) -> Option<TraceParent> {
        self.trace_id.as_deref().and_then(TraceParent::continuing)
    }

    pub fn error(&self) -> Option<RequestError> {
        Some(RequestError {
            code: self.error_code.clone()?,
            message: self.error_message.clone().unwrap_or_default(),
            retryable: self.error_retryable.unwrap_or(false),
        })
    }
}

#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub state: Option<RequestState>,
    pub service: Option<String>,
    pub integration_id: Option<IntegrationId>,
    /// Only requests created at or after this time.
    pub since: Option<DateTime<Utc>>,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

impl Store {
    pub async fn request(
        &self,
        tenant_id: TenantId,
        id: RequestId,
    ) -> Result<Option<RequestRow>, StoreError> {
        let row: Option<RawRequestRow> =
            sqlx::query_as("SELECT * FROM provisioning_requests WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
        row.map(RequestRow::try_from).transpose()
    }

    pub async fn requests(
        &self,
        tenant_id: TenantId,
        filter: &RequestFilter,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let rows: Vec<RawRequestRow> = sqlx::query_as(
            "SELECT * FROM provisioning_requests
             WHERE tenant_id = $1
               AND ($2::text IS NULL OR state = $2)
               AND ($3::text IS NULL OR service = $3)
               AND ($4::uuid IS NULL OR integration_id = $4)
               AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6))
               AND ($8::timestamptz IS NULL OR created_at >= $8)
             ORDER BY created_at DESC, id DESC
             LIMIT $7",
        )
        .bind(tenant_id.as_uuid())
        .bind(filter.state.map(RequestState::as_str))
        .bind(&filter.service)
        .bind(filter.integration_id.map(|i| i.as_uuid()))
        .bind(filter.cursor.map(|c| c.at))
        .bind(filter.cursor.map(|c| c.id))
        .bind(filter.limit)
        .bind(filter.since)
        .fetch_all(&self.pool)
        .await?;
        typed(rows)
    }
}
