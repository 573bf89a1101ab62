#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The broker could not be reached or the channel closed; the message may not have
    /// been stored, so it must be published again later.
    #[error("the broker is unavailable")]
    Unavailable(#[source] lapin::Error),
    /// The broker did not answer in time (unreachable host, or a connection blocked by
    /// the broker's flow control); treated like an outage.
    #[error("the broker did not answer within {0:?}")]
    TimedOut(std::time::Duration),
    /// The broker refused the message (a negative confirm).
    #[error("the broker refused the message")]
    Refused,
    /// No queue is bound for the message: the topology is missing.
    #[error("no queue accepted the message for routing key {routing_key}")]
    Unroutable { routing_key: String },
    #[error("the message could not be encoded")]
    Encode(#[source] serde_json::Error),
}

impl From<lapin::Error> for BrokerError {
    fn from(error: lapin::Error) -> Self {
        Self::Unavailable(error)
    }
}

impl BrokerError {
    /// Whether publishing again later may succeed: after an outage, a closed channel or
    /// a negative confirm (a full queue, a resource alarm), but not for a message that
    /// cannot be encoded or that no queue is bound for.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Unavailable(_) | Self::TimedOut(_) | Self::Refused => true,
            Self::Unroutable { .. } | Self::Encode(_) => false,
        }
    }

    /// A short class of the error, for a span's `error.type`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unavailable(_) => "unavailable",
            Self::TimedOut(_) => "timeout",
            Self::Refused => "refused",
            Self::Unroutable { .. } => "unroutable",
            Self::Encode(_) => "encode",
        }
    }
}
