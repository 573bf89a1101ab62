//! The worker: takes a request from the queue, claims it in PostgreSQL, checks the
//! integration, calls the SaaS through the service's connector and records exactly one
//! outcome. It acks only after the outcome (or the parked retry) is committed, so a
//! crash at any point leads to a redelivery that the claim and the lookup-before-create
//! make harmless.

mod attempt;
mod metrics;
mod pacing;
mod waiting;

use std::sync::Arc;
use std::time::Duration;

use provisioner_broker::{
    ack, delivery_trace, requeue, run_consumer, set_aside, ConsumerSpec, Delivery, Publisher,
};
use provisioner_connectors::Catalog;
use provisioner_core::event::RequestMessage;
use provisioner_core::retry::RetryPolicy;
use provisioner_core::trace::TraceParent;
use provisioner_store::Store;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

pub use attempt::AttemptError;
use waiting::WaitingRoom;

#[derive(Clone)]
pub struct Worker {
    pub(crate) store: Store,
    pub(crate) publisher: Arc<Publisher>,
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) retry_policy: RetryPolicy,
    /// A claim older than this is presumed abandoned by a worker that died.
    pub(crate) claim_lease: Duration,
    pub(crate) waiting: Arc<WaitingRoom>,
}

impl Worker {
    pub fn new(
        store: Store,
        publisher: Arc<Publisher>,
        catalog: Arc<Catalog>,
        retry_policy: RetryPolicy,
    ) -> Self {
        Self {
            store,
            publisher,
            catalog,
            retry_policy,
            claim_lease: Duration::from_secs(120),
            waiting: Arc::new(WaitingRoom::default()),
        }
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
        let message: RequestMessage = match serde_json::from_slice(&delivery.data) {
            Ok(message) => message,
            Err(error) => {
                let reason = format!("not a provisioning request message: {error}");
                return set_aside(&self.publisher, &delivery, &reason).await;
            }
        };
        // The trace the message carries, so the attempt's logs join the request's trace.
        let trace = delivery_trace(&delivery).unwrap_or_else(TraceParent::new_root);
        if came_back_from_a_delay(&delivery) && self.sent_back_until_slot(&message, &trace).await {
            return ack(&delivery).await;
        }
        let span = tracing::info_span!(
            "provisioning.process",
            otel.kind = "consumer",
            messaging.system = "rabbitmq",
            messaging.operation = "process",
            trace_id = %trace.trace_id(),
            request_id = %message.request_id,
        );
        let outcome = self
            .attempt(message, delivery.redelivered, &trace)
            .instrument(span)
            .await;
        match outcome {
            Ok(()) => ack(&delivery).await,
            Err(AttemptError::Poison(reason)) => {
                set_aside(&self.publisher, &delivery, &reason).await
            }
            Err(AttemptError::Infrastructure(error)) => {
                tracing::warn!(request_id = %message.request_id, error = %error,
                    "attempt interrupted by an outage; trying again after a delay");
                self.try_later(&delivery, &message, &trace).await;
            }
        }
    }

    /// An outage of PostgreSQL or the broker is not the request's fault: park it in the
    /// shortest delay queue rather than requeue it at once, so the delivery limit is not
    /// spent in a tight loop.
    async fn try_later(&self, delivery: &Delivery, message: &RequestMessage, trace: &TraceParent) {
        match self.publisher.publish_retry(message, 0, trace).await {
            Ok(()) => ack(delivery).await,
            Err(error) => {
                tracing::warn!(error = %error, "could not park the request; requeueing");
                tokio::time::sleep(Duration::from_secs(1)).await;
                requeue(delivery).await;
            }
        }
    }
}

/// The broker marks a message dead-lettered out of a delay queue with `x-death`; only
/// such a message can be a request waiting for a slot it keeps.
fn came_back_from_a_delay(delivery: &Delivery) -> bool {
    let headers = delivery.properties.headers().as_ref();
    headers.is_some_and(|headers| headers.inner().contains_key("x-death"))
}
