use std::collections::HashMap;

use axum::extract::{Query as RawQuery, State};
use axum::Json;
use provisioner_core::cursor::Cursor;
use provisioner_core::Scope;
use provisioner_store::LogFilter;
use uuid::Uuid;

use crate::auth::Caller;
use crate::problem::Problem;
use crate::query::Query;
use crate::views::LogPage;
use crate::AppState;

const ACTIONS: &[&str] = &["create", "replay", "link"];
const STATUSES: &[&str] = &["success", "failure"];

/// The integration log, newest first: one entry per outcome.
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    RawQuery(params): RawQuery<HashMap<String, String>>,
) -> Result<Json<LogPage>, Problem> {
    caller.require(Scope::LogRead)?;
    let query = Query::new(
        params,
        &[
            "action",
            "status",
            "service",
            "integration_id",
            "employee_id",
            "request_id",
            "from",
            "to",
            "limit",
            "cursor",
        ],
    )?;
    // The console's filter reads "Create"; accept any case.
    let action = one_of(&query, "action", ACTIONS)?;
    let status = one_of(&query, "status", STATUSES)?;
    let filter = LogFilter {
        action,
        status,
        service: query.string("service"),
        integration_id: query
            .parsed::<Uuid>("integration_id", "a UUID")?
            .map(Into::into),
        employee_id: query
            .parsed::<Uuid>("employee_id", "a UUID")?
            .map(Into::into),
        request_id: query
            .parsed::<Uuid>("request_id", "a UUID")?
            .map(Into::into),
        from: query.time("from")?,
        to: query.time("to")?,
        limit: query.limit()?,
        cursor: query.cursor()?,
    };
    let entries = state.store.log_entries(caller.tenant_id, &filter).await?;
    let next_cursor = (entries.len() as i64 == filter.limit)
        .then(|| entries.last())
        .flatten()
        .map(|last| {
            Cursor {
                at: last.at,
                id: last.id,
            }
            .encode()
        });
    Ok(Json(LogPage {
        entries,
        next_cursor,
    }))
}

fn one_of(query: &Query, name: &str, allowed: &[&str]) -> Result<Option<String>, Problem> {
    let Some(raw) = query.string(name) else {
        return Ok(None);
    };
    let lower = raw.to_ascii_lowercase();
    if allowed.contains(&lower.as_str()) {
        Ok(Some(lower))
    } else {
        Err(Problem::bad_parameter(
            name,
            format!("must be one of {}", allowed.join(", ")),
        ))
    }
}
