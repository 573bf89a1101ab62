//! The inventory: which accounts the tenant holds at its services, and whose they are.

use std::collections::HashMap;

use axum::extract::{Path, Query as RawQuery, State};
use axum::Json;
use provisioner_core::cursor::Cursor;
use provisioner_core::{AccountState, Scope};
use provisioner_store::AccountFilter;

use crate::auth::Caller;
use crate::problem::Problem;
use crate::query::{next_cursor, Query};
use crate::routes::path_id;
use crate::views::{AccountList, AccountPage, AccountView};
use crate::AppState;

pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    RawQuery(params): RawQuery<HashMap<String, String>>,
) -> Result<Json<AccountPage>, Problem> {
    caller.require(Scope::RequestsRead)?;
    let query = Query::new(
        params,
        &[
            "integration_id",
            "employee_id",
            "service",
            "state",
            "limit",
            "cursor",
        ],
    )?;
    let limit = query.limit()?;
    let filter = AccountFilter {
        integration_id: query
            .parsed::<uuid::Uuid>("integration_id", "a UUID")?
            .map(Into::into),
        employee_id: query
            .parsed::<uuid::Uuid>("employee_id", "a UUID")?
            .map(Into::into),
        service: query.string("service"),
        state: query.parsed::<AccountState>("state", "one of active, suspended, removed")?,
        limit: Some(limit),
        cursor: query.cursor()?,
    };
    let rows = state.store.accounts(caller.tenant_id, &filter).await?;
    let next_cursor = next_cursor(&rows, limit, |last| Cursor {
        at: last.created_at,
        id: last.id.as_uuid(),
    });
    Ok(Json(AccountPage {
        items: rows.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

pub async fn show(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AccountView>, Problem> {
    caller.require(Scope::RequestsRead)?;
    let id = path_id(&id, "account")?;
    let account = state
        .store
        .account(caller.tenant_id, id.into())
        .await?
        .ok_or_else(|| Problem::not_found("account"))?;
    Ok(Json(account.into()))
}

/// Every account of one employee: a person holds a handful, so there are no pages.
pub async fn of_employee(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<AccountList>, Problem> {
    caller.require(Scope::RequestsRead)?;
    let id = path_id(&id, "employee")?;
    state
        .store
        .employee(caller.tenant_id, id.into())
        .await?
        .ok_or_else(|| Problem::not_found("employee"))?;
    let filter = AccountFilter {
        employee_id: Some(id.into()),
        ..AccountFilter::default()
    };
    let rows = state.store.accounts(caller.tenant_id, &filter).await?;
    Ok(Json(AccountList {
        items: rows.into_iter().map(Into::into).collect(),
    }))
}
