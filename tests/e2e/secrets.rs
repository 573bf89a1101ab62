use std::process::Command;

use provisioner_store::{Keyring, Store};
use serde_json::{json, Value};
use sqlx::Connection;

use crate::helpers::{scim_account, spawn_app, TestApp};

const K1: &str = "k1:AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
const K2: &str = "k2:AgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgI=";

async fn raw_row(
    app: &TestApp,
    integration_id: &str,
) -> (Option<Value>, Option<Vec<u8>>, Option<String>) {
    let mut connection = sqlx::PgConnection::connect(&app.settings.database_url)
        .await
        .unwrap();
    sqlx::query_as(
        "SELECT credentials, sealed_credentials, credentials_key FROM integrations WHERE id = $1",
    )
    .bind(uuid::Uuid::parse_str(integration_id).unwrap())
    .fetch_one(&mut connection)
    .await
    .unwrap()
}

fn store_with(app: &TestApp, keys: &str) -> Store {
    Store::connect_lazy(&app.settings.database_url, 2)
        .unwrap()
        .with_keyring(Keyring::parse(keys).unwrap())
}

#[tokio::test]
async fn credentials_are_sealed_at_rest_and_never_returned() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;

    let (plain, sealed, key) = raw_row(&app, &integration_id).await;
    assert_eq!(plain, None, "no plaintext column value");
    let sealed = sealed.expect("sealed credentials");
    assert!(!sealed
        .windows(b"secret-acme".len())
        .any(|w| w == b"secret-acme"));
    assert_eq!(key.as_deref(), Some(provisioner_store::DEVELOPMENT_KEY_ID));

    let listed = app.get("/v1/integrations").await.text().await.unwrap();
    assert!(!listed.contains("secret-acme"));
    let id = app
        .submit(&json!({"integration_id": integration_id, "account": scim_account("ada")}))
        .await;
    assert_eq!(
        app.wait_until_finished(&id).await["state"],
        "succeeded",
        "the worker opens them"
    );
    app.stop().await;
}

#[tokio::test]
async fn keys_rotate_and_a_row_whose_key_is_gone_reads_as_in_error() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let id = integration_id.parse().unwrap();

    let rotated = store_with(
        &app,
        &format!("{K2},{K1},development:cHJvdmlzaW9uZXItZGV2ZWxvcG1lbnQta2V5LTAwMDE="),
    );
    assert_eq!(rotated.seal_credentials().await.unwrap(), 1);
    assert_eq!(
        raw_row(&app, &integration_id).await.2.as_deref(),
        Some("k2")
    );
    assert_eq!(
        rotated.seal_credentials().await.unwrap(),
        0,
        "nothing left to reseal"
    );

    let only_k2 = store_with(&app, K2);
    let opened = only_k2
        .integration(app.tenant_id, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(opened.credentials, json!({"token": "secret-acme"}));

    let only_k1 = store_with(&app, K1);
    let unopened = only_k1
        .integration(app.tenant_id, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(unopened.status, "error");
    assert!(unopened.status_reason.unwrap().contains("re-integrate"));
    assert!(unopened.credentials.is_null());
    app.stop().await;
}

#[tokio::test]
async fn migrate_seals_credentials_stored_before_sealing_existed() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let mut connection = sqlx::PgConnection::connect(&app.settings.database_url)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE integrations SET credentials = '{\"token\": \"secret-acme\"}',
             sealed_credentials = NULL, credentials_key = NULL WHERE id = $1",
    )
    .bind(uuid::Uuid::parse_str(&integration_id).unwrap())
    .execute(&mut connection)
    .await
    .unwrap();

    let migrate = Command::new(env!("CARGO_BIN_EXE_provisioner"))
        .arg("migrate")
        .env("DATABASE_URL", &app.settings.database_url)
        .env("PROVISIONER_CREDENTIAL_KEYS", K1)
        .output()
        .unwrap();
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    let logged = String::from_utf8_lossy(&migrate.stderr);
    assert!(
        !logged.contains("secret-acme") && !logged.contains(&K1[3..]),
        "no secret in the logs"
    );

    let (plain, sealed, key) = raw_row(&app, &integration_id).await;
    assert_eq!(plain, None);
    assert!(sealed.is_some());
    assert_eq!(key.as_deref(), Some("k1"));
    let opened = store_with(&app, K1)
        .integration(app.tenant_id, integration_id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(opened.credentials, json!({"token": "secret-acme"}));
    app.stop().await;
}
