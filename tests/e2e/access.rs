//! Every endpoint × every scope × own or other tenant's resources, each cell with the
//! status it must answer. The scopes each endpoint accepts are written here from the
//! public contract, independently of the code.

use provisioner_core::Scope;
use provisioner_hr_intake::signature::sign;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

mod resources;

use crate::helpers::{scim_account, spawn_app};
use resources::resources;

#[derive(Clone, Copy, PartialEq)]
enum Whose {
    Own,
    Other,
}

/// One row: method, path, body, the scopes that may call it, and what a caller with one
/// of them gets for its own tenant's ids.
type Cell = (Method, String, Value, Vec<Scope>, Vec<u16>);

#[tokio::test]
async fn every_endpoint_answers_each_scope_and_tenant_as_the_contract_says() {
    let app = spawn_app().await;
    let own = resources(&app, &app.token, "own").await;
    let other_tenant = app.store.create_tenant("Other").await.unwrap();
    let other_token = app
        .store
        .create_token(other_tenant, &Scope::ALL)
        .await
        .unwrap()
        .token;
    let other = resources(&app, &other_token, "other").await;
    let (_, secret) = app.store.create_hr_secret(app.tenant_id).await.unwrap();
    app.wait_until_finished(&own.request).await;

    use Scope::*;
    let mut cells = 0;
    for scope in Scope::ALL {
        let token = app
            .store
            .create_token(app.tenant_id, &[scope])
            .await
            .unwrap()
            .token;
        for whose in [Whose::Own, Whose::Other] {
            let ids = if whose == Whose::Own { &own } else { &other };
            let n = cells;
            let table: Vec<Cell> = vec![
                (
                    Method::GET,
                    "/v1/services".into(),
                    Value::Null,
                    Scope::ALL.to_vec(),
                    vec![200],
                ),
                (
                    Method::GET,
                    "/v1/integrations".into(),
                    Value::Null,
                    vec![IntegrationsAdmin, RequestsWrite],
                    vec![200],
                ),
                (
                    Method::POST,
                    "/v1/integrations".into(),
                    json!({"service": "salesforce", "workspace": format!("w{n}"), "credentials": {}}),
                    vec![IntegrationsAdmin],
                    vec![201],
                ),
                (
                    Method::GET,
                    format!("/v1/integrations/{}", ids.integration),
                    Value::Null,
                    vec![IntegrationsAdmin, RequestsWrite],
                    vec![200],
                ),
                (
                    Method::POST,
                    format!("/v1/integrations/{}/check", ids.integration),
                    json!({}),
                    vec![IntegrationsAdmin],
                    vec![200],
                ),
                (
                    Method::GET,
                    "/v1/employees".into(),
                    Value::Null,
                    vec![RequestsWrite],
                    vec![200],
                ),
                (
                    Method::POST,
                    "/v1/employees".into(),
                    json!({"email": format!("e{n}@example.com"), "given_name": "E", "family_name": "F"}),
                    vec![RequestsWrite],
                    vec![201],
                ),
                (
                    Method::GET,
                    format!("/v1/employees/{}", ids.employee),
                    Value::Null,
                    vec![RequestsWrite],
                    vec![200],
                ),
                (
                    Method::GET,
                    format!("/v1/employees/{}/accounts", ids.employee),
                    Value::Null,
                    vec![RequestsRead],
                    vec![200],
                ),
                (
                    Method::GET,
                    "/v1/accounts".into(),
                    Value::Null,
                    vec![RequestsRead],
                    vec![200],
                ),
                (
                    Method::GET,
                    format!("/v1/accounts/{}", ids.account),
                    Value::Null,
                    vec![RequestsRead],
                    vec![200],
                ),
                (
                    Method::GET,
                    "/v1/provisioning-requests".into(),
                    Value::Null,
                    vec![RequestsRead],
                    vec![200],
                ),
                (
                    Method::POST,
                    "/v1/provisioning-requests".into(),
                    json!({"integration_id": ids.integration, "account": scim_account(&format!("cell{n}"))}),
                    vec![RequestsWrite],
                    vec![202],
                ),
                (
                    Method::GET,
                    format!("/v1/provisioning-requests/{}", ids.request),
                    Value::Null,
                    vec![RequestsRead],
                    vec![200],
                ),
                (
                    Method::POST,
                    format!("/v1/provisioning-requests/{}/replay", ids.request),
                    json!({}),
                    vec![Operator],
                    vec![409],
                ),
                (
                    Method::POST,
                    "/v1/replays".into(),
                    json!({"filter": {"state": "dead"}, "dry_run": true}),
                    vec![Operator],
                    vec![200],
                ),
                (
                    Method::GET,
                    "/v1/integration-log".into(),
                    Value::Null,
                    vec![LogRead],
                    vec![200],
                ),
                (
                    Method::GET,
                    "/v1/provisioning-rules".into(),
                    Value::Null,
                    vec![IntegrationsAdmin],
                    vec![200],
                ),
                (
                    Method::POST,
                    "/v1/provisioning-rules".into(),
                    json!({"name": format!("r{n}"), "targets": [{"integration_id": ids.integration}]}),
                    vec![IntegrationsAdmin],
                    vec![201],
                ),
                (
                    Method::POST,
                    "/v1/provisioning-rules/test".into(),
                    json!({"employee": {"email": "t@example.com", "given_name": "T", "family_name": "U"}}),
                    vec![IntegrationsAdmin],
                    vec![200],
                ),
                (
                    Method::POST,
                    "/v1/hr/signing-secrets".into(),
                    json!({}),
                    vec![TokensAdmin],
                    vec![201],
                ),
                (
                    Method::GET,
                    "/v1/tokens".into(),
                    Value::Null,
                    vec![TokensAdmin],
                    vec![200],
                ),
                (
                    Method::POST,
                    "/v1/tokens".into(),
                    json!({"scopes": ["log:read"]}),
                    vec![TokensAdmin],
                    vec![201],
                ),
            ];
            for (method, path, body, allowed, success) in table {
                let mut request = app
                    .client
                    .request(method.clone(), app.url(&path))
                    .bearer_auth(&token);
                if !body.is_null() {
                    request = request.json(&body);
                }
                let status = request.send().await.unwrap().status().as_u16();
                let names_other = whose == Whose::Other
                    && (path.contains(&other.integration)
                        || path.contains(&other.employee)
                        || path.contains(&other.request)
                        || path.contains(&other.account)
                        || body.to_string().contains(&other.integration));
                let expected: Vec<u16> = if !allowed.contains(&scope) {
                    vec![403]
                } else if names_other
                    && method == Method::POST
                    && !path.contains(&other.request)
                    && !path.contains(&other.integration)
                {
                    vec![422] // a body naming another tenant's integration: as if it did not exist
                } else if names_other {
                    vec![404]
                } else {
                    success
                };
                assert!(
                    expected.contains(&status),
                    "{method} {path} with {} ({}) answered {status}, expected {expected:?}",
                    scope.as_str(),
                    if whose == Whose::Own {
                        "own"
                    } else {
                        "other tenant's"
                    }
                );
                cells += 1;
            }
            // The signed webhook: the scope first, then the signature.
            let event = json!({"specversion": "1.0", "id": format!("evt-{n}-{whose:?}", whose = whose as u8), "source": "s",
                "type": "com.provisioner.hr.employee.hired",
                "data": {"employee": {"email": format!("h{n}@example.com"), "given_name": "H", "family_name": "I"}}}).to_string();
            let now = chrono::Utc::now().timestamp();
            let status = app
                .client
                .post(app.url("/v1/hr/events"))
                .bearer_auth(&token)
                .header("webhook-id", format!("msg_{n}"))
                .header("webhook-timestamp", now.to_string())
                .header(
                    "webhook-signature",
                    sign(&secret, &format!("msg_{n}"), now, event.as_bytes()),
                )
                .body(event)
                .send()
                .await
                .unwrap()
                .status();
            let expected = if scope == HrEvents {
                StatusCode::ACCEPTED
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(status, expected, "hr events with {}", scope.as_str());
            cells += 1;
        }
        // Revoking and deleting consume what they name, so each cell gets its own.
        let fresh_token = app
            .store
            .create_token(app.tenant_id, &[LogRead])
            .await
            .unwrap();
        let others_token = app
            .store
            .create_token(other_tenant, &[LogRead])
            .await
            .unwrap();
        for (id, own_status) in [(fresh_token.id, 204), (others_token.id, 404)] {
            let status = app
                .client
                .delete(app.url(&format!("/v1/tokens/{id}")))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            let expected = if scope == TokensAdmin {
                own_status
            } else {
                403
            };
            assert_eq!(
                status,
                expected,
                "DELETE /v1/tokens with {}",
                scope.as_str()
            );
            cells += 1;
        }
        let own_rule: Value = app
            .post(
                "/v1/provisioning-rules",
                &json!({"name": "x", "targets": [{"integration_id": own.integration}]}),
            )
            .await
            .json()
            .await
            .unwrap();
        let other_rule: Value = app
            .post_as(
                "/v1/provisioning-rules",
                &json!({"name": "x", "targets": [{"integration_id": other.integration}]}),
                &other_token,
            )
            .await
            .json()
            .await
            .unwrap();
        for (rule, own_status) in [(&own_rule, 204), (&other_rule, 404)] {
            let path = format!("/v1/provisioning-rules/{}", rule["id"].as_str().unwrap());
            let status = app
                .client
                .delete(app.url(&path))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16();
            let expected = if scope == IntegrationsAdmin {
                own_status
            } else {
                403
            };
            assert_eq!(status, expected, "DELETE {path} with {}", scope.as_str());
            cells += 1;
        }
    }
    assert_eq!(cells, 7 * (2 * 24 + 4), "every cell was checked");
    app.stop().await;
}
