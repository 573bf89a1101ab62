//! What happens below HTTP answers: time limits, refused connections, forbidden
//! addresses, oversized bodies.

use std::time::Duration;

use provisioner_connectors::{
    Connector, HttpClient, HttpOptions, IntegrationTarget, ScimConnector,
};
use provisioner_core::ConnectorFailure;
use provisioner_sim::Faults;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::helpers::*;

#[tokio::test]
async fn a_slow_service_is_transient_and_names_the_time_limit() {
    let saas = Saas::spawn().await;
    saas.faults(Faults {
        latency_ms: 1_000,
        ..Faults::default()
    });
    let options = HttpOptions {
        timeout: Duration::from_millis(200),
        ..loopback_options()
    };
    let connector = ScimConnector::new(HttpClient::with_options(options).unwrap());
    let failure = connector.check(&saas.target(TOKEN)).await.unwrap_err();
    let ConnectorFailure::Transient { cause } = failure else {
        panic!("{failure:?}")
    };
    assert!(cause.contains("did not answer within 200ms"), "{cause}");
}

#[tokio::test]
async fn a_closed_port_is_transient_and_says_it_could_not_connect() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let target = IntegrationTarget {
        workspace: "acme".into(),
        base_url: format!("http://{address}/scim/acme/v2").parse().unwrap(),
        credentials: json!({"token": TOKEN}),
    };
    let failure = connector().check(&target).await.unwrap_err();
    let ConnectorFailure::Transient { cause } = failure else {
        panic!("{failure:?}")
    };
    assert!(
        cause.starts_with("could not connect to 127.0.0.1"),
        "{cause}"
    );
}

#[tokio::test]
async fn private_addresses_are_refused_by_default_without_calling_them() {
    let saas = Saas::spawn().await;
    let connector = ScimConnector::new(HttpClient::new().unwrap());
    let by_address = connector.check(&saas.target(TOKEN)).await.unwrap_err();
    assert_eq!(by_address.code(), "address_not_allowed", "{by_address:?}");

    let mut by_name = saas.target(TOKEN);
    by_name.base_url.set_host(Some("localhost")).unwrap();
    let failure = connector.check(&by_name).await.unwrap_err();
    assert_eq!(failure.code(), "address_not_allowed", "{failure:?}");
    assert!(failure
        .to_string()
        .contains("PROVISIONER_ALLOW_PRIVATE_NETWORKS"));
    assert_eq!(saas.sim.stats("acme").unwrap().calls, 0);
}

#[tokio::test]
async fn an_answer_larger_than_the_cap_is_a_failure_not_a_memory_blowup() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = stream.read(&mut request).await;
        let body = format!(
            "{{\"Resources\": [], \"padding\": \"{}\"}}",
            "x".repeat(8192)
        );
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/scim+json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let _ = stream.write_all(head.as_bytes()).await;
        let _ = stream.write_all(body.as_bytes()).await;
    });
    let options = HttpOptions {
        max_body_bytes: 1024,
        ..loopback_options()
    };
    let connector = ScimConnector::new(HttpClient::with_options(options).unwrap());
    let target = IntegrationTarget {
        workspace: "acme".into(),
        base_url: format!("http://{address}/scim/v2").parse().unwrap(),
        credentials: json!({"token": TOKEN}),
    };
    let failure = connector.find(&target, &account("ada")).await.unwrap_err();
    let ConnectorFailure::Transient { cause } = failure else {
        panic!("{failure:?}")
    };
    assert!(cause.contains("larger than 1024 bytes"), "{cause}");
}
