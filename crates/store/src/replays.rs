//! Operators' replays: a request that ended `failed`, `dead` or `rejected` goes back to
//! `queued` and through the normal path, where the lookup before create keeps it from
//! making a second account.

use provisioner_core::{RequestId, TenantId};
use uuid::Uuid;

use crate::requests::RequestRow;
use crate::{Store, StoreError};

/// States a request may be replayed from.
pub const REPLAYABLE: [&str; 3] = ["failed", "dead", "rejected"];

#[derive(Debug)]
pub enum ReplayOutcome {
    /// The request is queued again; its message still has to be published.
    Replayed(Box<RequestRow>),
    /// The request is queued, in progress, retrying or succeeded (or another replay of
    /// it won the race): nothing was changed.
    NotReplayable {
        state: String,
    },
    NotFound,
}

impl Store {
    /// Puts a finished-but-unsuccessful request back in the queue, in one transaction
    /// with the record of who replayed it and why and its integration-log entry. The
    /// conditional update makes two replays at once end in one attempt series.
    pub async fn replay_request(
        &self,
        tenant_id: TenantId,
        id: RequestId,
        replayed_by: &str,
        reason: Option<&str>,
    ) -> Result<ReplayOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let before: Option<(String, Option<String>)> = sqlx::query_as(
            "SELECT state, error_message FROM provisioning_requests
             WHERE tenant_id = $1 AND id = $2 FOR UPDATE",
        )
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&mut *tx)
        .await?;
        let Some((previous_state, previous_error)) = before else {
            return Ok(ReplayOutcome::NotFound);
        };
        if !REPLAYABLE.contains(&previous_state.as_str()) {
            return Ok(ReplayOutcome::NotReplayable {
                state: previous_state,
            });
        }
        let row: RequestRow = sqlx::query_as(
            "UPDATE provisioning_requests
             SET state = 'queued', replays = replays + 1, published_at = NULL,
                 error_code = NULL, error_message = NULL, error_retryable = NULL,
                 result_event_id = NULL, result_published_at = NULL, updated_at = now()
             WHERE tenant_id = $1 AND id = $2
             RETURNING *",
        )
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .fetch_one(&mut *tx)
        .await?;
        let replay_id = Uuid::new_v4();
        sqlx::query(
            "INSERT INTO request_replays
                 (id, tenant_id, request_id, replayed_by, reason, previous_state, previous_error)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(replay_id)
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .bind(replayed_by)
        .bind(reason)
        .bind(&previous_state)
        .bind(&previous_error)
        .execute(&mut *tx)
        .await?;
        // A replay is an operator's action, not an outcome, so it is logged here in the
        // same transaction rather than through a result event.
        sqlx::query(
            "INSERT INTO integration_log
                 (id, tenant_id, at, action, status, service, workspace, integration_id, target,
                  request_id, employee_id, state, cause, attempts)
             VALUES ($1, $2, now(), 'replay', 'success', $3, $4, $5, $6, $7, $8, 'queued', $9, $10)",
        )
        .bind(replay_id)
        .bind(tenant_id.as_uuid())
        .bind(&row.service)
        .bind(&row.workspace)
        .bind(row.integration_id)
        .bind(&row.target)
        .bind(row.id)
        .bind(row.employee_id)
        .bind(replay_note(replayed_by, reason, &previous_state))
        .bind(row.attempts)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ReplayOutcome::Replayed(Box::new(row)))
    }
}

fn replay_note(replayed_by: &str, reason: Option<&str>, previous_state: &str) -> String {
    match reason {
        Some(reason) => format!("replayed from {previous_state} by {replayed_by}: {reason}"),
        None => format!("replayed from {previous_state} by {replayed_by}"),
    }
}
