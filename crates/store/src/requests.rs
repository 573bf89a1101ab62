use std::time::Duration;

use chrono::{DateTime, Utc};
use provisioner_core::cursor::Cursor;
use provisioner_core::event::{AccountResult, CloudEvent};
use provisioner_core::trace::TraceParent;
use provisioner_core::{
    EmployeeId, EventId, IntegrationId, RequestError, RequestId, RequestState, TenantId,
};
use serde_json::Value;
use uuid::Uuid;

use crate::{Store, StoreError};

#[derive(Debug, Clone)]
pub struct NewRequest {
    pub integration_id: IntegrationId,
    pub employee_id: Option<EmployeeId>,
    pub service: String,
    pub workspace: String,
    pub target: String,
    pub account: Value,
    pub idempotency_key: Option<String>,
    /// A digest of what the client sent, so a reused idempotency key with another body
    /// is told apart from an honest retry.
    pub request_hash: Vec<u8>,
    /// The W3C trace id the request was accepted under.
    pub trace_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoredRequest {
    Created(RequestId),
    /// The same idempotency key and body were seen before: the first request stands.
    Repeated(RequestId),
    /// The idempotency key was used before with another body.
    KeyReused,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct RequestRow {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub integration_id: Uuid,
    pub employee_id: Option<Uuid>,
    pub service: String,
    pub workspace: String,
    pub target: String,
    pub account: Value,
    pub state: String,
    pub attempts: i32,
    pub external_account_id: Option<String>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub error_retryable: Option<bool>,
    pub result_event_id: Option<Uuid>,
    pub replays: i32,
    pub trace_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl RequestRow {
    pub fn state(&self) -> RequestState {
        // The CHECK constraint allows only known names.
        self.state.parse().unwrap_or(RequestState::Queued)
    }

    /// The CloudEvent announcing this request's terminal outcome, once it has one. Its id
    /// was fixed when the outcome was committed, so every publish of it is the same event.
    pub fn result_event(&self) -> Option<CloudEvent<AccountResult>> {
        let event_id = self.result_event_id?;
        let state = self.state();
        if !state.is_terminal() {
            return None;
        }
        let data = AccountResult {
            tenant_id: self.tenant_id.into(),
            request_id: self.id.into(),
            integration_id: self.integration_id.into(),
            employee_id: self.employee_id.map(Into::into),
            state,
            service: self.service.clone(),
            workspace: self.workspace.clone(),
            target: self.target.clone(),
            attempts: self.attempts,
            external_account_id: self.external_account_id.clone(),
            error: self.error(),
        };
        let mut event = CloudEvent::account_result(event_id.into(), self.updated_at, data);
        event.traceparent = self.trace().map(|trace| trace.to_string());
        Some(event)
    }

    /// The request's trace, continued by a new span.
    pub fn trace(&self) -> Option<TraceParent> {
        self.trace_id.as_deref().and_then(TraceParent::continuing)
    }

    pub fn error(&self) -> Option<RequestError> {
        Some(RequestError {
            code: self.error_code.clone()?,
            message: self.error_message.clone().unwrap_or_default(),
            retryable: self.error_retryable.unwrap_or(false),
        })
    }
}

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
}

impl Claim {
    pub fn attempt(&self) -> i32 {
        self.request.attempts
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
    pub external_account_id: Option<String>,
    pub error: Option<RequestError>,
}

#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub state: Option<RequestState>,
    pub service: Option<String>,
    pub integration_id: Option<IntegrationId>,
    /// Only requests created at or after this time.
    pub since: Option<DateTime<Utc>>,
    pub limit: i64,
    pub cursor: Option<Cursor>,
}

impl Store {
    pub async fn insert_request(
        &self,
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
        .fetch_optional(&self.pool)
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
        .fetch_one(&self.pool)
        .await?;
        if hash.as_deref() == Some(new.request_hash.as_slice()) {
            Ok(StoredRequest::Repeated(existing.into()))
        } else {
            Ok(StoredRequest::KeyReused)
        }
    }

    pub async fn request(
        &self,
        tenant_id: TenantId,
        id: RequestId,
    ) -> Result<Option<RequestRow>, StoreError> {
        let row =
            sqlx::query_as("SELECT * FROM provisioning_requests WHERE tenant_id = $1 AND id = $2")
                .bind(tenant_id.as_uuid())
                .bind(id.as_uuid())
                .fetch_optional(&self.pool)
                .await?;
        Ok(row)
    }

    pub async fn requests(
        &self,
        tenant_id: TenantId,
        filter: &RequestFilter,
    ) -> Result<Vec<RequestRow>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT * FROM provisioning_requests
             WHERE tenant_id = $1
               AND ($2::text IS NULL OR state = $2)
               AND ($3::text IS NULL OR service = $3)
               AND ($4::uuid IS NULL OR integration_id = $4)
               AND ($5::timestamptz IS NULL OR (created_at, id) < ($5, $6))
               AND ($8::timestamptz IS NULL OR created_at >= $8)
             ORDER BY created_at DESC, id DESC
             LIMIT $7",
        )
        .bind(tenant_id.as_uuid())
        .bind(filter.state.map(RequestState::as_str))
        .bind(&filter.service)
        .bind(filter.integration_id.map(|i| i.as_uuid()))
        .bind(filter.cursor.map(|c| c.at))
        .bind(filter.cursor.map(|c| c.id))
        .bind(filter.limit)
        .bind(filter.since)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Records that the broker confirmed the request's message, so the relay leaves it.
    pub async fn mark_request_published(&self, id: RequestId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE provisioning_requests SET published_at = now()
             WHERE id = $1 AND published_at IS NULL",
        )
        .bind(id.as_uuid())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

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
        let claimed: Option<RequestRow> = sqlx::query_as(
            "UPDATE provisioning_requests
             SET state = 'in_progress', attempts = attempts + 1,
                 claimed_at = now(), updated_at = now()
             WHERE tenant_id = $1 AND id = $2
               AND (state = 'queued'
                    OR (state = 'retrying'
                        AND (next_attempt_at IS NULL OR next_attempt_at <= now()))
                    OR (state = 'in_progress'
                        AND (claimed_at < now() - make_interval(secs => $3)
                             OR attempts = $4)))
             RETURNING *",
        )
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .bind(lease_secs)
        .bind(held_attempt)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(request) = claimed {
            return Ok(ClaimOutcome::Claimed(Box::new(Claim { request })));
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
        Ok(match due_in {
            None => ClaimOutcome::NotFound,
            Some((state, _, _)) if state.parse().is_ok_and(RequestState::is_terminal) => {
                ClaimOutcome::AlreadyTerminal
            }
            Some((state, Some(seconds), _)) if state == "retrying" && seconds > 0.0 => {
                ClaimOutcome::NotDue(Duration::from_secs_f64(seconds))
            }
            Some((_, _, lease_left)) => ClaimOutcome::HeldElsewhere(Duration::from_secs_f64(
                lease_left.unwrap_or(0.0).max(0.0),
            )),
        })
    }

    /// Ends the attempt `attempt` in a terminal state and assigns the result event its id.
    /// Returns `None` when the claim was lost to another worker meanwhile.
    pub async fn finish_request(
        &self,
        tenant_id: TenantId,
        id: RequestId,
        attempt: i32,
        update: &TerminalUpdate,
    ) -> Result<Option<RequestRow>, StoreError> {
        let error = update.error.as_ref();
        let row = sqlx::query_as(
            "WITH finished AS (
                 UPDATE provisioning_requests
                 SET state = $4, external_account_id = $5,
                     error_code = $6, error_message = $7, error_retryable = $8,
                     result_event_id = $9, result_published_at = NULL, updated_at = now()
                 WHERE tenant_id = $1 AND id = $2 AND attempts = $3 AND state = 'in_progress'
                 RETURNING *
             ), recorded AS (
                 INSERT INTO request_attempts
                     (tenant_id, request_id, attempt, outcome, error_code, error_message,
                      started_at)
                 SELECT tenant_id, id, attempts, state, error_code, error_message, claimed_at
                 FROM finished
                 ON CONFLICT DO NOTHING
             )
             SELECT * FROM finished",
        )
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .bind(attempt)
        .bind(update.state.as_str())
        .bind(&update.external_account_id)
        .bind(error.map(|e| e.code.as_str()))
        .bind(error.map(|e| e.message.as_str()))
        .bind(error.map(|e| e.retryable))
        .bind(EventId::new().as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        Ok(row)
    }

    /// Gives a claimed request back without counting the attempt (nothing was called).
    pub async fn release_claim(
        &self,
        tenant_id: TenantId,
        id: RequestId,
        attempt: i32,
        retry_in: Duration,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE provisioning_requests
             SET state = 'retrying', attempts = attempts - 1, updated_at = now(),
                 next_attempt_at = now() + make_interval(secs => $4)
             WHERE tenant_id = $1 AND id = $2 AND attempts = $3 AND state = 'in_progress'",
        )
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .bind(attempt)
        .bind(retry_in.as_secs_f64())
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
        let done = sqlx::query(
            "WITH parked AS (
                 UPDATE provisioning_requests
                 SET state = 'retrying', error_code = $4, error_message = $5,
                     error_retryable = $6, updated_at = now(),
                     next_attempt_at = now() + make_interval(secs => $7)
                 WHERE tenant_id = $1 AND id = $2 AND attempts = $3 AND state = 'in_progress'
                 RETURNING tenant_id, id, attempts, claimed_at
             )
             INSERT INTO request_attempts
                 (tenant_id, request_id, attempt, outcome, error_code, error_message,
                  started_at, retry_at)
             SELECT tenant_id, id, attempts, 'retrying', $4, $5, claimed_at,
                    now() + make_interval(secs => $7)
             FROM parked
             ON CONFLICT DO NOTHING",
        )
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .bind(attempt)
        .bind(&error.code)
        .bind(&error.message)
        .bind(error.retryable)
        .bind(retry_in.as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn mark_result_published(&self, event_id: EventId) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE provisioning_requests SET result_published_at = now()
             WHERE result_event_id = $1 AND result_published_at IS NULL",
        )
        .bind(event_id.as_uuid())
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
