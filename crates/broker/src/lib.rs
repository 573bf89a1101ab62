//! RabbitMQ through `lapin`: the topology in one place, publishing that waits for the
//! broker's confirm, and consumers with manual acks and bounded prefetch.

mod connection;
mod consumer;
mod dead_letters;
mod depths;
mod error;
mod publisher;
mod topology;

pub use connection::{connect, CONNECT_TIMEOUT};
pub use consumer::{ack, count_dead_letter, requeue, run_consumer, set_aside, ConsumerSpec};
pub use dead_letters::{peek_dead_letters, DeadLetter};
pub use depths::watch_queue_depths;
pub use error::BrokerError;
pub use lapin::message::Delivery;
pub use lapin::{Channel, Connection, Consumer};
pub use publisher::{delivery_trace, Publisher, TRACEPARENT_HEADER};
pub use topology::{DelayQueue, Topology, DELAY_BUCKETS_SECS, REASON_HEADER};
