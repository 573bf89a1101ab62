//! A chaos run of the whole system: the real binaries as separate processes, on a
//! RabbitMQ node and a PostgreSQL cluster of the run's own, while the simulated SaaS
//! fails and lies, workers are SIGKILLed and the broker and database restart.

mod nodes;
mod report;
mod scenario;
mod system;

pub use report::{Event, Report};
pub use scenario::Scenario;
