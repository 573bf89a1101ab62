//! The story of a request: each attempt's end and cause. They are written by the same
//! statements that park a retry or finish the request (`requests.rs`).

use chrono::{DateTime, Utc};
use provisioner_core::{RequestId, RequestState, TenantId};

use crate::requests::decode_state;
use crate::{Store, StoreError};

/// How one attempt ended: `retrying` (a delayed retry followed) or the terminal state.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AttemptRecord {
    pub attempt: i32,
    /// When a worker took the request for this attempt; absent on older records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub outcome: RequestState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    /// When the retry that followed was planned to start, for a `retrying` attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<DateTime<Utc>>,
}

#[derive(sqlx::FromRow)]
struct RawAttemptRecord {
    attempt: i32,
    started_at: Option<DateTime<Utc>>,
    ended_at: DateTime<Utc>,
    outcome: String,
    error_code: Option<String>,
    error_message: Option<String>,
    retry_at: Option<DateTime<Utc>>,
}

impl TryFrom<RawAttemptRecord> for AttemptRecord {
    type Error = StoreError;

    fn try_from(raw: RawAttemptRecord) -> Result<Self, StoreError> {
        Ok(Self {
            attempt: raw.attempt,
            started_at: raw.started_at,
            ended_at: raw.ended_at,
            outcome: decode_state(&raw.outcome)?,
            error_code: raw.error_code,
            error_message: raw.error_message,
            retry_at: raw.retry_at,
        })
    }
}

impl Store {
    /// How each attempt of a request ended, oldest first.
    pub async fn attempts_of(
        &self,
        tenant_id: TenantId,
        id: RequestId,
    ) -> Result<Vec<AttemptRecord>, StoreError> {
        let rows: Vec<RawAttemptRecord> = sqlx::query_as(
            "SELECT attempt, started_at, ended_at, outcome, error_code, error_message, retry_at
             FROM request_attempts
             WHERE tenant_id = $1 AND request_id = $2 ORDER BY attempt",
        )
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(AttemptRecord::try_from).collect()
    }
}
