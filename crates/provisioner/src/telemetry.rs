//! Logs go to stderr as JSON lines by default (one event per line, fields as keys), or
//! as text for a person at a terminal (`PROVISIONER_LOG_FORMAT=text`). `RUST_LOG`
//! filters.

use std::io::IsTerminal;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,lapin=warn,sqlx=warn,tower_http=info"));
    let text = std::env::var("PROVISIONER_LOG_FORMAT").is_ok_and(|f| f == "text");
    let registry = tracing_subscriber::registry().with(filter);
    // try_init: a test process may already have a subscriber.
    if text {
        let _ = registry
            .with(
                tracing_subscriber::fmt::layer()
                    .with_ansi(std::io::stderr().is_terminal())
                    .with_writer(std::io::stderr),
            )
            .try_init();
    } else {
        let _ = registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(std::io::stderr),
            )
            .try_init();
    }
}
