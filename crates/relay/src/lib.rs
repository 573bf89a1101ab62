//! The relay: the requests table is the outbox. The api and the worker publish right
//! after they commit, so the relay only sweeps rows whose publish was never confirmed —
//! the broker was down, or the process died between commit and confirm. It is
//! restart-safe because the rows are the state.

use std::sync::Arc;
use std::time::Duration;

use provisioner_broker::Publisher;
use provisioner_store::{StallLimits, Store, StoreError};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// How often to sweep.
    pub interval: Duration,
    /// Rows younger than this are left to the component that committed them, so the
    /// fast path and the relay rarely publish the same row twice.
    pub grace: Duration,
    pub batch_size: i64,
    /// When an unfinished request is presumed to have lost its message.
    pub stall: StallLimits,
}

impl Default for RelayConfig {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(1),
            grace: Duration::from_secs(5),
            batch_size: 500,
            stall: StallLimits {
                retry_overdue: Duration::from_secs(30),
                // Three times the workers' default claim lease of 60 s.
                claim_abandoned: Duration::from_secs(180),
                queued_unclaimed: Duration::from_secs(600),
            },
        }
    }
}

impl RelayConfig {
    /// A claim counts as abandoned at three times the workers' claim lease: by then
    /// a live worker has renewed or ended it, and a copy of a dead worker's message
    /// would have taken it over had the broker not lost that copy too.
    pub fn with_claim_lease(mut self, lease: Duration) -> Self {
        self.stall.claim_abandoned = lease * 3;
        self
    }
}

pub async fn run(
    store: Store,
    publisher: Arc<Publisher>,
    config: RelayConfig,
    shutdown: CancellationToken,
) {
    tracing::info!(
        interval_ms = config.interval.as_millis() as u64,
        "relay started"
    );
    loop {
        match sweep(&store, &publisher, &config).await {
            Ok(0) => {}
            Ok(published) => tracing::info!(published, "relay published unconfirmed messages"),
            Err(error) => tracing::warn!(error = %error, "relay sweep failed; trying again"),
        }
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(config.interval) => {}
        }
    }
    tracing::info!("relay stopped");
}

/// One pass over both outboxes; returns how many messages were confirmed.
pub async fn sweep(
    store: &Store,
    publisher: &Publisher,
    config: &RelayConfig,
) -> Result<usize, StoreError> {
    let stalled = store.resend_stalled(&config.stall).await?;
    if stalled > 0 {
        tracing::warn!(
            stalled,
            "requests without news past their time; sending their messages again"
        );
        metrics::counter!("provisioner_stalled_requests_resent_total").increment(stalled);
    }
    let requests = store
        .lock_unpublished_requests(config.grace, config.batch_size)
        .await?;
    let mut confirmed_requests = Vec::new();
    for pending in &requests.items {
        match publisher
            .publish_request(&pending.message, &pending.service, &trace_of(pending))
            .await
        {
            Ok(()) => confirmed_requests.push(pending.message.request_id),
            Err(error) => {
                tracing::warn!(request_id = %pending.message.request_id, error = %error, "relay could not publish request");
                break;
            }
        }
    }
    let published_requests = confirmed_requests.len();
    requests.commit(&confirmed_requests).await?;

    let results = store
        .lock_unpublished_results(config.grace, config.batch_size)
        .await?;
    let mut confirmed_results = Vec::new();
    for event in &results.items {
        match publisher.publish_result(event).await {
            Ok(()) => confirmed_results.push(event.id),
            Err(error) => {
                tracing::warn!(event_id = %event.id, error = %error, "relay could not publish result event");
                break;
            }
        }
    }
    let published_results = confirmed_results.len();
    results.commit(&confirmed_results).await?;
    Ok(published_requests + published_results)
}

/// The request's own trace, or a new one for rows written before traces were kept.
fn trace_of(pending: &provisioner_store::PendingRequest) -> provisioner_core::trace::TraceParent {
    pending
        .trace_id
        .as_deref()
        .and_then(provisioner_core::trace::TraceParent::continuing)
        .unwrap_or_else(provisioner_core::trace::TraceParent::new_root)
}
