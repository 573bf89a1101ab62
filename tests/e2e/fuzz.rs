//! schemathesis (PyPI; `make test` installs the version pinned in
//! `deploy/local/ensure-schemathesis.sh` into `.venv`) against the running api: every
//! check, and its stateful phase, which follows the spec's OpenAPI links from each
//! create operation to the operations on the id it answers. Cases nobody wrote by hand
//! hold the spec to the code, and the contract proxy of `spawn_app` checks every answer
//! on its way as well. Where a body valid by the spec may still be refused, and why,
//! `tests/e2e/schemathesis.toml` says, operation by operation.

use std::path::PathBuf;
use std::process::Command;

use serde_json::{json, Value};

use crate::helpers::spawn_app_tuned;

/// Fixed, so a failure found once is found again on the next run.
const SEED: &str = "1";
/// Cases per operation and phase: ~1,800 requests in all, about half a minute on a
/// loaded machine.
const MAX_EXAMPLES: &str = "20";

fn repository(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

#[tokio::test]
async fn schemathesis_finds_no_disagreement_between_the_spec_and_the_api() {
    let schemathesis = repository(".venv/bin/schemathesis");
    assert!(
        schemathesis.exists(),
        "schemathesis is not installed: run `make test` (it installs it into .venv), or \
         deploy/local/ensure-schemathesis.sh"
    );
    // The fuzzer chooses base URLs, and the integration check calls them: nothing the
    // app calls may be off this machine.
    let app = spawn_app_tuned(|settings| settings.loopback_only = true).await;
    // Where schemathesis may leave files of its own, out of the repository.
    let scratch = std::env::temp_dir().join(format!("provisioner-fuzz-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).expect("a scratch directory");
    let mut command = Command::new(&schemathesis);
    command
        .current_dir(&scratch)
        // Where a schema-valid body may still be refused, and why.
        .arg("--config-file")
        .arg(repository("tests/e2e/schemathesis.toml"))
        .arg("run")
        .arg(repository("schemas/openapi.yaml"))
        .args(["--url", &app.address])
        .args(["--header", &format!("Authorization: Bearer {}", app.token)])
        .args(["--checks", "all"])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--seed", SEED, "--max-examples", MAX_EXAMPLES])
        // A webhook must carry a Standard Webhooks signature over its exact body, which
        // schemathesis cannot compute; tests/e2e/hr.rs signs hostile and valid events
        // with the reference library instead.
        .args(["--exclude-operation-id", "receiveHrEvent"])
        .args(["--generation-database", "none", "--request-timeout", "20"])
        .args(["--no-color", "--output-truncate", "false"]);
    // Loopback only: no proxy may stand between schemathesis and the api.
    for proxy in [
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ] {
        command.env_remove(proxy);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("schemathesis runs to its end")
        .expect("schemathesis starts");
    let _ = std::fs::remove_dir_all(&scratch);
    let report = String::from_utf8_lossy(&output.stdout);
    // Its summary (cases, warnings), for whoever runs the test with --no-capture.
    println!("{report}");
    assert!(
        output.status.success(),
        "schemathesis reports failures:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    app.stop().await;
}

#[tokio::test]
async fn the_fuzzers_app_refuses_a_public_base_url_and_still_reaches_the_simulator() {
    let app = spawn_app_tuned(|settings| settings.loopback_only = true).await;
    // A literal public address: refused before any connection is tried, so this test
    // sends nothing off the machine either.
    let response = app
        .post(
            "/v1/integrations",
            &json!({
                "service": "scim",
                "workspace": "outside",
                "base_url": "https://93.184.216.34/scim/v2",
                "credentials": {"token": "secret-outside"},
            }),
        )
        .await;
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "error", "{body}");
    let reason = body["status_reason"].as_str().unwrap_or_default();
    assert!(reason.contains("not a loopback address"), "{body}");
    // The simulator listens on loopback, so the app's own integrations still work.
    app.scim_integration("inside").await;
    app.stop().await;
}
