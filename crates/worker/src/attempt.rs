//! One attempt at one request, from claim to recorded outcome.

use std::sync::Arc;

use provisioner_broker::BrokerError;
use provisioner_connectors::{provision_stamped, Connector, IntegrationTarget, Owner, Stamp};
use provisioner_core::event::RequestMessage;
use provisioner_core::trace::TraceParent;
use provisioner_core::{
    ConnectorFailure, IntegrationStatus, ProvisionOutcome, RequestError, RequestState,
};
use provisioner_store::{Claim, ClaimOutcome, Integration, StoreError, TerminalUpdate};

use crate::freeze::FreezePoint;
use crate::pacing::Paced;
use crate::Worker;

#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    /// The message can never be handled (it names no known request); it goes to the
    /// dead-letter queue with this reason.
    #[error("{0}")]
    Poison(String),
    /// PostgreSQL or the broker is unavailable; the attempt can be made again later.
    #[error(transparent)]
    Infrastructure(Box<dyn std::error::Error + Send + Sync>),
    /// PostgreSQL or the broker refused what the attempt asked for good: the same
    /// attempt would be refused again, so the message goes to the dead-letter queue.
    #[error(transparent)]
    Refused(Refusal),
    /// The same, while this worker held the claim of attempt `attempt`.
    #[error("attempt {attempt} interrupted: {error}")]
    Interrupted {
        attempt: i32,
        error: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// A refusal that trying again cannot help, and who refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error(transparent)]
    Store(StoreError),
    #[error(transparent)]
    Broker(BrokerError),
}

impl Refusal {
    /// The error code a request ended by this refusal carries.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Store(_) => "store_refused",
            Self::Broker(_) => "broker_refused",
        }
    }
}

// Classified where the error arises (by SQLSTATE class or error kind, see
// `StoreError::is_transient`), so an outage is waited out and a refusal is not.
impl From<StoreError> for AttemptError {
    fn from(error: StoreError) -> Self {
        if error.is_transient() {
            Self::Infrastructure(Box::new(error))
        } else {
            Self::Refused(Refusal::Store(error))
        }
    }
}

impl From<BrokerError> for AttemptError {
    fn from(error: BrokerError) -> Self {
        if error.is_transient() {
            Self::Infrastructure(Box::new(error))
        } else {
            Self::Refused(Refusal::Broker(error))
        }
    }
}

impl Worker {
    pub(crate) async fn attempt(
        &self,
        message: RequestMessage,
        held: Option<i32>,
        trace: &TraceParent,
    ) -> Result<(), AttemptError> {
        let mut claim = match self
            .store
            .claim_request(
                message.tenant_id,
                message.request_id,
                held,
                self.claim_lease,
            )
            .await?
        {
            ClaimOutcome::Claimed(claim) => claim,
            ClaimOutcome::AlreadyTerminal => {
                tracing::debug!(request_id = %message.request_id, "duplicate delivery skipped");
                return Ok(());
            }
            ClaimOutcome::HeldElsewhere(lease_left) => {
                // Another copy is being worked on, or its worker died. This copy waits
                // for the claim to end: then the request is finished, waiting for a retry,
                // or free to take over. Dropping it would leave a dead worker's request to
                // the relay's slower sweep.
                let wait = lease_left + std::time::Duration::from_secs(1);
                tracing::debug!(request_id = %message.request_id, wait_ms = wait.as_millis() as u64, "held elsewhere; waiting for the claim to end");
                self.publisher.publish_retry(&message, wait, trace).await?;
                return Ok(());
            }
            ClaimOutcome::NotDue(remaining) => {
                // An early copy: it waits again in the broker rather than start a retry
                // before the time the last failure asked for.
                tracing::debug!(request_id = %message.request_id, remaining_ms = remaining.as_millis() as u64, "early wake-up parked again");
                self.publisher
                    .publish_retry(&message, remaining, trace)
                    .await?;
                return Ok(());
            }
            ClaimOutcome::NotFound => {
                return Err(AttemptError::Poison(format!(
                    "request {} of tenant {} does not exist",
                    message.request_id, message.tenant_id
                )))
            }
        };
        let request = &claim.request;
        tracing::info!(request_id = %request.id, service = %request.service, attempt = request.attempts, "attempt started");

        match self.carry_out(&mut claim, &message, trace).await {
            Err(AttemptError::Infrastructure(error)) => Err(AttemptError::Interrupted {
                attempt: claim.attempt(),
                error,
            }),
            Err(AttemptError::Refused(refusal)) => self.end_refused(&claim, refusal).await,
            done => done,
        }
    }

    /// Ends a request whose attempt was refused for good as `dead` with the refusal as
    /// its cause, when its row can still be written, and hands the refusal on for the
    /// message to be dead-lettered with it.
    async fn end_refused(&self, claim: &Claim, refusal: Refusal) -> Result<(), AttemptError> {
        let request = &claim.request;
        tracing::error!(request_id = %request.id, error = %refusal, code = refusal.code(),
            "attempt refused for good; the request ends dead");
        let cause = RequestError {
            code: refusal.code().to_owned(),
            message: refusal.to_string(),
            retryable: false,
        };
        match self
            .finish(claim, RequestState::Dead, None, Some(cause))
            .await
        {
            Ok(()) => {}
            // Marking it waits out an outage like any other write: the next try of the
            // attempt meets the refusal again and marks it then.
            Err(AttemptError::Infrastructure(error)) => {
                return Err(AttemptError::Interrupted {
                    attempt: claim.attempt(),
                    error,
                })
            }
            Err(error) => {
                tracing::error!(request_id = %request.id, error = %error,
                    "the refused request could not be marked dead either");
            }
        }
        Err(AttemptError::Refused(refusal))
    }

    /// The attempt from a claim held to its recorded outcome.
    async fn carry_out(
        &self,
        claim: &mut Claim,
        message: &RequestMessage,
        trace: &TraceParent,
    ) -> Result<(), AttemptError> {
        let request = &claim.request;
        let (integration, pause) = self
            .store
            .integration_for_call(message.tenant_id, request.integration_id)
            .await?
            .ok_or_else(|| {
                AttemptError::Poison(format!("integration {} is gone", request.integration_id))
            })?;
        if integration.status() != IntegrationStatus::Ok {
            let error = RequestError::integration_not_ok(
                &integration.service,
                &integration.workspace,
                integration.status_reason.as_deref(),
            );
            return self
                .finish(claim, RequestState::Rejected, None, Some(error))
                .await;
        }

        let lease = match self.pace(claim, &integration, pause, trace).await? {
            Paced::Go(lease) => lease,
            Paced::Parked => return Ok(()),
        };
        // Waiting for a turn is not an attempt either; the claim is renewed after it
        // if the wait aged it.
        let turn = self
            .call_permits
            .acquire()
            .await
            .expect("the call permits are never closed");
        let held = self.still_held(claim).await;
        if !matches!(held, Ok(true)) {
            self.end_call(lease).await;
            held?;
            tracing::info!(request_id = %claim.request.id,
                "claim taken over while the attempt waited to call; the request is its new holder's");
            return Ok(());
        }
        let request = &claim.request;
        FreezePoint::BeforeCall.here().await;
        let outcome = self.call_service(claim, &integration).await;
        self.end_call(lease).await;
        drop(turn);
        FreezePoint::AfterCall.here().await;
        match outcome {
            Ok(outcome) => {
                if integration.auth_failures > 0 {
                    // The credentials work: earlier refusals were not "in a row".
                    self.store
                        .clear_auth_failures(message.tenant_id, integration.id)
                        .await?;
                }
                if matches!(outcome, ProvisionOutcome::AlreadyExists { .. }) {
                    tracing::info!(request_id = %request.id, "adopted an existing account");
                }
                self.finish(claim, RequestState::Succeeded, Some(outcome), None)
                    .await
            }
            Err(failure) => {
                self.handle_failure(claim, &integration, failure, trace)
                    .await
            }
        }
    }

    /// Whether the claim is still this worker's, renewing it if waiting for a call slot
    /// aged it: every call must end within the claim's lease (see [`Self::call_budget`]),
    /// or another worker could take the request over and create the account too.
    async fn still_held(&self, claim: &mut Claim) -> Result<bool, StoreError> {
        if claim.age() < self.claim_lease / 8 {
            return Ok(true);
        }
        self.store.renew_claim(claim).await
    }

    /// The service's connector and where it calls, or why it cannot call at all.
    fn connector_for(
        &self,
        claim: &Claim,
        integration: &Integration,
    ) -> Result<(Arc<dyn Connector>, IntegrationTarget), ConnectorFailure> {
        let request = &claim.request;
        let Some(connector) = self.catalog.connector(&request.service) else {
            return Err(ConnectorFailure::Permanent {
                code: "not_provisionable".into(),
                cause: format!("the service {} cannot provision accounts", request.service),
            });
        };
        let base_url = self
            .catalog
            .base_url(&request.service, integration.base_url.as_deref())
            .map_err(|error| ConnectorFailure::Permanent {
                code: "invalid_integration".into(),
                cause: format!("{error}; re-integrate the service"),
            })?;
        let target = IntegrationTarget {
            workspace: integration.workspace.clone(),
            base_url,
            credentials: integration.credentials.expose().clone(),
        };
        Ok((connector, target))
    }

    /// Whether the request's account exists at the service after all: asked before a
    /// request is given up, since the last attempt's create may have landed though its
    /// answer did not. A failed lookup counts as not found.
    pub(crate) async fn find_existing(
        &self,
        claim: &Claim,
        integration: &Integration,
    ) -> Option<String> {
        let (connector, target) = self.connector_for(claim, integration).ok()?;
        let account = claim.request.account.as_object()?;
        let stamp = Stamp::new(claim.request.id.to_string());
        let lookup = connector.identify(&target, account, &stamp, false);
        // Only provisioner's own account is adopted here; a linkable one is left to an
        // attempt, which decides with the person's identity in hand.
        match tokio::time::timeout(self.call_budget(), lookup).await {
            Ok(Ok(Some(found))) if matches!(found.owner, Owner::Ours | Owner::Unverified) => {
                Some(found.external_id)
            }
            _ => None,
        }
    }

    async fn call_service(
        &self,
        claim: &Claim,
        integration: &Integration,
    ) -> Result<ProvisionOutcome, ConnectorFailure> {
        let request = &claim.request;
        let (connector, target) = self.connector_for(claim, integration)?;
        let empty = serde_json::Map::new();
        let account = request.account.as_object().unwrap_or(&empty);
        let started = std::time::Instant::now();
        // The request id: every attempt of the request shares it and nothing else does.
        let stamp = Stamp::new(request.id.to_string());
        let calls = provision_stamped(
            connector.as_ref(),
            &target,
            account,
            &stamp,
            claim.may_have_reached_before(),
        );
        let budget = self.call_budget();
        let result = tokio::time::timeout(budget, calls)
            .await
            .unwrap_or_else(|_| {
                Err(ConnectorFailure::Transient {
                    cause: format!(
                        "the service did not finish answering within {} s; the attempt was cut off so that its claim cannot outlive it",
                        budget.as_secs()
                    ),
                })
            });
        crate::metrics::connector_called(&request.service, started, &result);
        result
    }

    /// Commits the terminal state, with the account a success gave, then publishes its
    /// result event. If the publish fails the relay sends the same event (same id) later.
    pub(crate) async fn finish(
        &self,
        claim: &Claim,
        state: RequestState,
        account: Option<ProvisionOutcome>,
        error: Option<RequestError>,
    ) -> Result<(), AttemptError> {
        let request = &claim.request;
        let update = TerminalUpdate {
            state,
            account,
            error,
        };
        let Some(row) = self
            .store
            .finish_request(request.tenant_id, request.id, claim.attempt(), &update)
            .await?
        else {
            tracing::info!(request_id = %request.id, "claim was taken over; outcome left to the new holder");
            return Ok(());
        };
        tracing::info!(request_id = %row.id, state = %state, attempts = row.attempts, "request finished");
        crate::metrics::request_finished(&row.service, state, row.created_at);
        let Some(event) = row.result_event() else {
            return Ok(());
        };
        match self.publisher.publish_result(&event).await {
            Ok(()) => self.store.mark_result_published(row.id, event.id).await?,
            Err(error) => {
                tracing::warn!(event_id = %event.id, error = %error, "result event not confirmed; the relay will publish it");
            }
        }
        Ok(())
    }
}
