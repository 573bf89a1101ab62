//! Riding out a PostgreSQL outage in place.

use std::future::Future;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

use crate::StoreError;

/// Runs `operation` again while PostgreSQL is unavailable, with growing pauses, and
/// returns its first result that is not an outage. A consumer that holds its message
/// this way keeps it through an outage of any length; handing it back to the broker
/// instead would spend one of its deliveries each time, and a quorum queue dead-letters
/// a message whose deliveries run out.
pub async fn through_outages<T, F, Fut>(what: &str, operation: F) -> Result<T, StoreError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, StoreError>>,
{
    let schedule = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(5))
        .with_jitter()
        .without_max_times();
    operation
        .retry(schedule)
        .sleep(tokio::time::sleep)
        .when(StoreError::is_transient)
        .notify(|error, pause| {
            tracing::warn!(error = %error, retry_in_ms = pause.as_millis() as u64,
                "{what}: PostgreSQL unavailable; holding on");
        })
        .await
}
