//! Bearer tokens: each belongs to one tenant and carries scopes.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use provisioner_core::{Scope, TenantId};

use crate::problem::Problem;
use crate::AppState;

#[derive(Debug, Clone)]
pub struct Caller {
    pub tenant_id: TenantId,
    /// Which token called, for records of who did what (never the secret).
    pub token_id: uuid::Uuid,
    scopes: Vec<Scope>,
}

impl Caller {
    pub fn require(&self, scope: Scope) -> Result<(), Problem> {
        self.require_any(&[scope])
    }

    pub fn require_any(&self, scopes: &[Scope]) -> Result<(), Problem> {
        if scopes.iter().any(|s| self.scopes.contains(s)) {
            return Ok(());
        }
        let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        Err(Problem::forbidden(&names.join(" or ")))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = Problem;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Problem> {
        let header = parts
            .headers
            .get(AUTHORIZATION)
            .ok_or_else(|| Problem::unauthenticated("send Authorization: Bearer <token>"))?;
        let token = header
            .to_str()
            .ok()
            .and_then(|value| value.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|token| !token.is_empty() && token.len() <= 512)
            .ok_or_else(|| {
                Problem::unauthenticated("the Authorization header must be Bearer <token>")
            })?;
        let found = state.store.authenticate(token).await?;
        let token =
            found.ok_or_else(|| Problem::unauthenticated("the token is unknown or revoked"))?;
        Ok(Self {
            tenant_id: token.tenant_id,
            token_id: token.token_id,
            scopes: token.scopes,
        })
    }
}
