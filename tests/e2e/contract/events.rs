//! A tap on every exchange the components publish events on: each message is checked
//! against its schema in `schemas/events/`, so an event the code publishes off-contract
//! fails the test that made it.

use futures_util::StreamExt;
use lapin::options::{BasicConsumeOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::FieldTable;
use lapin::Connection;
use provisioner::settings::Settings;
use serde_json::Value;
use tokio::task::JoinHandle;

use crate::contract::spec::{event_errors, events};
use crate::contract::Findings;

pub struct Tap {
    connection: Connection,
    reading: JoinHandle<()>,
}

/// Binds a private queue to the requests, results and HR exchanges (declared by then)
/// and checks each message it gets until [`Tap::close`].
pub async fn start(settings: &Settings, findings: Findings) -> Tap {
    let topology = provisioner::startup::topology(settings);
    let connection = provisioner_broker::connect(&settings.amqp_url, "test-contract-tap")
        .await
        .expect("broker reachable for the event tap");
    let channel = connection.create_channel().await.expect("tap channel");
    // Declaring is idempotent; the components may not have done it yet.
    topology.declare(&channel).await.expect("topology declared");
    let queue = format!("{}.contract-tap", settings.amqp_prefix);
    let private = QueueDeclareOptions {
        exclusive: true,
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    channel
        .queue_declare(queue.as_str().into(), private, FieldTable::default())
        .await
        .expect("tap queue declared");
    let exchanges = [
        topology.requests_exchange(),
        topology.results_exchange(),
        topology.hr_exchange(),
    ];
    for exchange in &exchanges {
        channel
            .queue_bind(
                queue.as_str().into(),
                exchange.as_str().into(),
                "#".into(),
                QueueBindOptions::default(),
                FieldTable::default(),
            )
            .await
            .expect("tap bound");
    }
    let mut consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "contract-tap".into(),
            BasicConsumeOptions {
                no_ack: true,
                ..BasicConsumeOptions::default()
            },
            FieldTable::default(),
        )
        .await
        .expect("tap consumes");
    let reading = tokio::spawn(async move {
        while let Some(Ok(delivery)) = consumer.next().await {
            let exchange = delivery.exchange.as_str();
            let verdict = check(&exchanges, exchange, &delivery.data);
            findings.record_event(exchange, verdict);
        }
    });
    Tap {
        connection,
        reading,
    }
}

/// The schema errors of one message published on `exchange` (one of `exchanges`, in
/// the order requests, results, HR).
pub fn check(exchanges: &[String; 3], exchange: &str, body: &[u8]) -> Result<String, String> {
    let schemas = events();
    let (name, schema) = match exchanges.iter().position(|e| e == exchange) {
        Some(0) => ("request-message", &schemas.request_message),
        Some(1) => ("account-result", &schemas.account_result),
        Some(2) => ("employee-hired", &schemas.employee_hired),
        _ => return Err(format!("a message from unknown exchange {exchange}")),
    };
    let event: Value = serde_json::from_slice(body)
        .map_err(|error| format!("{name}: the message is not JSON: {error}"))?;
    let errors = event_errors(schema, &event);
    if errors.is_empty() {
        Ok(name.to_owned())
    } else {
        Err(format!("{name}: {}; event {event}", errors.join("; ")))
    }
}

impl Tap {
    pub async fn close(self) {
        let _ = self.connection.close(200, "done".into()).await;
        let _ = self.reading.await;
    }
}
