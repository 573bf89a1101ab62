//! Provisioning requests, their attempts, replays and the integration log.

use chrono::{DateTime, Utc};
use provisioner_core::{
    AccountId, EmployeeId, IntegrationId, RequestAction, RequestError, RequestId, RequestState,
};
use provisioner_store::{AttemptRecord, LogEntry, RequestRow};
use serde::Serialize;

/// The 202 of a submit or a replay: the request is committed, and queued.
#[derive(Debug, Serialize)]
pub struct Accepted {
    pub id: RequestId,
    pub state: RequestState,
}

#[derive(Debug, Serialize)]
pub struct RequestView {
    pub id: RequestId,
    pub state: RequestState,
    pub action: RequestAction,
    pub service: String,
    pub workspace: String,
    pub integration_id: IntegrationId,
    pub target: String,
    pub attempts: i32,
    pub replays: i32,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub employee_id: Option<EmployeeId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_account_id: Option<String>,
    /// The account in the inventory, once the request's success recorded it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<AccountId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<RequestError>,
}

impl From<RequestRow> for RequestView {
    fn from(request: RequestRow) -> Self {
        let error = request.error();
        Self {
            id: request.id,
            state: request.state,
            action: request.action(),
            service: request.service,
            workspace: request.workspace,
            integration_id: request.integration_id,
            target: request.target,
            attempts: request.attempts,
            replays: request.replays,
            created_at: request.created_at,
            updated_at: request.updated_at,
            trace_id: request.trace_id,
            employee_id: request.employee_id,
            external_account_id: request.external_account_id,
            account_id: request.account_id,
            error,
        }
    }
}

/// One request with the story of its attempts.
#[derive(Debug, Serialize)]
pub struct RequestDetail {
    #[serde(flatten)]
    pub request: RequestView,
    pub attempt_history: Vec<AttemptView>,
}

/// How one attempt ended: `retrying` (a delayed retry followed) or the terminal state.
#[derive(Debug, Serialize)]
pub struct AttemptView {
    pub attempt: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: DateTime<Utc>,
    pub outcome: RequestState,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry_at: Option<DateTime<Utc>>,
}

impl From<AttemptRecord> for AttemptView {
    fn from(attempt: AttemptRecord) -> Self {
        Self {
            attempt: attempt.attempt,
            started_at: attempt.started_at,
            ended_at: attempt.ended_at,
            outcome: attempt.outcome,
            error_code: attempt.error_code,
            error_message: attempt.error_message,
            retry_at: attempt.retry_at,
        }
    }
}

/// `GET /v1/provisioning-requests`: a page, newest first.
#[derive(Debug, Serialize)]
pub struct RequestPage {
    pub items: Vec<RequestView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// `POST /v1/replays`: what the filter matched and what was replayed.
#[derive(Debug, Serialize)]
pub struct ReplaySummary {
    pub matched: usize,
    pub replayed: usize,
    pub dry_run: bool,
    pub request_ids: Vec<RequestId>,
}

/// `GET /v1/integration-log`: a page, newest first.
#[derive(Debug, Serialize)]
pub struct LogPage {
    /// The store's entries serialise as the contract shows them, tenant left out.
    pub entries: Vec<LogEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
