//! A consumer loop shared by every component that reads a queue: bounded prefetch,
//! manual acks left to the handler, reconnection after broker outages, and a drain of
//! in-flight work on shutdown.

use std::future::Future;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use futures_util::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicCancelOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions,
};
use lapin::types::FieldTable;
use provisioner_trace::DeliveryFacts;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, Span};

use crate::{connect, delivery_trace, BrokerError, Publisher, Topology};

#[derive(Debug, Clone)]
pub struct ConsumerSpec {
    pub url: String,
    pub name: String,
    pub queue: String,
    pub prefetch: u16,
    /// How long in-flight deliveries may run after shutdown is asked for.
    pub drain_timeout: Duration,
}

/// Consumes `spec.queue` until `shutdown` is cancelled, running `handle` for each
/// delivery concurrently (at most `prefetch` at once, since the broker sends no more
/// unacknowledged messages than that). The handler acks or rejects; a delivery it
/// leaves is redelivered when the channel closes.
pub async fn run_consumer<H, F>(
    spec: ConsumerSpec,
    topology: Topology,
    shutdown: CancellationToken,
    handle: H,
) where
    H: Fn(Delivery) -> F + Clone + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let mut delays = reconnect_delays();
    while !shutdown.is_cancelled() {
        let mut consumed = false;
        let error =
            match consume_until_broken(&spec, &topology, &shutdown, &mut consumed, handle.clone())
                .await
            {
                Ok(()) => return,
                Err(error) => error,
            };
        if consumed {
            // The connection worked for a while: start the back-off from the beginning.
            delays = reconnect_delays();
        }
        let delay = delays.next().unwrap_or(MAX_RECONNECT_DELAY);
        tracing::warn!(queue = %spec.queue, error = %error, retry_in_ms = delay.as_millis() as u64,
            "consumer lost the broker; reconnecting");
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(delay) => {}
        }
    }
}

const MAX_RECONNECT_DELAY: Duration = Duration::from_secs(5);

/// Exponential with jitter, so consumers that lost the broker together do not all come
/// back in the same instant; never gives up.
fn reconnect_delays() -> impl Iterator<Item = Duration> {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(MAX_RECONNECT_DELAY)
        .with_jitter()
        .without_max_times()
        .build()
}

async fn consume_until_broken<H, F>(
    spec: &ConsumerSpec,
    topology: &Topology,
    shutdown: &CancellationToken,
    consumed: &mut bool,
    handle: H,
) -> Result<(), BrokerError>
where
    H: Fn(Delivery) -> F + Clone + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let connection = connect(&spec.url, &spec.name).await?;
    let channel = connection.create_channel().await?;
    topology.declare(&channel).await?;
    // qos must come before consume, or the broker pushes the whole queue at once.
    channel
        .basic_qos(spec.prefetch, BasicQosOptions::default())
        .await?;
    let consumer_tag = format!("{}-{}", spec.name, std::process::id());
    let mut consumer = channel
        .basic_consume(
            spec.queue.as_str().into(),
            consumer_tag.as_str().into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await?;
    tracing::info!(queue = %spec.queue, prefetch = spec.prefetch, "consuming");
    *consumed = true;

    let mut in_flight = JoinSet::new();
    let outcome = loop {
        tokio::select! {
            () = shutdown.cancelled() => break Ok(()),
            Some(_) = in_flight.join_next(), if !in_flight.is_empty() => {}
            next = consumer.next() => match next {
                Some(Ok(delivery)) => {
                    let span = delivery_span(&spec.queue, &delivery);
                    in_flight.spawn(handle.clone()(delivery).instrument(span));
                }
                Some(Err(error)) => break Err(BrokerError::Unavailable(error)),
                None => break Err(BrokerError::Refused),
            },
        }
    };

    if outcome.is_ok() {
        // Stop new deliveries, then let the ones in hand finish so their acks go out.
        let _ = channel
            .basic_cancel(consumer_tag.as_str().into(), BasicCancelOptions::default())
            .await;
        let drained = tokio::time::timeout(spec.drain_timeout, async {
            while in_flight.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!(queue = %spec.queue, "in-flight work outlived the drain timeout; it will be redelivered");
        }
        let _ = connection.close(200, "shutting down".into()).await;
    } else {
        // Their acks cannot reach the broker any more; the messages come back redelivered.
        in_flight.abort_all();
    }
    outcome
}

/// The consumer span a delivery is handled in: the trace its `traceparent` header names,
/// continued from the publish that sent it.
fn delivery_span(queue: &str, delivery: &Delivery) -> Span {
    let message_id = delivery
        .properties
        .message_id()
        .as_ref()
        .map(|id| id.to_string());
    let span = provisioner_trace::consumer(DeliveryFacts {
        queue,
        exchange: delivery.exchange.as_str(),
        routing_key: delivery.routing_key.as_str(),
        message_id: message_id.as_deref(),
        delivery_tag: delivery.delivery_tag,
    });
    let incoming = delivery_trace(delivery);
    if let Some(trace) = &incoming {
        provisioner_trace::follow(&span, trace);
    }
    if let Some(trace) = provisioner_trace::handed_on(&span).or(incoming) {
        span.record("trace_id", trace.trace_id());
    }
    span
}

/// Acks after the work is committed; a failed ack only means a harmless redelivery.
pub async fn ack(delivery: &Delivery) {
    if let Err(error) = delivery.ack(BasicAckOptions::default()).await {
        tracing::warn!(error = %error, "ack failed; the message will be redelivered");
    }
}

/// Gives the message back to the queue for another try.
pub async fn requeue(delivery: &Delivery) {
    let options = BasicNackOptions {
        requeue: true,
        ..BasicNackOptions::default()
    };
    if let Err(error) = delivery.nack(options).await {
        tracing::warn!(error = %error, "nack failed; the message will be redelivered");
    }
}

/// Counts one message set aside in the dead-letter queue, by the exchange it came from.
/// What the broker dead-letters by itself (the delivery limit) is not seen here; the
/// dead-letter queue's depth gauge shows it.
pub fn count_dead_letter(exchange: &str) {
    metrics::counter!("provisioner_dead_letters_total", "exchange" => exchange.to_owned())
        .increment(1);
}

/// Moves a message that can never be handled to the dead-letter queue with its reason,
/// then acks it so the consumer carries on. If even that publish fails, the message is
/// rejected, which the queue's own dead-letter exchange catches (without the reason).
pub async fn set_aside(publisher: &Publisher, delivery: &Delivery, reason: &str) {
    tracing::warn!(reason, "setting a message aside in the dead-letter queue");
    provisioner_trace::record_error(&Span::current(), "dead_lettered");
    count_dead_letter(delivery.exchange.as_str());
    match publisher
        .publish_dead_letter(&delivery.data, delivery.routing_key.as_str(), reason)
        .await
    {
        Ok(()) => ack(delivery).await,
        Err(error) => {
            tracing::warn!(error = %error, "dead-letter publish failed; rejecting instead");
            let options = BasicNackOptions {
                requeue: false,
                ..BasicNackOptions::default()
            };
            let _ = delivery.nack(options).await;
        }
    }
}
