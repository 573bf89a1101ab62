//! The deployment files parse and keep the promises the README makes of them; the
//! broker definitions load into a real RabbitMQ and agree with what the services declare.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use provisioner_test_support::eventually;
use serde_norway::Value as Yaml;

fn documents(file: &str) -> Vec<Yaml> {
    let path = format!(
        "{}/../../deploy/kubernetes/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|document| {
            serde::Deserialize::deserialize(document).unwrap_or_else(|e| panic!("{file}: {e}"))
        })
        .collect()
}

#[test]
fn every_component_has_a_deployment_that_runs_only_it_with_resources_and_a_clean_stop() {
    for component in ["api", "relay", "worker", "projector", "hr-intake"] {
        let docs = documents(&format!("{component}.yaml"));
        let deployment = docs
            .iter()
            .find(|d| d["kind"] == "Deployment")
            .expect("a Deployment");
        let spec = &deployment["spec"]["template"]["spec"];
        let container = &spec["containers"][0];
        let args: Vec<&str> = container["args"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(args, ["serve", "--components", component]);
        assert!(
            container["resources"]["limits"]["memory"].is_string(),
            "{component}: a memory limit"
        );
        assert!(
            container["resources"]["requests"]["cpu"].is_string(),
            "{component}: a cpu request"
        );
        assert!(
            spec["terminationGracePeriodSeconds"].as_u64().unwrap() > 20,
            "{component}: room to drain"
        );
        let config: Vec<&str> = container["envFrom"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|e| {
                e["configMapRef"]["name"]
                    .as_str()
                    .or(e["secretRef"]["name"].as_str())
            })
            .collect();
        assert_eq!(
            config,
            ["provisioner", "provisioner"],
            "{component}: config and secrets"
        );
    }
    assert!(documents("api.yaml").iter().any(|d| d["kind"] == "Service"));
}

#[test]
fn config_migration_and_autoscaler_parse() {
    let config = documents("config.yaml");
    assert!(config.iter().any(|d| d["kind"] == "ConfigMap"));
    let secret = config.iter().find(|d| d["kind"] == "Secret").unwrap();
    for key in ["DATABASE_URL", "AMQP_URL", "PROVISIONER_CREDENTIAL_KEYS"] {
        assert!(secret["stringData"][key].is_string(), "{key} is a secret");
    }
    assert_eq!(
        documents("migrate.yaml")[0]["spec"]["template"]["spec"]["containers"][0]["args"][0],
        "migrate"
    );
    let scaler = &documents("worker-autoscaler.yaml")[0];
    assert_eq!(
        scaler["spec"]["scaleTargetRef"]["name"],
        "provisioner-worker"
    );
    assert_eq!(
        scaler["spec"]["triggers"][0]["metadata"]["queueName"],
        "provisioning.requests"
    );
}

/// A vhost of its own for one test, deleted when the test ends, passed or not.
struct ScratchVhost(String);

impl ScratchVhost {
    fn create() -> Self {
        let vhost = Self(format!(
            "test.definitions.{}",
            uuid::Uuid::new_v4().simple()
        ));
        rabbitmqctl(&["add_vhost", &vhost.0]);
        rabbitmqctl(&["set_permissions", "-p", &vhost.0, "guest", ".*", ".*", ".*"]);
        vhost
    }
}

impl Drop for ScratchVhost {
    fn drop(&mut self) {
        let _ = std::process::Command::new("rabbitmqctl")
            .args(["delete_vhost", &self.0])
            .output();
    }
}

/// Runs `rabbitmqctl` against the local broker (it needs the broker's Erlang cookie, so
/// root or the rabbitmq user) and returns what it printed.
fn rabbitmqctl(args: &[&str]) -> String {
    let output = std::process::Command::new("rabbitmqctl")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("rabbitmqctl {args:?} could not run: {e}"));
    assert!(
        output.status.success(),
        "rabbitmqctl {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `(name, type)` of every queue in `vhost`.
fn listed_queues(vhost: &str) -> BTreeMap<String, String> {
    let listed = rabbitmqctl(&[
        "list_queues",
        "-p",
        vhost,
        "name",
        "type",
        "--formatter",
        "json",
        "--quiet",
    ]);
    let queues: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap_or_default();
    queues
        .iter()
        .filter_map(|q| {
            Some((
                q["name"].as_str()?.to_owned(),
                q["type"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// `source -> destination (routing key)` of every binding in `vhost`, the default
/// exchange's included.
fn listed_bindings(vhost: &str) -> BTreeSet<String> {
    let listed = rabbitmqctl(&[
        "list_bindings",
        "-p",
        vhost,
        "source_name",
        "destination_name",
        "routing_key",
        "--formatter",
        "json",
        "--quiet",
    ]);
    let bindings: Vec<serde_json::Value> = serde_json::from_str(&listed).unwrap_or_default();
    bindings
        .iter()
        .map(|b| {
            let field = |key: &str| b[key].as_str().unwrap_or_default().to_owned();
            let (source, destination) = (field("source_name"), field("destination_name"));
            format!("{source} -> {destination} ({})", field("routing_key"))
        })
        .collect()
}

fn names(definitions: &serde_json::Value, kind: &str) -> BTreeSet<String> {
    definitions[kind]
        .as_array()
        .unwrap_or_else(|| panic!("definitions.json has no {kind}"))
        .iter()
        .map(|item| item["name"].as_str().unwrap().to_owned())
        .collect()
}

/// Fails naming what is in one set and not the other.
fn assert_same(kind: &str, in_file: &BTreeSet<String>, in_code: &BTreeSet<String>) {
    let missing: Vec<_> = in_code.difference(in_file).collect();
    let extra: Vec<_> = in_file.difference(in_code).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "deploy/rabbitmq/definitions.json and crates/broker/src/topology.rs disagree on {kind}: \
         declared by the code but not in the file: {missing:?}; in the file but not declared \
         by the code: {extra:?}"
    );
}

#[tokio::test]
async fn the_rabbitmq_definitions_load_and_agree_with_the_topology_the_services_declare() {
    let path = format!(
        "{}/../../deploy/rabbitmq/definitions.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut definitions: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    // What the services declare with the default settings: no prefix, no expiry.
    let mut settings = crate::helpers::test_settings(String::new());
    settings.amqp_prefix = String::new();
    settings.amqp_queue_expiry_seconds = None;
    let topology = provisioner::startup::topology(&settings);
    let declared_queues: BTreeSet<String> = topology.queues().into_iter().collect();
    assert_same("queues", &names(&definitions, "queues"), &declared_queues);
    let declared_exchanges: BTreeSet<String> = [
        topology.requests_exchange(),
        topology.results_exchange(),
        topology.dead_letter_exchange(),
        topology.hr_exchange(),
    ]
    .into_iter()
    .collect();
    assert_same(
        "exchanges",
        &names(&definitions, "exchanges"),
        &declared_exchanges,
    );

    let vhost = ScratchVhost::create();
    for kind in ["exchanges", "queues", "bindings"] {
        for item in definitions[kind].as_array_mut().unwrap() {
            item["vhost"] = serde_json::Value::String(vhost.0.clone());
        }
    }
    definitions["vhosts"] = serde_json::json!([{"name": vhost.0}]);
    let file = std::env::temp_dir().join(format!("{}.json", vhost.0));
    std::fs::write(&file, definitions.to_string()).unwrap();
    rabbitmqctl(&["import_definitions", file.to_str().unwrap()]);
    let _ = std::fs::remove_file(&file);
    // The import runs on in the broker after the command returns.
    let bindings_in_file = definitions["bindings"].as_array().unwrap().len();
    eventually(
        Duration::from_secs(30),
        "the imported queues and bindings (see the broker's log if they never come)",
        || {
            let listed = listed_queues(&vhost.0);
            let queues = declared_queues.iter().all(|q| listed.contains_key(q));
            // Each queue also has its binding to the default exchange.
            let bindings = listed_bindings(&vhost.0).len() >= bindings_in_file + listed.len();
            std::future::ready((queues && bindings).then_some(()))
        },
    )
    .await;

    // The broker refuses a redeclare whose arguments differ (PRECONDITION_FAILED, naming
    // the queue and the argument), so this passes only if file and code agree.
    let (base, _) = provisioner_test_support::amqp_url()
        .rsplit_once('/')
        .map(|(base, vhost)| (base.to_owned(), vhost.to_owned()))
        .unwrap();
    let url = format!("{base}/{}", vhost.0);
    let connection = provisioner_broker::connect(&url, "test-definitions")
        .await
        .expect("the scratch vhost is reachable");
    let channel = connection.create_channel().await.unwrap();
    let imported_bindings = listed_bindings(&vhost.0);
    let declared = topology.declare(&channel).await;
    let _ = connection.close(200, "done".into()).await;
    if let Err(error) = declared {
        panic!("the services' topology disagrees with deploy/rabbitmq/definitions.json: {error:?}");
    }

    // A binding only the code makes would be added without complaint.
    let bindings = listed_bindings(&vhost.0);
    assert_same("bindings", &imported_bindings, &bindings);
    let listed = listed_queues(&vhost.0);
    assert_eq!(
        listed.len(),
        declared_queues.len(),
        "no queue beyond the file's: {listed:?}"
    );
    for queue in &declared_queues {
        assert_eq!(
            listed.get(queue).map(String::as_str),
            Some("quorum"),
            "{queue}"
        );
    }
}
