//! Log entries, written in groups. Each result event's entry waits for the statement in
//! flight; every entry that arrives meanwhile joins the next one, so under load one
//! `INSERT … FROM unnest(…)` and one commit carry many entries instead of one each. No
//! timer holds an entry back: a lone entry is written at once. Every caller learns its
//! own entry's outcome, and only after the commit that holds it.

use std::collections::HashSet;
use std::mem;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use provisioner_core::event::{AccountResult, CloudEvent};
use provisioner_core::trace::TraceParent;
use provisioner_core::RequestState;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::log::{LogAction, LogStatus};
use crate::{Store, StoreError};

/// The most entries one statement carries; the rest wait for the next.
const GROUP_CAP: usize = 256;

/// One entry as the table holds it.
#[derive(Debug)]
struct LogRow {
    id: Uuid,
    tenant_id: Uuid,
    at: DateTime<Utc>,
    action: &'static str,
    status: &'static str,
    service: String,
    workspace: String,
    integration_id: Uuid,
    target: String,
    request_id: Uuid,
    employee_id: Option<Uuid>,
    state: &'static str,
    external_account_id: Option<String>,
    cause: Option<String>,
    attempts: i32,
    trace_id: Option<String>,
}

impl LogRow {
    fn of(event: &CloudEvent<AccountResult>) -> Self {
        let data = &event.data;
        let status = if data.state == RequestState::Succeeded {
            LogStatus::Success
        } else {
            LogStatus::Failure
        };
        Self {
            id: event.id.as_uuid(),
            tenant_id: data.tenant_id.as_uuid(),
            at: event.time,
            action: LogAction::of_result(data).as_str(),
            status: status.as_str(),
            service: data.service.clone(),
            workspace: data.workspace.clone(),
            integration_id: data.integration_id.as_uuid(),
            target: data.target.clone(),
            request_id: data.request_id.as_uuid(),
            employee_id: data.employee_id.map(|e| e.as_uuid()),
            state: data.state.as_str(),
            external_account_id: data.external_account_id.clone(),
            cause: data.error.as_ref().map(|e| e.message.clone()),
            attempts: data.attempts,
            trace_id: event
                .traceparent
                .as_deref()
                .and_then(TraceParent::parse)
                .map(|trace| trace.trace_id().to_owned()),
        }
    }
}

/// An entry waiting to be written, and where its outcome goes: whether a row was
/// written for it.
#[derive(Debug)]
struct Pending {
    row: LogRow,
    done: oneshot::Sender<Result<bool, StoreError>>,
}

/// Entries waiting to be written, and the right to write them: whoever holds `writing`
/// writes what is queued, up to [`GROUP_CAP`].
#[derive(Debug, Default)]
pub(crate) struct LogQueue {
    queued: std::sync::Mutex<Vec<Pending>>,
    writing: tokio::sync::Mutex<()>,
}

impl LogQueue {
    fn take_group(&self) -> Vec<Pending> {
        let mut queued = self.queued.lock().expect("log queue poisoned");
        if queued.len() <= GROUP_CAP {
            mem::take(&mut *queued)
        } else {
            queued.drain(..GROUP_CAP).collect()
        }
    }
}

impl Store {
    /// Writes the log entry of one result event, in a group with whatever other entries
    /// are waiting; a redelivered event changes nothing. Returns whether a row was
    /// written, once the commit that holds it is done.
    pub async fn record_log_entry(
        &self,
        event: &CloudEvent<AccountResult>,
    ) -> Result<bool, StoreError> {
        let (done, mut outcome) = oneshot::channel();
        let row = LogRow::of(event);
        self.log_queue
            .queued
            .lock()
            .expect("log queue poisoned")
            .push(Pending { row, done });
        loop {
            tokio::select! {
                biased;
                result = &mut outcome => {
                    // The writer went away midway (its caller was cancelled): the entry's
                    // fate is unknown, and writing it again is harmless.
                    return result.unwrap_or_else(|_| Err(StoreError::Unavailable(
                        "the group holding this log entry was abandoned".into(),
                    )));
                }
                _writing = self.log_queue.writing.lock() => {
                    let group = self.log_queue.take_group();
                    if !group.is_empty() {
                        self.write_log_group(group).await;
                    }
                }
            }
        }
    }

    /// Writes `group` and tells each entry its outcome. A group PostgreSQL refuses is
    /// written again entry by entry, so only the entry at fault fails; an outage fails
    /// them all, each to be tried again.
    async fn write_log_group(&self, group: Vec<Pending>) {
        let written = insert_log_rows(self, group.iter().map(|p| &p.row)).await;
        match written {
            Ok(mut fresh) => {
                for pending in group {
                    // A second copy of an event in the same group finds its id taken.
                    let _ = pending.done.send(Ok(fresh.remove(&pending.row.id)));
                }
            }
            Err(error) if error.is_transient() => {
                let shared = Arc::new(error);
                for pending in group {
                    let error = StoreError::Unavailable(Box::new(Arc::clone(&shared)));
                    let _ = pending.done.send(Err(error));
                }
            }
            Err(error) => {
                tracing::warn!(error = %error, entries = group.len(),
                    "a log group was refused; writing its entries one by one");
                for pending in group {
                    let alone = insert_log_rows(self, std::iter::once(&pending.row)).await;
                    let _ = pending.done.send(alone.map(|fresh| !fresh.is_empty()));
                }
            }
        }
    }
}

/// Inserts `rows` in one statement, each event id once, and returns the ids written.
async fn insert_log_rows<'a>(
    store: &Store,
    rows: impl Iterator<Item = &'a LogRow>,
) -> Result<HashSet<Uuid>, StoreError> {
    let mut seen = HashSet::new();
    let mut columns = Columns::default();
    for row in rows.filter(|row| seen.insert(row.id)) {
        columns.push(row);
    }
    let written: Vec<Uuid> = sqlx::query_scalar(
        "INSERT INTO integration_log
             (id, tenant_id, at, action, status, service, workspace, integration_id, target,
              request_id, employee_id, state, external_account_id, cause, attempts, trace_id)
         SELECT id, tenant_id, at, action, status, service, workspace, integration_id, target,
                request_id, employee_id, state, external_account_id, cause, attempts, trace_id
         FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[],
                     $6::text[], $7::uuid[], $8::text[], $9::uuid[], $10::uuid[], $11::text[],
                     $12::text[], $13::text[], $14::int4[], $15::text[], $16::text[])
              AS e(id, tenant_id, at, status, service, workspace, integration_id, target,
                   request_id, employee_id, state, external_account_id, cause, attempts,
                   trace_id, action)
         ON CONFLICT (id) DO NOTHING
         RETURNING id",
    )
    .bind(columns.id)
    .bind(columns.tenant_id)
    .bind(columns.at)
    .bind(columns.status)
    .bind(columns.service)
    .bind(columns.workspace)
    .bind(columns.integration_id)
    .bind(columns.target)
    .bind(columns.request_id)
    .bind(columns.employee_id)
    .bind(columns.state)
    .bind(columns.external_account_id)
    .bind(columns.cause)
    .bind(columns.attempts)
    .bind(columns.trace_id)
    .bind(columns.action)
    .fetch_all(&store.pool)
    .await?;
    Ok(written.into_iter().collect())
}

/// The group as one array per column, the shape `unnest` reads.
#[derive(Default)]
struct Columns {
    id: Vec<Uuid>,
    tenant_id: Vec<Uuid>,
    at: Vec<DateTime<Utc>>,
    status: Vec<&'static str>,
    service: Vec<String>,
    workspace: Vec<String>,
    integration_id: Vec<Uuid>,
    target: Vec<String>,
    request_id: Vec<Uuid>,
    employee_id: Vec<Option<Uuid>>,
    state: Vec<&'static str>,
    external_account_id: Vec<Option<String>>,
    cause: Vec<Option<String>>,
    attempts: Vec<i32>,
    trace_id: Vec<Option<String>>,
    action: Vec<&'static str>,
}

impl Columns {
    fn push(&mut self, row: &LogRow) {
        self.id.push(row.id);
        self.tenant_id.push(row.tenant_id);
        self.at.push(row.at);
        self.status.push(row.status);
        self.service.push(row.service.clone());
        self.workspace.push(row.workspace.clone());
        self.integration_id.push(row.integration_id);
        self.target.push(row.target.clone());
        self.request_id.push(row.request_id);
        self.employee_id.push(row.employee_id);
        self.state.push(row.state);
        self.external_account_id
            .push(row.external_account_id.clone());
        self.cause.push(row.cause.clone());
        self.attempts.push(row.attempts);
        self.trace_id.push(row.trace_id.clone());
        self.action.push(row.action);
    }
}
