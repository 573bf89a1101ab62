//! `schemas/openapi.yaml`, the routes the api serves and `provisioner_api::ROUTES` must
//! agree: a route added without its spec (or the reverse) fails here.

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_norway::Value as Yaml;

use crate::helpers::spawn_app;

fn spec_operations() -> BTreeSet<(String, String)> {
    let spec: Yaml = serde_norway::from_str(include_str!("../../schemas/openapi.yaml"))
        .expect("openapi.yaml parses");
    let paths = spec["paths"].as_mapping().expect("paths");
    let mut operations = BTreeSet::new();
    for (path, item) in paths {
        let path = path.as_str().unwrap().to_owned();
        for (method, _) in item.as_mapping().unwrap() {
            let method = method.as_str().unwrap();
            if ["get", "post", "put", "patch", "delete"].contains(&method) {
                operations.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    operations
}

#[test]
fn the_spec_and_the_route_table_name_the_same_operations() {
    let table: BTreeSet<(String, String)> = provisioner_api::ROUTES
        .iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let spec = spec_operations();
    let only_spec: Vec<_> = spec.difference(&table).collect();
    let only_code: Vec<_> = table.difference(&spec).collect();
    assert!(
        only_spec.is_empty() && only_code.is_empty(),
        "in the spec only: {only_spec:?}; served only: {only_code:?}"
    );
}

#[tokio::test]
async fn every_operation_in_the_spec_is_served_and_nothing_else_is() {
    let app = spawn_app().await;
    let some_id = uuid::Uuid::new_v4().to_string();
    for (method, path) in spec_operations() {
        let url = app.url(&path.replace("{id}", &some_id));
        let method = Method::from_bytes(method.as_bytes()).unwrap();
        // Without a token a served route answers 401 (or 200 for health), never the
        // router's own 404 or 405.
        let response = app
            .client
            .request(method.clone(), &url)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let problem: serde_json::Value = response.json().await.unwrap_or_default();
        assert!(
            status == StatusCode::UNAUTHORIZED
                || status == StatusCode::OK
                || status == StatusCode::SERVICE_UNAVAILABLE,
            "{method} {path} answered {status}: {problem}"
        );
    }
    let unserved = app
        .client
        .delete(app.url("/v1/services"))
        .send()
        .await
        .unwrap();
    assert_eq!(unserved.status(), StatusCode::METHOD_NOT_ALLOWED);
    app.stop().await;
}
