use lapin::{Connection, ConnectionProperties};

use crate::BrokerError;

#[derive(Debug, Clone)]
pub struct BrokerConfig {
    pub url: String,
    /// How many unacknowledged deliveries a consumer holds at once.
    pub prefetch: u16,
}

/// Opens one connection. Publishers and consumers each take their own: flow control on
/// a publishing connection must never stall a consumer's acks.
pub async fn connect(url: &str, name: &str) -> Result<Connection, BrokerError> {
    let properties = ConnectionProperties::default().with_connection_name(name.into());
    Ok(Connection::connect(url, properties).await?)
}
