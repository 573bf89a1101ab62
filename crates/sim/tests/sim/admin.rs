//! The admin API and serving on a real port.

use axum::http::{Method, StatusCode};
use provisioner_sim::Simulator;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn the_admin_api_sets_up_workspaces_faults_and_shows_stats() {
    let sim = Simulator::new();
    let router = sim.router();
    let put = call(
        &router,
        Method::PUT,
        "/_sim/workspaces/globex",
        None,
        Some(json!({"token": "t1"})),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK);
    assert_eq!(
        put.body,
        json!({"workspace": "globex", "accounts": 0, "calls": 0, "create_calls": 0, "create_calls_by_user_name": {}, "duplicate_accounts": 0,
               "rate_limited_calls": 0, "peak_concurrent_calls": 0})
    );

    let faults =
        json!({"fail_next_creates": {"count": 1, "status": 503, "detail": "down for maintenance"}});
    let set = call(
        &router,
        Method::PUT,
        "/_sim/workspaces/globex/faults",
        None,
        Some(faults),
    )
    .await;
    assert_eq!(set.status, StatusCode::OK);
    let refused = call(
        &router,
        Method::POST,
        "/scim/globex/v2/Users",
        Some("t1"),
        Some(user("Ada")),
    )
    .await;
    assert_scim_error(&refused, 503, None);
    assert_eq!(refused.body["detail"], "down for maintenance");

    let bad = call(
        &router,
        Method::PUT,
        "/_sim/workspaces/globex/faults",
        None,
        Some(json!({"fail_next_creates": {"count": 1, "status": 200}})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let cleared = call(
        &router,
        Method::DELETE,
        "/_sim/workspaces/globex/faults",
        None,
        None,
    )
    .await;
    assert_eq!(cleared.status, StatusCode::NO_CONTENT);

    // A new token keeps the accounts.
    call(
        &router,
        Method::POST,
        "/scim/globex/v2/Users",
        Some("t1"),
        Some(user("Ada")),
    )
    .await;
    call(
        &router,
        Method::PUT,
        "/_sim/workspaces/globex",
        None,
        Some(json!({"token": "t2"})),
    )
    .await;
    let stats = call(&router, Method::GET, "/_sim/workspaces/globex", None, None).await;
    assert_eq!(stats.body["accounts"], 1);
    assert_eq!(stats.body["calls"], 2);
    assert_eq!(stats.body["create_calls_by_user_name"], json!({"ada": 2}));
    let users = call(
        &router,
        Method::GET,
        "/_sim/workspaces/globex/users",
        None,
        None,
    )
    .await;
    assert_eq!(users.body[0]["userName"], "Ada");
    let unknown = call(&router, Method::GET, "/_sim/workspaces/nowhere", None, None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn serve_answers_on_a_bound_port_until_shutdown() {
    let sim = Simulator::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(sim.clone().serve(listener, async {
        let _ = stopped.await;
    }));
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /_sim/workspaces/none HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).await.unwrap();
    assert!(reply.starts_with("HTTP/1.1 404"), "{reply}");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_workspace_body_naming_a_vendor_sets_up_that_vendor_and_a_blank_field_is_refused() {
    let sim = Simulator::new();
    let router = sim.router();
    let body = json!({"vendor": "github", "token": "t", "org": "acme-inc"});
    let put = call(
        &router,
        Method::PUT,
        "/_sim/workspaces/gh",
        None,
        Some(body),
    )
    .await;
    assert_eq!(put.status, StatusCode::OK, "{}", put.body);
    assert_eq!(put.body["accounts"], 0);

    let blank =
        json!({"vendor": "zoom", "account_id": "a", "client_id": " ", "client_secret": "s"});
    let refused = call(
        &router,
        Method::PUT,
        "/_sim/workspaces/z",
        None,
        Some(blank),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    let unknown = json!({"vendor": "myspace", "token": "t"});
    let refused = call(
        &router,
        Method::PUT,
        "/_sim/workspaces/m",
        None,
        Some(unknown),
    )
    .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(sim.stats("z").is_none() && sim.stats("m").is_none());
}
