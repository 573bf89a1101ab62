//! Every way an ask can go, against real PostgreSQL and RabbitMQ.

use std::sync::Arc;
use std::time::Duration;

use provisioner_broker::{Publisher, Topology};
use provisioner_connectors::{Catalog, HttpClient};
use provisioner_core::retry::RetryOverride;
use provisioner_core::rules::HiredEmployee;
use provisioner_core::trace::TraceParent;
use provisioner_core::{IntegrationId, IntegrationStatus, RequestError, RequestId, TenantId};
use provisioner_requests::{Action, Ask, Employee, Prepared, Refusal, Requests, SubmitError};
use provisioner_store::{NewIntegration, Store};
use provisioner_test_support::{amqp_url, fresh_database, unique_amqp_prefix};
use serde_json::{json, Value};

const NOTHING_LISTENS_HERE: &str = "amqp://guest:guest@127.0.0.1:1/%2f";

struct Setup {
    store: Store,
    requests: Requests,
    tenant_id: TenantId,
}

async fn setup(amqp: &str) -> Setup {
    let url = fresh_database().await;
    let store = Store::connect_lazy(&url, 4).unwrap();
    store.migrate().await.unwrap();
    let tenant_id = store.create_tenant("acme").await.unwrap();
    let publisher = Publisher::new(amqp, "requests-test", Topology::new(unique_amqp_prefix()));
    let catalog = Catalog::new(HttpClient::new().unwrap());
    let requests = Requests::new(store.clone(), Arc::new(publisher), Arc::new(catalog));
    Setup {
        store,
        requests,
        tenant_id,
    }
}

async fn integration(setup: &Setup, tenant_id: TenantId, service: &str) -> IntegrationId {
    let new = NewIntegration {
        service: service.into(),
        workspace: "acme".into(),
        base_url: Some("http://127.0.0.1:1/scim/v2".into()),
        credentials: json!({"token": "secret"}),
        status: IntegrationStatus::Ok,
        status_reason: None,
        requests_per_second: None,
        retry: RetryOverride::default(),
        max_concurrent_calls: None,
    };
    let created = setup
        .store
        .insert_integration(tenant_id, &new)
        .await
        .unwrap();
    created.id
}

fn ask(integration_id: IntegrationId, account: Value) -> Ask {
    let Value::Object(account) = account else {
        panic!("an account is an object");
    };
    Ask {
        action: Action::Create,
        integration_id,
        employee: Employee::Unnamed,
        account: Some(account),
        idempotency_key: None,
        request_hash: Vec::new(),
        trace: TraceParent::new_root(),
    }
}

fn ada() -> Value {
    json!({"user_name": "ada", "email": "ada@example.com", "given_name": "Ada", "family_name": "Lovelace"})
}

/// The requests the relay would sweep now: committed, never confirmed.
async fn unconfirmed(store: &Store) -> Vec<RequestId> {
    let batch = store
        .lock_unpublished_requests(Duration::ZERO, 100)
        .await
        .unwrap();
    batch.items.iter().map(|p| p.message.request_id).collect()
}

async fn refusals(setup: &Setup, ask: Ask) -> Vec<Refusal> {
    match setup.requests.submit(setup.tenant_id, ask).await {
        Err(SubmitError::Refused(refusals)) => refusals,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn an_ask_accepted_while_the_broker_is_down_is_durable_and_left_for_the_relay() {
    let setup = setup(NOTHING_LISTENS_HERE).await;
    let scim = integration(&setup, setup.tenant_id, "scim").await;
    let accepted = setup
        .requests
        .submit(setup.tenant_id, ask(scim, ada()))
        .await
        .unwrap();
    assert!(accepted.fresh);
    assert_eq!(accepted.service, "scim");
    let row = setup
        .store
        .request(setup.tenant_id, accepted.request_id)
        .await
        .unwrap()
        .expect("the request is stored");
    assert_eq!(row.state, "queued");
    assert_eq!(row.target, "ada");
    assert_eq!(unconfirmed(&setup.store).await, [accepted.request_id]);
}

#[tokio::test]
async fn an_ask_published_with_a_confirm_is_marked_and_not_swept() {
    let setup = setup(&amqp_url()).await;
    let scim = integration(&setup, setup.tenant_id, "scim").await;
    let accepted = setup
        .requests
        .submit(setup.tenant_id, ask(scim, ada()))
        .await
        .unwrap();
    assert!(setup
        .store
        .request(setup.tenant_id, accepted.request_id)
        .await
        .unwrap()
        .is_some());
    assert_eq!(unconfirmed(&setup.store).await, []);
}

#[tokio::test]
async fn an_unknown_or_another_tenants_integration_is_refused_alike_and_nothing_is_stored() {
    let setup = setup(NOTHING_LISTENS_HERE).await;
    let other_tenant = setup.store.create_tenant("globex").await.unwrap();
    let theirs = integration(&setup, other_tenant, "scim").await;
    for integration_id in [IntegrationId::new(), theirs] {
        assert_eq!(
            refusals(&setup, ask(integration_id, ada())).await,
            [Refusal::UnknownIntegration]
        );
    }
    assert_eq!(unconfirmed(&setup.store).await, []);
}

#[tokio::test]
async fn a_service_that_cannot_provision_is_refused() {
    let setup = setup(NOTHING_LISTENS_HERE).await;
    let salesforce = integration(&setup, setup.tenant_id, "salesforce").await;
    let refused = refusals(&setup, ask(salesforce, json!({"user_name": "ada"}))).await;
    assert!(
        matches!(&refused[..], [Refusal::NotProvisionable { service, workspace, .. }]
            if service == "salesforce" && workspace == "acme"),
        "{refused:?}"
    );
}

#[tokio::test]
async fn fields_that_do_not_fit_the_schema_are_each_named_and_an_unknown_employee_too() {
    let setup = setup(NOTHING_LISTENS_HERE).await;
    let scim = integration(&setup, setup.tenant_id, "scim").await;
    let mut asked = ask(scim, json!({"user_name": 42}));
    asked.employee = Employee::Stored(provisioner_core::EmployeeId::new());
    let refused = refusals(&setup, asked).await;
    assert_eq!(refused[0], Refusal::UnknownEmployee);
    let Refusal::InvalidFields(errors) = &refused[1] else {
        panic!("{refused:?}");
    };
    let mut fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    fields.sort();
    assert_eq!(
        fields,
        ["/email", "/family_name", "/given_name", "/user_name"],
        "{errors:?}"
    );

    let mut nothing = ask(scim, json!({}));
    nothing.account = None;
    assert_eq!(refusals(&setup, nothing).await, [Refusal::AccountRequired]);
}

#[tokio::test]
async fn a_batch_commits_with_the_callers_writes_and_is_published_after() {
    let setup = setup(NOTHING_LISTENS_HERE).await;
    let scim = integration(&setup, setup.tenant_id, "scim").await;
    let hired = HiredEmployee {
        email: "ada@example.com".into(),
        given_name: "Ada".into(),
        family_name: "Lovelace".into(),
        ..HiredEmployee::default()
    };
    let mut asked = ask(scim, json!({}));
    asked.employee = Employee::Hired {
        id: None,
        employee: hired.clone(),
    };
    let checked = setup.requests.check(setup.tenant_id, &asked).await.unwrap();
    assert_eq!(checked.refusals, [], "the hire's record fills the account");
    let request = checked.request.unwrap();
    let trace = TraceParent::new_root();
    let keyed = |key: &str| {
        let mut request = request.clone();
        request.idempotency_key = Some(key.to_owned());
        request
    };
    let refused = RequestError {
        code: "invalid_template".into(),
        message: "rule \"x\": no such fact".into(),
        retryable: false,
    };
    let prepared = vec![
        Prepared {
            request: keyed("a"),
            refused: None,
            trace: trace.clone(),
        },
        // The same key again within the batch is left out.
        Prepared {
            request: keyed("a"),
            refused: None,
            trace: trace.clone(),
        },
        Prepared {
            request: keyed("b"),
            refused: Some(refused),
            trace: trace.clone(),
        },
    ];

    let mut writes = setup.store.begin().await.unwrap();
    let employee_id = writes
        .record_hire(setup.tenant_id, "event-1", "test", &hired)
        .await
        .unwrap()
        .expect("a fresh event");
    let stored = setup
        .requests
        .submit_all(setup.tenant_id, writes, prepared)
        .await
        .unwrap();
    assert_eq!(stored.accepted.len(), 1);
    assert_eq!(stored.failed, 1);
    assert!(setup
        .store
        .employee(setup.tenant_id, employee_id)
        .await
        .unwrap()
        .is_some());
    let queued = stored.accepted[0].request_id;
    // The broker is down: the queued request waits for the relay.
    assert!(unconfirmed(&setup.store).await.contains(&queued));

    let mut again = setup.store.begin().await.unwrap();
    let seen = again
        .record_hire(setup.tenant_id, "event-1", "test", &hired)
        .await
        .unwrap();
    assert_eq!(seen, None, "an event id is recorded once");
}
