//! Every exchange and queue the system uses, declared in one function.
//!
//! ```text
//! provisioning (topic) --request.#--> provisioning.requests (quorum) --worker
//!      ^                                   | rejected / delivery limit
//!      | TTL expiry                        v
//! provisioning.retry.<delay> (quorum)   provisioning.dlx (topic) --> provisioning.dead (quorum)
//! provisioning.results (topic) --#--> provisioning.log (quorum) --projector
//! hr.events (topic) --#--> provisioning.hr (quorum) --hr intake
//! ```

use std::time::Duration;

use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Channel, ExchangeKind};

use crate::BrokerError;

/// Header that carries, on a dead-lettered message, why it was set aside.
pub const REASON_HEADER: &str = "x-provisioner-reason";

/// Names and delays of the topology. A prefix keeps parallel test runs (and several
/// installations sharing one broker) apart.
#[derive(Debug, Clone)]
pub struct Topology {
    prefix: String,
    retry_delays: Vec<Duration>,
    /// Queues unused this long are deleted by the broker; only tests set it.
    queue_expiry: Option<Duration>,
}

impl Topology {
    pub fn new(prefix: impl Into<String>, retry_delays: Vec<Duration>) -> Self {
        Self {
            prefix: prefix.into(),
            retry_delays,
            queue_expiry: None,
        }
    }

    pub fn with_queue_expiry(mut self, expiry: Duration) -> Self {
        self.queue_expiry = Some(expiry);
        self
    }

    fn name(&self, base: &str) -> String {
        format!("{}{base}", self.prefix)
    }

    pub fn requests_exchange(&self) -> String {
        self.name("provisioning")
    }
    pub fn requests_queue(&self) -> String {
        self.name("provisioning.requests")
    }
    pub fn results_exchange(&self) -> String {
        self.name("provisioning.results")
    }
    pub fn log_queue(&self) -> String {
        self.name("provisioning.log")
    }
    pub fn dead_letter_exchange(&self) -> String {
        self.name("provisioning.dlx")
    }
    pub fn dead_letter_queue(&self) -> String {
        self.name("provisioning.dead")
    }
    /// Where HR systems publish `com.provisioner.hr.employee.hired`.
    pub fn hr_exchange(&self) -> String {
        self.name("hr.events")
    }
    pub fn hr_queue(&self) -> String {
        self.name("provisioning.hr")
    }
    pub fn retry_queue(&self, delay_index: usize) -> Option<String> {
        let delay = self.retry_delays.get(delay_index)?;
        Some(self.name(&format!("provisioning.retry.{}ms", delay.as_millis())))
    }

    /// Every queue [`Topology::declare`] declares.
    pub fn queues(&self) -> Vec<String> {
        let mut queues = vec![
            self.requests_queue(),
            self.log_queue(),
            self.hr_queue(),
            self.dead_letter_queue(),
        ];
        queues.extend((0..self.retry_delays.len()).filter_map(|i| self.retry_queue(i)));
        queues
    }

    pub fn request_routing_key(service: &str) -> String {
        format!("request.{service}")
    }

    /// Declares everything; safe to run at every start, by every component.
    pub async fn declare(&self, channel: &Channel) -> Result<(), BrokerError> {
        let durable = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        for exchange in [
            self.requests_exchange(),
            self.results_exchange(),
            self.dead_letter_exchange(),
            self.hr_exchange(),
        ] {
            channel
                .exchange_declare(
                    exchange.into(),
                    ExchangeKind::Topic,
                    durable,
                    FieldTable::default(),
                )
                .await?;
        }

        self.declare_queue(channel, &self.dead_letter_queue(), self.base_arguments())
            .await?;
        self.bind(
            channel,
            &self.dead_letter_queue(),
            &self.dead_letter_exchange(),
            "#",
        )
        .await?;

        self.declare_queue(channel, &self.requests_queue(), self.work_queue_arguments())
            .await?;
        self.bind(
            channel,
            &self.requests_queue(),
            &self.requests_exchange(),
            "request.#",
        )
        .await?;

        self.declare_queue(channel, &self.log_queue(), self.work_queue_arguments())
            .await?;
        self.bind(channel, &self.log_queue(), &self.results_exchange(), "#")
            .await?;

        self.declare_queue(channel, &self.hr_queue(), self.work_queue_arguments())
            .await?;
        self.bind(channel, &self.hr_queue(), &self.hr_exchange(), "#")
            .await?;

        for (index, delay) in self.retry_delays.iter().enumerate() {
            let Some(queue) = self.retry_queue(index) else {
                continue;
            };
            let mut arguments = self.base_arguments();
            // A parked message expires after its delay and is dead-lettered back to the
            // requests exchange: the broker holds the wait, no worker sleeps.
            let ttl = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
            arguments.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl));
            arguments.insert(
                "x-dead-letter-exchange".into(),
                long_string(&self.requests_exchange()),
            );
            arguments.insert(
                "x-dead-letter-routing-key".into(),
                long_string("request.retry"),
            );
            self.declare_queue(channel, &queue, arguments).await?;
        }
        Ok(())
    }

    /// Removes every queue and exchange of this topology (used by tests to clean up).
    pub async fn delete(&self, channel: &Channel) -> Result<(), BrokerError> {
        let mut queues = vec![
            self.requests_queue(),
            self.log_queue(),
            self.dead_letter_queue(),
            self.hr_queue(),
        ];
        queues.extend((0..self.retry_delays.len()).filter_map(|i| self.retry_queue(i)));
        for queue in queues {
            channel
                .queue_delete(queue.into(), Default::default())
                .await?;
        }
        for exchange in [
            self.requests_exchange(),
            self.results_exchange(),
            self.dead_letter_exchange(),
            self.hr_exchange(),
        ] {
            channel
                .exchange_delete(exchange.into(), Default::default())
                .await?;
        }
        Ok(())
    }

    fn base_arguments(&self) -> FieldTable {
        let mut arguments = FieldTable::default();
        // Quorum queues replicate through Raft and confirm only once a majority has the
        // message: https://www.rabbitmq.com/docs/quorum-queues
        arguments.insert("x-queue-type".into(), long_string("quorum"));
        if let Some(expiry) = self.queue_expiry {
            let ms = i64::try_from(expiry.as_millis()).unwrap_or(i64::MAX);
            arguments.insert("x-expires".into(), AMQPValue::LongLongInt(ms));
        }
        arguments
    }

    fn work_queue_arguments(&self) -> FieldTable {
        let mut arguments = self.base_arguments();
        // Rejected messages, and messages that crashed consumers too often, go to the
        // dead-letter exchange instead of being dropped or looping forever.
        arguments.insert(
            "x-dead-letter-exchange".into(),
            long_string(&self.dead_letter_exchange()),
        );
        arguments.insert("x-delivery-limit".into(), AMQPValue::LongLongInt(20));
        arguments
    }

    async fn declare_queue(
        &self,
        channel: &Channel,
        queue: &str,
        arguments: FieldTable,
    ) -> Result<(), BrokerError> {
        let options = QueueDeclareOptions {
            durable: true,
            ..QueueDeclareOptions::default()
        };
        channel
            .queue_declare(queue.into(), options, arguments)
            .await?;
        Ok(())
    }

    async fn bind(
        &self,
        channel: &Channel,
        queue: &str,
        exchange: &str,
        routing_key: &str,
    ) -> Result<(), BrokerError> {
        channel
            .queue_bind(
                queue.into(),
                exchange.into(),
                routing_key.into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await?;
        Ok(())
    }
}

fn long_string(value: &str) -> AMQPValue {
    AMQPValue::LongString(value.into())
}
