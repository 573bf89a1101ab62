//! The inventory: every account provisioner made is listed once, with whose it is and
//! where, whatever redeliveries and second requests for it do.

use provisioner_core::event::RequestMessage;
use provisioner_core::trace::TraceParent;
use provisioner_core::Scope;
use provisioner_sim::Faults;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{scim_account, spawn_app, TestApp};

async fn json_of(app: &TestApp, path: &str) -> Value {
    let response = app.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    response.json().await.unwrap()
}

async fn items(app: &TestApp, query: &str) -> Vec<Value> {
    json_of(app, &format!("/v1/accounts{query}")).await["items"]
        .as_array()
        .cloned()
        .unwrap()
}

/// Provisions `user_name` and returns the finished request, asserting it succeeded.
async fn provisioned(app: &TestApp, integration_id: &str, body: Value) -> Value {
    let mut body = body;
    body["integration_id"] = json!(integration_id);
    let id = app.submit(&body).await;
    let request = app.wait_until_finished(&id).await;
    assert_eq!(request["state"], "succeeded", "{request}");
    request
}

#[tokio::test]
async fn a_created_account_is_listed_once_with_its_employee_and_the_request_names_it() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let employee = app
        .create_employee("ada@example.com", "Ada", "Lovelace")
        .await;
    let request = provisioned(&app, &integration_id, json!({"employee_id": employee})).await;

    let accounts = items(&app, "").await;
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    let account = &accounts[0];
    assert_eq!(request["action"], "create");
    assert_eq!(request["account_id"], account["id"], "{request}");
    assert_eq!(account["integration_id"], integration_id.as_str());
    assert_eq!(account["service"], "scim");
    assert_eq!(account["workspace"], "acme");
    assert_eq!(account["employee_id"], employee.as_str());
    assert_eq!(
        account["external_account_id"],
        request["external_account_id"]
    );
    assert_eq!(
        account["external_account_id"],
        app.sim.users("acme").unwrap()[0]["id"]
    );
    assert_eq!(account["target"], request["target"]);
    assert_eq!(account["state"], "active");
    assert_eq!(account["origin"], "created");

    let id = account["id"].as_str().unwrap();
    assert_eq!(json_of(&app, &format!("/v1/accounts/{id}")).await, *account);
    let of_employee = json_of(&app, &format!("/v1/employees/{employee}/accounts")).await;
    assert_eq!(of_employee, json!({"items": [account]}));
    let listed = json_of(&app, "/v1/provisioning-requests").await;
    assert_eq!(listed["items"][0]["account_id"], account["id"]);
    assert_eq!(listed["items"][0]["action"], "create");
    app.stop().await;
}

#[tokio::test]
async fn a_redelivered_success_and_a_second_request_for_the_account_add_no_row() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let first = provisioned(
        &app,
        &integration_id,
        json!({"account": scim_account("ada")}),
    )
    .await;
    app.wait_for_log_entry(first["id"].as_str().unwrap()).await;

    // The broker hands the finished request out again, as after a lost ack.
    let publisher = provisioner_broker::Publisher::new(
        app.settings.amqp_url.clone(),
        "test-redelivery",
        provisioner::startup::topology(&app.settings),
    );
    let message = RequestMessage {
        tenant_id: app.tenant_id,
        request_id: first["id"].as_str().unwrap().parse().unwrap(),
    };
    for _ in 0..2 {
        publisher
            .publish_request(&message, "scim", &TraceParent::new_root())
            .await
            .unwrap();
    }
    // Another request for the same person meets the conflict, finds the account by
    // lookup and names the row already there. Deliveries are handed out in order, so
    // once it ended the duplicates ahead of it have been taken.
    let second = provisioned(
        &app,
        &integration_id,
        json!({"account": scim_account("ada")}),
    )
    .await;
    publisher.close().await;

    assert_eq!(app.sim.stats("acme").unwrap().accounts, 1);
    assert_eq!(second["external_account_id"], first["external_account_id"]);
    assert_eq!(second["account_id"], first["account_id"], "{second}");
    let accounts = items(&app, "").await;
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    assert_eq!(accounts[0]["id"], first["account_id"]);
    app.stop().await;
}

#[tokio::test]
async fn a_create_whose_answer_was_lost_is_recorded_once_as_found_by_lookup() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let faults = Faults {
        lose_next_create_responses: 1,
        ..Faults::default()
    };
    app.sim.set_faults("acme", faults).unwrap();
    let request = provisioned(
        &app,
        &integration_id,
        json!({"account": scim_account("ada")}),
    )
    .await;
    assert_eq!(request["attempts"], 2);

    let accounts = items(&app, "").await;
    assert_eq!(accounts.len(), 1, "{accounts:?}");
    assert_eq!(
        accounts[0]["origin"], "created",
        "provisioner's own account"
    );
    let id: provisioner_core::AccountId = accounts[0]["id"].as_str().unwrap().parse().unwrap();
    let stored = app.store.account(app.tenant_id, id).await.unwrap().unwrap();
    assert_eq!(stored.found_by_lookup, Some(true));
    app.stop().await;
}

#[tokio::test]
async fn accounts_are_filtered_and_paged_newest_first() {
    let app = spawn_app().await;
    let acme = app.scim_integration("acme").await;
    let globex = app.scim_integration("globex").await;
    let employee = app
        .create_employee("ada@example.com", "Ada", "Lovelace")
        .await;
    let mut made = Vec::new();
    for (integration, body) in [
        (&acme, json!({"employee_id": employee})),
        (&acme, json!({"account": scim_account("bob")})),
        (&globex, json!({"account": scim_account("cy")})),
    ] {
        made.push(provisioned(&app, integration, body).await["account_id"].clone());
    }

    let ids = |accounts: Vec<Value>| -> Vec<Value> {
        accounts.into_iter().map(|a| a["id"].clone()).collect()
    };
    assert_eq!(
        ids(items(&app, "").await),
        [made[2].clone(), made[1].clone(), made[0].clone()]
    );
    assert_eq!(
        ids(items(&app, &format!("?integration_id={acme}")).await),
        [made[1].clone(), made[0].clone()]
    );
    assert_eq!(
        ids(items(&app, &format!("?employee_id={employee}")).await),
        [made[0].clone()]
    );
    assert_eq!(items(&app, "?service=scim&state=active").await.len(), 3);
    assert!(items(&app, "?service=slack").await.is_empty());
    assert!(items(&app, "?state=suspended").await.is_empty());

    let first = json_of(&app, "/v1/accounts?limit=2").await;
    assert_eq!(
        ids(first["items"].as_array().cloned().unwrap()),
        [made[2].clone(), made[1].clone()]
    );
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a full page has a next one");
    let second = json_of(&app, &format!("/v1/accounts?limit=2&cursor={cursor}")).await;
    assert_eq!(
        ids(second["items"].as_array().cloned().unwrap()),
        [made[0].clone()]
    );
    assert!(second.get("next_cursor").is_none(), "{second}");
    app.stop().await;
}

#[tokio::test]
async fn another_tenants_account_and_an_unknown_one_answer_404() {
    let app = spawn_app().await;
    let integration_id = app.scim_integration("acme").await;
    let employee = app
        .create_employee("ada@example.com", "Ada", "Lovelace")
        .await;
    let request = provisioned(&app, &integration_id, json!({"employee_id": employee})).await;
    let account = request["account_id"].as_str().unwrap();

    let other_tenant = app.store.create_tenant("Other").await.unwrap();
    let other = app
        .store
        .create_token(other_tenant, &[Scope::RequestsRead])
        .await
        .unwrap()
        .token;
    for path in [
        format!("/v1/accounts/{account}"),
        format!("/v1/employees/{employee}/accounts"),
        format!("/v1/accounts/{}", uuid::Uuid::new_v4()),
        "/v1/accounts/not-a-uuid".to_owned(),
        format!("/v1/employees/{}/accounts", uuid::Uuid::new_v4()),
    ] {
        let token = if path.contains(account) || path.contains(&employee) {
            &other
        } else {
            &app.token
        };
        let response = app.get_as(&path, token).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "application/problem+json",
            "{path}"
        );
    }
    let theirs: Value = app
        .get_as("/v1/accounts", &other)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        theirs["items"],
        json!([]),
        "another tenant sees none of them"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_bad_filter_value_is_refused_naming_the_parameter() {
    let app = spawn_app().await;
    for (query, parameter) in [
        ("state=deleted", "state"),
        ("integration_id=acme", "integration_id"),
        ("employee_id=7", "employee_id"),
        ("limit=0", "limit"),
        ("cursor=nonsense", "cursor"),
        ("owner=ada", "owner"),
    ] {
        let response = app.get(&format!("/v1/accounts?{query}")).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        let problem: Value = response.json().await.unwrap();
        assert_eq!(problem["errors"][0]["field"], parameter, "{problem}");
    }
    app.stop().await;
}
