//! Operators replay what failed: one request, or every request a filter matches.

use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use provisioner_core::{RequestId, RequestState, Scope};
use provisioner_store::{ReplayOutcome, RequestFilter, REPLAYABLE};

use crate::auth::Caller;
use crate::input::{Fields, JsonObject, OptionalJsonObject};
use crate::problem::Problem;
use crate::routes::path_id;
use crate::routes::requests::accepted;
use crate::views::ReplaySummary;
use crate::AppState;

/// A bulk replay touches at most this many requests; run it again for the rest.
const BULK_LIMIT: i64 = 1000;

pub async fn replay_one(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
    OptionalJsonObject(body): OptionalJsonObject,
) -> Result<Response, Problem> {
    caller.require(Scope::Operator)?;
    let id: RequestId = path_id(&id, "provisioning request")?.into();
    let mut fields = Fields::new(body);
    let reason = fields.optional_string("reason", 1000);
    fields.finish()?;
    match replay(&state, &caller, id, reason.as_deref()).await? {
        ReplayOutcome::Replayed(_) => Ok(accepted(id)),
        ReplayOutcome::NotFound => Err(Problem::not_found("provisioning request")),
        ReplayOutcome::NotReplayable { state } => Err(Problem::conflict(format!(
            "the request is {state}; only {} requests can be replayed",
            REPLAYABLE.join(", ")
        ))),
    }
}

pub async fn replay_many(
    caller: Caller,
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<Json<ReplaySummary>, Problem> {
    caller.require(Scope::Operator)?;
    let mut fields = Fields::new(body);
    let filter = fields.required_object("filter");
    let dry_run = fields.optional_bool("dry_run").unwrap_or(false);
    let reason = fields.optional_string("reason", 1000);
    let filter = filter.map(|object| {
        let mut inner = Fields::new(object);
        let state = inner.required_string("state", 20);
        let service = inner.optional_string("service", 100);
        let integration_id = inner.optional_uuid("integration_id");
        let since = inner.optional_time("since");
        (inner, state, service, integration_id, since)
    });
    let mut request_filter = None;
    if let Some((inner, wanted, service, integration_id, since)) = filter {
        let state = wanted
            .as_deref()
            .and_then(|raw| match raw.parse::<RequestState>() {
                Ok(state) if REPLAYABLE.contains(&state.as_str()) => Some(state),
                _ => None,
            });
        if wanted.is_some() && state.is_none() {
            fields.error(
                "filter.state",
                format!("must be one of {}", REPLAYABLE.join(", ")),
            );
        }
        if let Err(problem) = inner.finish() {
            for error in problem.errors {
                fields.error(&format!("filter.{}", error.field), error.detail);
            }
        }
        request_filter = Some(RequestFilter {
            state,
            service,
            integration_id: integration_id.map(Into::into),
            since,
            limit: BULK_LIMIT,
            cursor: None,
        });
    }
    fields.finish()?;
    let Some(request_filter) = request_filter else {
        return Err(Problem::internal());
    };

    let matched = state
        .store
        .requests(caller.tenant_id, &request_filter)
        .await?;
    let mut replayed = 0;
    if !dry_run {
        for request in &matched {
            let outcome = replay(&state, &caller, request.id, reason.as_deref()).await?;
            if matches!(outcome, ReplayOutcome::Replayed(_)) {
                replayed += 1;
            }
        }
    }
    Ok(Json(ReplaySummary {
        matched: matched.len(),
        replayed,
        dry_run,
        request_ids: matched.iter().map(|r| r.id).collect(),
    }))
}

/// Replays one request and publishes it at once; the relay covers a failed publish.
async fn replay(
    state: &AppState,
    caller: &Caller,
    id: RequestId,
    reason: Option<&str>,
) -> Result<ReplayOutcome, Problem> {
    let replayed_by = format!("token {}", caller.token_id);
    Ok(state
        .requests
        .replay(caller.tenant_id, id, &replayed_by, reason)
        .await?)
}
