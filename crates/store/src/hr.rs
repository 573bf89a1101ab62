//! HR intake: a hire is recorded once per event id, with the employee record, in the
//! transaction that also stores every request the rules give, so a crash can neither lose
//! the requests nor make a re-sent event create them twice.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use provisioner_core::rules::HiredEmployee;
use provisioner_core::{EmployeeId, TenantId};
use rand::RngCore;
use uuid::Uuid;

use crate::{Store, StoreError, Writes};

impl Writes {
    /// Records the hire event and creates or updates its employee. `None` when this
    /// event id was recorded before: then nothing changed, and nothing more should be
    /// written for it.
    pub async fn record_hire(
        &mut self,
        tenant_id: TenantId,
        event_id: &str,
        source: &str,
        employee: &HiredEmployee,
    ) -> Result<Option<EmployeeId>, StoreError> {
        let fresh: Option<(String,)> = sqlx::query_as(
            "INSERT INTO hr_events (tenant_id, event_id, source) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING RETURNING event_id",
        )
        .bind(tenant_id.as_uuid())
        .bind(event_id)
        .bind(source)
        .fetch_optional(&mut *self.tx)
        .await?;
        if fresh.is_none() {
            return Ok(None);
        }
        let (employee_id,): (Uuid,) = sqlx::query_as(
            "INSERT INTO employees
                 (id, tenant_id, email, given_name, family_name, department, employment_type, location)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (tenant_id, email) DO UPDATE SET
                 given_name = excluded.given_name, family_name = excluded.family_name,
                 department = excluded.department, employment_type = excluded.employment_type,
                 location = excluded.location
             RETURNING id",
        )
        .bind(Uuid::new_v4())
        .bind(tenant_id.as_uuid())
        .bind(&employee.email)
        .bind(&employee.given_name)
        .bind(&employee.family_name)
        .bind(&employee.department)
        .bind(&employee.employment_type)
        .bind(&employee.location)
        .fetch_one(&mut *self.tx)
        .await?;
        sqlx::query("UPDATE hr_events SET employee_id = $3 WHERE tenant_id = $1 AND event_id = $2")
            .bind(tenant_id.as_uuid())
            .bind(event_id)
            .bind(employee_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(Some(employee_id.into()))
    }
}

impl Store {
    /// Makes a webhook signing secret for the tenant; shown once, stored sealed.
    pub async fn create_hr_secret(
        &self,
        tenant_id: TenantId,
    ) -> Result<(Uuid, String), StoreError> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        // Standard base64, as Standard Webhooks libraries decode it.
        let secret = format!("whsec_{}", STANDARD.encode(bytes));
        let id = Uuid::new_v4();
        let sealed = self
            .keyring
            .seal(tenant_id.as_uuid(), id, secret.as_bytes());
        sqlx::query(
            "INSERT INTO hr_signing_secrets (id, tenant_id, sealed, key_id) VALUES ($1, $2, $3, $4)",
        )
        .bind(id)
        .bind(tenant_id.as_uuid())
        .bind(sealed)
        .bind(self.keyring.current_key_id())
        .execute(&self.pool)
        .await?;
        Ok((id, secret))
    }

    /// The tenant's active signing secrets (several while one is being rotated).
    pub async fn hr_secrets(&self, tenant_id: TenantId) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(Uuid, Vec<u8>, String)> = sqlx::query_as(
            "SELECT id, sealed, key_id FROM hr_signing_secrets
             WHERE tenant_id = $1 AND revoked_at IS NULL",
        )
        .bind(tenant_id.as_uuid())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, sealed, key_id)| {
                let plain = self
                    .keyring
                    .open(&key_id, tenant_id.as_uuid(), id, &sealed)?;
                String::from_utf8(plain).ok()
            })
            .collect())
    }
}
