//! Call slots per integration, shared by every worker through PostgreSQL.

use std::time::Duration;

use chrono::{DateTime, Utc};
use provisioner_core::{Cause, IntegrationId, RequestId, RequestState, TenantId};

use crate::integrations::{RawIntegrationRow, COLUMNS};
use crate::transitions::from_states;
use crate::{Integration, Store, StoreError};

/// A carried slot older than this is not used: the request came back late, and calling
/// now would add a burst on top of the calls paced for now.
const CARRIED_SLOT_GRACE_SECS: f64 = 1.0;

/// The rate slot a call was given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reservation {
    pub slot_at: DateTime<Utc>,
    /// How long until the slot; zero when it is now or past.
    pub wait: Duration,
}

impl Store {
    /// The call slot of request `request_id` to an integration allowing `per_second`
    /// calls: the one it was given before it waited in the broker, if that is still
    /// good, or else the integration's next one. One atomic statement, so two workers
    /// never get the same slot.
    pub async fn reserve_call(
        &self,
        integration_id: IntegrationId,
        per_second: f64,
        request_id: RequestId,
    ) -> Result<Reservation, StoreError> {
        let spacing = 1.0 / per_second.max(1e-6);
        let (slot_at, wait): (DateTime<Utc>, f64) = sqlx::query_as(
            "WITH carried AS (
                 DELETE FROM paced_requests WHERE request_id = $3 RETURNING slot_at
             ), usable AS (
                 -- A slot from before a 429's pause is not good any more.
                 SELECT c.slot_at FROM carried c
                 WHERE c.slot_at > now() - make_interval(secs => $4)
                   AND NOT EXISTS (SELECT 1 FROM integration_pacing p
                                   WHERE p.integration_id = $1 AND p.paused_until > c.slot_at)
             ), reserved AS (
                 INSERT INTO integration_pacing AS p (integration_id, next_at)
                 SELECT $1, now() + make_interval(secs => $2)
                 WHERE NOT EXISTS (SELECT 1 FROM usable)
                 ON CONFLICT (integration_id) DO UPDATE
                     SET next_at = greatest(p.next_at, now()) + make_interval(secs => $2)
                 RETURNING p.next_at - make_interval(secs => $2) AS slot_at
             )
             SELECT slot_at, greatest(extract(epoch FROM (slot_at - now())), 0)::float8
             FROM (SELECT slot_at FROM usable UNION ALL SELECT slot_at FROM reserved) s",
        )
        .bind(integration_id.as_uuid())
        .bind(spacing)
        .bind(request_id.as_uuid())
        .bind(CARRIED_SLOT_GRACE_SECS)
        .fetch_one(&self.pool)
        .await?;
        Ok(Reservation {
            slot_at,
            wait: Duration::from_secs_f64(wait.max(0.0)),
        })
    }

    /// How long until the slot request `request_id` keeps while it waits in the broker,
    /// if it keeps one. Reads only, so a request passing through on its way to the slot
    /// costs no transaction.
    pub async fn kept_slot_wait(
        &self,
        request_id: RequestId,
    ) -> Result<Option<Duration>, StoreError> {
        let wait: Option<(f64,)> = sqlx::query_as(
            "SELECT greatest(extract(epoch FROM (slot_at - now())), 0)::float8
             FROM paced_requests WHERE request_id = $1",
        )
        .bind(request_id.as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        Ok(wait.map(|(secs,)| Duration::from_secs_f64(secs)))
    }

    /// Whether a 429 paused the integration past `slot_at` (while its call waited).
    pub async fn paused_past(
        &self,
        integration_id: IntegrationId,
        slot_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let (paused,): (bool,) = sqlx::query_as(
            "SELECT EXISTS (SELECT 1 FROM integration_pacing
                            WHERE integration_id = $1 AND paused_until > $2)",
        )
        .bind(integration_id.as_uuid())
        .bind(slot_at)
        .fetch_one(&self.pool)
        .await?;
        Ok(paused)
    }

    /// The integration as an attempt needs it, and how long a 429 still holds its calls
    /// back (zero when none does): one read on every attempt instead of two.
    pub async fn integration_for_call(
        &self,
        tenant_id: TenantId,
        id: IntegrationId,
    ) -> Result<Option<(Integration, Duration)>, StoreError> {
        #[derive(sqlx::FromRow)]
        struct ForCall {
            #[sqlx(flatten)]
            row: RawIntegrationRow,
            pause_left_secs: f64,
        }
        let found: Option<ForCall> = sqlx::query_as(&format!(
            "SELECT {COLUMNS},
                    coalesce((SELECT extract(epoch FROM (p.paused_until - now()))
                              FROM integration_pacing p
                              WHERE p.integration_id = integrations.id
                                AND p.paused_until > now()), 0)::float8 AS pause_left_secs
             FROM integrations WHERE tenant_id = $1 AND id = $2"
        ))
        .bind(tenant_id.as_uuid())
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await?;
        found
            .map(|found| {
                let pause = Duration::from_secs_f64(found.pause_left_secs.max(0.0));
                Ok((self.open_row(found.row)?, pause))
            })
            .transpose()
    }

    /// Holds every worker's calls to the integration back for `pause` (after a 429),
    /// those whose slot is already reserved included.
    pub async fn pause_calls(
        &self,
        integration_id: IntegrationId,
        pause: Duration,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO integration_pacing AS p (integration_id, next_at, paused_until)
             VALUES ($1, now() + make_interval(secs => $2), now() + make_interval(secs => $2))
             ON CONFLICT (integration_id) DO UPDATE
                 SET next_at = greatest(p.next_at, excluded.next_at),
                     paused_until = greatest(p.paused_until, excluded.paused_until)",
        )
        .bind(integration_id.as_uuid())
        .bind(pause.as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Gives the claim of attempt `attempt` back without counting it (the SaaS was not
    /// called), keeping the request's slot for when it comes back from the broker.
    /// Returns whether the claim was still this attempt's.
    pub async fn park_until_slot(
        &self,
        tenant_id: TenantId,
        id: RequestId,
        attempt: i32,
        slot_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let parked: Option<(uuid::Uuid,)> = sqlx::query_as(PARK_UNTIL_SLOT)
            .bind(tenant_id.as_uuid())
            .bind(id.as_uuid())
            .bind(attempt)
            .bind(slot_at)
            .bind(RequestState::Retrying.as_str())
            .bind(from_states(RequestState::Retrying, Cause::Release)?)
            .fetch_optional(&self.pool)
            .await?;
        Ok(parked.is_some())
    }
}

/// Claimable a little before its slot, which it then waits for in the worker; the relay
/// re-sends it only once this is long past.
const PARK_UNTIL_SLOT: &str = "WITH released AS (
         UPDATE provisioning_requests
         SET state = $5, attempts = attempts - 1, updated_at = now(),
             next_attempt_at = $4 - interval '10 seconds'
         WHERE tenant_id = $1 AND id = $2 AND attempts = $3 AND state = ANY($6)
         RETURNING id
     )
     INSERT INTO paced_requests (request_id, slot_at)
     SELECT id, $4 FROM released
     ON CONFLICT (request_id) DO UPDATE SET slot_at = excluded.slot_at
     RETURNING request_id";

#[cfg(test)]
pub(crate) const STATEMENTS: &[(&str, &str)] = &[("park until a slot", PARK_UNTIL_SLOT)];
