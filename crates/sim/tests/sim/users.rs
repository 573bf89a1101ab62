//! Creating, finding and reading users, and who may.

use axum::http::{header, Method, StatusCode};
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn creating_a_user_answers_201_with_its_id_meta_and_location() {
    let (sim, router) = sim_with_acme();
    let answer = create(&router, "ada").await;
    assert_eq!(answer.status, StatusCode::CREATED);
    assert_eq!(
        answer.headers[header::CONTENT_TYPE],
        "application/scim+json"
    );
    let id = answer.body["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    let location = format!("http://sim.test/scim/acme/v2/Users/{id}");
    assert_eq!(answer.headers[header::LOCATION], location.as_str());
    assert_eq!(answer.body["meta"]["location"], location);
    assert_eq!(answer.body["meta"]["resourceType"], "User");
    assert_eq!(answer.body["name"]["familyName"], "Lovelace");

    let read = call(
        &router,
        Method::GET,
        &format!("/scim/acme/v2/Users/{id}"),
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.body, answer.body);
    let stats = sim.stats("acme").unwrap();
    assert_eq!((stats.accounts, stats.calls, stats.create_calls), (1, 2, 1));
    assert_eq!(stats.create_calls_by_user_name["ada"], 1);
}

#[tokio::test]
async fn a_user_name_taken_in_another_case_is_a_uniqueness_conflict() {
    let (sim, router) = sim_with_acme();
    create(&router, "Ada").await;
    let answer = create(&router, "ada").await;
    assert_scim_error(&answer, 409, Some("uniqueness"));
    assert_eq!(sim.stats("acme").unwrap().accounts, 1);
    assert_eq!(
        sim.stats("acme").unwrap().create_calls_by_user_name["ada"],
        2
    );
}

#[tokio::test]
async fn an_invalid_user_name_is_refused_with_a_detail_naming_the_field_and_value() {
    let (sim, router) = sim_with_acme();
    let answer = create(&router, "ada lovelace").await;
    assert_scim_error(&answer, 400, Some("invalidValue"));
    let detail = answer.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("userName") && detail.contains("ada lovelace"),
        "{detail}"
    );
    assert_eq!(sim.stats("acme").unwrap().accounts, 0);
}

#[tokio::test]
async fn malformed_json_is_invalid_syntax() {
    let (_sim, router) = sim_with_acme();
    let answer = call_raw(
        &router,
        Method::POST,
        "/scim/acme/v2/Users",
        Some(TOKEN),
        Some("{nope".into()),
    )
    .await;
    assert_scim_error(&answer, 400, Some("invalidSyntax"));
}

#[tokio::test]
async fn a_user_name_filter_finds_the_user_whatever_the_case() {
    let (_sim, router) = sim_with_acme();
    let id = create(&router, "Ada.Lovelace").await.body["id"].clone();
    create(&router, "grace").await;
    let uri = "/scim/acme/v2/Users?filter=userName%20eq%20%22ada.lovelace%22";
    let answer = call(&router, Method::GET, uri, Some(TOKEN), None).await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(
        answer.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(answer.body["totalResults"], 1);
    assert_eq!(answer.body["itemsPerPage"], 1);
    assert_eq!(answer.body["startIndex"], 1);
    assert_eq!(answer.body["Resources"][0]["id"], id);

    let none = call(
        &router,
        Method::GET,
        "/scim/acme/v2/Users?filter=userName+eq+%22nobody%22",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(none.body["totalResults"], 0);
    assert_eq!(none.body["Resources"], json!([]));
}

#[tokio::test]
async fn an_unsupported_filter_is_invalid_filter() {
    let (_sim, router) = sim_with_acme();
    let uri = "/scim/acme/v2/Users?filter=title%20co%20%22x%22";
    let answer = call(&router, Method::GET, uri, Some(TOKEN), None).await;
    assert_scim_error(&answer, 400, Some("invalidFilter"));
}

#[tokio::test]
async fn listing_without_a_filter_pages_through_every_user() {
    let (_sim, router) = sim_with_acme();
    for name in ["a", "b", "c"] {
        create(&router, name).await;
    }
    let answer = call(
        &router,
        Method::GET,
        "/scim/acme/v2/Users?startIndex=2&count=1",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(answer.body["totalResults"], 3);
    assert_eq!(answer.body["startIndex"], 2);
    assert_eq!(answer.body["itemsPerPage"], 1);
    assert_eq!(answer.body["Resources"][0]["userName"], "b");
}

#[tokio::test]
async fn an_unknown_user_id_is_a_404() {
    let (_sim, router) = sim_with_acme();
    let answer = call(
        &router,
        Method::GET,
        "/scim/acme/v2/Users/nope",
        Some(TOKEN),
        None,
    )
    .await;
    assert_scim_error(&answer, 404, None);
}

#[tokio::test]
async fn a_wrong_token_is_refused_with_401_and_still_counted_as_a_call() {
    let (sim, router) = sim_with_acme();
    let answer = call(
        &router,
        Method::POST,
        "/scim/acme/v2/Users",
        Some("wrong"),
        Some(user("ada")),
    )
    .await;
    assert_scim_error(&answer, 401, None);
    assert_eq!(answer.headers[header::WWW_AUTHENTICATE], "Bearer");
    let missing = call(
        &router,
        Method::GET,
        "/scim/acme/v2/ServiceProviderConfig",
        None,
        None,
    )
    .await;
    assert_scim_error(&missing, 401, None);
    let stats = sim.stats("acme").unwrap();
    assert_eq!((stats.calls, stats.create_calls, stats.accounts), (2, 1, 0));
}

#[tokio::test]
async fn an_unknown_workspace_is_a_404() {
    let (_sim, router) = sim_with_acme();
    let answer = call(
        &router,
        Method::GET,
        "/scim/nowhere/v2/ServiceProviderConfig",
        Some(TOKEN),
        None,
    )
    .await;
    assert_scim_error(&answer, 404, None);
}

#[tokio::test]
async fn the_service_provider_config_offers_filtering_and_bearer_tokens() {
    let (_sim, router) = sim_with_acme();
    let answer = call(
        &router,
        Method::GET,
        "/scim/acme/v2/ServiceProviderConfig",
        Some(TOKEN),
        None,
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["filter"]["supported"], true);
    assert_eq!(
        answer.body["authenticationSchemes"][0]["type"],
        "oauthbearertoken"
    );
    for feature in ["patch", "bulk", "changePassword", "sort", "etag"] {
        assert!(answer.body[feature]["supported"].is_boolean(), "{feature}");
    }
}

#[tokio::test]
async fn an_unsupported_method_is_501_and_an_unknown_endpoint_404_both_counted() {
    let (sim, router) = sim_with_acme();
    let patch = call(
        &router,
        Method::PATCH,
        "/scim/acme/v2/Users/x",
        Some(TOKEN),
        None,
    )
    .await;
    assert_scim_error(&patch, 501, None);
    let groups = call(
        &router,
        Method::GET,
        "/scim/acme/v2/Groups",
        Some(TOKEN),
        None,
    )
    .await;
    assert_scim_error(&groups, 404, None);
    assert_eq!(sim.stats("acme").unwrap().calls, 2);
}
