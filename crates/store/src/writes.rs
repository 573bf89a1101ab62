//! Writes that belong together: a caller opens one transaction, stores what it must
//! (a hire, then the requests it gives) and commits once, so none of it is lost alone.

use provisioner_core::{EventId, RequestError, RequestId, TenantId};
use sqlx::{PgConnection, Postgres, Transaction};
use uuid::Uuid;

use crate::requests::{NewRequest, StoredRequest};
use crate::{Store, StoreError};

/// An open transaction; nothing in it is seen by others until [`Writes::commit`].
pub struct Writes {
    pub(crate) tx: Transaction<'static, Postgres>,
}

impl Store {
    pub async fn begin(&self) -> Result<Writes, StoreError> {
        Ok(Writes {
            tx: self.pool.begin().await?,
        })
    }

    /// Stores one request in a transaction of its own.
    pub async fn insert_request(
        &self,
        tenant_id: TenantId,
        new: &NewRequest,
    ) -> Result<StoredRequest, StoreError> {
        let mut connection = self.pool.acquire().await?;
        insert_queued(&mut connection, tenant_id, new).await
    }
}

impl Writes {
    pub async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await?;
        Ok(())
    }

    /// Stores a request as `queued`: committed, it is in the outbox.
    pub async fn insert_request(
        &mut self,
        tenant_id: TenantId,
        new: &NewRequest,
    ) -> Result<StoredRequest, StoreError> {
        insert_queued(&mut self.tx, tenant_id, new).await
    }

    /// Stores a request that cannot even be tried as `failed` at once, with its cause,
    /// rather than dropping it. Its result event id is fixed here, so the relay announces
    /// the outcome like any other. `None` when the idempotency key was used before.
    pub async fn insert_failed_request(
        &mut self,
        tenant_id: TenantId,
        new: &NewRequest,
        error: &RequestError,
    ) -> Result<Option<RequestId>, StoreError> {
        let id = RequestId::new();
        let inserted = sqlx::query(
            "INSERT INTO provisioning_requests
                 (id, tenant_id, integration_id, employee_id, service, workspace, target, account,
                  state, idempotency_key, request_hash, error_code, error_message,
                  error_retryable, result_event_id, trace_id)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'failed', $9, $10, $11, $12, $13, $14, $15)
             ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL
             DO NOTHING",
        )
        .bind(id.as_uuid())
        .bind(tenant_id.as_uuid())
        .bind(new.integration_id.as_uuid())
        .bind(new.employee_id.map(|e| e.as_uuid()))
        .bind(&new.service)
        .bind(&new.workspace)
        .bind(&new.target)
        .bind(&new.account)
        .bind(&new.idempotency_key)
        .bind(&new.request_hash)
        .bind(&error.code)
        .bind(&error.message)
        .bind(error.retryable)
        .bind(EventId::new().as_uuid())
        .bind(&new.trace_id)
        .execute(&mut *self.tx)
        .await?;
        Ok((inserted.rows_affected() > 0).then_some(id))
    }
}

async fn insert_queued(
    connection: &mut PgConnection,
    tenant_id: TenantId,
    new: &NewRequest,
) -> Result<StoredRequest, StoreError> {
    let id = RequestId::new();
    // ON CONFLICT waits for a concurrent insert of the same key to commit, so two
    // racing retries of one client request both see the single stored row.
    let inserted: Option<(Uuid,)> = sqlx::query_as(
        "INSERT INTO provisioning_requests
             (id, tenant_id, integration_id, employee_id, service, workspace, target,
              account, state, idempotency_key, request_hash, trace_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'queued', $9, $10, $11)
         ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL
         DO NOTHING
         RETURNING id",
    )
    .bind(id.as_uuid())
    .bind(tenant_id.as_uuid())
    .bind(new.integration_id.as_uuid())
    .bind(new.employee_id.map(|e| e.as_uuid()))
    .bind(&new.service)
    .bind(&new.workspace)
    .bind(&new.target)
    .bind(&new.account)
    .bind(&new.idempotency_key)
    .bind(&new.request_hash)
    .bind(&new.trace_id)
    .fetch_optional(&mut *connection)
    .await?;
    if inserted.is_some() {
        return Ok(StoredRequest::Created(id));
    }
    let (existing, hash): (Uuid, Option<Vec<u8>>) = sqlx::query_as(
        "SELECT id, request_hash FROM provisioning_requests
         WHERE tenant_id = $1 AND idempotency_key = $2",
    )
    .bind(tenant_id.as_uuid())
    .bind(&new.idempotency_key)
    .fetch_one(&mut *connection)
    .await?;
    if hash.as_deref() == Some(new.request_hash.as_slice()) {
        Ok(StoredRequest::Repeated(existing.into()))
    } else {
        Ok(StoredRequest::KeyReused)
    }
}
