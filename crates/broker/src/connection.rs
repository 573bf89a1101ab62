use std::time::Duration;

use lapin::{Connection, ConnectionProperties};

use crate::BrokerError;

/// How long opening a connection may take before the broker counts as unreachable.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens one connection. Publishers and consumers each take their own: flow control on
/// a publishing connection must never stall a consumer's acks.
pub async fn connect(url: &str, name: &str) -> Result<Connection, BrokerError> {
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    tokio::time::timeout(CONNECT_TIMEOUT, Connection::connect(url, properties))
        .await
        .map_err(|_| BrokerError::TimedOut(CONNECT_TIMEOUT))?
        .map_err(BrokerError::from)
}
