//! `provisioner requests list|replay`: the operators' view from the command line. It
//! works on the database directly; a replayed request is published by the relay of the
//! running installation within seconds.

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use provisioner_core::{IntegrationId, RequestId, RequestState, TenantId};
use provisioner_store::{ReplayOutcome, RequestFilter, RequestRow, REPLAYABLE};
use serde_json::json;

use crate::settings::Settings;

#[derive(Subcommand)]
pub enum RequestsCommand {
    /// Lists requests, newest first, one JSON object a line.
    List {
        #[command(flatten)]
        filter: FilterArgs,
        #[command(flatten)]
        settings: Settings,
    },
    /// Replays failed, dead or rejected requests: by id, or every one a filter matches.
    Replay {
        /// Requests to replay; without ids, the filter chooses them.
        #[arg(long = "id")]
        ids: Vec<RequestId>,
        #[command(flatten)]
        filter: FilterArgs,
        /// Why, kept with the replay and shown in the integration log.
        #[arg(long)]
        reason: Option<String>,
        /// Who is replaying; defaults to the login name.
        #[arg(long, env = "USER", default_value = "operator")]
        by: String,
        /// Shows what would be replayed without changing anything.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Args)]
pub struct FilterArgs {
    #[arg(long)]
    tenant: TenantId,
    #[arg(long)]
    state: Option<RequestState>,
    #[arg(long)]
    service: Option<String>,
    #[arg(long)]
    integration: Option<IntegrationId>,
    /// Only requests created at or after this RFC 3339 time.
    #[arg(long)]
    since: Option<DateTime<Utc>>,
    #[arg(long, default_value_t = 100)]
    limit: i64,
}

impl FilterArgs {
    fn filter(&self) -> RequestFilter {
        RequestFilter {
            state: self.state,
            service: self.service.clone(),
            integration_id: self.integration,
            since: self.since,
            limit: self.limit.clamp(1, 10_000),
            cursor: None,
        }
    }
}

pub async fn run(command: RequestsCommand) -> anyhow::Result<()> {
    match command {
        RequestsCommand::List { filter, settings } => {
            let store = settings.store(2)?;
            for request in store.requests(filter.tenant, &filter.filter()).await? {
                println!("{}", summary(&request));
            }
        }
        RequestsCommand::Replay {
            ids,
            filter,
            reason,
            by,
            dry_run,
            settings,
        } => {
            let store = settings.store(2)?;
            let ids = if ids.is_empty() {
                let wanted = filter
                    .state
                    .filter(|s| REPLAYABLE.contains(&s.as_str()))
                    .with_context(|| format!("name --id, or --state {}", REPLAYABLE.join("|")))?;
                let mut chosen = filter.filter();
                chosen.state = Some(wanted);
                store
                    .requests(filter.tenant, &chosen)
                    .await?
                    .iter()
                    .map(|r| r.id)
                    .collect()
            } else {
                ids
            };
            let mut replayed = 0;
            for id in &ids {
                let outcome = if dry_run {
                    "would replay".to_owned()
                } else {
                    match store
                        .replay_request(filter.tenant, *id, &format!("cli {by}"), reason.as_deref())
                        .await?
                    {
                        ReplayOutcome::Replayed(_) => {
                            replayed += 1;
                            "replayed".to_owned()
                        }
                        ReplayOutcome::NotReplayable { state } => {
                            format!("not replayed: it is {state}")
                        }
                        ReplayOutcome::NotFound => "not found".to_owned(),
                    }
                };
                println!("{}", json!({"id": id, "outcome": outcome}));
            }
            eprintln!(
                "{} matched, {replayed} replayed{}",
                ids.len(),
                if dry_run { " (dry run)" } else { "" }
            );
        }
    }
    Ok(())
}

fn summary(request: &RequestRow) -> serde_json::Value {
    json!({
        "id": request.id,
        "state": request.state,
        "service": request.service,
        "workspace": request.workspace,
        "target": request.target,
        "attempts": request.attempts,
        "replays": request.replays,
        "error": request.error(),
        "created_at": request.created_at,
        "updated_at": request.updated_at,
    })
}
