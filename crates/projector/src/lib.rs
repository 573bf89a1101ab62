//! The projector: one integration-log entry per result event. The entry's id is the
//! event's id, so a redelivered event changes nothing (DESIGN.md promise 5). Deliveries
//! handled at once share one statement and one commit (the store groups them); each is
//! acked only after the commit that holds its entry, and one PostgreSQL refuses is set
//! aside alone.

use std::sync::Arc;

use provisioner_broker::{ack, run_consumer, set_aside, ConsumerSpec, Delivery, Publisher};
use provisioner_core::event::{AccountResult, CloudEvent};
use provisioner_core::text::parse_message;
use provisioner_store::{through_outages, Store};
use tokio_util::sync::CancellationToken;

#[derive(Clone)]
struct Projector {
    store: Store,
    publisher: Arc<Publisher>,
}

pub async fn run(
    store: Store,
    publisher: Arc<Publisher>,
    spec: ConsumerSpec,
    shutdown: CancellationToken,
) {
    let topology = publisher.topology().clone();
    let projector = Projector { store, publisher };
    run_consumer(spec, topology, shutdown, move |delivery| {
        let projector = projector.clone();
        async move { projector.handle(delivery).await }
    })
    .await;
    tracing::info!("projector stopped");
}

impl Projector {
    async fn handle(&self, delivery: Delivery) {
        let event: CloudEvent<AccountResult> = match parse_message(&delivery.data) {
            Ok(event) => event,
            Err(error) => {
                let reason = format!("not a provisioner result event: {error}");
                set_aside(&self.publisher, &delivery, &reason).await;
                return;
            }
        };
        let recorded = through_outages("log entry", || self.store.record_log_entry(&event)).await;
        match recorded {
            Ok(written) => {
                if written {
                    metrics::counter!("provisioner_log_entries_total").increment(1);
                }
                tracing::debug!(event_id = %event.id, request_id = %event.data.request_id, written, "log entry recorded");
                ack(&delivery).await;
            }
            Err(error) => {
                let reason = format!("the log entry could not be recorded: {error}");
                set_aside(&self.publisher, &delivery, &reason).await;
            }
        }
    }
}
