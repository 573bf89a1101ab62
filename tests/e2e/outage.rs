use provisioner::startup::Components;
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{scim_account, spawn_app_with};

const NOTHING_LISTENS_HERE: &str = "amqp://guest:guest@127.0.0.1:1/%2f";

#[tokio::test]
async fn a_request_accepted_while_the_broker_is_down_is_published_later_by_the_relay() {
    let api_only = Components {
        api: true,
        ..Components::NONE
    };
    let app = spawn_app_with(api_only, Some(NOTHING_LISTENS_HERE)).await;
    let ready = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(
        ready.status(),
        StatusCode::SERVICE_UNAVAILABLE,
        "the broker is unreachable"
    );
    let integration_id = app.scim_integration("acme").await;

    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    let queued: serde_json::Value = app
        .get(&format!("/v1/provisioning-requests/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        queued["state"], "queued",
        "accepted and durable, not yet published"
    );

    // The broker is back: a relay, a worker and a projector of the same installation.
    let rest = Components {
        api: false,
        ..Components::ALL
    };
    let _others = app.start_more(rest);
    let request = app.wait_until_finished(&id).await;

    assert_eq!(request["state"], "succeeded", "{request}");
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 1);
    app.wait_for_log_entry(&id).await;
    app.stop().await;
}
