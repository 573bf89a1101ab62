//! A tenant's API tokens: listed without their secrets, made with the scopes asked for
//! (the secret is shown once), revoked at once.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use provisioner_core::Scope;

use crate::auth::Caller;
use crate::input::{Fields, JsonObject};
use crate::problem::Problem;
use crate::routes::path_id;
use crate::views::{CreatedToken, TokenList};
use crate::AppState;

pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<TokenList>, Problem> {
    caller.require(Scope::TokensAdmin)?;
    let tokens = state.store.tokens(caller.tenant_id).await?;
    let tokens = tokens.into_iter().map(Into::into).collect();
    Ok(Json(TokenList { tokens }))
}

pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<CreatedToken>), Problem> {
    caller.require(Scope::TokensAdmin)?;
    let mut fields = Fields::new(body);
    let scopes = fields.required_string_list("scopes", 20);
    let mut parsed = Vec::new();
    for (index, name) in scopes.iter().flatten().enumerate() {
        match name.parse::<Scope>() {
            Ok(scope) if !parsed.contains(&scope) => parsed.push(scope),
            Ok(_) => {}
            Err(error) => fields.error(&format!("scopes.{index}"), error.to_string()),
        }
    }
    if scopes.as_ref().is_some_and(Vec::is_empty) {
        fields.error("scopes", "name at least one scope");
    }
    fields.finish()?;
    let token = state.store.create_token(caller.tenant_id, &parsed).await?;
    tracing::info!(token_id = %token.id, created_by = %caller.token_id, "token created");
    Ok((
        StatusCode::CREATED,
        Json(CreatedToken {
            id: token.id,
            token: token.token,
            scopes: token.scopes,
        }),
    ))
}

pub async fn revoke(
    caller: Caller,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, Problem> {
    caller.require(Scope::TokensAdmin)?;
    let id = path_id(&id, "token")?;
    if !state.store.revoke_token(caller.tenant_id, id).await? {
        return Err(Problem::not_found("token"));
    }
    tracing::info!(token_id = %id, revoked_by = %caller.token_id, "token revoked");
    Ok(StatusCode::NO_CONTENT)
}
