//! Authentication failures in a row per integration, counted in PostgreSQL so that the
//! count holds across every worker, and the switch to `error` once there are too many.

use provisioner_core::{IntegrationId, TenantId};

use crate::{Store, StoreError};

impl Store {
    /// Counts one more authentication failure of the integration; returns how many
    /// there have been in a row. One atomic statement, so failures seen by several
    /// workers at once are all counted.
    pub async fn record_auth_failure(
        &self,
        tenant_id: TenantId,
        id: IntegrationId,
    ) -> Result<u32, StoreError> {
        let count: Option<(i32,)> = sqlx::query_as(
            "UPDATE integrations SET auth_failures = auth_failures + 1
             WHERE tenant_id = $1 AND id = $2 RETURNING auth_failures",
        )
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        let (count,) = count.ok_or(StoreError::NotFound)?;
        Ok(u32::try_from(count).unwrap_or(0))
    }

    /// Puts the integration in `error` with `reason`, unless a successful call set the
    /// count back below `threshold` meanwhile; tells whether it is in error now.
    pub async fn quarantine_integration(
        &self,
        tenant_id: TenantId,
        id: IntegrationId,
        threshold: u32,
        reason: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE integrations
             SET status = 'error', status_reason = $4, checked_at = now(),
                 status_changed_at = CASE WHEN status = 'error' THEN status_changed_at
                                          ELSE now() END
             WHERE tenant_id = $1 AND id = $2 AND auth_failures >= $3",
        )
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .bind(i32::try_from(threshold).unwrap_or(i32::MAX))
        .bind(reason)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// A call with the integration's credentials worked: failures in a row start again.
    pub async fn clear_auth_failures(
        &self,
        tenant_id: TenantId,
        id: IntegrationId,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE integrations SET auth_failures = 0
             WHERE tenant_id = $1 AND id = $2 AND auth_failures > 0",
        )
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
