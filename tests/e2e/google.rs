//! Google Workspace users through the whole system, against the simulated Directory API
//! and the token endpoint the service account names.

use provisioner_core::quarantine::AUTH_FAILURES_BEFORE_ERROR;
use provisioner_sim::{Faults, WorkspaceSetup};
use serde_json::{json, Value};

use crate::helpers::{spawn_app, TestApp};

const PRIVATE_KEY: &str = include_str!("../fixtures/google/test-service-account-key.pem");
const PUBLIC_KEY: &str = include_str!("../fixtures/google/test-service-account-key.pub.pem");
const SERVICE_ACCOUNT: &str = "provisioner@e2e.iam.gserviceaccount.com";

async fn google_integration(app: &TestApp) -> String {
    let setup = WorkspaceSetup::Google {
        client_email: SERVICE_ACCOUNT.into(),
        public_key_pem: PUBLIC_KEY.into(),
        customer_id: "C01e2e".into(),
        domain: "acme.example".into(),
    };
    app.sim.setup_workspace("acme-google", setup);
    let credentials = json!({
        "service_account": {
            "type": "service_account",
            "client_email": SERVICE_ACCOUNT,
            "private_key": PRIVATE_KEY,
            "token_uri": format!("{}/token", app.sim_address),
        },
        "subject": "admin@acme.example",
        "customer": "C01e2e",
    });
    app.integration("google", "acme.example", "/admin/directory/v1", credentials)
        .await
}

fn person(email: &str) -> Value {
    json!({"email": email, "given_name": "Ada", "family_name": "Lovelace"})
}

#[tokio::test]
async fn a_google_user_is_created_through_the_api_with_googles_id() {
    let app = spawn_app().await;
    let integration_id = google_integration(&app).await;

    let request = app
        .provision(&integration_id, person("ada@acme.example"))
        .await;

    assert_eq!(request["state"], "succeeded", "{request}");
    let users = app.sim.users("acme-google").unwrap();
    assert_eq!(request["external_account_id"], users[0]["id"]);
    app.stop().await;
}

#[tokio::test]
async fn a_google_user_created_twice_is_adopted_the_second_time_with_one_account() {
    let app = spawn_app().await;
    let integration_id = google_integration(&app).await;
    let first = app
        .provision(&integration_id, person("grace@acme.example"))
        .await;
    assert_eq!(first["state"], "succeeded", "{first}");

    let second = app
        .provision(&integration_id, person("Grace@acme.example"))
        .await;

    assert_eq!(second["state"], "succeeded", "{second}");
    assert_eq!(second["external_account_id"], first["external_account_id"]);
    let stats = app.sim.stats("acme-google").unwrap();
    assert_eq!(stats.accounts, 1, "adopted, not duplicated");
    assert_eq!(stats.create_calls_by_user_name["grace@acme.example"], 2);
    app.stop().await;
}

#[tokio::test]
async fn emails_taken_where_the_integration_cannot_see_fail_as_conflicts_and_never_set_it_aside() {
    let app = spawn_app().await;
    let integration_id = google_integration(&app).await;
    let taken: Vec<String> = (1..=AUTH_FAILURES_BEFORE_ERROR)
        .map(|n| format!("taken{n}@acme.example"))
        .collect();
    let faults = Faults {
        taken_elsewhere: taken.clone(),
        ..Faults::default()
    };
    app.sim.set_faults("acme-google", faults).unwrap();

    for email in &taken {
        let request = app.provision(&integration_id, person(email)).await;
        assert_eq!(request["state"], "failed", "{request}");
        assert_eq!(request["error"]["code"], "conflict", "{request}");
        assert_eq!(request["attempt_history"].as_array().map(Vec::len), Some(1));
    }

    let integration: Value = app
        .get(&format!("/v1/integrations/{integration_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(integration["status"], "ok", "{integration}");
    assert_eq!(integration["auth_failures"], 0, "{integration}");
    app.stop().await;
}
