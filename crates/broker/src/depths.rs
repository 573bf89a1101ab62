//! How many messages wait in each queue, as gauges on `/metrics`: a growing requests
//! queue means workers are short, retry queues show a struggling SaaS, and anything in
//! the dead-letter queue waits for an operator. The broker is asked with a passive
//! declare, which reads a queue without changing it.

use std::time::Duration;

use lapin::options::QueueDeclareOptions;
use lapin::types::FieldTable;
use lapin::{Channel, Connection};
use tokio_util::sync::CancellationToken;

use crate::{connect, BrokerError, Topology};

/// Measures every queue of `topology` each `every` until `shutdown`. A broker that is
/// away only leaves the gauges at their last value (and one warning); it never stops the
/// process.
pub async fn watch_queue_depths(
    url: String,
    topology: Topology,
    every: Duration,
    shutdown: CancellationToken,
) {
    let mut open: Option<(Connection, Channel)> = None;
    let mut failing = false;
    loop {
        // First after one interval: the consumers of this process declare the queues
        // when they start, and a passive declare of a queue not there yet would fail.
        tokio::select! {
            () = shutdown.cancelled() => break,
            () = tokio::time::sleep(every) => {}
        }
        // A broker under flow control may not answer at all; the next round tries again.
        let limit = every.max(Duration::from_secs(5));
        let measured = tokio::time::timeout(limit, measure(&url, &topology, &mut open))
            .await
            .unwrap_or(Err(BrokerError::TimedOut(limit)));
        match measured {
            Ok(()) => failing = false,
            Err(error) => {
                if !failing {
                    tracing::warn!(error = %error, "queue depths could not be read; trying again");
                }
                failing = true;
                if let Some((connection, _)) = open.take() {
                    let _ = connection.close(200, "reconnecting".into()).await;
                }
            }
        }
    }
    if let Some((connection, _)) = open.take() {
        let _ = connection.close(200, "shutting down".into()).await;
    }
}

async fn measure(
    url: &str,
    topology: &Topology,
    open: &mut Option<(Connection, Channel)>,
) -> Result<(), BrokerError> {
    let usable = open.as_ref().is_some_and(|(connection, channel)| {
        connection.status().connected() && channel.status().connected()
    });
    if !usable {
        let connection = connect(url, "provisioner-queue-depths").await?;
        let channel = connection.create_channel().await?;
        *open = Some((connection, channel));
    }
    let Some((_, channel)) = open.as_ref() else {
        return Ok(());
    };
    let passive = QueueDeclareOptions {
        passive: true,
        ..QueueDeclareOptions::default()
    };
    for queue in topology.queues() {
        let declared = channel
            .queue_declare(queue.as_str().into(), passive, FieldTable::default())
            .await?;
        metrics::gauge!("provisioner_queue_messages", "queue" => queue.clone())
            .set(f64::from(declared.message_count()));
        metrics::gauge!("provisioner_queue_consumers", "queue" => queue)
            .set(f64::from(declared.consumer_count()));
    }
    Ok(())
}
