//! Call slots per integration, shared by every worker through PostgreSQL.

use std::time::Duration;

use provisioner_core::IntegrationId;

use crate::{Store, StoreError};

impl Store {
    /// Reserves the next call slot of an integration allowing `per_second` calls; returns
    /// how long to wait for it (zero when it is now). One atomic statement, so two
    /// workers never get the same slot.
    pub async fn reserve_call(
        &self,
        integration_id: IntegrationId,
        per_second: f64,
    ) -> Result<Duration, StoreError> {
        let spacing = 1.0 / per_second.max(1e-6);
        let (wait,): (f64,) = sqlx::query_as(
            "INSERT INTO integration_pacing AS p (integration_id, next_at)
             VALUES ($1, now() + make_interval(secs => $2))
             ON CONFLICT (integration_id) DO UPDATE
                 SET next_at = greatest(p.next_at, now()) + make_interval(secs => $2)
             RETURNING greatest(
                 extract(epoch FROM (p.next_at - make_interval(secs => $2) - now())), 0
             )::float8",
        )
        .bind(integration_id.as_uuid())
        .bind(spacing)
        .fetch_one(&self.pool)
        .await?;
        Ok(Duration::from_secs_f64(wait.max(0.0)))
    }

    /// Holds every worker's next call to the integration back for `pause` (after a 429).
    pub async fn pause_calls(
        &self,
        integration_id: IntegrationId,
        pause: Duration,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO integration_pacing AS p (integration_id, next_at)
             VALUES ($1, now() + make_interval(secs => $2))
             ON CONFLICT (integration_id) DO UPDATE
                 SET next_at = greatest(p.next_at, now() + make_interval(secs => $2))",
        )
        .bind(integration_id.as_uuid())
        .bind(pause.as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
