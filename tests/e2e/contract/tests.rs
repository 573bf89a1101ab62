//! The checker itself: it must see a breach, or it proves nothing.

#![cfg(test)]

use serde_json::json;

use super::spec::{openapi, Verdict};
use super::Findings;

#[test]
fn a_body_that_breaks_its_schema_is_named_with_operation_and_status() {
    let body = json!({"status": 42}).to_string();
    let verdict = openapi().check(
        "GET",
        "/healthz",
        200,
        Some("application/json"),
        body.as_bytes(),
    );
    let Verdict::Invalid(breach) = verdict else {
        panic!("a wrong health body passed: {verdict:?}");
    };
    assert!(breach.starts_with("GET /healthz answered 200"), "{breach}");
}

#[test]
fn a_body_that_keeps_its_schema_passes() {
    let body = json!({"status": "ok"}).to_string();
    let verdict = openapi().check(
        "GET",
        "/healthz",
        200,
        Some("application/json"),
        body.as_bytes(),
    );
    assert_eq!(
        verdict,
        Verdict::Valid {
            operation: "GET /healthz".into()
        }
    );
}

#[test]
fn a_status_the_operation_does_not_list_is_a_breach() {
    let verdict = openapi().check("GET", "/healthz", 418, Some("application/json"), b"{}");
    assert!(matches!(verdict, Verdict::Invalid(_)), "{verdict:?}");
}

#[test]
fn a_problem_missing_its_fields_is_a_breach_through_a_shared_response() {
    let id = uuid::Uuid::new_v4();
    let verdict = openapi().check(
        "GET",
        &format!("/v1/employees/{id}"),
        404,
        Some("application/problem+json"),
        json!({"title": "Not found"}).to_string().as_bytes(),
    );
    let Verdict::Invalid(breach) = verdict else {
        panic!("a problem without type and status passed: {verdict:?}");
    };
    assert!(
        breach.contains("GET /v1/employees/{id} answered 404"),
        "{breach}"
    );
}

#[test]
fn a_literal_path_is_not_taken_for_an_id() {
    let verdict = openapi().check(
        "POST",
        "/v1/provisioning-rules/test",
        200,
        Some("application/json"),
        b"{}",
    );
    let Verdict::Invalid(breach) = verdict else {
        panic!("an empty dry run passed: {verdict:?}");
    };
    assert!(
        breach.starts_with("POST /v1/provisioning-rules/test"),
        "{breach}"
    );
}

#[test]
fn the_wrong_content_type_is_a_breach() {
    let body = json!({"status": "ok"}).to_string();
    let verdict = openapi().check("GET", "/healthz", 200, Some("text/html"), body.as_bytes());
    assert!(matches!(verdict, Verdict::Invalid(_)), "{verdict:?}");
}

#[test]
fn paths_outside_the_spec_are_not_judged() {
    let verdict = openapi().check("GET", "/console", 200, Some("text/html"), b"<html>");
    assert_eq!(verdict, Verdict::Unspecified);
}

#[test]
fn a_recorded_breach_fails_the_check_and_an_event_off_its_schema_is_one() {
    let findings = Findings::default();
    let exchanges = ["r".to_owned(), "results".to_owned(), "hr".to_owned()];
    let verdict = super::events::check(&exchanges, "results", br#"{"specversion": "1.0"}"#);
    assert!(verdict.is_err(), "an incomplete result event passed");
    findings.record_event("results", verdict);
    let kept = std::panic::catch_unwind(|| findings.assert_kept());
    assert!(kept.is_err(), "the breach did not fail the check");
}

#[test]
fn a_body_the_spec_refuses_is_named_when_the_api_takes_it() {
    let breach = super::proxy::accepted_off_spec(
        "POST",
        "/v1/employees",
        json!({"given_name": "Ada", "family_name": "Lovelace"})
            .to_string()
            .as_bytes(),
    );
    let breach = breach.expect("a hire without an email passed the spec");
    assert!(
        breach.contains("\"email\" is a required property"),
        "{breach}"
    );
    let kept = super::proxy::accepted_off_spec(
        "POST",
        "/v1/employees",
        json!({"email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(kept, None);
}
