use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use provisioner_core::{Scope, TenantId};
use rand::RngCore;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::{Store, StoreError};

/// A freshly made token: the secret is shown once and only its hash is stored.
#[derive(Debug)]
pub struct NewToken {
    pub id: Uuid,
    pub token: String,
    pub scopes: Vec<Scope>,
}

/// A token as it is listed: never its secret.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct TokenInfo {
    pub id: Uuid,
    pub scopes: Vec<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone)]
pub struct AuthenticatedToken {
    pub token_id: Uuid,
    pub tenant_id: TenantId,
    pub scopes: Vec<Scope>,
}

const TOKEN_PREFIX: &str = "prv_";

fn hash_token(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

impl Store {
    pub async fn create_tenant(&self, name: &str) -> Result<TenantId, StoreError> {
        let id = TenantId::new();
        sqlx::query("INSERT INTO tenants (id, name) VALUES ($1, $2)")
            .bind(id.as_uuid())
            .bind(name)
            .execute(&self.pool)
            .await?;
        Ok(id)
    }

    pub async fn create_token(
        &self,
        tenant_id: TenantId,
        scopes: &[Scope],
    ) -> Result<NewToken, StoreError> {
        let token = generate_token();
        let id = Uuid::new_v4();
        let names: Vec<&str> = scopes.iter().map(|s| s.as_str()).collect();
        sqlx::query(
            "INSERT INTO api_tokens (id, tenant_id, token_hash, scopes) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(tenant_id.as_uuid())
        .bind(hash_token(&token))
        .bind(&names)
        .execute(&self.pool)
        .await
        .map_err(|e| match StoreError::from(e) {
            StoreError::MissingReference(_) => StoreError::NotFound,
            other => other,
        })?;
        Ok(NewToken {
            id,
            token,
            scopes: scopes.to_vec(),
        })
    }

    pub async fn tokens(&self, tenant_id: TenantId) -> Result<Vec<TokenInfo>, StoreError> {
        let rows = sqlx::query_as(
            "SELECT id, scopes, created_at, revoked_at FROM api_tokens
             WHERE tenant_id = $1 ORDER BY created_at, id",
        )
        .bind(tenant_id.as_uuid())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Revokes a token at once: the next call with it is refused. Revoking twice is
    /// harmless; `false` means the tenant has no such token.
    pub async fn revoke_token(&self, tenant_id: TenantId, id: Uuid) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, now())
             WHERE tenant_id = $1 AND id = $2",
        )
        .bind(tenant_id.as_uuid())
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Finds the tenant and scopes of a presented token; `None` for an unknown or
    /// revoked one. Scopes stored under a name this version does not know are ignored.
    pub async fn authenticate(
        &self,
        token: &str,
    ) -> Result<Option<AuthenticatedToken>, StoreError> {
        let row: Option<(Uuid, Uuid, Vec<String>)> = sqlx::query_as(
            "SELECT id, tenant_id, scopes FROM api_tokens
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(hash_token(token))
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(token_id, tenant_id, scopes)| AuthenticatedToken {
            token_id,
            tenant_id: tenant_id.into(),
            scopes: scopes.iter().filter_map(|s| s.parse().ok()).collect(),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_unique_and_prefixed() {
        let a = generate_token();
        let b = generate_token();
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(hash_token(&a).len(), 32);
    }
}
