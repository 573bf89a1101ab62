//! An HR system signing with the Standard Webhooks reference library is understood as it
//! is: the webhook verifies what the specification signs, `id.timestamp.body`.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{count_requests, spawn_app};
use crate::hr::{engineering_rule, hire, signing_secret};

/// What an HR system using the Standard Webhooks library for Python (`standardwebhooks`
/// from PyPI, installed into `.venv` by `make test`) sends for `body` as message `id`.
fn signed_by_the_reference_library(secret: &str, id: &str, timestamp: i64, body: &str) -> String {
    let python =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python");
    let script = "import sys, datetime\n\
        from standardwebhooks import Webhook\n\
        secret, msg_id, ts, body = sys.argv[1:]\n\
        at = datetime.datetime.fromtimestamp(int(ts), tz=datetime.timezone.utc)\n\
        print(Webhook(secret).sign(msg_id, at, body))";
    let output = std::process::Command::new(&python)
        .args(["-c", script, secret, id, &timestamp.to_string(), body])
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "{} does not run ({error}): run deploy/local/ensure-standardwebhooks.sh \
                 (make test does)",
                python.display()
            )
        });
    assert!(
        output.status.success(),
        "standardwebhooks did not sign: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn a_hire_signed_with_the_standard_webhooks_library_is_accepted_and_a_wrong_id_is_not() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    engineering_rule(&app, &integration_id).await;
    let secret = signing_secret(&app).await;
    let now = chrono::Utc::now().timestamp();
    let send = |id: &'static str, event: Value, signature: String| {
        let body = event.to_string();
        app.client
            .post(app.url("/v1/hr/events"))
            .bearer_auth(&app.token)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", now.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
    };

    let event = hire("hire-sw-1", "grace@example.com", "Engineering");
    let signature = signed_by_the_reference_library(&secret, "msg_sw_1", now, &event.to_string());
    let accepted = send("msg_sw_1", event, signature).await.unwrap();
    assert_eq!(accepted.status(), StatusCode::ACCEPTED);
    let accepted: Value = accepted.json().await.unwrap();
    assert_eq!(accepted["requests_queued"], 1);

    // The id is signed: the same signature presented for another message is refused.
    let event = hire("hire-sw-2", "alan@example.com", "Engineering");
    let signature = signed_by_the_reference_library(&secret, "msg_sw_2", now, &event.to_string());
    let refused = send("msg_sw_other", event, signature).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    let problem: Value = refused.json().await.unwrap();
    assert_eq!(
        problem["detail"],
        "no signature matches a signing secret of this tenant"
    );
    assert_eq!(count_requests(&app).await, 1);
    app.stop().await;
}
