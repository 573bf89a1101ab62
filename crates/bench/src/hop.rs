//! The broker's own limit on this machine, measured in the same run: the path a job
//! takes through RabbitMQ (api → requests queue → worker → results → projector) without
//! any of our code in it. Two confirmed hops through quorum queues:
//!
//! ```text
//! publisher --confirm, window 256--> A --hop: ack after a confirmed publish--> B --> ack
//! ```
//!
//! Each side has its own connection, as the system's processes do.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use futures_util::stream::{FuturesUnordered, StreamExt};
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Confirmation, Connection};
use provisioner_broker::connect;

/// Unconfirmed publishes the first publisher keeps; deliveries each consumer holds.
const WINDOW: usize = 256;
/// About the size of the system's larger message, the result CloudEvent (the request
/// message is smaller); the same for both hops.
pub const MESSAGE_BYTES: usize = 512;

pub struct HopLimit {
    pub messages: usize,
    pub seconds: f64,
}

impl HopLimit {
    pub fn per_second(&self) -> f64 {
        self.messages as f64 / self.seconds
    }
}

pub async fn measure(
    amqp_url: &str,
    queue_a: &str,
    queue_b: &str,
    messages: usize,
) -> anyhow::Result<HopLimit> {
    let publisher = connect(amqp_url, "bench-hop-publisher").await?;
    let hop_in = connect(amqp_url, "bench-hop-consumer-a").await?;
    let hop_out = connect(amqp_url, "bench-hop-publisher-b").await?;
    let sink = connect(amqp_url, "bench-hop-consumer-b").await?;
    let channel = publisher.create_channel().await?;
    declare(&channel, queue_a).await?;
    declare(&channel, queue_b).await?;

    let hop = tokio::spawn(relay(
        hop_in.create_channel().await?,
        confirming(&hop_out).await?,
        queue_a.to_owned(),
        queue_b.to_owned(),
        messages,
    ));
    let sink_task = tokio::spawn(drain(
        sink.create_channel().await?,
        queue_b.to_owned(),
        messages,
    ));

    let started = Instant::now();
    publish_all(&confirming(&publisher).await?, queue_a, messages).await?;
    // Bounded: the whole bench must end even if the broker stalls.
    let deadline = Duration::from_secs(120);
    tokio::time::timeout(deadline, sink_task)
        .await
        .context("the two-hop run did not finish within 120 s")???;
    let seconds = started.elapsed().as_secs_f64();
    hop.abort();
    for connection in [publisher, hop_in, hop_out, sink] {
        let _ = connection.close(200, "bench done".into()).await;
    }
    Ok(HopLimit { messages, seconds })
}

async fn confirming(connection: &Connection) -> anyhow::Result<Channel> {
    let channel = connection.create_channel().await?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await?;
    Ok(channel)
}

async fn declare(channel: &Channel, queue: &str) -> anyhow::Result<()> {
    let mut arguments = FieldTable::default();
    // The same queue type as the system's queues.
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    let options = QueueDeclareOptions {
        durable: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(queue.into(), options, arguments)
        .await?;
    Ok(())
}

/// Publishes persistent messages through the default exchange and waits for the confirm.
async fn publish(channel: &Channel, queue: &str) -> anyhow::Result<lapin::PublisherConfirm> {
    let body = [b'x'; MESSAGE_BYTES];
    let properties = BasicProperties::default().with_delivery_mode(2);
    Ok(channel
        .basic_publish(
            "".into(),
            queue.into(),
            BasicPublishOptions::default(),
            &body,
            properties,
        )
        .await?)
}

fn confirmed(confirmation: lapin::Result<Confirmation>) -> anyhow::Result<()> {
    match confirmation? {
        Confirmation::Nack(_) => bail!("the broker refused a message"),
        _ => Ok(()),
    }
}

async fn publish_all(channel: &Channel, queue: &str, messages: usize) -> anyhow::Result<()> {
    let mut pending = FuturesUnordered::new();
    for _ in 0..messages {
        if pending.len() >= WINDOW {
            if let Some(confirmation) = pending.next().await {
                confirmed(confirmation)?;
            }
        }
        pending.push(publish(channel, queue).await?);
    }
    while let Some(confirmation) = pending.next().await {
        confirmed(confirmation)?;
    }
    Ok(())
}

/// Consumes A and, for each delivery, publishes to B and acks only once B confirmed:
/// what a worker does, at most `WINDOW` at once.
async fn relay(
    input: Channel,
    output: Channel,
    queue_a: String,
    queue_b: String,
    messages: usize,
) -> anyhow::Result<()> {
    input
        .basic_qos(WINDOW as u16, BasicQosOptions::default())
        .await?;
    let mut consumer = input
        .basic_consume(
            queue_a.as_str().into(),
            "bench-hop".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    let mut in_flight = tokio::task::JoinSet::new();
    for _ in 0..messages {
        let delivery = consumer.next().await.context("queue A closed")??;
        let output = output.clone();
        let queue_b = queue_b.clone();
        in_flight.spawn(async move {
            confirmed(publish(&output, &queue_b).await?.await)?;
            delivery.ack(BasicAckOptions::default()).await?;
            anyhow::Ok(())
        });
        while let Some(done) = in_flight.try_join_next() {
            done??;
        }
    }
    while let Some(done) = in_flight.join_next().await {
        done??;
    }
    Ok(())
}

/// Consumes B and acks each message, until all have arrived.
async fn drain(channel: Channel, queue_b: String, messages: usize) -> anyhow::Result<()> {
    channel
        .basic_qos(WINDOW as u16, BasicQosOptions::default())
        .await?;
    let mut consumer = channel
        .basic_consume(
            queue_b.as_str().into(),
            "bench-sink".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    for _ in 0..messages {
        let delivery = consumer.next().await.context("queue B closed")??;
        delivery.ack(BasicAckOptions::default()).await?;
    }
    Ok(())
}
