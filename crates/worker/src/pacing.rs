//! Calls to a SaaS are held to what its integration allows, across every worker: a rate
//! (call slots reserved in PostgreSQL) and a number of calls in flight (leases on the
//! integration's call slots in PostgreSQL). A short wait is spent here (see
//! [`crate::waiting`]); a longer one in the broker's delay queues, keeping the reserved
//! slot, so no slot is spent twice. Waiting is never an attempt.

use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};
use chrono::{DateTime, Utc};
use provisioner_connectors::{vendor_limits, CallLimits};
use provisioner_core::event::RequestMessage;
use provisioner_core::trace::TraceParent;
use provisioner_store::{CallLease, Claim, Integration, Reservation};

use crate::attempt::AttemptError;
use crate::waiting::{LONG_WAIT, SHORT_WAIT};
use crate::Worker;

/// Longer than a call can take (a token fetch, a lookup and a create, each within the
/// 30 s HTTP timeout), so a live call keeps its slot, and a dead worker's slot is free
/// again after it.
const CALL_LEASE: Duration = Duration::from_secs(100);

/// Slots are spaced a little wider than the rate allows. A call leaves on its slot but
/// reaches the SaaS a few milliseconds early or late, and a limit counted exactly would
/// refuse the odd call that overtakes the one before it, which costs every worker a
/// whole Retry-After; 2 % of the allowance buys 1.2 s of such slack per minute.
const RATE_HEADROOM: f64 = 0.98;

/// How often a 429 may push one call's slot back before the call goes to the broker.
const MAX_RESERVATIONS: usize = 4;

pub(crate) enum Paced {
    /// Call now, holding this lease if the integration limits calls in flight.
    Go(Option<CallLease>),
    /// The request waits in the broker; this attempt is over without a call.
    Parked,
}

enum RateSlot {
    Now,
    Later(Reservation),
    /// No rate to keep, but a 429 holds calls back for this long.
    AfterPause(Duration),
}

/// The integration's own limits, else what its vendor documents.
fn limits(integration: &Integration) -> CallLimits {
    let vendor = vendor_limits(&integration.service);
    let own_concurrency = integration
        .max_concurrent_calls
        .and_then(|max| u32::try_from(max).ok());
    CallLimits {
        requests_per_second: integration
            .requests_per_second
            .or(vendor.requests_per_second),
        max_concurrent_calls: own_concurrency.or(vendor.max_concurrent_calls),
    }
}

impl Worker {
    pub(crate) async fn pace(
        &self,
        claim: &Claim,
        integration: &Integration,
        pause: Duration,
        trace: &TraceParent,
    ) -> Result<Paced, AttemptError> {
        let limits = limits(integration);
        let slot = match limits.requests_per_second {
            Some(per_second) => {
                let paced = per_second * RATE_HEADROOM;
                self.rate_slot(claim, integration, paced).await?
            }
            None => end_of_pause(pause).await,
        };
        match slot {
            RateSlot::Now => {}
            RateSlot::Later(Reservation { slot_at, wait }) => {
                self.park(claim, Some(slot_at), wait, trace).await?;
                return Ok(Paced::Parked);
            }
            RateSlot::AfterPause(wait) => {
                self.park(claim, None, wait, trace).await?;
                return Ok(Paced::Parked);
            }
        }
        let Some(max) = limits.max_concurrent_calls else {
            return Ok(Paced::Go(None));
        };
        match self.call_slot(integration, max).await? {
            Some(lease) => Ok(Paced::Go(Some(lease))),
            None => {
                self.park(claim, None, Duration::ZERO, trace).await?;
                Ok(Paced::Parked)
            }
        }
    }

    /// Sends a request that came back from a delay queue long before its kept slot
    /// straight back, without claiming it: a burst parks thousands of requests, and a
    /// transaction for each of their trips would slow down the calls that are due.
    /// Returns whether it was sent back; on any failure the attempt goes ahead instead.
    pub(crate) async fn sent_back_until_slot(
        &self,
        message: &RequestMessage,
        trace: &TraceParent,
    ) -> bool {
        let wait = match self.store.kept_slot_wait(message.request_id).await {
            Ok(Some(wait)) if wait > LONG_WAIT => wait,
            Ok(_) => return false,
            Err(error) => {
                tracing::debug!(error = %error, "kept slot not read; attempting now");
                return false;
            }
        };
        let delay = self.delay_before(wait);
        match self.publisher.publish_retry(message, delay, trace).await {
            Ok(()) => true,
            Err(error) => {
                tracing::debug!(error = %error, "not sent back; attempting now");
                false
            }
        }
    }

    /// The longest delay that does not pass a slot `wait` away, so the request is back
    /// in time to use it; a shorter wait takes the shortest delay.
    fn delay_before(&self, wait: Duration) -> Duration {
        self.publisher.topology().longest_bucket_within(wait)
    }

    /// Gives the call's slot back as soon as the call is over.
    pub(crate) async fn end_call(&self, lease: Option<CallLease>) {
        let Some(lease) = lease else { return };
        if let Err(error) = self.store.release_call_slot(&lease).await {
            tracing::warn!(error = %error, slot = lease.slot,
                "call slot not released; it frees itself when its lease expires");
        }
    }

    async fn rate_slot(
        &self,
        claim: &Claim,
        integration: &Integration,
        per_second: f64,
    ) -> Result<RateSlot, AttemptError> {
        let integration_id = integration.id;
        let request_id = claim.request.id;
        let mut reservation = self
            .store
            .reserve_call(integration_id, per_second, request_id)
            .await?;
        for _ in 0..MAX_RESERVATIONS {
            if reservation.wait.is_zero() {
                return Ok(RateSlot::Now);
            }
            // A wait that would take the claim past half its lease goes to the broker:
            // the claim is renewed before the call, but another worker could take the
            // request over first, and its slot would be spent for nothing.
            if claim.age() + reservation.wait > self.claim_lease / 2 {
                break;
            }
            let Some(_seat) = self.waiting.seat(reservation.wait) else {
                break;
            };
            tokio::time::sleep(reservation.wait).await;
            // A 429 that came while this call waited holds it back too.
            if !self
                .store
                .paused_past(integration_id, reservation.slot_at)
                .await?
            {
                return Ok(RateSlot::Now);
            }
            reservation = self
                .store
                .reserve_call(integration_id, per_second, request_id)
                .await?;
        }
        Ok(RateSlot::Later(reservation))
    }

    /// A lease on one of the integration's `max` call slots, or `None` when none came
    /// free within the wait allowed here.
    async fn call_slot(
        &self,
        integration: &Integration,
        max: u32,
    ) -> Result<Option<CallLease>, AttemptError> {
        let max = i32::try_from(max).unwrap_or(i32::MAX);
        let started = Instant::now();
        // A freed slot goes to whoever asks next; growing pauses keep the asking cheap.
        let mut pauses = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(10))
            .with_max_delay(Duration::from_millis(250))
            .with_jitter()
            .without_max_times()
            .build();
        loop {
            let lease = self
                .store
                .acquire_call_slot(integration.id, max, CALL_LEASE)
                .await?;
            if lease.is_some() {
                return Ok(lease);
            }
            let pause = pauses.next().unwrap_or(Duration::from_millis(250));
            if started.elapsed() + pause > SHORT_WAIT {
                return Ok(None);
            }
            tokio::time::sleep(pause).await;
        }
    }

    /// Sends the request back to the broker for about `wait`, keeping `slot_at` for it
    /// when it has a rate slot.
    async fn park(
        &self,
        claim: &Claim,
        slot_at: Option<DateTime<Utc>>,
        wait: Duration,
        trace: &TraceParent,
    ) -> Result<(), AttemptError> {
        let request = &claim.request;
        let (tenant_id, request_id) = (request.tenant_id, request.id);
        // Not an attempt: the SaaS was not called, so it must not use one up.
        let released = match slot_at {
            Some(slot_at) => {
                self.store
                    .park_until_slot(tenant_id, request_id, claim.attempt(), slot_at)
                    .await?
            }
            None => {
                self.store
                    .release_claim(
                        tenant_id,
                        request_id,
                        claim.attempt(),
                        wait.saturating_sub(Duration::from_secs(10)),
                    )
                    .await?
            }
        };
        if !released {
            return Ok(());
        }
        let delay = self.delay_before(wait);
        let message = RequestMessage {
            tenant_id,
            request_id,
        };
        self.publisher.publish_retry(&message, delay, trace).await?;
        metrics::counter!("provisioner_paced_waits_total", "service" => request.service.clone())
            .increment(1);
        tracing::info!(request_id = %request.id, wait_ms = wait.as_millis() as u64,
            "paced: waiting in the broker for the integration's next slot");
        Ok(())
    }
}

/// Without a rate there are no slots, but a 429 still holds every worker back.
async fn end_of_pause(pause: Duration) -> RateSlot {
    if pause > SHORT_WAIT {
        return RateSlot::AfterPause(pause);
    }
    tokio::time::sleep(pause).await;
    RateSlot::Now
}
