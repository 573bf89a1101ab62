use chrono::{DateTime, Utc};
use provisioner_core::{IntegrationId, IntegrationStatus, TenantId};
use serde_json::Value;
use uuid::Uuid;

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
    /// Attempts before a request is dead; `None` keeps the default policy.
    pub max_attempts: Option<i32>,
    /// Calls that may be in flight at once, across every worker; `None` leaves it to
    /// the service's default.
    pub max_concurrent_calls: Option<i32>,
}

/// A change to an integration's call limits: `None` leaves a limit as it is,
/// `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct CallLimitsUpdate {
    pub requests_per_second: Option<Option<f64>>,
    pub max_concurrent_calls: Option<Option<i32>>,
}

/// An integration with its credentials opened. When they cannot be opened (a key that
/// is no longer configured), `credentials` is null and the integration reads as in
/// error, so requests are rejected with a cause instead of failing obscurely.
#[derive(Clone)]
pub struct Integration {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub service: String,
    pub workspace: String,
    pub base_url: Option<String>,
    pub credentials: Value,
    pub status: String,
    pub status_reason: Option<String>,
    pub requests_per_second: Option<f64>,
    pub max_attempts: Option<i32>,
    pub max_concurrent_calls: Option<i32>,
    pub checked_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// The row as stored: credentials sealed (or, for rows older than sealing, plain until
/// `seal_credentials` runs).
#[derive(sqlx::FromRow)]
struct IntegrationRow {
    id: Uuid,
    tenant_id: Uuid,
    service: String,
    workspace: String,
    base_url: Option<String>,
    credentials: Option<Value>,
    sealed_credentials: Option<Vec<u8>>,
    credentials_key: Option<String>,
    status: String,
    status_reason: Option<String>,
    requests_per_second: Option<f64>,
    max_attempts: Option<i32>,
    max_concurrent_calls: Option<i32>,
    checked_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
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
        IntegrationStatus::parse(&self.status).unwrap_or(IntegrationStatus::Error)
    }
}

const COLUMNS: &str =
    "id, tenant_id, service, workspace, base_url, credentials, sealed_credentials, \
                       credentials_key, status, status_reason, requests_per_second, max_attempts, \
                       max_concurrent_calls, checked_at, created_at";

impl Store {
    fn open_row(&self, row: IntegrationRow) -> Integration {
        let opened = match (
            &row.sealed_credentials,
            &row.credentials_key,
            &row.credentials,
        ) {
            (Some(sealed), Some(key_id), _) => self
                .keyring
                .open(key_id, row.tenant_id, row.id, sealed)
                .and_then(|plain| serde_json::from_slice(&plain).ok())
                .ok_or_else(|| {
                    format!(
                        "the credentials were sealed with key {key_id:?}, which the configured \
                         keys cannot open; re-integrate the service"
                    )
                }),
            (_, _, Some(plain)) => Ok(plain.clone()),
            _ => Err("the integration has no credentials; re-integrate the service".to_owned()),
        };
        let (credentials, status, status_reason) = match opened {
            Ok(credentials) => (credentials, row.status, row.status_reason),
            Err(reason) => (Value::Null, "error".to_owned(), Some(reason)),
        };
        Integration {
            id: row.id,
            tenant_id: row.tenant_id,
            service: row.service,
            workspace: row.workspace,
            base_url: row.base_url,
            credentials,
            status,
            status_reason,
            requests_per_second: row.requests_per_second,
            max_attempts: row.max_attempts,
            max_concurrent_calls: row.max_concurrent_calls,
            checked_at: row.checked_at,
            created_at: row.created_at,
        }
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
        let row = sqlx::query_as(&format!(
            "INSERT INTO integrations
                 (id, tenant_id, service, workspace, base_url, sealed_credentials,
                  credentials_key, status, status_reason, requests_per_second, max_attempts,
                  max_concurrent_calls)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING {COLUMNS}"
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
        .bind(new.max_attempts)
        .bind(new.max_concurrent_calls)
        .fetch_one(&self.pool)
        .await?;
        Ok(self.open_row(row))
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
        Ok(row.map(|row| self.open_row(row)))
    }

    pub async fn integrations(&self, tenant_id: TenantId) -> Result<Vec<Integration>, StoreError> {
        let rows: Vec<IntegrationRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM integrations WHERE tenant_id = $1 ORDER BY service, workspace"
        ))
        .bind(tenant_id.as_uuid())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|row| self.open_row(row)).collect())
    }

    pub async fn set_integration_status(
        &self,
        tenant_id: TenantId,
        id: IntegrationId,
        status: IntegrationStatus,
        reason: Option<&str>,
    ) -> Result<Integration, StoreError> {
        let row = sqlx::query_as(&format!(
            "UPDATE integrations SET status = $3, status_reason = $4, checked_at = now()
             WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
        ))
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .bind(status.as_str())
        .bind(reason)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| self.open_row(row))
            .ok_or(StoreError::NotFound)
    }

    /// Changes the integration's call limits; a `None` leaves that limit as it is, a
    /// `Some(None)` clears it (back to the service's default).
    pub async fn set_call_limits(
        &self,
        tenant_id: TenantId,
        id: IntegrationId,
        limits: &CallLimitsUpdate,
    ) -> Result<Option<Integration>, StoreError> {
        let row = sqlx::query_as(&format!(
            "UPDATE integrations
             SET requests_per_second = CASE WHEN $3 THEN $4 ELSE requests_per_second END,
                 max_concurrent_calls = CASE WHEN $5 THEN $6 ELSE max_concurrent_calls END
             WHERE tenant_id = $1 AND id = $2 RETURNING {COLUMNS}"
        ))
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .bind(limits.requests_per_second.is_some())
        .bind(limits.requests_per_second.flatten())
        .bind(limits.max_concurrent_calls.is_some())
        .bind(limits.max_concurrent_calls.flatten())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|row| self.open_row(row)))
    }

    /// Seals every credential not yet sealed with the current key: rows from before
    /// sealing, and rows sealed with an older key after a rotation. Rows whose key is
    /// gone are left as they are (they read as in error). Returns how many were sealed.
    pub async fn seal_credentials(&self) -> Result<u64, StoreError> {
        let rows: Vec<IntegrationRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM integrations
             WHERE sealed_credentials IS NULL OR credentials_key IS DISTINCT FROM $1"
        ))
        .bind(self.keyring.current_key_id())
        .fetch_all(&self.pool)
        .await?;
        let mut sealed = 0;
        for row in rows {
            let integration = self.open_row(row);
            if integration.credentials.is_null() {
                tracing::warn!(integration_id = %integration.id, "credentials cannot be opened; left as they are");
                continue;
            }
            let bytes = self.keyring.seal(
                integration.tenant_id,
                integration.id,
                integration.credentials.to_string().as_bytes(),
            );
            sqlx::query(
                "UPDATE integrations
                 SET sealed_credentials = $2, credentials_key = $3, credentials = NULL
                 WHERE id = $1",
            )
            .bind(integration.id)
            .bind(bytes)
            .bind(self.keyring.current_key_id())
            .execute(&self.pool)
            .await?;
            sealed += 1;
        }
        Ok(sealed)
    }
}
