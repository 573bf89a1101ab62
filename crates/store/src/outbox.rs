//! The request table doubles as the outbox. The api and the worker publish right after
//! their commit; these sweeps pick up only what was never confirmed (a broker outage, a
//! crash between commit and publish). `SKIP LOCKED` lets several relays share the work
//! without publishing one row twice.

use std::time::Duration;

use provisioner_core::event::{AccountResult, CloudEvent, RequestMessage};
use provisioner_core::{EventId, RequestId, RequestState};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::requests::{typed, RawRequestRow, RequestRow};
use crate::transitions::unfinished;
use crate::{Store, StoreError};

/// An unfinished request ($4) stalled by its own state's measure: a retry overdue
/// ($5), a claim abandoned ($6), a queued message never taken ($7).
const RESEND_STALLED: &str = "UPDATE provisioning_requests SET published_at = NULL
     WHERE state = ANY($4)
       AND published_at < now() - make_interval(secs => $1)
       AND ((state = $5
             AND coalesce(next_attempt_at, updated_at) < now() - make_interval(secs => $1))
         OR (state = $6 AND claimed_at < now() - make_interval(secs => $2))
         OR (state = $7 AND published_at < now() - make_interval(secs => $3)))";

#[cfg(test)]
pub(crate) const STATEMENTS: &[(&str, &str)] = &[("resend stalled", RESEND_STALLED)];

/// Rows locked for publishing; the lock holds until [`OutboxBatch::commit`].
pub struct OutboxBatch<T> {
    tx: Transaction<'static, Postgres>,
    pub items: Vec<T>,
}

impl<T> OutboxBatch<T> {
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// A committed request whose message the broker never confirmed.
#[derive(Debug, Clone)]
pub struct PendingRequest {
    pub message: RequestMessage,
    pub service: String,
    pub trace_id: Option<String>,
}

impl OutboxBatch<PendingRequest> {
    /// Marks the confirmed requests as published and releases the rest for a later sweep.
    pub async fn commit(mut self, confirmed: &[RequestId]) -> Result<(), StoreError> {
        let ids: Vec<Uuid> = confirmed.iter().map(RequestId::as_uuid).collect();
        sqlx::query("UPDATE provisioning_requests SET published_at = now() WHERE id = ANY($1)")
            .bind(&ids)
            .execute(&mut *self.tx)
            .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

impl OutboxBatch<CloudEvent<AccountResult>> {
    pub async fn commit(mut self, confirmed: &[EventId]) -> Result<(), StoreError> {
        let ids: Vec<Uuid> = confirmed.iter().map(EventId::as_uuid).collect();
        sqlx::query(
            "UPDATE provisioning_requests SET result_published_at = now()
             WHERE result_event_id = ANY($1)",
        )
        .bind(&ids)
        .execute(&mut *self.tx)
        .await?;
        self.tx.commit().await?;
        Ok(())
    }
}

/// How long an unfinished request may go without news before its message is presumed
/// lost and sent again. A second copy is harmless: claims are conditional, and an
/// early one is parked again until its retry is due.
#[derive(Debug, Clone)]
pub struct StallLimits {
    /// A retry this late.
    pub retry_overdue: Duration,
    /// A claim this old (longer than any worker holds one: the lease and then some).
    pub claim_abandoned: Duration,
    /// Accepted and sent, but not taken by any worker for this long.
    pub queued_unclaimed: Duration,
}

impl Store {
    /// Hands stalled requests back to the outbox, so the relay's next sweep sends them
    /// again: the broker may lose a delayed wake-up (a quorum queue dead-letters at most
    /// once) or a message in flight when a node stops. Returns how many.
    pub async fn resend_stalled(&self, limits: &StallLimits) -> Result<u64, StoreError> {
        let done = sqlx::query(RESEND_STALLED)
            .bind(limits.retry_overdue.as_secs_f64())
            .bind(limits.claim_abandoned.as_secs_f64())
            .bind(limits.queued_unclaimed.as_secs_f64())
            .bind(unfinished())
            .bind(RequestState::Retrying.as_str())
            .bind(RequestState::InProgress.as_str())
            .bind(RequestState::Queued.as_str())
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    /// Requests committed more than `grace` ago whose message was never confirmed.
    pub async fn lock_unpublished_requests(
        &self,
        grace: Duration,
        limit: i64,
    ) -> Result<OutboxBatch<PendingRequest>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let rows: Vec<(Uuid, Uuid, String, Option<String>)> = sqlx::query_as(
            "SELECT tenant_id, id, service, trace_id FROM provisioning_requests
             WHERE published_at IS NULL AND created_at < now() - make_interval(secs => $1)
             ORDER BY created_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED",
        )
        .bind(grace.as_secs_f64())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let items = rows
            .into_iter()
            .map(|(tenant_id, id, service, trace_id)| PendingRequest {
                message: RequestMessage {
                    tenant_id: tenant_id.into(),
                    request_id: id.into(),
                },
                service,
                trace_id,
            })
            .collect();
        Ok(OutboxBatch { tx, items })
    }

    /// Terminal outcomes recorded more than `grace` ago whose result event was never
    /// confirmed.
    pub async fn lock_unpublished_results(
        &self,
        grace: Duration,
        limit: i64,
    ) -> Result<OutboxBatch<CloudEvent<AccountResult>>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let rows: Vec<RawRequestRow> = sqlx::query_as(
            "SELECT * FROM provisioning_requests
             WHERE result_event_id IS NOT NULL AND result_published_at IS NULL
               AND updated_at < now() - make_interval(secs => $1)
             ORDER BY updated_at
             LIMIT $2
             FOR UPDATE SKIP LOCKED",
        )
        .bind(grace.as_secs_f64())
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?;
        let items = typed(rows)?
            .iter()
            .filter_map(RequestRow::result_event)
            .collect();
        Ok(OutboxBatch { tx, items })
    }
}
