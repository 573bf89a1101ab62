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
}

#[derive(Clone, sqlx::FromRow)]
pub struct Integration {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub service: String,
    pub workspace: String,
    pub base_url: Option<String>,
    pub credentials: Value,
    pub status: String,
    pub status_reason: Option<String>,
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
        IntegrationStatus::parse(&self.status).unwrap_or(IntegrationStatus::Error)
    }
}

impl Store {
    pub async fn insert_integration(
        &self,
        tenant_id: TenantId,
        new: &NewIntegration,
    ) -> Result<Integration, StoreError> {
        let row = sqlx::query_as(
            "INSERT INTO integrations
                 (id, tenant_id, service, workspace, base_url, credentials, status, status_reason)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *",
        )
        .bind(Uuid::new_v4())
        .bind(tenant_id.as_uuid())
        .bind(&new.service)
        .bind(&new.workspace)
        .bind(&new.base_url)
        .bind(&new.credentials)
        .bind(new.status.as_str())
        .bind(&new.status_reason)
        .fetch_one(&self.pool)
        .await?;
        Ok(row)
    }

    pub async fn integration(
        &self,
        tenant_id: TenantId,
        id: IntegrationId,
    ) -> Result<Option<Integration>, StoreError> {
        let row = sqlx::query_as("SELECT * FROM integrations WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id.as_uuid())
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await?;
        Ok(row)
    }

    pub async fn integrations(&self, tenant_id: TenantId) -> Result<Vec<Integration>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT * FROM integrations WHERE tenant_id = $1 ORDER BY service, workspace",
        )
        .bind(tenant_id.as_uuid())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    pub async fn set_integration_status(
        &self,
        tenant_id: TenantId,
        id: IntegrationId,
        status: IntegrationStatus,
        reason: Option<&str>,
    ) -> Result<Integration, StoreError> {
        let row = sqlx::query_as(
            "UPDATE integrations SET status = $3, status_reason = $4, checked_at = now()
             WHERE tenant_id = $1 AND id = $2 RETURNING *",
        )
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .bind(status.as_str())
        .bind(reason)
        .fetch_optional(&self.pool)
        .await?;
        row.ok_or(StoreError::NotFound)
    }
}
