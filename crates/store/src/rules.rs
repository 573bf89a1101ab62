use chrono::{DateTime, Utc};
use provisioner_core::rules::RuleMatch;
use provisioner_core::TenantId;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::{Store, StoreError};

/// One account a rule gives: where, and its fields as templates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleTarget {
    pub integration_id: Uuid,
    pub account: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub id: Uuid,
    pub name: String,
    #[serde(rename = "match")]
    pub matches: RuleMatch,
    pub targets: Vec<RuleTarget>,
    pub created_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct RuleRow {
    id: Uuid,
    name: String,
    #[sqlx(rename = "match")]
    matches: sqlx::types::Json<RuleMatch>,
    targets: sqlx::types::Json<Vec<RuleTarget>>,
    created_at: DateTime<Utc>,
}

impl From<RuleRow> for Rule {
    fn from(row: RuleRow) -> Self {
        Self {
            id: row.id,
            name: row.name,
            matches: row.matches.0,
            targets: row.targets.0,
            created_at: row.created_at,
        }
    }
}

impl Store {
    pub async fn insert_rule(
        &self,
        tenant_id: TenantId,
        name: &str,
        matches: &RuleMatch,
        targets: &[RuleTarget],
    ) -> Result<Rule, StoreError> {
        let row: RuleRow = sqlx::query_as(
            "INSERT INTO provisioning_rules (id, tenant_id, name, match, targets)
             VALUES ($1, $2, $3, $4, $5)
             RETURNING id, name, match, targets, created_at",
        )
        .bind(Uuid::new_v4())
        .bind(tenant_id.as_uuid())
        .bind(name)
        .bind(sqlx::types::Json(matches))
        .bind(sqlx::types::Json(targets))
        .fetch_one(&self.pool)
        .await?;
        Ok(row.into())
    }

    pub async fn rules(&self, tenant_id: TenantId) -> Result<Vec<Rule>, StoreError> {
        let rows: Vec<RuleRow> = sqlx::query_as(
            "SELECT id, name, match, targets, created_at FROM provisioning_rules
             WHERE tenant_id = $1 ORDER BY created_at, id",
        )
        .bind(tenant_id.as_uuid())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(Rule::from).collect())
    }

    pub async fn delete_rule(&self, tenant_id: TenantId, id: Uuid) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM provisioning_rules WHERE tenant_id = $1 AND id = $2")
            .bind(tenant_id.as_uuid())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }
}
