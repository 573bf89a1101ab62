use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_log_lists_one_entry_per_outcome_newest_first_with_filters_and_pages() {
    let app = spawn_app().await;
    let acme = app.scim_integration("acme").await;
    let globex = app.scim_integration("globex").await;
    let employee = app
        .create_employee("ada@example.com", "Ada", "Lovelace")
        .await;

    let mut ids = Vec::new();
    for (integration, account) in [
        (&acme, json!({"user_name": "first"})),
        (&acme, json!({"user_name": "not valid"})),
        (&globex, json!({"user_name": "third"})),
    ] {
        let id = app
            .submit(&json!({"integration_id": integration, "employee_id": employee, "account": account}))
            .await;
        app.wait_until_finished(&id).await;
        app.wait_for_log_entry(&id).await;
        ids.push(id);
    }

    let all = app.log_entries("?action=Create").await;
    let listed: Vec<&str> = all
        .iter()
        .map(|e| e["request_id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [&ids[2], &ids[1], &ids[0]], "newest first");

    let failures = app.log_entries("?action=create&status=failure").await;
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0]["request_id"], ids[1].as_str());
    assert!(failures[0]["cause"].as_str().unwrap().contains("not valid"));

    assert_eq!(
        app.log_entries(&format!("?integration_id={globex}"))
            .await
            .len(),
        1
    );
    assert_eq!(app.log_entries("?service=scim").await.len(), 3);
    assert_eq!(app.log_entries("?service=slack").await.len(), 0);
    assert_eq!(
        app.log_entries(&format!("?employee_id={employee}"))
            .await
            .len(),
        3
    );
    assert_eq!(
        app.log_entries(&format!("?request_id={}", ids[0]))
            .await
            .len(),
        1
    );
    let newest = all[0]["at"].as_str().unwrap();
    let older = app.log_entries(&format!("?to={}", urlencode(newest))).await;
    assert_eq!(older.len(), 2, "`to` excludes the entry at that instant");
    assert_eq!(
        app.log_entries(&format!("?from={}", urlencode(newest)))
            .await
            .len(),
        1
    );

    let page: Value = app
        .get("/v1/integration-log?limit=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["entries"].as_array().unwrap().len(), 2);
    let cursor = page["next_cursor"].as_str().expect("a next page");
    let rest: Value = app
        .get(&format!("/v1/integration-log?limit=2&cursor={cursor}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rest["entries"].as_array().unwrap().len(), 1);
    assert_eq!(rest["entries"][0]["request_id"], ids[0].as_str());
    assert!(rest.get("next_cursor").is_none());
    app.stop().await;
}

#[tokio::test]
async fn bad_log_filters_are_refused_with_the_parameter_named() {
    let app = spawn_app().await;
    for (query, parameter) in [
        ("?action=delete", "action"),
        ("?status=maybe", "status"),
        ("?limit=0", "limit"),
        ("?limit=many", "limit"),
        ("?cursor=garbage", "cursor"),
        ("?from=yesterday", "from"),
        ("?integration_id=42", "integration_id"),
        ("?colour=blue", "colour"),
    ] {
        let response = app.get(&format!("/v1/integration-log{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{query}"
        );
        let problem: Value = response.json().await.unwrap();
        assert_eq!(
            problem["errors"][0]["field"], parameter,
            "{query}: {problem}"
        );
    }
    app.stop().await;
}

fn urlencode(raw: &str) -> String {
    raw.replace(':', "%3A").replace('+', "%2B")
}
