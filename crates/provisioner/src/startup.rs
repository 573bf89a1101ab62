//! Builds the components a process runs and runs them until shutdown.

use std::str::FromStr;
use std::sync::Arc;

use provisioner_api::AppState;
use provisioner_broker::{ConsumerSpec, Publisher, Topology};
use provisioner_connectors::{Catalog, HttpClient, HttpOptions};
use provisioner_hr_intake::Intake;
use provisioner_relay::RelayConfig;
use provisioner_requests::Requests;
use provisioner_worker::Worker;
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::settings::Settings;

/// Which components this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Components {
    pub api: bool,
    pub relay: bool,
    pub worker: bool,
    pub projector: bool,
    pub hr_intake: bool,
}

impl Components {
    pub const ALL: Self = Self {
        api: true,
        relay: true,
        worker: true,
        projector: true,
        hr_intake: true,
    };
    pub const NONE: Self = Self {
        api: false,
        relay: false,
        worker: false,
        projector: false,
        hr_intake: false,
    };
}

impl FromStr for Components {
    type Err = String;

    fn from_str(list: &str) -> Result<Self, String> {
        let mut chosen = Self::NONE;
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "api" => chosen.api = true,
                "relay" => chosen.relay = true,
                "worker" => chosen.worker = true,
                "projector" => chosen.projector = true,
                "hr-intake" => chosen.hr_intake = true,
                other => {
                    return Err(format!(
                        "unknown component {other:?}; expected a list of api, relay, worker, \
                         projector, hr-intake"
                    ))
                }
            }
        }
        if chosen == Self::NONE {
            return Err("name at least one component".into());
        }
        Ok(chosen)
    }
}

pub fn topology(settings: &Settings) -> Topology {
    let topology = Topology::new(settings.amqp_prefix.clone());
    match settings.amqp_queue_expiry_seconds {
        Some(seconds) => topology.with_queue_expiry(std::time::Duration::from_secs(seconds)),
        None => topology,
    }
}

pub fn catalog(settings: &Settings) -> anyhow::Result<Catalog> {
    let http = HttpClient::with_options(HttpOptions {
        allow_private_networks: settings.allow_private_networks,
        loopback_only: settings.loopback_only,
        ..HttpOptions::default()
    })?;
    Ok(Catalog::new(http))
}

/// What every component of one process shares: one pool, one publisher, one catalog.
struct Shared {
    store: provisioner_store::Store,
    publisher: Arc<Publisher>,
    catalog: Arc<Catalog>,
    intake: Intake,
    topology: Topology,
}

/// Runs the chosen components until `shutdown` is cancelled and each has drained.
/// `listener` is required when the api runs.
pub async fn serve(
    settings: &Settings,
    components: Components,
    listener: Option<TcpListener>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    if components.api && listener.is_none() {
        anyhow::bail!("the api needs a listener");
    }
    let store = settings.store(settings.db_max_connections)?;
    if settings.credential_keys.is_none() {
        tracing::warn!(
            "PROVISIONER_CREDENTIAL_KEYS is not set: integration credentials are sealed with the \
             development key, which is fine on a laptop and never for real credentials"
        );
    }
    let topology = topology(settings);
    let publisher = Arc::new(Publisher::new(
        &settings.amqp_url,
        "provisioner-publisher",
        topology.clone(),
    ));
    let catalog = Arc::new(catalog(settings)?);
    crate::telemetry::metrics();
    let services: Vec<_> = catalog.services().iter().map(|s| s.key).collect();
    crate::first_scrape::register(&services, &topology);
    let shared = Shared {
        intake: Intake::new(store.clone(), publisher.clone(), catalog.clone()),
        store,
        publisher,
        catalog,
        topology,
    };
    let mut tasks = JoinSet::new();
    if let Some(listener) = listener {
        spawn_listener(&shared, components, listener, &shutdown, &mut tasks);
    }
    spawn_background(settings, &shared, components, &shutdown, &mut tasks);
    while tasks.join_next().await.is_some() {}
    shared.publisher.close().await;
    shared.store.close().await;
    Ok(())
}

/// The api, or without it only health, readiness and metrics: every process listens.
fn spawn_listener(
    shared: &Shared,
    components: Components,
    listener: TcpListener,
    shutdown: &CancellationToken,
    tasks: &mut JoinSet<()>,
) {
    let Shared {
        store,
        publisher,
        catalog,
        intake,
        ..
    } = shared;
    let state = AppState {
        store: store.clone(),
        publisher: publisher.clone(),
        catalog: catalog.clone(),
        intake: intake.clone(),
        requests: Requests::new(store.clone(), publisher.clone(), catalog.clone()),
        metrics: Arc::new(crate::telemetry::scrape),
    };
    let router = if components.api {
        provisioner_api::router(state)
    } else {
        provisioner_api::ops_router(state)
    };
    let shutdown = shutdown.clone();
    tasks.spawn(async move {
        if let Err(error) = provisioner_api::serve_router(listener, router, shutdown).await {
            tracing::error!(error = %error, "listener stopped with an error");
        }
    });
}

/// The relay, the consumers and, where anything consumes, the queue gauges.
fn spawn_background(
    settings: &Settings,
    shared: &Shared,
    components: Components,
    shutdown: &CancellationToken,
    tasks: &mut JoinSet<()>,
) {
    let Shared {
        store,
        publisher,
        catalog,
        intake,
        topology,
    } = shared;
    let consumer = |name: &str, queue: String| ConsumerSpec {
        url: settings.amqp_url.clone(),
        name: name.to_owned(),
        queue,
        prefetch: settings.prefetch,
        drain_timeout: settings.drain_timeout(),
    };
    let claim_lease = std::time::Duration::from_secs(settings.claim_lease_seconds.max(4));
    if components.relay {
        tasks.spawn(provisioner_relay::run(
            store.clone(),
            publisher.clone(),
            RelayConfig::default().with_claim_lease(claim_lease),
            shutdown.clone(),
        ));
    }
    if components.worker {
        let worker = Worker::new(store.clone(), publisher.clone(), catalog.clone())
            .with_claim_lease(claim_lease)
            .with_max_calls_in_flight(settings.max_calls_in_flight);
        tasks.spawn(worker.run(
            consumer("provisioner-worker", topology.requests_queue()),
            shutdown.clone(),
        ));
    }
    if components.hr_intake {
        tasks.spawn(intake.clone().run(
            consumer("provisioner-hr-intake", topology.hr_queue()),
            shutdown.clone(),
        ));
    }
    if components.projector {
        tasks.spawn(provisioner_projector::run(
            store.clone(),
            publisher.clone(),
            consumer("provisioner-projector", topology.log_queue()),
            shutdown.clone(),
        ));
    }
    if components.worker || components.projector || components.hr_intake {
        tasks.spawn(provisioner_broker::watch_queue_depths(
            settings.amqp_url.clone(),
            topology.clone(),
            std::time::Duration::from_secs(settings.queue_metrics_seconds.max(1)),
            shutdown.clone(),
        ));
    }
}
