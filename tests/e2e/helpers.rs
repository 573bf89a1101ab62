use std::time::Duration;

use provisioner::settings::Settings;
use provisioner::startup::{self, Components};
use provisioner_sim::Simulator;
use provisioner_store::Store;
use provisioner_test_support::{amqp_url, eventually, fresh_database, unique_amqp_prefix};
use reqwest::{Response, StatusCode};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use crate::behind_the_api::*;
use crate::contract::{self, Findings};

pub const WAIT: Duration = Duration::from_secs(30);

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub token: String,
    pub tenant_id: provisioner_core::TenantId,
    pub store: Store,
    pub settings: Settings,
    pub sim: Simulator,
    pub sim_address: String,
    /// What the api's answers and the published events did against the contract.
    pub contract: Findings,
    tap: Option<contract::events::Tap>,
    shutdown: CancellationToken,
    running: Option<JoinHandle<()>>,
}

pub fn test_settings(database_url: String) -> Settings {
    Settings {
        database_url,
        db_max_connections: 5,
        amqp_url: amqp_url(),
        amqp_prefix: unique_amqp_prefix(),
        // A backstop for tests that end without deleting their queues. Short, so that
        // leftovers do not pile up and expire all at once during a later run (many quorum
        // queues deleted together stall the broker), yet longer than any retry delay a
        // test waits for.
        amqp_queue_expiry_seconds: Some(120),
        prefetch: 20,
        max_calls_in_flight: 256,
        claim_lease_seconds: 60,
        allow_private_networks: true,
        loopback_only: false,
        credential_keys: None,
        drain_seconds: 5,
        queue_metrics_seconds: 1,
    }
}

/// Starts api, relay, worker and projector in this process on port 0, a simulator on
/// port 0, and a tenant with a token holding every scope.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(Components::ALL, None).await
}

/// Like [`spawn_app`], running only `components`; with `broker_url` they use that
/// broker address instead of the real one (an unreachable one simulates an outage).
pub async fn spawn_app_with(components: Components, broker_url: Option<&str>) -> TestApp {
    spawn(components, broker_url, |_| {}).await
}

/// Like [`spawn_app`], with `tune` changing the components' settings first.
pub async fn spawn_app_tuned(tune: impl FnOnce(&mut Settings)) -> TestApp {
    spawn(Components::ALL, None, tune).await
}

async fn spawn(
    components: Components,
    broker_url: Option<&str>,
    tune: impl FnOnce(&mut Settings),
) -> TestApp {
    // TEST_LOG=1 shows the components' logs, for a test that needs explaining.
    if std::env::var_os("TEST_LOG").is_some() {
        // Kept for the rest of the test process.
        std::mem::forget(provisioner::telemetry::init());
    }
    let database_url = fresh_database().await;
    let mut settings = test_settings(database_url);
    tune(&mut settings);
    let store = Store::connect_lazy(&settings.database_url, 3).expect("database url");
    store.migrate().await.expect("migrations apply");

    let sim = Simulator::new();
    let sim_listener = TcpListener::bind("127.0.0.1:0").await.expect("bind sim");
    let sim_address = format!("http://{}", sim_listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let sim_shutdown = shutdown.clone();
    tokio::spawn(
        sim.clone()
            .serve(sim_listener, async move { sim_shutdown.cancelled().await }),
    );

    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind api");
    let api_address = format!("http://{}", listener.local_addr().unwrap());
    // Tests talk to the api through a proxy that checks every answer against the spec.
    let findings = Findings::default();
    let address = contract::proxy::start(api_address, findings.clone(), shutdown.clone()).await;
    let running = {
        let mut settings = settings.clone();
        if let Some(url) = broker_url {
            settings.amqp_url = url.to_owned();
        }
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            startup::serve(&settings, components, Some(listener), shutdown)
                .await
                .expect("components run");
        })
    };

    let tenant_id = store.create_tenant("Acme").await.unwrap();
    let token = store
        .create_token(tenant_id, &provisioner_core::Scope::ALL)
        .await
        .unwrap()
        .token;
    let mut app = TestApp {
        address,
        client: reqwest::Client::new(),
        token,
        tenant_id,
        store,
        settings,
        sim,
        sim_address,
        contract: findings,
        tap: None,
        shutdown,
        running: Some(running),
    };
    let client = app.client.clone();
    let probe = if broker_url.is_some() {
        "healthz"
    } else {
        "readyz"
    };
    let ready = format!("{}/{probe}", app.address);
    eventually(WAIT, "the api to be ready", || {
        let client = client.clone();
        let ready = ready.clone();
        async move {
            let response = client.get(&ready).send().await.ok()?;
            (response.status() == StatusCode::OK).then_some(())
        }
    })
    .await;
    if broker_url.is_none() {
        app.tap = Some(contract::events::start(&app.settings, app.contract.clone()).await);
    }
    app
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.get_as(path, &self.token).await
    }

    pub async fn get_as(&self, path: &str, token: &str) -> Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET reaches the api")
    }

    pub async fn post(&self, path: &str, body: &Value) -> Response {
        self.post_as(path, body, &self.token).await
    }

    pub async fn post_as(&self, path: &str, body: &Value, token: &str) -> Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("POST reaches the api")
    }

    /// Makes a workspace at the simulator and an integration for it; returns the
    /// integration's id.
    pub async fn scim_integration(&self, workspace: &str) -> String {
        let token = format!("secret-{workspace}");
        self.sim.put_workspace(workspace, &token);
        let response = self
            .post(
                "/v1/integrations",
                &json!({
                    "service": "scim",
                    "workspace": workspace,
                    "base_url": self.sim_base_url(workspace),
                    "credentials": {"token": token},
                }),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["status"], "ok", "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Makes an integration of any service whose workspace the test set up at the
    /// simulator; returns the integration's id, asserting that its check passed.
    pub async fn integration(
        &self,
        service: &str,
        workspace: &str,
        base_path: &str,
        credentials: Value,
    ) -> String {
        let response = self
            .post(
                "/v1/integrations",
                &json!({
                    "service": service,
                    "workspace": workspace,
                    "base_url": format!("{}{base_path}", self.sim_address),
                    "credentials": credentials,
                }),
            )
            .await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert_eq!(body["status"], "ok", "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Submits an account for the integration and waits until the request ends.
    pub async fn provision(&self, integration_id: &str, account: Value) -> Value {
        let id = self
            .submit(&json!({"integration_id": integration_id, "account": account}))
            .await;
        self.wait_until_finished(&id).await
    }

    pub fn sim_base_url(&self, workspace: &str) -> String {
        format!("{}/scim/{workspace}/v2", self.sim_address)
    }

    pub async fn create_employee(&self, email: &str, given: &str, family: &str) -> String {
        let response = self
            .post(
                "/v1/employees",
                &json!({"email": email, "given_name": given, "family_name": family}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::CREATED);
        let body: Value = response.json().await.unwrap();
        body["id"].as_str().unwrap().to_owned()
    }

    /// Submits a request and returns its id, asserting the 202.
    pub async fn submit(&self, body: &Value) -> String {
        let response = self.post("/v1/provisioning-requests", body).await;
        let status = response.status();
        let answer: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        assert_eq!(answer["state"], "queued");
        answer["id"].as_str().unwrap().to_owned()
    }

    /// Waits until the request reaches a terminal state and returns it.
    pub async fn wait_until_finished(&self, request_id: &str) -> Value {
        let path = format!("/v1/provisioning-requests/{request_id}");
        eventually(WAIT, "the request to finish", || async {
            let body: Value = self.get(&path).await.json().await.ok()?;
            let state = body["state"].as_str()?;
            ["succeeded", "failed", "rejected", "dead"]
                .contains(&state)
                .then_some(body)
        })
        .await
    }

    /// Waits until the integration log holds an entry for the request.
    pub async fn wait_for_log_entry(&self, request_id: &str) -> Value {
        let path = format!("/v1/integration-log?request_id={request_id}");
        eventually(WAIT, "the log entry", || async {
            let body: Value = self.get(&path).await.json().await.ok()?;
            body["entries"].as_array()?.first().cloned()
        })
        .await
    }

    pub async fn log_entries(&self, query: &str) -> Vec<Value> {
        let body: Value = self
            .get(&format!("/v1/integration-log{query}"))
            .await
            .json()
            .await
            .unwrap();
        body["entries"].as_array().cloned().unwrap_or_default()
    }

    /// Starts more components of the same installation, as another process would.
    pub fn start_more(&self, components: Components) -> JoinHandle<()> {
        let settings = self.settings.clone();
        let shutdown = self.shutdown.clone();
        tokio::spawn(async move {
            startup::serve(&settings, components, None, shutdown)
                .await
                .expect("components run");
        })
    }

    /// Stops every component, waits for them to drain, and removes this test's queues:
    /// left to expire, many quorum queues expiring at once stall the broker for
    /// everyone else.
    pub async fn stop(mut self) {
        self.shutdown.cancel();
        if let Some(running) = self.running.take() {
            let _ = running.await;
        }
        if let Some(tap) = self.tap.take() {
            tap.close().await;
        }
        self.contract.assert_kept();
        let connection = provisioner_broker::connect(&self.settings.amqp_url, "test-cleanup")
            .await
            .expect("broker reachable for cleanup");
        let channel = connection.create_channel().await.unwrap();
        startup::topology(&self.settings)
            .delete(&channel)
            .await
            .expect("test topology deleted");
        let _ = connection.close(200, "done".into()).await;
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
        // A test that ends without `stop` is held to the contract all the same; one
        // already failing keeps its own message.
        if !std::thread::panicking() {
            self.contract.assert_kept();
        }
    }
}

pub fn scim_account(user_name: &str) -> Value {
    json!({
        "user_name": user_name,
        "email": format!("{}@example.com", user_name.replace(' ', ".")),
        "given_name": "Ada",
        "family_name": "Lovelace",
    })
}

/// Waits until the request is in `state`.
pub async fn eventually_state(app: &TestApp, request_id: &str, state: &str) {
    provisioner_test_support::eventually(WAIT, state, || async {
        let request: Value = app
            .get(&format!("/v1/provisioning-requests/{request_id}"))
            .await
            .json()
            .await
            .ok()?;
        (request["state"] == state).then_some(())
    })
    .await;
}
