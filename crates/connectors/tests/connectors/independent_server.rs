//! The SCIM connector against a SCIM server nobody here wrote: `scim2-server` from PyPI.
//! Create, filter lookup and 409 uniqueness must behave as against our simulator, or
//! the simulator and the connector could share one misreading of RFC 7644.
//! `make test` installs it into `.venv`; `SCIM2_SERVER_BIN` names another copy.

use std::net::TcpListener as StdListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use provisioner_connectors::{provision_stamped, Connector, CreateAnswer, IntegrationTarget};
use provisioner_core::{ConnectorFailure, ProvisionOutcome};
use serde_json::json;

use crate::helpers::{account, connector, stamp};

const TOKEN: &str = "independent-s3cret";

struct IndependentServer {
    child: Child,
    base_url: String,
}

impl Drop for IndependentServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn server_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("SCIM2_SERVER_BIN") {
        return PathBuf::from(path);
    }
    let in_venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/scim2-server");
    assert!(
        in_venv.exists(),
        "scim2-server is not installed: run `make test` (it installs it into .venv), or set \
         SCIM2_SERVER_BIN to a scim2-server executable"
    );
    in_venv
}

async fn start() -> IndependentServer {
    let port = StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(server_binary())
        .args([
            "--hostname",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--bearer-token",
            TOKEN,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("scim2-server starts");
    let server = IndependentServer {
        child,
        base_url: format!("http://127.0.0.1:{port}/v2"),
    };
    let client = reqwest::Client::new();
    let started = Instant::now();
    loop {
        let probe = client
            .get(format!("{}/ServiceProviderConfig", server.base_url))
            .bearer_auth(TOKEN)
            .send()
            .await;
        if probe.is_ok_and(|r| r.status().is_success()) {
            return server;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "scim2-server did not answer in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn target(server: &IndependentServer, token: &str) -> IntegrationTarget {
    IntegrationTarget {
        workspace: "independent".into(),
        base_url: server.base_url.parse().unwrap(),
        credentials: json!({"token": token}),
    }
}

#[tokio::test]
async fn against_an_independent_scim_server_create_lookup_and_conflict_agree() {
    let server = start().await;
    let connector = connector();
    let target = target(&server, TOKEN);

    connector
        .check(&target)
        .await
        .expect("the integration checks ok");

    let created = provision_stamped(
        &connector,
        &target,
        &account("ada.lovelace"),
        &stamp(),
        false,
    )
    .await
    .unwrap();
    let ProvisionOutcome::Created { external_id } = created else {
        panic!("{created:?}")
    };

    let found = connector
        .find(&target, &account("ada.lovelace"))
        .await
        .unwrap();
    assert_eq!(
        found.as_deref(),
        Some(external_id.as_str()),
        "filter userName eq finds it"
    );
    assert_eq!(
        connector.find(&target, &account("nobody")).await.unwrap(),
        None
    );

    let again = connector
        .create(&target, &account("ada.lovelace"))
        .await
        .unwrap();
    assert!(
        matches!(again, CreateAnswer::Conflict),
        "409 uniqueness: {again:?}"
    );

    let adopted = provision_stamped(
        &connector,
        &target,
        &account("ada.lovelace"),
        &stamp(),
        false,
    )
    .await
    .unwrap();
    assert_eq!(
        adopted,
        ProvisionOutcome::AlreadyExists {
            external_id: external_id.clone()
        }
    );

    let retried = provision_stamped(
        &connector,
        &target,
        &account("ada.lovelace"),
        &stamp(),
        true,
    )
    .await
    .unwrap();
    assert_eq!(retried, ProvisionOutcome::AlreadyExists { external_id });
}

#[tokio::test]
async fn against_an_independent_scim_server_a_wrong_token_is_an_auth_failure() {
    let server = start().await;
    let failure = connector()
        .check(&target(&server, "not-the-token"))
        .await
        .unwrap_err();
    assert!(
        matches!(failure, ConnectorFailure::AuthFailed { .. }),
        "{failure:?}"
    );
}
