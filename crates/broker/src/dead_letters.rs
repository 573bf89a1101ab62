//! Reading the dead-letter queue without consuming it: operators see what was set
//! aside and why, and the messages stay where they are.

use lapin::options::{BasicGetOptions, BasicNackOptions};
use lapin::types::AMQPValue;

use crate::{connect, BrokerError, Topology, REASON_HEADER};

#[derive(Debug, Clone)]
pub struct DeadLetter {
    pub routing_key: String,
    /// Why it was set aside: our own reason header, else the broker's `x-death` reason.
    pub reason: String,
    pub body: Vec<u8>,
}

/// Up to `limit` messages from the dead-letter queue. Every message read is returned
/// to the queue (nacked with requeue) before the connection closes.
pub async fn peek_dead_letters(
    url: &str,
    topology: &Topology,
    limit: usize,
) -> Result<Vec<DeadLetter>, BrokerError> {
    let connection = connect(url, "provisioner-dead-letters").await?;
    let channel = connection.create_channel().await?;
    topology.declare(&channel).await?;
    let queue = topology.dead_letter_queue();
    let mut letters = Vec::new();
    let mut held = Vec::new();
    while letters.len() < limit {
        let Some(message) = channel
            .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: false })
            .await?
        else {
            break;
        };
        let delivery = message.delivery;
        letters.push(DeadLetter {
            routing_key: delivery.routing_key.to_string(),
            reason: reason_of(&delivery.properties),
            body: delivery.data.clone(),
        });
        held.push(delivery);
    }
    // Held unacknowledged until now, so the same message is not read twice.
    for delivery in held {
        let options = BasicNackOptions {
            requeue: true,
            ..BasicNackOptions::default()
        };
        delivery.nack(options).await?;
    }
    let _ = connection.close(200, "done".into()).await;
    Ok(letters)
}

fn reason_of(properties: &lapin::BasicProperties) -> String {
    let Some(headers) = properties.headers().as_ref() else {
        return "unknown".into();
    };
    if let Some(AMQPValue::LongString(reason)) = headers.inner().get(REASON_HEADER) {
        return reason.to_string();
    }
    // Rejected or over the delivery limit: the broker records why in x-death.
    if let Some(AMQPValue::FieldArray(deaths)) = headers.inner().get("x-death") {
        if let Some(AMQPValue::FieldTable(first)) = deaths.as_slice().first() {
            if let Some(AMQPValue::LongString(reason)) = first.inner().get("reason") {
                return format!("dead-lettered by the broker: {reason}");
            }
        }
    }
    "unknown".into()
}
