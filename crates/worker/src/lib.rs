//! The worker: takes a request from the queue, claims it in PostgreSQL, checks the
//! integration, calls the SaaS through the service's connector and records exactly one
//! outcome. It acks only after the outcome (or the parked retry) is committed, so a
//! crash at any point leads to a redelivery that the claim and the lookup-before-create
//! make harmless.

mod attempt;
mod failure;
mod freeze;
mod metrics;
mod pacing;
mod waiting;

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use provisioner_broker::{
    ack, delivery_trace, run_consumer, set_aside, ConsumerSpec, Delivery, Publisher,
};
use provisioner_connectors::Catalog;
use provisioner_core::event::RequestMessage;
use provisioner_core::quarantine::AUTH_FAILURES_BEFORE_ERROR;
use provisioner_core::text::parse_message;
use provisioner_core::trace::TraceParent;
use provisioner_store::Store;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

pub use attempt::{AttemptError, Refusal};
use waiting::WaitingRoom;

#[derive(Clone)]
pub struct Worker {
    pub(crate) store: Store,
    pub(crate) publisher: Arc<Publisher>,
    /// The connectors, and each service's retry policy.
    pub(crate) catalog: Arc<Catalog>,
    /// Authentication failures in a row that put an integration in error.
    pub(crate) auth_failure_threshold: u32,
    /// A claim older than this is presumed abandoned by a worker that died.
    pub(crate) claim_lease: Duration,
    pub(crate) waiting: Arc<WaitingRoom>,
    /// One permit per SaaS call this process may have under way.
    pub(crate) call_permits: Arc<Semaphore>,
}

/// SaaS calls a worker process makes at once unless told otherwise.
pub const DEFAULT_MAX_CALLS_IN_FLIGHT: u32 = 256;

impl Worker {
    pub fn new(store: Store, publisher: Arc<Publisher>, catalog: Arc<Catalog>) -> Self {
        Self {
            store,
            publisher,
            catalog,
            auth_failure_threshold: AUTH_FAILURES_BEFORE_ERROR,
            claim_lease: Duration::from_secs(60),
            waiting: Arc::new(WaitingRoom::default()),
            call_permits: Arc::new(Semaphore::new(DEFAULT_MAX_CALLS_IN_FLIGHT as usize)),
        }
    }

    pub fn with_max_calls_in_flight(mut self, max: u32) -> Self {
        self.call_permits = Arc::new(Semaphore::new(max.max(1) as usize));
        self
    }

    pub fn with_claim_lease(mut self, lease: Duration) -> Self {
        self.claim_lease = lease;
        self
    }

    /// How long an attempt's SaaS calls may take: well inside the lease, so that no
    /// other worker takes a request over while this one may still be creating it.
    pub(crate) fn call_budget(&self) -> Duration {
        self.claim_lease * 3 / 4
    }

    pub async fn run(self, spec: ConsumerSpec, shutdown: CancellationToken) {
        self.waiting.set_prefetch(spec.prefetch);
        let topology = self.publisher.topology().clone();
        run_consumer(spec, topology, shutdown, move |delivery| {
            let worker = self.clone();
            async move { worker.handle(delivery).await }
        })
        .await;
        tracing::info!("worker stopped");
    }

    async fn handle(&self, delivery: Delivery) {
        let message: RequestMessage = match parse_message(&delivery.data) {
            Ok(message) => message,
            Err(error) => {
                let reason = format!("not a provisioning request message: {error}");
                return set_aside(&self.publisher, &delivery, &reason).await;
            }
        };
        // The consumer loop already runs this in the delivery's span of the request's
        // trace; what the attempt publishes carries the same trace on.
        let trace = delivery_trace(&delivery).unwrap_or_else(TraceParent::new_root);
        if came_back_from_a_delay(&delivery) && self.sent_back_until_slot(&message, &trace).await {
            return ack(&delivery).await;
        }
        // An outage of PostgreSQL or the broker is not the request's fault. The worker
        // keeps the message and tries again after a pause: handing it back to the broker
        // would spend one of its deliveries (a quorum queue dead-letters a message whose
        // deliveries run out), and a copy would lose the delivery's right to take over a
        // claim. If the broker is what went away, the consumer ends this task and the
        // broker delivers the message again, marked redelivered.
        let mut held = None;
        let mut pauses = outage_pauses();
        loop {
            let outcome = self.attempt(message, held, &trace).await;
            let error = match outcome {
                Ok(()) => {
                    freeze::FreezePoint::AfterCommit.here().await;
                    return ack(&delivery).await;
                }
                Err(AttemptError::Poison(reason)) => {
                    return set_aside(&self.publisher, &delivery, &reason).await
                }
                Err(AttemptError::Refused(refusal)) => {
                    let reason = format!("{}: {refusal}", refusal.code());
                    return set_aside(&self.publisher, &delivery, &reason).await;
                }
                Err(AttemptError::Infrastructure(error)) => error,
                // The claim is this worker's own: the next try takes it over at once.
                Err(AttemptError::Interrupted { attempt, error }) => {
                    held = Some(attempt);
                    error
                }
            };
            let pause = pauses.next().unwrap_or(Duration::from_secs(5));
            tracing::warn!(request_id = %message.request_id, error = %error,
                retry_in_ms = pause.as_millis() as u64,
                "attempt interrupted by an outage; trying again");
            tokio::time::sleep(pause).await;
        }
    }
}

/// Growing pauses with jitter, so workers that lost their database together do not
/// all come back in the same instant; never ends.
fn outage_pauses() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(5))
        .with_jitter()
        .without_max_times()
        .build()
}

/// The broker marks a message dead-lettered out of a delay queue with `x-death`; only
/// such a message can be a request waiting for a slot it keeps.
fn came_back_from_a_delay(delivery: &Delivery) -> bool {
    let headers = delivery.properties.headers().as_ref();
    headers.is_some_and(|headers| headers.inner().contains_key("x-death"))
}
