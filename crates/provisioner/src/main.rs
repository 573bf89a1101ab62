use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use provisioner::settings::Settings;
use provisioner::startup::{self, Components};
use provisioner_core::{Scope, TenantId};
use provisioner_store::Store;
use serde_json::json;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

#[derive(Parser)]
#[command(
    name = "provisioner",
    version,
    about = "Issues SaaS accounts for employees, event by event"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates the database if needed and applies migrations.
    Migrate {
        #[command(flatten)]
        settings: Settings,
    },
    /// Runs api, relay, worker, projector and hr-intake (or the ones named) in one process.
    Serve {
        #[command(flatten)]
        settings: Settings,
        /// Comma-separated subset: api,relay,worker,projector,hr-intake.
        #[arg(long, default_value = "api,relay,worker,projector,hr-intake")]
        components: Components,
        #[arg(long, env = "PROVISIONER_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
    },
    /// Tenants.
    Tenants {
        #[command(subcommand)]
        command: TenantsCommand,
    },
    /// API tokens.
    Tokens {
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Operators: list requests and replay the ones that failed.
    Requests {
        #[command(subcommand)]
        command: provisioner::operators::RequestsCommand,
    },
    /// Operators: what the dead-letter queue holds and why (read without consuming).
    DeadLetters {
        #[command(subcommand)]
        command: DeadLettersCommand,
    },
    /// The SaaS simulator, for tests and the demo.
    Sim {
        #[arg(long, env = "PROVISIONER_SIM_LISTEN", default_value = "127.0.0.1:9090")]
        listen: SocketAddr,
    },
}

#[derive(Subcommand)]
enum DeadLettersCommand {
    /// Prints up to --limit messages, one JSON object a line; they stay in the queue.
    List {
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Subcommand)]
enum TenantsCommand {
    /// Creates a tenant and prints its id with a token that has every scope.
    Create {
        #[arg(long)]
        name: String,
        #[command(flatten)]
        settings: Settings,
    },
}

#[derive(Subcommand)]
enum TokensCommand {
    /// Creates a token for a tenant with the given scopes.
    Create {
        #[arg(long)]
        tenant: TenantId,
        /// Comma-separated, e.g. requests:write,requests:read
        #[arg(long, value_delimiter = ',', required = true)]
        scopes: Vec<Scope>,
        #[command(flatten)]
        settings: Settings,
    },
    /// Lists a tenant's tokens (never their secrets).
    List {
        #[arg(long)]
        tenant: TenantId,
        #[command(flatten)]
        settings: Settings,
    },
    /// Revokes a token at once.
    Revoke {
        #[arg(long)]
        tenant: TenantId,
        #[arg(long)]
        id: uuid::Uuid,
        #[command(flatten)]
        settings: Settings,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Held to the end, so that spans still buffered are exported before the exit.
    let _telemetry = provisioner::telemetry::init();
    match cli.command {
        Command::Migrate { settings } => migrate(&settings).await,
        Command::Serve {
            settings,
            components,
            listen,
        } => {
            // Every process listens: the api, or only health, readiness and metrics.
            let listener = TcpListener::bind(listen)
                .await
                .with_context(|| format!("binding {listen}"))?;
            let shutdown = shutdown_on_signal();
            startup::serve(&settings, components, Some(listener), shutdown).await?;
            Ok(())
        }
        Command::Tenants { command } => tenants(command).await,
        Command::Tokens { command } => tokens(command).await,
        Command::DeadLetters { command } => dead_letters(command).await,
        Command::Requests { command } => provisioner::operators::run(command).await,
        Command::Sim { listen } => simulate(listen).await,
    }
}

async fn migrate(settings: &Settings) -> anyhow::Result<()> {
    Store::create_database_if_missing(&settings.database_url).await?;
    let store = store(settings)?;
    store.migrate().await.context("applying migrations")?;
    let sealed = store
        .seal_credentials()
        .await
        .context("sealing credentials")?;
    tracing::info!(sealed_credentials = sealed, "migrations applied");
    Ok(())
}

async fn tenants(command: TenantsCommand) -> anyhow::Result<()> {
    let TenantsCommand::Create { name, settings } = command;
    let store = store(&settings)?;
    let tenant_id = store
        .create_tenant(&name)
        .await
        .context("creating the tenant")?;
    let token = store.create_token(tenant_id, &Scope::ALL).await?;
    println!("{}", json!({"tenant_id": tenant_id, "token": token.token}));
    Ok(())
}

async fn tokens(command: TokensCommand) -> anyhow::Result<()> {
    match command {
        TokensCommand::Create {
            tenant,
            scopes,
            settings,
        } => {
            let store = store(&settings)?;
            let token = store
                .create_token(tenant, &scopes)
                .await
                .with_context(|| format!("creating a token for tenant {tenant}"))?;
            println!("{}", json!({"token": token.token, "scopes": token.scopes}));
        }
        TokensCommand::List { tenant, settings } => {
            for token in store(&settings)?.tokens(tenant).await? {
                println!("{}", serde_json::to_string(&token)?);
            }
        }
        TokensCommand::Revoke {
            tenant,
            id,
            settings,
        } => {
            if !store(&settings)?.revoke_token(tenant, id).await? {
                anyhow::bail!("tenant {tenant} has no token {id}");
            }
            println!("{}", json!({"revoked": id}));
        }
    }
    Ok(())
}

async fn dead_letters(command: DeadLettersCommand) -> anyhow::Result<()> {
    let DeadLettersCommand::List { limit, settings } = command;
    let topology = startup::topology(&settings);
    let letters =
        provisioner_broker::peek_dead_letters(&settings.amqp_url, &topology, limit).await?;
    for letter in letters {
        let body = String::from_utf8_lossy(&letter.body);
        println!(
            "{}",
            json!({"routing_key": letter.routing_key, "reason": letter.reason, "body": body})
        );
    }
    Ok(())
}

async fn simulate(listen: SocketAddr) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("binding {listen}"))?;
    tracing::info!(address = %listener.local_addr()?, "simulator listening");
    let shutdown = shutdown_on_signal();
    provisioner_sim::Simulator::new()
        .serve(listener, async move { shutdown.cancelled().await })
        .await?;
    Ok(())
}

fn store(settings: &Settings) -> anyhow::Result<Store> {
    settings.store(2)
}

/// Cancelled on SIGINT or SIGTERM, so in-flight work drains before exit.
fn shutdown_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let cancel = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(term) => term,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        cancel.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutdown requested; draining");
        cancel.cancel();
    });
    token
}
