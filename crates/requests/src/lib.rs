//! The one way a provisioning request comes in, whoever asks: the api, the HR intake, an
//! operator's replay. An ask is checked against its integration and the service's schema,
//! stored as a row of the request table (which doubles as the outbox), and only then
//! published, with a publisher confirm. Accepted means durable: a publish that is not
//! confirmed leaves the row unconfirmed for the relay to sweep, and the ask still counts
//! as accepted.

mod ask;
mod check;

use std::sync::Arc;

use provisioner_broker::Publisher;
use provisioner_connectors::Catalog;
use provisioner_core::event::RequestMessage;
use provisioner_core::trace::TraceParent;
use provisioner_core::{RequestError, RequestId, RequestState, TenantId};
use provisioner_store::{NewRequest, ReplayOutcome, Store, StoreError, StoredRequest, Writes};

pub use ask::{Accepted, Action, Ask, Employee, Refusal, SubmitError};
pub use check::Checked;

#[derive(Clone)]
pub struct Requests {
    store: Store,
    publisher: Arc<Publisher>,
    catalog: Arc<Catalog>,
}

/// A checked request to store with others in one transaction: queued, or, when
/// `refused` says why it cannot even be tried, failed at once.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub request: NewRequest,
    pub refused: Option<RequestError>,
    pub trace: TraceParent,
}

/// What a batch stored.
#[derive(Debug, Default)]
pub struct Stored {
    /// The queued requests, in the order given.
    pub accepted: Vec<Accepted>,
    /// How many were recorded as failed.
    pub failed: usize,
}

impl Requests {
    pub fn new(store: Store, publisher: Arc<Publisher>, catalog: Arc<Catalog>) -> Self {
        Self {
            store,
            publisher,
            catalog,
        }
    }

    /// Accepts one request: checks it, stores it (once per idempotency key), publishes
    /// it after the commit and marks it published. A refused ask stores nothing.
    pub async fn submit(&self, tenant_id: TenantId, ask: Ask) -> Result<Accepted, SubmitError> {
        let checked = self.check(tenant_id, &ask).await?;
        let request = match checked.request {
            Some(request) if checked.refusals.is_empty() => request,
            _ => return Err(SubmitError::Refused(checked.refusals)),
        };
        match self.store.insert_request(tenant_id, &request).await? {
            StoredRequest::Created(id) => {
                self.publish(tenant_id, id, &request.service, &ask.trace)
                    .await;
                Ok(queued(id, request.service, true))
            }
            StoredRequest::Repeated(id) => Ok(queued(id, request.service, false)),
            StoredRequest::KeyReused => Err(SubmitError::KeyReused),
        }
    }

    /// Stores checked requests in `writes`, with whatever the caller wrote there before
    /// (a hire), commits them together, then publishes the queued ones. A request whose
    /// idempotency key was used before in the tenant is left out.
    pub async fn submit_all(
        &self,
        tenant_id: TenantId,
        mut writes: Writes,
        prepared: Vec<Prepared>,
    ) -> Result<Stored, StoreError> {
        let mut stored = Stored::default();
        let mut to_publish = Vec::new();
        for item in prepared {
            if let Some(error) = &item.refused {
                let id = writes
                    .insert_failed_request(tenant_id, &item.request, error)
                    .await?;
                stored.failed += usize::from(id.is_some());
                continue;
            }
            if let StoredRequest::Created(id) =
                writes.insert_request(tenant_id, &item.request).await?
            {
                stored
                    .accepted
                    .push(queued(id, item.request.service.clone(), true));
                to_publish.push((id, item));
            }
        }
        writes.commit().await?;
        for (id, item) in &to_publish {
            self.publish(tenant_id, *id, &item.request.service, &item.trace)
                .await;
        }
        Ok(stored)
    }

    /// Puts a finished-but-unsuccessful request back in the queue and publishes it
    /// again, as if it had just been accepted.
    pub async fn replay(
        &self,
        tenant_id: TenantId,
        id: RequestId,
        replayed_by: &str,
        reason: Option<&str>,
    ) -> Result<ReplayOutcome, StoreError> {
        let outcome = self
            .store
            .replay_request(tenant_id, id, replayed_by, reason)
            .await?;
        if let ReplayOutcome::Replayed(row) = &outcome {
            tracing::info!(request_id = %id, replayed_by, "request replayed");
            let trace = row.trace().unwrap_or_else(TraceParent::new_root);
            self.publish(tenant_id, id, &row.service, &trace).await;
        }
        Ok(outcome)
    }

    /// The fast path after a commit. Neither a publish the broker does not confirm nor a
    /// mark that fails undoes the acceptance: the row stays unconfirmed and the relay
    /// sweeps it (a second copy is harmless, claims are conditional).
    async fn publish(
        &self,
        tenant_id: TenantId,
        id: RequestId,
        service: &str,
        trace: &TraceParent,
    ) {
        let message = RequestMessage {
            tenant_id,
            request_id: id,
        };
        match self
            .publisher
            .publish_request(&message, service, trace)
            .await
        {
            Ok(()) => {
                if let Err(error) = self.store.mark_request_published(id).await {
                    tracing::warn!(request_id = %id, error = %error, "published but not marked; the relay may publish it again");
                }
            }
            Err(error) => {
                tracing::warn!(request_id = %id, error = %error, "publish not confirmed; the relay will publish it");
            }
        }
    }
}

fn queued(request_id: RequestId, service: String, fresh: bool) -> Accepted {
    Accepted {
        request_id,
        state: RequestState::Queued,
        service,
        fresh,
    }
}
