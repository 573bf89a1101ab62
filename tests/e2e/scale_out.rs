//! Several workers and projectors, each its own process, share one installation: the
//! work is spread between them and nothing is done twice.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use provisioner_test_support::{amqp_url, eventually, fresh_database, unique_amqp_prefix};
use serde_json::{json, Value};

use crate::helpers::WAIT;

struct Process {
    child: Child,
    log: PathBuf,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn start(components: &str, database_url: &str, prefix: &str, listen: &str) -> Process {
    let log = std::env::temp_dir().join(format!(
        "provisioner-{components}-{}.log",
        uuid::Uuid::new_v4()
    ));
    let child = Command::new(env!("CARGO_BIN_EXE_provisioner"))
        .args(["serve", "--components", components])
        .env("DATABASE_URL", database_url)
        .env("AMQP_URL", amqp_url())
        .env("PROVISIONER_AMQP_PREFIX", prefix)
        .env("PROVISIONER_AMQP_QUEUE_EXPIRY_SECONDS", "600")
        .env("PROVISIONER_ALLOW_PRIVATE_NETWORKS", "true")
        .env("PROVISIONER_LISTEN", listen)
        .env("PROVISIONER_PREFETCH", "10")
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Process { child, log }
}

fn finished_by(process: &Process) -> usize {
    std::fs::read_to_string(&process.log)
        .unwrap_or_default()
        .lines()
        .filter(|line| line.contains("request finished"))
        .count()
}

#[tokio::test]
async fn two_workers_and_two_projectors_share_the_work_and_double_nothing() {
    const REQUESTS: usize = 200;
    let database_url = fresh_database().await;
    let binary = env!("CARGO_BIN_EXE_provisioner");
    assert!(Command::new(binary)
        .arg("migrate")
        .env("DATABASE_URL", &database_url)
        .status()
        .unwrap()
        .success());
    let tenant: Value = serde_json::from_slice(
        &Command::new(binary)
            .args(["tenants", "create", "--name", "Acme"])
            .env("DATABASE_URL", &database_url)
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let token = tenant["token"].as_str().unwrap().to_owned();

    let sim = provisioner_sim::Simulator::new();
    let sim_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_address = format!("http://{}", sim_listener.local_addr().unwrap());
    tokio::spawn(sim.clone().serve(sim_listener, std::future::pending()));
    sim.put_workspace("acme", "secret");
    // Each request waits a little at the service, so both workers get some.
    sim.set_faults(
        "acme",
        provisioner_sim::Faults {
            latency_ms: 20,
            ..Default::default()
        },
    )
    .unwrap();

    let prefix = unique_amqp_prefix();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let _api = start("api,relay", &database_url, &prefix, &listen);
    let workers = [
        start("worker", &database_url, &prefix, "127.0.0.1:0"),
        start("worker", &database_url, &prefix, "127.0.0.1:0"),
    ];
    let _projectors = [
        start("projector", &database_url, &prefix, "127.0.0.1:0"),
        start("projector", &database_url, &prefix, "127.0.0.1:0"),
    ];
    let api = format!("http://{listen}");
    let client = reqwest::Client::new();
    eventually(WAIT, "the api", || async {
        client
            .get(format!("{api}/readyz"))
            .send()
            .await
            .ok()
            .filter(|r| r.status().is_success())
    })
    .await;
    let integration: Value = client
        .post(format!("{api}/v1/integrations"))
        .bearer_auth(&token)
        .json(&json!({"service": "scim", "workspace": "acme", "base_url": format!("{sim_address}/scim/acme/v2"),
                      "credentials": {"token": "secret"}}))
        .send().await.unwrap().json().await.unwrap();

    for n in 0..REQUESTS {
        let account = json!({"user_name": format!("u{n}"), "email": format!("u{n}@example.com"), "given_name": "U", "family_name": "N"});
        let response = client
            .post(format!("{api}/v1/provisioning-requests"))
            .bearer_auth(&token)
            .json(&json!({"integration_id": integration["id"], "account": account}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 202);
    }

    let pool = sqlx::PgPool::connect(&database_url).await.unwrap();
    eventually(
        std::time::Duration::from_secs(120),
        "every request logged",
        || {
            let pool = pool.clone();
            async move {
                let (logged,): (i64,) = sqlx::query_as("SELECT count(*) FROM integration_log")
                    .fetch_one(&pool)
                    .await
                    .ok()?;
                (logged as usize >= REQUESTS).then_some(())
            }
        },
    )
    .await;
    let mut db = pool.acquire().await.unwrap();

    let (succeeded,): (i64,) =
        sqlx::query_as("SELECT count(*) FROM provisioning_requests WHERE state = 'succeeded'")
            .fetch_one(&mut *db)
            .await
            .unwrap();
    assert_eq!(succeeded as usize, REQUESTS);
    let (entries, distinct): (i64, i64) =
        sqlx::query_as("SELECT count(*), count(DISTINCT request_id) FROM integration_log")
            .fetch_one(&mut *db)
            .await
            .unwrap();
    assert_eq!(
        (entries as usize, distinct as usize),
        (REQUESTS, REQUESTS),
        "one log entry per request"
    );
    let stats = sim.stats("acme").unwrap();
    assert_eq!(stats.accounts, REQUESTS);
    assert!(
        stats
            .create_calls_by_user_name
            .values()
            .all(|calls| *calls == 1),
        "no account created twice"
    );
    let shares: Vec<usize> = workers.iter().map(finished_by).collect();
    eprintln!("requests finished by each worker: {shares:?}");
    assert_eq!(shares.iter().sum::<usize>(), REQUESTS, "{shares:?}");
    assert!(
        shares.iter().all(|share| *share > 0),
        "both workers took part: {shares:?}"
    );
}
