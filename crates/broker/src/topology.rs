//! Every exchange and queue the system uses, declared in one function.
//!
//! ```text
//! provisioning (topic) --request.#--> provisioning.requests (quorum) --worker
//!      ^                                   | rejected / delivery limit
//!      | TTL expiry                        v
//! provisioning.retry.<bucket> (quorum)  provisioning.dlx (topic) --> provisioning.dead (quorum)
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

/// The TTLs of the delay queues, in seconds. A retry waits in the shortest one at least
/// as long as its delay, with its own delay as the message's `expiration`; a queue
/// expires messages only at its head, so the message comes back no earlier than its
/// delay and no later than the bucket's TTL. The buckets grow by about 2–3× so that
/// the overshoot stays bounded while only a few queues exist; the last one is the
/// longest wait any retry policy may ask for.
pub const DELAY_BUCKETS_SECS: [u64; 11] = [1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

/// Names of the topology. A prefix keeps parallel test runs (and several installations
/// sharing one broker) apart.
#[derive(Debug, Clone)]
pub struct Topology {
    prefix: String,
    /// Queues unused this long are deleted by the broker; only tests set it.
    queue_expiry: Option<Duration>,
}

/// Where a retry waits and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelayQueue {
    pub queue: String,
    /// The bucket's TTL: the longest the message may wait behind others.
    pub bucket: Duration,
    /// The message's own `expiration`: the shortest it waits.
    pub delay: Duration,
}

impl Topology {
    pub fn new(prefix: impl Into<String>) -> Self {
        Self {
            prefix: prefix.into(),
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
    fn bucket_queue(&self, bucket: Duration) -> String {
        self.name(&format!("provisioning.retry.{}ms", bucket.as_millis()))
    }

    fn buckets() -> impl Iterator<Item = Duration> {
        DELAY_BUCKETS_SECS.into_iter().map(Duration::from_secs)
    }

    /// The delay queue a retry waiting `delay` goes to: the shortest bucket at least
    /// that long. A delay past the longest bucket is cut to it, since no queue could
    /// hold the message longer.
    pub fn delay_queue(&self, delay: Duration) -> DelayQueue {
        let longest = Self::buckets().last().unwrap_or(Duration::ZERO);
        let delay = delay.min(longest);
        let bucket = Self::buckets()
            .find(|bucket| *bucket >= delay)
            .unwrap_or(longest);
        DelayQueue {
            queue: self.bucket_queue(bucket),
            bucket,
            delay,
        }
    }

    /// Every queue [`Topology::declare`] declares.
    pub fn queues(&self) -> Vec<String> {
        let mut queues = vec![
            self.requests_queue(),
            self.log_queue(),
            self.hr_queue(),
            self.dead_letter_queue(),
        ];
        queues.extend(Self::buckets().map(|bucket| self.bucket_queue(bucket)));
        queues
    }

    /// The longest delay bucket no longer than `wait` (the shortest when none is): a
    /// message parked with it as its delay is back by `wait`, since nothing in its
    /// bucket waits longer.
    pub fn longest_bucket_within(&self, wait: Duration) -> Duration {
        let shortest = Self::buckets().next().unwrap_or(Duration::ZERO);
        Self::buckets()
            .filter(|bucket| *bucket <= wait)
            .last()
            .unwrap_or(shortest)
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

        for bucket in Self::buckets() {
            let mut arguments = self.base_arguments();
            // A parked message expires after its own `expiration` (at most this TTL)
            // and is dead-lettered back to the requests exchange: the broker holds the
            // wait, no worker sleeps. Quorum queues honour both since RabbitMQ 3.10:
            // https://www.rabbitmq.com/docs/ttl
            let ttl = i64::try_from(bucket.as_millis()).unwrap_or(i64::MAX);
            arguments.insert("x-message-ttl".into(), AMQPValue::LongLongInt(ttl));
            arguments.insert(
                "x-dead-letter-exchange".into(),
                long_string(&self.requests_exchange()),
            );
            arguments.insert(
                "x-dead-letter-routing-key".into(),
                long_string("request.retry"),
            );
            self.declare_queue(channel, &self.bucket_queue(bucket), arguments)
                .await?;
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
        queues.extend(Self::buckets().map(|bucket| self.bucket_queue(bucket)));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn a_retry_waits_in_the_shortest_bucket_at_least_as_long_as_its_delay() {
        let topology = Topology::new("t.");
        let parked = topology.delay_queue(Duration::from_millis(3_200));
        assert_eq!(parked.queue, "t.provisioning.retry.5000ms");
        assert_eq!(parked.bucket, secs(5));
        assert_eq!(parked.delay, Duration::from_millis(3_200));
        assert_eq!(topology.delay_queue(secs(5)).bucket, secs(5));
        assert_eq!(topology.delay_queue(secs(6)).bucket, secs(10));
        assert_eq!(topology.delay_queue(Duration::ZERO).bucket, secs(1));
    }

    #[test]
    fn a_delay_past_the_longest_bucket_is_cut_to_it() {
        let parked = Topology::new("").delay_queue(secs(86_400));
        assert_eq!((parked.bucket, parked.delay), (secs(3600), secs(3600)));
    }

    #[test]
    fn the_longest_bucket_is_the_longest_delay_a_policy_may_ask_for() {
        assert_eq!(
            Topology::buckets().last(),
            Some(provisioner_core::retry::LONGEST_DELAY)
        );
        assert!(DELAY_BUCKETS_SECS.windows(2).all(|pair| pair[0] < pair[1]));
    }
}
