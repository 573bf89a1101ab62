//! The request table doubles as the outbox. The api and the worker publish right after
//! their commit; these sweeps pick up only what was never confirmed (a broker outage, a
//! crash between commit and publish). `SKIP LOCKED` lets several relays share the work
//! without publishing one row twice.

use std::time::Duration;

use provisioner_core::event::{AccountResult, CloudEvent, RequestMessage};
use provisioner_core::{EventId, RequestId};
use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use crate::requests::RequestRow;
use crate::{Store, StoreError};

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

impl Store {
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
        let rows: Vec<RequestRow> = sqlx::query_as(
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
        let items = rows.iter().filter_map(RequestRow::result_event).collect();
        Ok(OutboxBatch { tx, items })
    }
}
