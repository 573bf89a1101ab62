//! One attempt at one request, from claim to recorded outcome.

use provisioner_broker::BrokerError;
use provisioner_connectors::{provision, IntegrationTarget};
use provisioner_core::event::RequestMessage;
use provisioner_core::retry::RetryDecision;
use provisioner_core::trace::TraceParent;
use provisioner_core::{
    ConnectorFailure, IntegrationStatus, ProvisionOutcome, RequestError, RequestState,
};
use provisioner_store::{Claim, ClaimOutcome, Integration, StoreError, TerminalUpdate};

use crate::pacing::Paced;
use crate::Worker;

#[derive(Debug, thiserror::Error)]
pub enum AttemptError {
    /// The message can never be handled (it names no known request); it goes to the
    /// dead-letter queue with this reason.
    #[error("{0}")]
    Poison(String),
    /// PostgreSQL or the broker failed; the attempt can be made again later.
    #[error(transparent)]
    Infrastructure(Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for AttemptError {
    fn from(error: StoreError) -> Self {
        Self::Infrastructure(Box::new(error))
    }
}

impl From<BrokerError> for AttemptError {
    fn from(error: BrokerError) -> Self {
        Self::Infrastructure(Box::new(error))
    }
}

impl Worker {
    pub(crate) async fn attempt(
        &self,
        message: RequestMessage,
        redelivered: bool,
        trace: &TraceParent,
    ) -> Result<(), AttemptError> {
        let claim = match self
            .store
            .claim_request(
                message.tenant_id,
                message.request_id,
                redelivered,
                self.claim_lease,
            )
            .await?
        {
            ClaimOutcome::Claimed(claim) => claim,
            ClaimOutcome::AlreadyTerminal | ClaimOutcome::HeldElsewhere => {
                tracing::debug!(request_id = %message.request_id, "duplicate delivery skipped");
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

        let integration = self
            .store
            .integration(message.tenant_id, request.integration_id.into())
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
                .finish(&claim, RequestState::Rejected, None, Some(error))
                .await;
        }

        let lease = match self.pace(&claim, &integration, trace).await? {
            Paced::Go(lease) => lease,
            Paced::Parked => return Ok(()),
        };
        let outcome = self.call_service(&claim, &integration).await;
        self.end_call(lease).await;
        match outcome {
            Ok(outcome) => {
                let external_id = Some(outcome.external_id().to_owned());
                if matches!(outcome, ProvisionOutcome::AlreadyExists { .. }) {
                    tracing::info!(request_id = %request.id, "adopted an existing account");
                }
                self.finish(&claim, RequestState::Succeeded, external_id, None)
                    .await
            }
            Err(failure) => {
                self.handle_failure(&claim, &integration, failure, trace)
                    .await
            }
        }
    }

    async fn call_service(
        &self,
        claim: &Claim,
        integration: &Integration,
    ) -> Result<ProvisionOutcome, ConnectorFailure> {
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
            credentials: integration.credentials.clone(),
        };
        let empty = serde_json::Map::new();
        let account = request.account.as_object().unwrap_or(&empty);
        let started = std::time::Instant::now();
        let result = provision(
            connector.as_ref(),
            &target,
            account,
            claim.may_have_reached_before(),
        )
        .await;
        crate::metrics::connector_called(&request.service, started, &result);
        result
    }

    async fn handle_failure(
        &self,
        claim: &Claim,
        integration: &Integration,
        failure: ConnectorFailure,
        trace: &TraceParent,
    ) -> Result<(), AttemptError> {
        let request = &claim.request;
        let error = RequestError::from_failure(&failure);
        tracing::info!(request_id = %request.id, code = %error.code, cause = %error.message, "attempt failed");
        match failure {
            ConnectorFailure::AuthFailed { cause } => {
                // The credentials no longer work: stop calling this SaaS until someone
                // re-integrates and a check passes.
                self.store
                    .set_integration_status(
                        request.tenant_id.into(),
                        integration.id.into(),
                        IntegrationStatus::Error,
                        Some(&cause),
                    )
                    .await?;
                let error = RequestError::integration_not_ok(
                    &integration.service,
                    &integration.workspace,
                    Some(&cause),
                );
                self.finish(claim, RequestState::Rejected, None, Some(error))
                    .await
            }
            ConnectorFailure::Permanent { .. } => {
                self.finish(claim, RequestState::Failed, None, Some(error))
                    .await
            }
            ConnectorFailure::RateLimited { .. } | ConnectorFailure::Transient { .. } => {
                if let ConnectorFailure::RateLimited { retry_after } = &failure {
                    // The SaaS said slow down: hold every worker's calls back, not
                    // only this request.
                    let pause = retry_after.unwrap_or(std::time::Duration::from_secs(1));
                    self.store.pause_calls(integration.id.into(), pause).await?;
                }
                let attempts = u32::try_from(claim.attempt()).unwrap_or(u32::MAX);
                // An integration may allow fewer or more attempts than the default.
                let mut policy = self.retry_policy.clone();
                if let Some(max) = integration.max_attempts.and_then(|m| u32::try_from(m).ok()) {
                    policy.max_attempts = max;
                }
                match policy.decide(attempts, failure.retry_after()) {
                    RetryDecision::RetryAfter { delay_index, delay } => {
                        let parked = self
                            .store
                            .park_for_retry(
                                request.tenant_id.into(),
                                request.id.into(),
                                claim.attempt(),
                                &error,
                            )
                            .await?;
                        if parked {
                            let message = RequestMessage {
                                tenant_id: request.tenant_id.into(),
                                request_id: request.id.into(),
                            };
                            self.publisher
                                .publish_retry(&message, delay_index, trace)
                                .await?;
                            let rate_limited =
                                matches!(failure, ConnectorFailure::RateLimited { .. });
                            crate::metrics::retry_parked(&request.service, rate_limited);
                            tracing::info!(request_id = %request.id, delay_ms = delay.as_millis() as u64, "retry parked");
                        }
                        Ok(())
                    }
                    RetryDecision::GiveUp => {
                        let dead = self
                            .finish(claim, RequestState::Dead, None, Some(error.clone()))
                            .await;
                        let body = serde_json::to_vec(&RequestMessage {
                            tenant_id: request.tenant_id.into(),
                            request_id: request.id.into(),
                        })
                        .unwrap_or_default();
                        let reason = format!(
                            "retries exhausted after {} attempts: {}",
                            claim.attempt(),
                            error.message
                        );
                        self.publisher
                            .publish_dead_letter(
                                &body,
                                &format!("request.{}", request.service),
                                &reason,
                            )
                            .await?;
                        dead
                    }
                }
            }
        }
    }

    /// Commits the terminal state, then publishes its result event. If the publish
    /// fails the relay sends the same event (same id) later.
    async fn finish(
        &self,
        claim: &Claim,
        state: RequestState,
        external_account_id: Option<String>,
        error: Option<RequestError>,
    ) -> Result<(), AttemptError> {
        let request = &claim.request;
        let update = TerminalUpdate {
            state,
            external_account_id,
            error,
        };
        let Some(row) = self
            .store
            .finish_request(
                request.tenant_id.into(),
                request.id.into(),
                claim.attempt(),
                &update,
            )
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
            Ok(()) => self.store.mark_result_published(event.id).await?,
            Err(error) => {
                tracing::warn!(event_id = %event.id, error = %error, "result event not confirmed; the relay will publish it");
            }
        }
        Ok(())
    }
}
