//! Operators' replays: a request that ended `failed`, `dead` or `rejected` goes back to
//! `queued` and through the normal path, where the lookup before create keeps it from
//! making a second account.

use provisioner_core::{Cause, RequestId, RequestState, TenantId};
use uuid::Uuid;

use crate::log::{LogAction, LogStatus};
use crate::requests::{decode_state, RawRequestRow, RequestRow};
use crate::transitions::from_states;
use crate::{Store, StoreError};

/// States a request may be replayed from, in the order the API names them; the state
/// machine's, as a test below holds.
pub const REPLAYABLE: [&str; 3] = ["failed", "dead", "rejected"];

/// The row is locked and its state checked first; the condition keeps the statement
/// from ever moving a request the machine would not.
const REPLAY: &str = "UPDATE provisioning_requests
     SET state = $3, replays = replays + 1, published_at = NULL,
         error_code = NULL, error_message = NULL, error_retryable = NULL,
         result_event_id = NULL, result_published_at = NULL, updated_at = now()
     WHERE tenant_id = $1 AND id = $2 AND state = ANY($4)
     RETURNING *";

#[cfg(test)]
pub(crate) const STATEMENTS: &[(&str, &str)] = &[("replay", REPLAY)];

#[derive(Debug)]
pub enum ReplayOutcome {
    /// The request is queued again; its message still has to be published.
    Replayed(Box<RequestRow>),
    /// The request is queued, in progress, retrying or succeeded (or another replay of
    /// it won the race): nothing was changed.
    NotReplayable {
        state: RequestState,
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
        let previous_state = decode_state(&previous_state)?;
        if !previous_state.may_become(RequestState::Queued, Cause::Replay) {
            return Ok(ReplayOutcome::NotReplayable {
                state: previous_state,
            });
        }
        let row: RawRequestRow = sqlx::query_as(REPLAY)
            .bind(tenant_id.as_uuid())
            .bind(id.as_uuid())
            .bind(RequestState::Queued.as_str())
            .bind(from_states(RequestState::Queued, Cause::Replay)?)
            .fetch_one(&mut *tx)
            .await?;
        let row = RequestRow::try_from(row)?;
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
        .bind(previous_state.as_str())
        .bind(&previous_error)
        .execute(&mut *tx)
        .await?;
        // A replay is an operator's action, not an outcome, so it is logged here in the
        // same transaction rather than through a result event.
        sqlx::query(
            "INSERT INTO integration_log
                 (id, tenant_id, at, action, status, service, workspace, integration_id, target,
                  request_id, employee_id, state, cause, attempts)
             VALUES ($1, $2, now(), $11, $12, $3, $4, $5, $6, $7, $8, $13, $9, $10)",
        )
        .bind(replay_id)
        .bind(tenant_id.as_uuid())
        .bind(&row.service)
        .bind(&row.workspace)
        .bind(row.integration_id.as_uuid())
        .bind(&row.target)
        .bind(row.id.as_uuid())
        .bind(row.employee_id.map(|e| e.as_uuid()))
        .bind(replay_note(replayed_by, reason, previous_state))
        .bind(row.attempts)
        .bind(LogAction::Replay.as_str())
        .bind(LogStatus::Success.as_str())
        .bind(row.state.as_str())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(ReplayOutcome::Replayed(Box::new(row)))
    }
}

fn replay_note(replayed_by: &str, reason: Option<&str>, previous_state: RequestState) -> String {
    match reason {
        Some(reason) => format!("replayed from {previous_state} by {replayed_by}: {reason}"),
        None => format!("replayed from {previous_state} by {replayed_by}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replayable_states_are_the_ones_the_machine_lets_an_operator_replay() {
        let mut machine = from_states(RequestState::Queued, Cause::Replay).unwrap();
        let mut named = REPLAYABLE.to_vec();
        machine.sort_unstable();
        named.sort_unstable();
        assert_eq!(named, machine);
    }
}
