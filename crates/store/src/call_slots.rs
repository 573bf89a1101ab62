//! Concurrency per integration, shared by every worker through PostgreSQL: a call in
//! flight holds a lease on one of the integration's slots. Leases expire, so a worker
//! that dies mid-call gives its slot back by itself.

use std::time::Duration;

use provisioner_core::IntegrationId;
use uuid::Uuid;

use crate::{Store, StoreError};

/// One of an integration's call slots, held until [`Store::release_call_slot`] or until
/// the lease expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallLease {
    pub integration_id: IntegrationId,
    pub slot: i32,
    /// Tells this holder apart from a later one, should the lease have expired and the
    /// slot been taken again.
    pub lease_id: Uuid,
}

impl Store {
    /// Takes a free slot among the integration's first `max_concurrent` for `lease`, or
    /// `None` when all are held. Slots are rows locked with `SKIP LOCKED`, so workers
    /// asking at once take different ones without waiting for each other.
    pub async fn acquire_call_slot(
        &self,
        integration_id: IntegrationId,
        max_concurrent: i32,
        lease: Duration,
    ) -> Result<Option<CallLease>, StoreError> {
        if let Some(lease) = self
            .take_free_slot(integration_id, max_concurrent, lease)
            .await?
        {
            return Ok(Some(lease));
        }
        // The rows are made on first use, and again when the limit is raised.
        let (made,): (i64,) = sqlx::query_as(
            "WITH made AS (
                 INSERT INTO integration_call_slots (integration_id, slot)
                 SELECT $1, slot FROM generate_series(0, $2 - 1) AS slot
                 ON CONFLICT DO NOTHING
                 RETURNING slot
             )
             SELECT count(*) FROM made",
        )
        .bind(integration_id.as_uuid())
        .bind(max_concurrent)
        .fetch_one(&self.pool)
        .await?;
        if made == 0 {
            return Ok(None);
        }
        self.take_free_slot(integration_id, max_concurrent, lease)
            .await
    }

    async fn take_free_slot(
        &self,
        integration_id: IntegrationId,
        max_concurrent: i32,
        lease: Duration,
    ) -> Result<Option<CallLease>, StoreError> {
        let lease_id = Uuid::new_v4();
        let slot: Option<(i32,)> = sqlx::query_as(
            "UPDATE integration_call_slots AS s
             SET lease_id = $3, expires_at = now() + make_interval(secs => $4)
             WHERE (s.integration_id, s.slot) = (
                 SELECT integration_id, slot FROM integration_call_slots
                 WHERE integration_id = $1 AND slot < $2 AND expires_at <= now()
                 ORDER BY slot
                 LIMIT 1
                 FOR UPDATE SKIP LOCKED
             )
             RETURNING s.slot",
        )
        .bind(integration_id.as_uuid())
        .bind(max_concurrent)
        .bind(lease_id)
        .bind(lease.as_secs_f64())
        .fetch_optional(&self.pool)
        .await?;
        Ok(slot.map(|(slot,)| CallLease {
            integration_id,
            slot,
            lease_id,
        }))
    }

    /// Frees the slot, unless its lease expired and another call holds it now.
    pub async fn release_call_slot(&self, lease: &CallLease) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE integration_call_slots SET lease_id = NULL, expires_at = '-infinity'
             WHERE integration_id = $1 AND slot = $2 AND lease_id = $3",
        )
        .bind(lease.integration_id.as_uuid())
        .bind(lease.slot)
        .bind(lease.lease_id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
