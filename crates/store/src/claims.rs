//! One attempt's hold on a request: taking it (or taking it over), and letting go of
//! it with an outcome, a planned retry, or untouched for pacing.

use std::time::{Duration, Instant};

use provisioner_core::{
    Cause, EventId, ProvisionOutcome, RequestError, RequestId, RequestState, TenantId,
};

use crate::requests::{decode_state, RawRequestRow, RequestRow};
use crate::transitions::from_states;
use crate::{Store, StoreError};

/// A queued request, or a retrying one whose time has come ($6, with $8 the retrying
/// state); or one in progress ($7) whose claim ran out or that the caller held itself.
const CLAIM: &str = "UPDATE provisioning_requests
     SET state = $5, attempts = attempts + 1, claimed_at = now(), updated_at = now()
     WHERE tenant_id = $1 AND id = $2
       AND ((state = ANY($6)
             AND (state <> $8 OR next_attempt_at IS NULL OR next_attempt_at <= now()))
            OR (state = ANY($7)
                AND (claimed_at < now() - make_interval(secs => $3) OR attempts = $4)))
     RETURNING *";

const RENEW: &str = "UPDATE provisioning_requests SET claimed_at = now()
     WHERE tenant_id = $1 AND id = $2 AND attempts = $3 AND state = ANY($4)";

const FINISH: &str = "WITH finished AS (
         UPDATE provisioning_requests
         SET state = $4, external_account_id = $5,
             error_code = $6, error_message = $7, error_retryable = $8,
             result_event_id = $9, result_published_at = NULL, updated_at = now()
         WHERE tenant_id = $1 AND id = $2 AND attempts = $3 AND state = ANY($10)
         RETURNING *
     ), recorded AS (
         INSERT INTO request_attempts
             (tenant_id, request_id, attempt, outcome, error_code, error_message,
              started_at)
         SELECT tenant_id, id, attempts, state, error_code, error_message, claimed_at
         FROM finished
         ON CONFLICT DO NOTHING
     )
     SELECT * FROM finished";

const RELEASE: &str = "UPDATE provisioning_requests
     SET state = $5, attempts = attempts - 1, updated_at = now(),
         next_attempt_at = now() + make_interval(secs => $4)
     WHERE tenant_id = $1 AND id = $2 AND attempts = $3 AND state = ANY($6)";

const PARK: &str = "WITH parked AS (
         UPDATE provisioning_requests
         SET state = $8, error_code = $4, error_message = $5,
             error_retryable = $6, updated_at = now(),
             next_attempt_at = now() + make_interval(secs => $7)
         WHERE tenant_id = $1 AND id = $2 AND attempts = $3 AND state = ANY($9)
         RETURNING tenant_id, id, attempts, claimed_at, state
     )
     INSERT INTO request_attempts
         (tenant_id, request_id, attempt, outcome, error_code, error_message,
          started_at, retry_at)
     SELECT tenant_id, id, attempts, state, $4, $5, claimed_at,
            now() + make_interval(secs => $7)
     FROM parked
     ON CONFLICT DO NOTHING";

#[cfg(test)]
pub(crate) const STATEMENTS: &[(&str, &str)] = &[
    ("claim", CLAIM),
    ("renew", RENEW),
    ("finish", FINISH),
    ("release", RELEASE),
    ("park", PARK),
];

/// The result of trying to take a request for work.
#[derive(Debug)]
pub enum ClaimOutcome {
    Claimed(Box<Claim>),
    /// The request already ended; the message is a duplicate.
    AlreadyTerminal,
    /// Another worker holds it; its claim lasts this much longer.
    HeldElsewhere(Duration),
    /// It waits for a retry that is due only after this long: the message is an early
    /// copy (the relay re-sent a wake-up, or an outage parked it for a second).
    NotDue(Duration),
    NotFound,
}

#[derive(Debug)]
pub struct Claim {
    pub request: RequestRow,
    /// When this worker took or last renewed the claim, by its own clock.
    renewed: Instant,
}

impl Claim {
    pub fn attempt(&self) -> i32 {
        self.request.attempts
    }

    /// How long since the claim was taken or last renewed.
    pub fn age(&self) -> Duration {
        self.renewed.elapsed()
    }

    /// An earlier attempt (a retry, a redelivery, a replay) may have reached the SaaS,
    /// so the account must be looked up before it is created.
    pub fn may_have_reached_before(&self) -> bool {
        self.request.attempts > 1
    }
}

#[derive(Debug, Clone)]
pub struct TerminalUpdate {
    pub state: RequestState,
    /// The account a success gave, and whether this attempt's create call made it or a
    /// lookup found it; recorded in the inventory with the success.
    pub account: Option<ProvisionOutcome>,
    pub error: Option<RequestError>,
}

impl Store {
    /// Takes a request for one attempt. A request already in progress is taken over only
    /// when its claim is older than `lease` (its holder died: no holder calls the SaaS
    /// that long), or when the caller itself held attempt `held_attempt` of it and lost
    /// its database midway. Not on a redelivery alone: another copy of the message may
    /// be in the hands of a live worker, and two workers creating one account at once
    /// could both miss the other's in a lookup.
    pub async fn claim_request(
        &self,
        tenant_id: TenantId,
        id: RequestId,
        held_attempt: Option<i32>,
        lease: Duration,
    ) -> Result<ClaimOutcome, StoreError> {
        let lease_secs = lease.as_secs_f64();
        // Taken before the statement: the row's claim time is later, so the claim's age
        // as this worker counts it is never less than its true age.
        let asked_at = Instant::now();
        let claimed: Option<RawRequestRow> = sqlx::query_as(CLAIM)
            .bind(tenant_id.as_uuid())
            .bind(id.as_uuid())
            .bind(lease_secs)
            .bind(held_attempt)
            .bind(RequestState::InProgress.as_str())
            .bind(from_states(RequestState::InProgress, Cause::Claim)?)
            .bind(from_states(RequestState::InProgress, Cause::TakeOver)?)
            .bind(RequestState::Retrying.as_str())
            .fetch_optional(&self.pool)
            .await?;
        if let Some(raw) = claimed {
            return Ok(ClaimOutcome::Claimed(Box::new(Claim {
                request: raw.try_into()?,
                renewed: asked_at,
            })));
        }
        let due_in: Option<(String, Option<f64>, Option<f64>)> = sqlx::query_as(
            "SELECT state, extract(epoch FROM next_attempt_at - now())::float8,
                    extract(epoch FROM claimed_at + make_interval(secs => $3) - now())::float8
             FROM provisioning_requests WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .bind(lease_secs)
        .fetch_optional(&self.pool)
        .await?;
        let Some((state, due_in, lease_left)) = due_in else {
            return Ok(ClaimOutcome::NotFound);
        };
        Ok(match (decode_state(&state)?, due_in, lease_left) {
            (state, _, _) if state.is_terminal() => ClaimOutcome::AlreadyTerminal,
            (RequestState::Retrying, Some(seconds), _) if seconds > 0.0 => {
                ClaimOutcome::NotDue(Duration::from_secs_f64(seconds))
            }
            (_, _, lease_left) => ClaimOutcome::HeldElsewhere(Duration::from_secs_f64(
                lease_left.unwrap_or(0.0).max(0.0),
            )),
        })
    }

    /// Starts the claim's lease again, unless another worker took the request over
    /// meanwhile; returns whether the claim is still this one's. A worker that waited
    /// for a call slot renews before it calls, so that no other worker can take the
    /// request over while the call is under way.
    pub async fn renew_claim(&self, claim: &mut Claim) -> Result<bool, StoreError> {
        let asked_at = Instant::now();
        let done = sqlx::query(RENEW)
            .bind(claim.request.tenant_id.as_uuid())
            .bind(claim.request.id.as_uuid())
            .bind(claim.attempt())
            .bind(from_states(RequestState::InProgress, Cause::Renew)?)
            .execute(&self.pool)
            .await?;
        if done.rows_affected() == 1 {
            claim.renewed = asked_at;
            return Ok(true);
        }
        Ok(false)
    }

    /// Ends the attempt `attempt` in a terminal state and assigns the result event its id.
    /// A success records its account in the inventory in the same transaction, so a
    /// crash never leaves one without the other. Returns `None` when the claim was lost
    /// to another worker meanwhile.
    pub async fn finish_request(
        &self,
        tenant_id: TenantId,
        id: RequestId,
        attempt: i32,
        update: &TerminalUpdate,
    ) -> Result<Option<RequestRow>, StoreError> {
        let error = update.error.as_ref();
        let mut tx = self.pool.begin().await?;
        let row: Option<RawRequestRow> = sqlx::query_as(FINISH)
            .bind(tenant_id.as_uuid())
            .bind(id.as_uuid())
            .bind(attempt)
            .bind(update.state.as_str())
            .bind(update.account.as_ref().map(ProvisionOutcome::external_id))
            .bind(error.map(|e| e.code.as_str()))
            .bind(error.map(|e| e.message.as_str()))
            .bind(error.map(|e| e.retryable))
            .bind(EventId::new().as_uuid())
            .bind(from_states(update.state, Cause::Finish)?)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row.map(RequestRow::try_from).transpose()? else {
            return Ok(None);
        };
        let row = match (&update.account, row.state) {
            (Some(outcome), RequestState::Succeeded) => {
                crate::accounts::record(&mut tx, &row, outcome).await?
            }
            _ => row,
        };
        tx.commit().await?;
        Ok(Some(row))
    }

    /// Gives a claimed request back without counting the attempt (nothing was called).
    pub async fn release_claim(
        &self,
        tenant_id: TenantId,
        id: RequestId,
        attempt: i32,
        retry_in: Duration,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(RELEASE)
            .bind(tenant_id.as_uuid())
            .bind(id.as_uuid())
            .bind(attempt)
            .bind(retry_in.as_secs_f64())
            .bind(RequestState::Retrying.as_str())
            .bind(from_states(RequestState::Retrying, Cause::Release)?)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Parks the request for a retry in `retry_in`, keeping the last cause and when the
    /// retry is planned for people to read.
    pub async fn park_for_retry(
        &self,
        tenant_id: TenantId,
        id: RequestId,
        attempt: i32,
        error: &RequestError,
        retry_in: Duration,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(PARK)
            .bind(tenant_id.as_uuid())
            .bind(id.as_uuid())
            .bind(attempt)
            .bind(&error.code)
            .bind(&error.message)
            .bind(error.retryable)
            .bind(retry_in.as_secs_f64())
            .bind(RequestState::Retrying.as_str())
            .bind(from_states(RequestState::Retrying, Cause::Park)?)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
