//! Calls to a SaaS are spread out to the rate its integration allows, across every
//! worker: a short wait for the reserved slot is spent here, a longer one in the
//! broker's delay queues (never a sleeping worker holding a request for long).

use std::time::Duration;

use provisioner_core::event::RequestMessage;
use provisioner_core::trace::TraceParent;
use provisioner_store::{Claim, Integration};

use crate::attempt::AttemptError;
use crate::Worker;

/// Waits up to this long in the worker; beyond it the request goes back to the broker.
const MAX_WAIT_IN_WORKER: Duration = Duration::from_secs(2);

pub(crate) enum Paced {
    /// Call now.
    Go,
    /// The request waits in the broker; this attempt is over without a call.
    Parked,
}

impl Worker {
    pub(crate) async fn pace(
        &self,
        claim: &Claim,
        integration: &Integration,
        trace: &TraceParent,
    ) -> Result<Paced, AttemptError> {
        let Some(per_second) = integration.requests_per_second else {
            return Ok(Paced::Go);
        };
        let wait = self
            .store
            .reserve_call(integration.id.into(), per_second)
            .await?;
        if wait <= MAX_WAIT_IN_WORKER {
            tokio::time::sleep(wait).await;
            return Ok(Paced::Go);
        }
        let request = &claim.request;
        // Not an attempt: the SaaS was not called, so it must not use one up.
        let released = self
            .store
            .release_claim(
                request.tenant_id.into(),
                request.id.into(),
                claim.attempt(),
                wait,
            )
            .await?;
        if released {
            let message = RequestMessage {
                tenant_id: request.tenant_id.into(),
                request_id: request.id.into(),
            };
            self.publisher.publish_retry(&message, wait, trace).await?;
            metrics::counter!("provisioner_paced_waits_total", "service" => request.service.clone())
                .increment(1);
            tracing::info!(request_id = %request.id, wait_ms = wait.as_millis() as u64,
                "paced: waiting in the broker for the integration's next slot");
        }
        Ok(Paced::Parked)
    }
}
