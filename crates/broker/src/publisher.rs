//! Publishing that counts a message as sent only once the broker confirmed it.

use std::time::Duration;

use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{BasicProperties, Channel, Confirmation, Connection};
use provisioner_core::event::{AccountResult, CloudEvent, RequestMessage};
use provisioner_core::trace::TraceParent;
use serde::Serialize;
use tokio::sync::Mutex;
use tracing::Instrument;

use crate::{connect, BrokerError, Topology, REASON_HEADER};

const CONFIRM_TIMEOUT: Duration = Duration::from_secs(10);

/// A publisher on its own connection, opened on first use and again after a failure.
/// Many publishes share one confirm-mode channel concurrently; each awaits its own
/// confirm.
pub struct Publisher {
    url: String,
    name: String,
    topology: Topology,
    open: Mutex<Option<(Connection, Channel)>>,
}

impl Publisher {
    pub fn new(url: impl Into<String>, name: impl Into<String>, topology: Topology) -> Self {
        Self {
            url: url.into(),
            name: name.into(),
            topology,
            open: Mutex::new(None),
        }
    }

    pub fn topology(&self) -> &Topology {
        &self.topology
    }

    async fn channel(&self) -> Result<Channel, BrokerError> {
        let mut open = self.open.lock().await;
        if let Some((connection, channel)) = open.as_ref() {
            if connection.status().connected() && channel.status().connected() {
                return Ok(channel.clone());
            }
        }
        let connection = connect(&self.url, &self.name).await?;
        let channel = connection.create_channel().await?;
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await?;
        self.topology.declare(&channel).await?;
        *open = Some((connection, channel.clone()));
        Ok(channel)
    }

    async fn forget(&self) {
        if let Some((connection, _)) = self.open.lock().await.take() {
            // Best effort: the connection is already broken or about to be replaced.
            let _ = connection.close(200, "reconnecting".into()).await;
        }
    }

    /// Publishes a persistent message and waits for the broker's confirm. `mandatory`
    /// turns an unroutable message into an error instead of a silent drop.
    pub async fn publish(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), BrokerError> {
        self.publish_in_trace(exchange, routing_key, body, properties, None)
            .await
    }

    /// Publishes in a producer span of `trace` (or of the span it runs in), and puts in
    /// the `traceparent` header the context its consumer continues.
    async fn publish_in_trace(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
        trace: Option<&TraceParent>,
    ) -> Result<(), BrokerError> {
        let message_id = properties.message_id().as_ref().map(|id| id.to_string());
        let span = provisioner_trace::producer(exchange, routing_key, message_id.as_deref());
        let properties = match trace {
            Some(trace) => {
                provisioner_trace::follow(&span, trace);
                // Exported, the consumer's parent is this very publish; otherwise a new
                // span id in the same trace.
                let handed_on =
                    provisioner_trace::handed_on(&span).unwrap_or_else(|| trace.child());
                with_traceparent(properties, &handed_on.to_string())
            }
            None => properties,
        };
        let result = self
            .publish_once(exchange, routing_key, body, properties)
            .instrument(span.clone())
            .await;
        if let Err(error) = &result {
            provisioner_trace::record_error(&span, error.kind());
        }
        if matches!(
            result,
            Err(BrokerError::Unavailable(_) | BrokerError::TimedOut(_))
        ) {
            self.forget().await;
        }
        result
    }

    async fn publish_once(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &[u8],
        properties: BasicProperties,
    ) -> Result<(), BrokerError> {
        let channel = self.channel().await?;
        let options = BasicPublishOptions {
            mandatory: true,
            ..BasicPublishOptions::default()
        };
        let confirm = async {
            channel
                .basic_publish(
                    exchange.into(),
                    routing_key.into(),
                    options,
                    body,
                    properties.with_delivery_mode(2),
                )
                .await?
                .await
        };
        // A confirm that never comes must not hold a caller forever: the row is already
        // committed, and the relay publishes what was not confirmed.
        let confirmation = tokio::time::timeout(CONFIRM_TIMEOUT, confirm)
            .await
            .map_err(|_| BrokerError::TimedOut(CONFIRM_TIMEOUT))??;
        match confirmation {
            Confirmation::Ack(None) => Ok(()),
            Confirmation::Ack(Some(_)) => Err(BrokerError::Unroutable {
                routing_key: routing_key.to_owned(),
            }),
            Confirmation::Nack(_) => Err(BrokerError::Refused),
            // confirm_select is always on for this channel
            Confirmation::NotRequested => Ok(()),
        }
    }

    async fn publish_json(
        &self,
        exchange: &str,
        routing_key: &str,
        body: &impl Serialize,
        properties: BasicProperties,
        trace: Option<&TraceParent>,
    ) -> Result<(), BrokerError> {
        let bytes = serde_json::to_vec(body).map_err(BrokerError::Encode)?;
        self.publish_in_trace(exchange, routing_key, &bytes, properties, trace)
            .await
    }

    pub async fn publish_request(
        &self,
        message: &RequestMessage,
        service: &str,
        trace: &TraceParent,
    ) -> Result<(), BrokerError> {
        let properties = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_message_id(message.request_id.to_string().into());
        self.publish_json(
            &self.topology.requests_exchange(),
            &Topology::request_routing_key(service),
            message,
            properties,
            Some(trace),
        )
        .await
    }

    /// Parks a request for `delay` (at most the longest delay bucket): it comes back to
    /// the requests queue once its own expiration has passed, never earlier.
    pub async fn publish_retry(
        &self,
        message: &RequestMessage,
        delay: Duration,
        trace: &TraceParent,
    ) -> Result<(), BrokerError> {
        self.park(message, delay, trace, BasicProperties::default())
            .await
    }

    async fn park(
        &self,
        message: &RequestMessage,
        delay: Duration,
        trace: &TraceParent,
        properties: BasicProperties,
    ) -> Result<(), BrokerError> {
        let parked = self.topology.delay_queue(delay);
        // Per-message TTL is a string of milliseconds:
        // https://www.rabbitmq.com/docs/ttl#per-message-ttl-in-publishers
        let expiration = parked.delay.as_millis().to_string();
        let properties = properties
            .with_content_type("application/json".into())
            .with_message_id(message.request_id.to_string().into())
            .with_expiration(expiration.into());
        // The default exchange routes straight to the queue named by the routing key.
        self.publish_json("", &parked.queue, message, properties, Some(trace))
            .await
    }

    pub async fn publish_result(
        &self,
        event: &CloudEvent<AccountResult>,
    ) -> Result<(), BrokerError> {
        let routing_key = event
            .event_type
            .strip_prefix("com.provisioner.")
            .unwrap_or(&event.event_type)
            .to_owned();
        let properties = BasicProperties::default()
            .with_content_type("application/cloudevents+json".into())
            .with_message_id(event.id.to_string().into())
            .with_type(ShortString::from(event.event_type.clone()));
        let trace = event.traceparent.as_deref().and_then(TraceParent::parse);
        self.publish_json(
            &self.topology.results_exchange(),
            &routing_key,
            event,
            properties,
            trace.as_ref(),
        )
        .await
    }

    /// Sets a message aside in the dead-letter queue with the reason it could not be
    /// handled, so an operator can read why.
    pub async fn publish_dead_letter(
        &self,
        body: &[u8],
        original_routing_key: &str,
        reason: &str,
    ) -> Result<(), BrokerError> {
        let mut headers = FieldTable::default();
        headers.insert(REASON_HEADER.into(), AMQPValue::LongString(reason.into()));
        let properties = BasicProperties::default().with_headers(headers);
        self.publish(
            &self.topology.dead_letter_exchange(),
            original_routing_key,
            body,
            properties,
        )
        .await
    }

    /// Opens the connection if needed; tells whether the broker answers.
    pub async fn ping(&self) -> Result<(), BrokerError> {
        let result = self.channel().await.map(|_| ());
        if result.is_err() {
            self.forget().await;
        }
        result
    }

    pub async fn close(&self) {
        self.forget().await;
    }
}

/// The header that carries W3C trace context across the broker.
pub const TRACEPARENT_HEADER: &str = "traceparent";

fn with_traceparent(properties: BasicProperties, traceparent: &str) -> BasicProperties {
    let mut headers = properties.headers().clone().unwrap_or_default();
    headers.insert(
        TRACEPARENT_HEADER.into(),
        AMQPValue::LongString(traceparent.into()),
    );
    properties.with_headers(headers)
}

/// The trace a delivery carries in its `traceparent` header, if any.
pub fn delivery_trace(delivery: &lapin::message::Delivery) -> Option<TraceParent> {
    let headers = delivery.properties.headers().as_ref()?;
    match headers.inner().get(TRACEPARENT_HEADER)? {
        AMQPValue::LongString(value) => TraceParent::parse(&value.to_string()),
        _ => None,
    }
}
