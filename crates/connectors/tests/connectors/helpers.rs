//! A simulator on a loopback port, and what the tests send it.

use provisioner_connectors::{HttpClient, HttpOptions, IntegrationTarget, ScimConnector};
use provisioner_sim::{FailCreates, Faults, Simulator};
use serde_json::{json, Map, Value};
use tokio::net::TcpListener;

pub const TOKEN: &str = "s3cret";

pub struct Saas {
    pub sim: Simulator,
    pub origin: String,
}

impl Saas {
    pub async fn spawn() -> Self {
        let saas = Self::empty().await;
        saas.sim.put_workspace("acme", TOKEN);
        saas
    }

    /// A simulator with no workspace, on a loopback port.
    pub async fn empty() -> Self {
        let sim = Simulator::new();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let origin = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(sim.clone().serve(listener, std::future::pending()));
        Self { sim, origin }
    }

    /// A target at `path` under the simulator's origin.
    pub fn target_at(&self, path: &str, credentials: Value) -> IntegrationTarget {
        IntegrationTarget {
            workspace: "acme".into(),
            base_url: format!("{}{path}", self.origin).parse().unwrap(),
            credentials,
        }
    }

    pub fn target(&self, token: &str) -> IntegrationTarget {
        IntegrationTarget {
            workspace: "acme".into(),
            base_url: format!("{}/scim/acme/v2", self.origin).parse().unwrap(),
            credentials: json!({"token": token}),
        }
    }

    pub fn faults(&self, faults: Faults) {
        self.sim.set_faults("acme", faults).unwrap();
    }

    pub fn create_calls(&self) -> u64 {
        self.sim.stats("acme").unwrap().create_calls
    }
}

pub fn loopback_options() -> HttpOptions {
    HttpOptions {
        allow_private_networks: true,
        ..HttpOptions::default()
    }
}

pub fn connector() -> ScimConnector {
    ScimConnector::new(HttpClient::with_options(loopback_options()).unwrap())
}

/// The stamp of the one request a test provisions for: every attempt of it shares it.
pub fn stamp() -> provisioner_connectors::Stamp {
    provisioner_connectors::Stamp::new("2f1c7b9e-request")
}

pub fn account(user_name: &str) -> Map<String, Value> {
    json!({"user_name": user_name, "email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace"})
        .as_object()
        .cloned()
        .unwrap()
}

pub fn http() -> HttpClient {
    HttpClient::with_options(loopback_options()).unwrap()
}

/// Like [`fail_next_create`], with the vendor's own error code.
pub fn fail_next_create_with(status: u16, retry_after_secs: Option<u64>, reason: &str) -> Faults {
    Faults {
        fail_reason: Some(reason.into()),
        ..fail_next_create(status, retry_after_secs)
    }
}

pub fn fail_next_create(status: u16, retry_after_secs: Option<u64>) -> Faults {
    Faults {
        fail_next_creates: Some(FailCreates {
            count: 1,
            status,
            retry_after_secs,
            detail: None,
        }),
        ..Faults::default()
    }
}
