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

use std::sync::Arc;
use std::time::Duration;

use provisioner_broker::{
    ack, delivery_trace, handed_back_attempt, requeue, run_consumer, set_aside, ConsumerSpec,
    Delivery, Publisher,
};
use provisioner_connectors::Catalog;
use provisioner_core::event::RequestMessage;
use provisioner_core::quarantine::AUTH_FAILURES_BEFORE_ERROR;
use provisioner_core::trace::TraceParent;
use provisioner_store::Store;
use tokio_util::sync::CancellationToken;

pub use attempt::AttemptError;

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
}

impl Worker {
    pub fn new(store: Store, publisher: Arc<Publisher>, catalog: Arc<Catalog>) -> Self {
        Self {
            store,
            publisher,
            catalog,
            auth_failure_threshold: AUTH_FAILURES_BEFORE_ERROR,
            claim_lease: Duration::from_secs(120),
        }
    }

    pub async fn run(self, spec: ConsumerSpec, shutdown: CancellationToken) {
        let topology = self.publisher.topology().clone();
        run_consumer(spec, topology, shutdown, move |delivery| {
            let worker = self.clone();
            async move { worker.handle(delivery).await }
        })
        .await;
        tracing::info!("worker stopped");
    }

    async fn handle(&self, delivery: Delivery) {
        let message: RequestMessage = match serde_json::from_slice(&delivery.data) {
            Ok(message) => message,
            Err(error) => {
                let reason = format!("not a provisioning request message: {error}");
                return set_aside(&self.publisher, &delivery, &reason).await;
            }
        };
        // The consumer loop already runs this in the delivery's span of the request's
        // trace; what the attempt publishes carries the same trace on.
        let trace = delivery_trace(&delivery).unwrap_or_else(TraceParent::new_root);
        let handed_back = handed_back_attempt(&delivery);
        let outcome = self
            .attempt(message, delivery.redelivered, handed_back, &trace)
            .await;
        match outcome {
            Ok(()) => {
                freeze::FreezePoint::AfterCommit.here().await;
                ack(&delivery).await
            }
            Err(AttemptError::Poison(reason)) => {
                set_aside(&self.publisher, &delivery, &reason).await
            }
            Err(AttemptError::Infrastructure(error)) => {
                tracing::warn!(request_id = %message.request_id, error = %error,
                    "attempt interrupted by an outage; trying again after a delay");
                self.try_later(&delivery, &message, &trace, None).await;
            }
            Err(AttemptError::Interrupted { attempt, error }) => {
                tracing::warn!(request_id = %message.request_id, attempt, error = %error,
                    "attempt interrupted by an outage; handing it back");
                self.try_later(&delivery, &message, &trace, Some(attempt))
                    .await;
            }
        }
    }

    /// An outage of PostgreSQL or the broker is not the request's fault: park it for a
    /// second rather than requeue it at once, so the delivery limit is not spent in a
    /// tight loop. A claim this worker held goes with it, so that the copy may take it
    /// over; otherwise the copy would find it held and wait out the lease.
    async fn try_later(
        &self,
        delivery: &Delivery,
        message: &RequestMessage,
        trace: &TraceParent,
        held: Option<i32>,
    ) {
        let pause = Duration::from_secs(1);
        let parked = match held {
            Some(attempt) => {
                self.publisher
                    .hand_back(message, pause, trace, attempt)
                    .await
            }
            None => self.publisher.publish_retry(message, pause, trace).await,
        };
        match parked {
            Ok(()) => ack(delivery).await,
            Err(error) => {
                tracing::warn!(error = %error, "could not park the request; requeueing");
                tokio::time::sleep(Duration::from_secs(1)).await;
                requeue(delivery).await;
            }
        }
    }
}
