//! The deployment files parse and keep the promises the README makes of them.

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
