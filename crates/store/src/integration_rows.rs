//! An integration's row as PostgreSQL holds it, and its decoding: the columns read, the
//! stored status checked against the known ones, the credentials in whichever form the
//! row keeps them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use provisioner_core::retry::{Jitter, RetryOverride};
use provisioner_core::IntegrationStatus;
use serde_json::Value;
use uuid::Uuid;

use crate::credentials::StoredCredentials;
use crate::StoreError;

pub(crate) const COLUMNS: &str =
    "id, tenant_id, service, workspace, base_url, credentials, sealed_credentials, \
     credentials_key, status, status_reason, requests_per_second, max_attempts, \
     retry_base_delay_ms, retry_max_delay_ms, retry_jitter, retry_deadline_seconds, \
     auth_failures, status_changed_at, max_concurrent_calls, checked_at, created_at";

/// The row as stored: credentials sealed (or, for rows older than sealing, plain until
/// `seal_credentials` runs).
#[derive(sqlx::FromRow)]
pub(crate) struct RawIntegrationRow {
    pub(crate) id: Uuid,
    pub(crate) tenant_id: Uuid,
    pub(crate) service: String,
    pub(crate) workspace: String,
    pub(crate) base_url: Option<String>,
    pub(crate) credentials: Option<Value>,
    pub(crate) sealed_credentials: Option<Vec<u8>>,
    pub(crate) credentials_key: Option<String>,
    pub(crate) status: String,
    pub(crate) status_reason: Option<String>,
    pub(crate) requests_per_second: Option<f64>,
    pub(crate) max_attempts: Option<i32>,
    pub(crate) retry_base_delay_ms: Option<i32>,
    pub(crate) retry_max_delay_ms: Option<i32>,
    pub(crate) retry_jitter: Option<String>,
    pub(crate) retry_deadline_seconds: Option<i32>,
    pub(crate) auth_failures: i32,
    pub(crate) status_changed_at: DateTime<Utc>,
    pub(crate) max_concurrent_calls: Option<i32>,
    pub(crate) checked_at: DateTime<Utc>,
    pub(crate) created_at: DateTime<Utc>,
}

/// The row with its values decoded, its credentials still as stored.
pub(crate) struct IntegrationRow {
    pub(crate) raw: RawIntegrationRow,
    pub(crate) status: IntegrationStatus,
    pub(crate) credentials: StoredCredentials,
}

impl TryFrom<RawIntegrationRow> for IntegrationRow {
    type Error = StoreError;

    fn try_from(mut raw: RawIntegrationRow) -> Result<Self, StoreError> {
        let status = StoreError::decode(
            "status",
            &raw.status,
            &IntegrationStatus::ALL,
            IntegrationStatus::as_str,
        )?;
        let credentials = match (
            raw.sealed_credentials.take(),
            raw.credentials_key.take(),
            raw.credentials.take(),
        ) {
            (Some(bytes), Some(key_id), _) => StoredCredentials::Sealed { key_id, bytes },
            (_, _, Some(plain)) => StoredCredentials::Plain(plain),
            _ => StoredCredentials::Missing,
        };
        Ok(Self {
            raw,
            status,
            credentials,
        })
    }
}

impl RawIntegrationRow {
    pub(crate) fn retry(&self) -> RetryOverride {
        let millis = |ms: Option<i32>| {
            ms.and_then(|ms| u64::try_from(ms).ok())
                .map(Duration::from_millis)
        };
        RetryOverride {
            max_attempts: self.max_attempts.and_then(|n| u32::try_from(n).ok()),
            base_delay: millis(self.retry_base_delay_ms),
            max_delay: millis(self.retry_max_delay_ms),
            jitter: self.retry_jitter.as_deref().and_then(Jitter::parse),
            deadline: self
                .retry_deadline_seconds
                .and_then(|s| u64::try_from(s).ok())
                .map(Duration::from_secs),
        }
    }
}

/// The override as the columns hold it; the API bounds every value well inside `i32`.
pub(crate) struct RetryColumns {
    pub(crate) max_attempts: Option<i32>,
    pub(crate) base_delay_ms: Option<i32>,
    pub(crate) max_delay_ms: Option<i32>,
    pub(crate) jitter: Option<&'static str>,
    pub(crate) deadline_seconds: Option<i32>,
}

impl From<&RetryOverride> for RetryColumns {
    fn from(retry: &RetryOverride) -> Self {
        let millis =
            |d: Option<Duration>| d.map(|d| i32::try_from(d.as_millis()).unwrap_or(i32::MAX));
        Self {
            max_attempts: retry
                .max_attempts
                .map(|n| i32::try_from(n).unwrap_or(i32::MAX)),
            base_delay_ms: millis(retry.base_delay),
            max_delay_ms: millis(retry.max_delay),
            jitter: retry.jitter.map(Jitter::as_str),
            deadline_seconds: retry
                .deadline
                .map(|d| i32::try_from(d.as_secs()).unwrap_or(i32::MAX)),
        }
    }
}
