//! The console: its files are served outside the JSON API, and people can do in a
//! browser what the product guide describes. The browser scenarios live in
//! `tests/browser/` (node's test runner driving headless Chromium with playwright-core);
//! this test sets up the data they need and runs them against a real app.

use std::path::PathBuf;
use std::process::Command;

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{scim_account, spawn_app};

#[tokio::test]
async fn the_console_and_its_modules_are_served_outside_the_api() {
    let app = spawn_app().await;
    let index = app.client.get(app.url("/")).send().await.unwrap();
    assert_eq!(index.status(), StatusCode::OK);
    assert_eq!(index.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(index.headers()["cache-control"], "no-cache");
    assert!(index.text().await.unwrap().contains("/console/app.js"));

    for (file, content_type) in [
        ("app.js", "text/javascript; charset=utf-8"),
        ("style.css", "text/css; charset=utf-8"),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/console/{file}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{file}");
        assert_eq!(response.headers()["content-type"], content_type);
        assert_eq!(response.headers()["cache-control"], "no-cache");
    }
    let missing = app
        .client
        .get(app.url("/console/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        missing.headers()["content-type"],
        "application/problem+json"
    );
    app.stop().await;
}

#[tokio::test]
async fn people_provision_read_the_log_and_replay_in_a_browser() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let browser_tests = root.join("tests/browser");
    assert!(
        browser_tests.join("node_modules/playwright-core").exists(),
        "run `make test` (or deploy/local/ensure-browser.sh) to install Chromium and playwright-core"
    );
    let app = spawn_app().await;
    app.scim_integration("acme").await;
    app.create_employee("grace@example.com", "Grace", "Hopper")
        .await;

    // An integration whose credentials the service does not accept.
    app.sim.put_workspace("broken", "the-real-token");
    let broken: Value = app
        .post(
            "/v1/integrations",
            &json!({"service": "scim", "workspace": "broken",
                    "base_url": app.sim_base_url("broken"),
                    "credentials": {"token": "a-stale-token"}}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(broken["status"], "error", "{broken}");

    // A request rejected while its integration was in error, since re-integrated: the
    // operators' page replays it.
    let ops = app.scim_integration("ops").await;
    app.sim.put_workspace("ops", "rotated");
    let rejected = app
        .submit(&json!({"integration_id": ops, "account": scim_account("ops-user")}))
        .await;
    assert_eq!(
        app.wait_until_finished(&rejected).await["state"],
        "rejected"
    );
    app.sim.put_workspace("ops", "secret-ops");
    let checked: Value = app
        .post(&format!("/v1/integrations/{ops}/check"), &json!({}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(checked["status"], "ok");

    let screenshots = root.join("target/screenshots");
    std::fs::create_dir_all(&screenshots).unwrap();
    let output = tokio::process::Command::from(browser_command(&browser_tests))
        .env("CONSOLE_URL", &app.address)
        .env("CONSOLE_TOKEN", &app.token)
        .env("SCREENSHOT_DIR", &screenshots)
        .output()
        .await
        .expect("node runs");
    assert!(
        output.status.success(),
        "the browser tests failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );

    // What the browser did is real: accounts at the service, nothing in the broken
    // workspace, the replayed request through.
    assert_eq!(app.sim.stats("acme").unwrap().accounts, 2);
    assert_eq!(app.sim.stats("broken").unwrap().accounts, 0);
    assert_eq!(
        app.wait_until_finished(&rejected).await["state"],
        "succeeded"
    );
    app.stop().await;
}

fn browser_command(dir: &std::path::Path) -> Command {
    let mut command = Command::new("node");
    command
        .arg("--test")
        .arg("--test-reporter=spec")
        .arg(dir)
        .current_dir(dir);
    command
}
