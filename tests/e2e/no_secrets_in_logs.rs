//! The real binary, logging at debug level through a full run: none of the secrets it
//! handled appears in its output.

use std::time::Duration;

use provisioner_hr_intake::signature::sign;
use provisioner_test_support::processes::{free_port, Launcher};
use provisioner_test_support::{amqp_url, eventually, fresh_database, unique_amqp_prefix};
use serde_json::{json, Value};

use crate::helpers::WAIT;

const KEYS: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";

#[tokio::test]
async fn a_full_run_logged_at_debug_level_shows_no_secret() {
    let database_url = fresh_database().await;
    let launcher = Launcher::scratch(
        env!("CARGO_BIN_EXE_provisioner"),
        &database_url,
        &amqp_url(),
    );
    launcher.migrate().unwrap();
    let api_token = launcher.create_tenant("Acme").unwrap().token;

    let sim = provisioner_sim::Simulator::new();
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_address = format!("http://{}", sim_listener.local_addr().unwrap());
    tokio::spawn(sim.clone().serve(sim_listener, std::future::pending()));
    let saas_token = "saas-secret-7c1f0e";
    sim.put_workspace("acme", saas_token);

    let port = free_port().unwrap();
    let mut serve = launcher
        .serve_with(
            "all",
            "api,relay,worker,projector,hr-intake",
            &format!("127.0.0.1:{port}"),
            &[
                ("PROVISIONER_AMQP_PREFIX", &unique_amqp_prefix()),
                ("PROVISIONER_AMQP_QUEUE_EXPIRY_SECONDS", "120"),
                ("PROVISIONER_CREDENTIAL_KEYS", KEYS),
                ("RUST_LOG", "debug"),
                ("PROVISIONER_DB_MAX_CONNECTIONS", "4"),
            ],
        )
        .unwrap();
    let api = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        client
            .post(format!("{api}{path}"))
            .bearer_auth(&api_token)
            .json(&body)
            .send()
    };
    eventually(WAIT, "the api", || async {
        client
            .get(format!("{api}/readyz"))
            .send()
            .await
            .ok()
            .filter(|r| r.status().is_success())
    })
    .await;

    let integration: Value = post(
        "/v1/integrations",
        json!({"service": "scim", "workspace": "acme",
        "base_url": format!("{sim_address}/scim/acme/v2"), "credentials": {"token": saas_token}}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let stale: Value = post("/v1/integrations", json!({"service": "scim", "workspace": "stale",
        "base_url": format!("{sim_address}/scim/acme/v2"), "credentials": {"token": "stale-secret-91ab"}}))
        .await.unwrap().json().await.unwrap();
    let new_token: Value = post("/v1/tokens", json!({"scopes": ["log:read"]}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hr_secret: Value = post("/v1/hr/signing-secrets", json!({}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let hr_secret = hr_secret["secret"].as_str().unwrap().to_owned();
    let mut ids = Vec::new();
    for (integration_id, user) in [
        (&integration["id"], "ada"),
        (&integration["id"], "not valid"),
        (&stale["id"], "bob"),
    ] {
        let account = json!({"user_name": user, "email": "x@example.com", "given_name": "A", "family_name": "B"});
        let accepted: Value = post(
            "/v1/provisioning-requests",
            json!({"integration_id": integration_id, "account": account}),
        )
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
        ids.push(accepted["id"].as_str().unwrap().to_owned());
    }
    let event = json!({"specversion": "1.0", "id": "evt-1", "source": "s", "type": "com.provisioner.hr.employee.hired",
        "data": {"employee": {"email": "h@example.com", "given_name": "H", "family_name": "I"}}}).to_string();
    let now = chrono::Utc::now().timestamp();
    let hired = client
        .post(format!("{api}/v1/hr/events"))
        .bearer_auth(&api_token)
        .header("webhook-id", "msg_evt-1")
        .header("webhook-timestamp", now.to_string())
        .header(
            "webhook-signature",
            sign(&hr_secret, "msg_evt-1", now, event.as_bytes()),
        )
        .body(event)
        .send()
        .await
        .unwrap();
    assert_eq!(hired.status(), 202);
    for id in &ids {
        eventually(WAIT, "the request to end", || async {
            let body: Value = client
                .get(format!("{api}/v1/provisioning-requests/{id}"))
                .bearer_auth(&api_token)
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            ["succeeded", "failed", "rejected"]
                .contains(&body["state"].as_str()?)
                .then_some(())
        })
        .await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    serve.kill();

    let logged = serve.log();
    assert!(logged.contains("request finished"), "the run was logged");
    for secret in [
        saas_token,
        "stale-secret-91ab",
        api_token.as_str(),
        new_token["token"].as_str().unwrap(),
        hr_secret.as_str(),
        &KEYS[3..],
    ] {
        assert!(
            !logged.contains(secret),
            "a secret reached the log: {}…",
            &secret[..6]
        );
    }
}
