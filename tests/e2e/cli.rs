//! The real binary, as an operator runs it.

use std::process::Output;
use std::time::Duration;

use provisioner_test_support::processes::{free_port, Launcher};
use provisioner_test_support::{amqp_url, database_server_url, eventually, unique_amqp_prefix};
use serde_json::Value;

const BINARY: &str = env!("CARGO_BIN_EXE_provisioner");

fn launcher(database_url: &str) -> Launcher {
    Launcher::scratch(BINARY, database_url, &amqp_url())
}

fn provisioner(database_url: &str, args: &[&str]) -> Output {
    launcher(database_url)
        .output(args)
        .expect("the binary runs")
}

fn fresh_database_url() -> String {
    let server = database_server_url();
    let (base, _) = server.rsplit_once('/').unwrap();
    format!("{base}/prov_test_cli_{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test]
async fn migrate_creates_the_database_and_tenants_and_tokens_print_json() {
    let database_url = fresh_database_url();
    let migrate = provisioner(&database_url, &["migrate"]);
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let again = provisioner(&database_url, &["migrate"]);
    assert!(again.status.success(), "migrate is safe to run twice");

    let created = provisioner(&database_url, &["tenants", "create", "--name", "Acme"]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let tenant: Value = serde_json::from_slice(&created.stdout).expect("one JSON object");
    let tenant_id = tenant["tenant_id"].as_str().unwrap();
    assert!(tenant["token"].as_str().unwrap().starts_with("prv_"));

    let token = provisioner(
        &database_url,
        &[
            "tokens",
            "create",
            "--tenant",
            tenant_id,
            "--scopes",
            "requests:read,log:read",
        ],
    );
    assert!(
        token.status.success(),
        "{}",
        String::from_utf8_lossy(&token.stderr)
    );
    let token: Value = serde_json::from_slice(&token.stdout).unwrap();
    assert_eq!(
        token["scopes"],
        serde_json::json!(["requests:read", "log:read"])
    );

    let bad_scope = provisioner(
        &database_url,
        &[
            "tokens", "create", "--tenant", tenant_id, "--scopes", "root",
        ],
    );
    assert!(!bad_scope.status.success());
    assert!(String::from_utf8_lossy(&bad_scope.stderr).contains("unknown scope"));

    let unknown_tenant = provisioner(
        &database_url,
        &[
            "tokens",
            "create",
            "--tenant",
            &uuid::Uuid::new_v4().to_string(),
            "--scopes",
            "log:read",
        ],
    );
    assert!(!unknown_tenant.status.success());
}

#[tokio::test]
async fn serve_with_a_subset_of_components_answers_health_and_readiness() {
    let database_url = fresh_database_url();
    assert!(provisioner(&database_url, &["migrate"]).status.success());
    let serving = launcher(&database_url).env("PROVISIONER_AMQP_QUEUE_EXPIRY_SECONDS", "120");
    // Each process on broker names of its own.
    let serve = |components: &str, port: u16| {
        let prefix = unique_amqp_prefix();
        let listen = format!("127.0.0.1:{port}");
        let env = [("PROVISIONER_AMQP_PREFIX", prefix.as_str())];
        serving
            .serve_with(components, components, &listen, &env)
            .unwrap()
    };
    let port = free_port().unwrap();
    let _serve = serve("api,relay", port);
    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz"] {
        let url = format!("http://127.0.0.1:{port}{path}");
        eventually(Duration::from_secs(30), path, || async {
            let response = client.get(&url).send().await.ok()?;
            response.status().is_success().then_some(())
        })
        .await;
    }

    // A process without the api still answers health, readiness and metrics.
    let worker_port = free_port().unwrap();
    let _worker = serve("worker", worker_port);
    for path in ["/healthz", "/readyz", "/metrics"] {
        let url = format!("http://127.0.0.1:{worker_port}{path}");
        eventually(Duration::from_secs(30), path, || async {
            let response = client.get(&url).send().await.ok()?;
            response.status().is_success().then_some(())
        })
        .await;
    }
    let no_api = client
        .get(format!("http://127.0.0.1:{worker_port}/v1/services"))
        .send()
        .await
        .unwrap();
    assert_eq!(no_api.status(), 404);

    let bad = serving
        .output(&["serve", "--components", "api,everything"])
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown component"));
}

#[tokio::test]
async fn the_simulator_serves_scim_on_the_port_it_is_given() {
    let port = free_port().unwrap();
    let _sim = launcher("")
        .sim("sim", &format!("127.0.0.1:{port}"))
        .unwrap();
    let client = reqwest::Client::new();
    let url = format!("http://127.0.0.1:{port}/_sim/workspaces/demo");
    eventually(Duration::from_secs(30), "the simulator", || async {
        let response = client
            .put(&url)
            .json(&serde_json::json!({"token": "t"}))
            .send()
            .await
            .ok()?;
        response.status().is_success().then_some(())
    })
    .await;
    let config = client
        .get(format!(
            "http://127.0.0.1:{port}/scim/demo/v2/ServiceProviderConfig"
        ))
        .bearer_auth("t")
        .send()
        .await
        .unwrap();
    assert_eq!(config.status(), 200);
}
