//! A value PostgreSQL refuses is not an outage: the request ends with the refusal as
//! its cause and its message goes to the dead-letter queue with the reason, instead of
//! being tried again for ever.

use provisioner_sim::Faults;
use serde_json::{json, Value};

use crate::helpers::{scim_account, spawn_app};
use crate::poison::next_dead_letter;

#[tokio::test]
async fn an_account_id_postgresql_cannot_store_ends_the_request_dead_and_dead_letters_it() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    // PostgreSQL text holds no NUL character (SQLSTATE 22021), so recording the
    // account's id is refused however often it is tried.
    let faults = Faults {
        created_id_suffix: Some("\u{0}".into()),
        ..Faults::default()
    };
    app.sim.set_faults("acme", faults).unwrap();

    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "dead", "{request}");
    assert_eq!(request["attempts"], 1, "not tried again: {request}");
    assert_eq!(request["error"]["code"], "store_refused", "{request}");
    assert_eq!(request["error"]["retryable"], false, "{request}");
    let message = request["error"]["message"].as_str().unwrap();
    assert!(message.contains("SQLSTATE 22021"), "{message}");
    assert!(
        message.contains("0x00"),
        "PostgreSQL's own words: {message}"
    );
    assert!(request.get("external_account_id").is_none(), "{request}");

    let (body, reason) = next_dead_letter(&app).await;
    let dead: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(dead["request_id"], id.as_str(), "{dead}");
    assert!(reason.starts_with("store_refused: "), "{reason}");
    assert!(reason.contains("SQLSTATE 22021"), "{reason}");

    let entry = app.wait_for_log_entry(&id).await;
    assert_eq!(entry["state"], "dead", "{entry}");
    assert!(
        entry["cause"].as_str().unwrap().contains("SQLSTATE 22021"),
        "{entry}"
    );
    app.stop().await;
}

#[tokio::test]
async fn work_goes_on_after_a_refused_request() {
    let app = spawn_app().await;
    let refusing = app.scim_integration("acme").await;
    let storable = app.scim_integration("globex").await;
    let faults = Faults {
        created_id_suffix: Some("\u{0}".into()),
        ..Faults::default()
    };
    app.sim.set_faults("acme", faults).unwrap();

    let refused = app
        .submit(&json!({"integration_id": refusing, "account": scim_account("ada")}))
        .await;
    assert_eq!(app.wait_until_finished(&refused).await["state"], "dead");
    let fine = app
        .submit(&json!({"integration_id": storable, "account": scim_account("grace")}))
        .await;
    assert_eq!(app.wait_until_finished(&fine).await["state"], "succeeded");
    app.stop().await;
}
