//! HR intake: a hire is recorded once per event id, with the employee record and every
//! request the rules give, in one transaction, so a crash can neither lose the requests
//! nor make a re-sent event create them twice.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use provisioner_core::rules::HiredEmployee;
use provisioner_core::trace::TraceParent;
use provisioner_core::{EventId, IntegrationId, RequestError, RequestId, TenantId};
use rand::RngCore;
use serde_json::Value;
use uuid::Uuid;

use crate::{Store, StoreError};

/// A request a rule gives for the hire. `refused` holds why it cannot even be tried
/// (its fields do not fit the service); it is then recorded as `failed` at once, with
/// its cause in the integration log, rather than dropped.
#[derive(Debug, Clone)]
pub struct PlannedRequest {
    pub integration_id: IntegrationId,
    pub service: String,
    pub workspace: String,
    pub target: String,
    pub account: Value,
    pub refused: Option<RequestError>,
}

#[derive(Debug)]
pub enum HireOutcome {
    /// This event id was recorded before; nothing changed.
    Duplicate,
    Recorded {
        employee_id: Uuid,
        /// Requests to publish: (id, service) of each queued one.
        queued: Vec<(RequestId, String)>,
        /// The trace the hire's requests were started under.
        trace: TraceParent,
        failed: usize,
    },
}

impl Store {
    pub async fn record_hire(
        &self,
        tenant_id: TenantId,
        event_id: &str,
        source: &str,
        employee: &HiredEmployee,
        planned: Vec<PlannedRequest>,
    ) -> Result<HireOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let fresh: Option<(String,)> = sqlx::query_as(
            "INSERT INTO hr_events (tenant_id, event_id, source) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING RETURNING event_id",
        )
        .bind(tenant_id.as_uuid())
        .bind(event_id)
        .bind(source)
        .fetch_optional(&mut *tx)
        .await?;
        if fresh.is_none() {
            return Ok(HireOutcome::Duplicate);
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
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("UPDATE hr_events SET employee_id = $3 WHERE tenant_id = $1 AND event_id = $2")
            .bind(tenant_id.as_uuid())
            .bind(event_id)
            .bind(employee_id)
            .execute(&mut *tx)
            .await?;

        let trace = TraceParent::new_root();
        let mut queued = Vec::new();
        let mut failed = 0;
        for planned in planned {
            let id = RequestId::new();
            let error = planned.refused.as_ref();
            // Idempotent on (event, integration): two rules naming one integration give
            // one request.
            let key = format!("hr:{event_id}:{}", planned.integration_id);
            let inserted = sqlx::query(
                "INSERT INTO provisioning_requests
                     (id, tenant_id, integration_id, employee_id, service, workspace, target, account,
                      state, idempotency_key, error_code, error_message, error_retryable,
                      result_event_id, trace_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
                 ON CONFLICT (tenant_id, idempotency_key) WHERE idempotency_key IS NOT NULL
                 DO NOTHING",
            )
            .bind(id.as_uuid())
            .bind(tenant_id.as_uuid())
            .bind(planned.integration_id.as_uuid())
            .bind(employee_id)
            .bind(&planned.service)
            .bind(&planned.workspace)
            .bind(&planned.target)
            .bind(&planned.account)
            .bind(if error.is_some() { "failed" } else { "queued" })
            .bind(&key)
            .bind(error.map(|e| e.code.as_str()))
            .bind(error.map(|e| e.message.as_str()))
            .bind(error.map(|e| e.retryable))
            // A request failed at intake still announces its outcome; the relay
            // publishes this event like any other.
            .bind(error.map(|_| EventId::new().as_uuid()))
            .bind(trace.trace_id())
            .execute(&mut *tx)
            .await?;
            if inserted.rows_affected() == 0 {
                continue;
            }
            if error.is_some() {
                failed += 1;
            } else {
                queued.push((id, planned.service.clone()));
            }
        }
        tx.commit().await?;
        Ok(HireOutcome::Recorded {
            employee_id,
            queued,
            trace,
            failed,
        })
    }

    /// Makes a webhook signing secret for the tenant; shown once, stored sealed.
    pub async fn create_hr_secret(
        &self,
        tenant_id: TenantId,
    ) -> Result<(Uuid, String), StoreError> {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        let secret = format!("whsec_{}", URL_SAFE_NO_PAD.encode(bytes));
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
