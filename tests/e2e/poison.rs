use std::time::Duration;

use lapin::options::BasicGetOptions;
use lapin::types::AMQPValue;
use lapin::BasicProperties;
use provisioner_broker::{Publisher, REASON_HEADER};
use provisioner_test_support::eventually;
use serde_json::json;

use crate::helpers::{scim_account, spawn_app, TestApp};

/// Waits for the next message in the dead-letter queue and returns its body and reason.
pub async fn next_dead_letter(app: &TestApp) -> (Vec<u8>, String) {
    let connection = provisioner_broker::connect(&app.settings.amqp_url, "test-dead-letters")
        .await
        .unwrap();
    let channel = connection.create_channel().await.unwrap();
    let queue = provisioner::startup::topology(&app.settings).dead_letter_queue();
    let message = eventually(Duration::from_secs(30), "a dead letter", || async {
        channel
            .basic_get(queue.as_str().into(), BasicGetOptions { no_ack: true })
            .await
            .ok()
            .flatten()
    })
    .await;
    let reason = match message
        .delivery
        .properties
        .headers()
        .as_ref()
        .and_then(|headers| headers.inner().get(REASON_HEADER))
    {
        Some(AMQPValue::LongString(reason)) => reason.to_string(),
        other => panic!("no reason header: {other:?}"),
    };
    let body = message.delivery.data.clone();
    let _ = connection.close(200, "done".into()).await;
    (body, reason)
}

#[tokio::test]
async fn a_malformed_request_message_is_set_aside_with_its_reason_and_work_goes_on() {
    let app = spawn_app().await;
    // This test puts off-contract messages on the broker itself.
    app.contract.expect_off_contract_events();
    let integration_id = app.scim_integration("acme").await;
    let topology = provisioner::startup::topology(&app.settings);
    let publisher = Publisher::new(
        app.settings.amqp_url.clone(),
        "test-poison",
        topology.clone(),
    );
    publisher
        .publish(
            &topology.requests_exchange(),
            "request.scim",
            b"{\"this is\": \"not a request\"}",
            BasicProperties::default(),
        )
        .await
        .unwrap();
    publisher.close().await;

    let (body, reason) = next_dead_letter(&app).await;
    assert_eq!(body, b"{\"this is\": \"not a request\"}");
    assert!(
        reason.contains("not a provisioning request message"),
        "{reason}"
    );

    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    assert_eq!(app.wait_until_finished(&id).await["state"], "succeeded");
    app.stop().await;
}

#[tokio::test]
async fn a_message_naming_an_unknown_request_is_set_aside_too() {
    let app = spawn_app().await;
    let publisher = Publisher::new(
        app.settings.amqp_url.clone(),
        "test-unknown",
        provisioner::startup::topology(&app.settings),
    );
    let message = provisioner_core::event::RequestMessage {
        tenant_id: app.tenant_id,
        request_id: provisioner_core::RequestId::new(),
    };
    publisher
        .publish_request(
            &message,
            "scim",
            &provisioner_core::trace::TraceParent::new_root(),
        )
        .await
        .unwrap();
    publisher.close().await;

    let (_, reason) = next_dead_letter(&app).await;
    assert!(reason.contains("does not exist"), "{reason}");
    app.stop().await;
}

#[tokio::test]
async fn operators_read_the_dead_letters_and_why_without_taking_them() {
    let app = spawn_app().await;
    // This test puts off-contract messages on the broker itself.
    app.contract.expect_off_contract_events();
    let topology = provisioner::startup::topology(&app.settings);
    let publisher = Publisher::new(
        app.settings.amqp_url.clone(),
        "test-poison",
        topology.clone(),
    );
    publisher
        .publish(
            &topology.requests_exchange(),
            "request.scim",
            b"not json at all",
            BasicProperties::default(),
        )
        .await
        .unwrap();
    publisher.close().await;

    let list = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_provisioner"))
            .args(["dead-letters", "list"])
            .env("AMQP_URL", &app.settings.amqp_url)
            .env("PROVISIONER_AMQP_PREFIX", &app.settings.amqp_prefix)
            .env("PROVISIONER_AMQP_QUEUE_EXPIRY_SECONDS", "120")
            .output()
            .unwrap()
    };
    let first = eventually(
        Duration::from_secs(30),
        "the dead letter listed",
        || async {
            let output = list();
            let text = String::from_utf8_lossy(&output.stdout).to_string();
            (!text.is_empty()).then_some(text)
        },
    )
    .await;
    let letter: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
    assert_eq!(letter["body"], "not json at all");
    assert!(letter["reason"]
        .as_str()
        .unwrap()
        .contains("not a provisioning request message"));
    let again = String::from_utf8_lossy(&list().stdout).to_string();
    assert_eq!(again, first, "reading leaves the messages in the queue");
    app.stop().await;
}

/// A NUL character in any string of any message type consumed goes to the dead-letter
/// queue with a reason naming the field, before PostgreSQL is asked to store it.
#[tokio::test]
async fn messages_with_text_postgresql_cannot_store_are_set_aside_with_the_field_named() {
    let app = spawn_app().await;
    app.contract.expect_off_contract_events();
    let topology = provisioner::startup::topology(&app.settings);
    let publisher = Publisher::new(app.settings.amqp_url.clone(), "test-nul", topology.clone());
    let request = json!({"tenant_id": app.tenant_id, "request_id": uuid::Uuid::new_v4(),
        "note": "a\u{0}b"});
    let mut result = serde_json::to_value(provisioner_core::event::CloudEvent::account_result(
        provisioner_core::EventId::new(),
        chrono::Utc::now(),
        provisioner_core::event::AccountResult {
            tenant_id: app.tenant_id,
            request_id: provisioner_core::RequestId::new(),
            integration_id: provisioner_core::IntegrationId::new(),
            employee_id: None,
            state: provisioner_core::RequestState::Succeeded,
            service: "scim".into(),
            workspace: "acme".into(),
            target: "ada".into(),
            attempts: 1,
            external_account_id: Some("u-1".into()),
            error: None,
            account_id: None,
            account_origin: None,
        },
    ))
    .unwrap();
    result["data"]["target"] = json!("ad\u{0}a");
    let hire = json!({"specversion": "1.0", "id": "hire-nul", "source": "urn:hr", "tenantid": app.tenant_id,
        "type": "com.provisioner.hr.employee.hired",
        "data": {"employee": {"email": "n@example.com", "given_name": "N", "family_name": "Do\u{0}e"}}});
    let sent = [
        (
            topology.requests_exchange(),
            "request.scim",
            request,
            "note",
        ),
        (
            topology.results_exchange(),
            "account.created",
            result,
            "data.target",
        ),
        (
            topology.hr_exchange(),
            "employee.hired",
            hire,
            "data.employee.family_name",
        ),
    ];
    for (exchange, key, message, _) in &sent {
        publisher
            .publish(
                exchange,
                key,
                message.to_string().as_bytes(),
                BasicProperties::default(),
            )
            .await
            .unwrap();
    }
    publisher.close().await;

    let mut letters = Vec::new();
    for _ in &sent {
        letters.push(next_dead_letter(&app).await);
    }
    for (_, _, message, field) in &sent {
        let body = message.to_string().into_bytes();
        let (_, reason) = letters
            .iter()
            .find(|(letter, _)| *letter == body)
            .unwrap_or_else(|| panic!("{message} was not dead-lettered"));
        assert!(
            reason.contains(&format!("{field}: must not contain the NUL character")),
            "{reason}"
        );
    }
    let employees: serde_json::Value = app.get("/v1/employees").await.json().await.unwrap();
    assert_eq!(
        employees["employees"].as_array().map(Vec::len),
        Some(0),
        "{employees}"
    );
    app.stop().await;
}
