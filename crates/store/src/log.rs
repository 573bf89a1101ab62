use chrono::{DateTime, Utc};
use provisioner_core::cursor::Cursor;
use provisioner_core::event::{AccountResult, CloudEvent};
use provisioner_core::trace::TraceParent;
use provisioner_core::{EmployeeId, IntegrationId, RequestId, RequestState, TenantId};
use serde::Serialize;
use uuid::Uuid;

use crate::{Store, StoreError};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct LogEntry {
    pub id: Uuid,
    #[serde(skip)]
    pub tenant_id: Uuid,
    pub at: DateTime<Utc>,
    pub action: String,
    pub status: String,
    pub service: String,
    pub workspace: String,
    pub integration_id: Uuid,
    pub target: String,
    pub request_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<Uuid>,
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_account_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    pub attempts: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
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
    /// Writes the log entry of one result event; a redelivered event changes nothing.
    /// Returns whether a row was written.
    pub async fn record_log_entry(
        &self,
        event: &CloudEvent<AccountResult>,
    ) -> Result<bool, StoreError> {
        let data = &event.data;
        let status = if data.state == RequestState::Succeeded {
            "success"
        } else {
            "failure"
        };
        let written = sqlx::query(
            "INSERT INTO integration_log
                 (id, tenant_id, at, action, status, service, workspace, integration_id, target,
                  request_id, employee_id, state, external_account_id, cause, attempts, trace_id)
             VALUES ($1, $2, $3, 'create', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(event.id.as_uuid())
        .bind(data.tenant_id.as_uuid())
        .bind(event.time)
        .bind(status)
        .bind(&data.service)
        .bind(&data.workspace)
        .bind(data.integration_id.as_uuid())
        .bind(&data.target)
        .bind(data.request_id.as_uuid())
        .bind(data.employee_id.map(|e| e.as_uuid()))
        .bind(data.state.as_str())
        .bind(&data.external_account_id)
        .bind(data.error.as_ref().map(|e| e.message.as_str()))
        .bind(data.attempts)
        .bind(
            event
                .traceparent
                .as_deref()
                .and_then(TraceParent::parse)
                .map(|trace| trace.trace_id().to_owned()),
        )
        .execute(&self.pool)
        .await?;
        Ok(written.rows_affected() == 1)
    }

    pub async fn log_entries(
        &self,
        tenant_id: TenantId,
        filter: &LogFilter,
    ) -> Result<Vec<LogEntry>, StoreError> {
        let rows = sqlx::query_as(
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
        Ok(rows)
    }
}
