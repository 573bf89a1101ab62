use chrono::{DateTime, Utc};
use provisioner_core::retry::RetryOverride;
use provisioner_core::{IntegrationId, IntegrationStatus, TenantId};
use serde_json::Value;
use uuid::Uuid;

use crate::credentials::{Credentials, StoredCredentials};
pub(crate) use crate::integration_rows::{
    IntegrationRow, RawIntegrationRow, RetryColumns, COLUMNS,
};
use crate::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct NewIntegration {
    pub service: String,
    pub workspace: String,
    pub base_url: Option<String>,
    pub credentials: Value,
    pub status: IntegrationStatus,
    pub status_reason: Option<String>,
    /// Calls per second the SaaS allows this integration; `None` paces nothing.
    pub requests_per_second: Option<f64>,
    /// What the integration changes of its service's retry policy.
    pub retry: RetryOverride,
    /// Calls that may be in flight at once, across every worker; `None` leaves it to
    /// the service's default.
    pub max_concurrent_calls: Option<i32>,
}

/// What may be changed of an existing integration: how it is paced and retried. Each
/// value replaces the stored one (`None` clears an override).
#[derive(Debug, Clone, Copy, Default)]
pub struct IntegrationTuning {
    pub requests_per_second: Option<f64>,
    pub max_concurrent_calls: Option<i32>,
    pub retry: RetryOverride,
}

/// An integration with its credentials opened. When they cannot be opened (a key that
/// is no longer configured), `credentials` is null and the integration reads as in
/// error, so requests are rejected with a cause instead of failing obscurely.
#[derive(Clone)]
pub struct Integration {
    pub id: IntegrationId,
    pub tenant_id: TenantId,
    pub service: String,
    pub workspace: String,
    pub base_url: Option<String>,
    pub credentials: Credentials,
    pub status: IntegrationStatus,
    pub status_reason: Option<String>,
    pub requests_per_second: Option<f64>,
    pub retry: RetryOverride,
    /// Authentication failures in a row, across every worker.
    pub auth_failures: i32,
    pub status_changed_at: DateTime<Utc>,
    pub max_concurrent_calls: Option<i32>,
    pub checked_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

// Credentials must never reach a log line, even through a stray `{:?}`.
impl std::fmt::Debug for Integration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Integration")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("service", &self.service)
            .field("workspace", &self.workspace)
            .field("base_url", &self.base_url)
            .field("credentials", &"<redacted>")
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl Integration {
    pub fn status(&self) -> IntegrationStatus {
        self.status
    }
}

impl Store {
    pub(crate) fn open_row(&self, row: RawIntegrationRow) -> Result<Integration, StoreError> {
        let IntegrationRow {
            raw: row,
            status,
            credentials,
        } = row.try_into()?;
        let opened = match credentials {
            StoredCredentials::Sealed { key_id, bytes } => self
                .keyring
                .open(&key_id, row.tenant_id, row.id, &bytes)
                .and_then(|plain| serde_json::from_slice(&plain).ok())
                .ok_or_else(|| {
                    format!(
                        "the credentials were sealed with key {key_id:?}, which the configured \
                         keys cannot open; re-integrate the service"
                    )
                }),
            StoredCredentials::Plain(plain) => Ok(plain),
            StoredCredentials::Missing => {
                Err("the integration has no credentials; re-integrate the service".to_owned())
            }
        };
        let retry = row.retry();
        let (credentials, status, status_reason) = match opened {
            Ok(credentials) => (Some(credentials), status, row.status_reason),
            Err(reason) => (None, IntegrationStatus::Error, Some(reason)),
        };
        Ok(Integration {
            id: row.id.into(),
            tenant_id: row.tenant_id.into(),
            service: row.service,
            workspace: row.workspace,
            base_url: row.base_url,
            credentials: Credentials::opened(credentials),
            status,
            status_reason,
            requests_per_second: row.requests_per_second,
            retry,
            auth_failures: row.auth_failures,
            status_changed_at: row.status_changed_at,
            max_concurrent_calls: row.max_concurrent_calls,
            checked_at: row.checked_at,
            created_at: row.created_at,
        })
    }

    pub async fn insert_integration(
        &self,
        tenant_id: TenantId,
        new: &NewIntegration,
    ) -> Result<Integration, StoreError> {
        let id = Uuid::new_v4();
        let sealed = self.keyring.seal(
            tenant_id.as_uuid(),
            id,
            new.credentials.to_string().as_bytes(),
        );
        let retry = RetryColumns::from(&new.retry);
        let row = sqlx::query_as(&format!(
            "INSERT INTO integrations
                 (id, tenant_id, service, workspace, base_url, sealed_credentials,
                  credentials_key, status, status_reason, requests_per_second, max_attempts,
                  retry_base_delay_ms, retry_max_delay_ms, retry_jitter, retry_deadline_seconds,
                  max_concurrent_calls)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             RETURNING {COLUMNS}"
        ))
        .bind(id)
        .bind(tenant_id.as_uuid())
        .bind(&new.service)
        .bind(&new.workspace)
        .bind(&new.base_url)
        .bind(sealed)
        .bind(self.keyring.current_key_id())
        .bind(new.status.as_str())
        .bind(&new.status_reason)
        .bind(new.requests_per_second)
        .bind(retry.max_attempts)
        .bind(retry.base_delay_ms)
        .bind(retry.max_delay_ms)
        .bind(retry.jitter)
        .bind(retry.deadline_seconds)
        .bind(new.max_concurrent_calls)
        .fetch_one(&self.pool)
        .await?;
        self.open_row(row)
    }

    pub async fn integration(
        &self,
        tenant_id: TenantId,
        id: IntegrationId,
    ) -> Result<Option<Integration>, StoreError> {
        let row = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM integrations WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| self.open_row(row)).transpose()
    }

    pub async fn integrations(&self, tenant_id: TenantId) -> Result<Vec<Integration>, StoreError> {
        let rows: Vec<RawIntegrationRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM integrations WHERE tenant_id = $1 ORDER BY service, workspace"
        ))
        .bind(tenant_id.as_uuid())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(|row| self.open_row(row)).collect()
    }

    /// Records the result of a check at the SaaS. A check that passes is a successful
    /// call, so it also starts the count of authentication failures again.
    pub async fn set_integration_status(
        &self,
        tenant_id: TenantId,
        id: IntegrationId,
        status: IntegrationStatus,
        reason: Option<&str>,
    ) -> Result<Integration, StoreError> {
        let row = sqlx::query_as(&format!(
            "UPDATE integrations
             SET status = $3, status_reason = $4, checked_at = now(),
                 status_changed_at = CASE WHEN status = $3 THEN status_changed_at ELSE now() END,
                 auth_failures = CASE WHEN $3 = 'ok' THEN 0 ELSE auth_failures END
             WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
        ))
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .bind(status.as_str())
        .bind(reason)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| self.open_row(row))
            .ok_or(StoreError::NotFound)?
    }

    /// Replaces how the integration is paced and retried.
    pub async fn tune_integration(
        &self,
        tenant_id: TenantId,
        id: IntegrationId,
        tuning: &IntegrationTuning,
    ) -> Result<Option<Integration>, StoreError> {
        let retry = RetryColumns::from(&tuning.retry);
        let row = sqlx::query_as(&format!(
            "UPDATE integrations
             SET requests_per_second = $3, max_attempts = $4, retry_base_delay_ms = $5,
                 retry_max_delay_ms = $6, retry_jitter = $7, retry_deadline_seconds = $8,
                 max_concurrent_calls = $9
             WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
        ))
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .bind(tuning.requests_per_second)
        .bind(retry.max_attempts)
        .bind(retry.base_delay_ms)
        .bind(retry.max_delay_ms)
        .bind(retry.jitter)
        .bind(retry.deadline_seconds)
        .bind(tuning.max_concurrent_calls)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| self.open_row(row)).transpose()
    }

    /// Seals every credential not yet sealed with the current key: rows from before
    /// sealing, and rows sealed with an older key after a rotation. Rows whose key is
    /// gone are left as they are (they read as in error). Returns how many were sealed.
    pub async fn seal_credentials(&self) -> Result<u64, StoreError> {
        let rows: Vec<RawIntegrationRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM integrations
             WHERE sealed_credentials IS NULL OR credentials_key IS DISTINCT FROM $1"
        ))
        .bind(self.keyring.current_key_id())
        .fetch_all(&self.pool)
        .await?;
        let mut sealed = 0;
        for row in rows {
            let integration = self.open_row(row)?;
            if integration.credentials.is_null() {
                tracing::warn!(integration_id = %integration.id, "credentials cannot be opened; left as they are");
                continue;
            }
            let bytes = self.keyring.seal(
                integration.tenant_id.as_uuid(),
                integration.id.as_uuid(),
                integration.credentials.expose().to_string().as_bytes(),
            );
            sqlx::query(
                "UPDATE integrations
                 SET sealed_credentials = $2, credentials_key = $3, credentials = NULL
                 WHERE id = $1",
            )
            .bind(integration.id.as_uuid())
            .bind(bytes)
            .bind(self.keyring.current_key_id())
            .execute(&self.pool)
            .await?;
            sealed += 1;
        }
        Ok(sealed)
    }
}
