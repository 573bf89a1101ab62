//! What a failed call leads to: a permanent refusal ends the request at once; a
//! transient one, a rate limit or an authentication failure below the quarantine
//! threshold is retried by the integration's policy, parked in the broker; repeated
//! authentication failures put the integration in error.

use chrono::Utc;
use provisioner_core::event::RequestMessage;
use provisioner_core::quarantine::{after_auth_failure, AuthFailureVerdict};
use provisioner_core::retry::{GiveUpReason, RetryDecision, RetryPolicy};
use provisioner_core::trace::TraceParent;
use provisioner_core::{ConnectorFailure, ProvisionOutcome, RequestError, RequestState};
use provisioner_store::{Claim, Integration};

use crate::attempt::AttemptError;
use crate::Worker;

impl Worker {
    pub(crate) async fn handle_failure(
        &self,
        claim: &Claim,
        integration: &Integration,
        failure: ConnectorFailure,
        trace: &TraceParent,
    ) -> Result<(), AttemptError> {
        let request = &claim.request;
        let error = RequestError::from_failure(&failure);
        tracing::info!(request_id = %request.id, code = %error.code, cause = %error.message, "attempt failed");
        let policy = self.policy_for(integration);
        match &failure {
            ConnectorFailure::Permanent { .. } => {
                self.finish(claim, RequestState::Failed, None, Some(error))
                    .await
            }
            ConnectorFailure::AuthFailed { cause } => {
                if self.quarantined(integration, cause).await? {
                    let error = RequestError::integration_not_ok(
                        &integration.service,
                        &integration.workspace,
                        Some(cause),
                    );
                    return self
                        .finish(claim, RequestState::Rejected, None, Some(error))
                        .await;
                }
                self.retry_or_give_up(claim, integration, &policy, &failure, error, trace)
                    .await
            }
            ConnectorFailure::RateLimited { retry_after } => {
                // The SaaS said slow down: hold every worker's calls back, not only this
                // request, though never longer than the policy would wait.
                let pause = retry_after
                    .unwrap_or(std::time::Duration::from_secs(1))
                    .min(policy.cap());
                self.store.pause_calls(integration.id, pause).await?;
                self.retry_or_give_up(claim, integration, &policy, &failure, error, trace)
                    .await
            }
            ConnectorFailure::Transient { .. } => {
                self.retry_or_give_up(claim, integration, &policy, &failure, error, trace)
                    .await
            }
        }
    }

    /// The service's policy with what the integration overrides.
    fn policy_for(&self, integration: &Integration) -> RetryPolicy {
        self.catalog
            .retry_policy(&integration.service)
            .overridden_by(&integration.retry)
    }

    /// Counts the authentication failure; tells whether it was one too many in a row,
    /// in which case the integration is now in error.
    async fn quarantined(
        &self,
        integration: &Integration,
        cause: &str,
    ) -> Result<bool, AttemptError> {
        let tenant_id = integration.tenant_id;
        let in_a_row = self
            .store
            .record_auth_failure(tenant_id, integration.id)
            .await?;
        if after_auth_failure(in_a_row, self.auth_failure_threshold) == AuthFailureVerdict::Retry {
            return Ok(false);
        }
        let reason = format!("{in_a_row} authentication failures in a row, the last: {cause}");
        let quarantined = self
            .store
            .quarantine_integration(
                tenant_id,
                integration.id,
                self.auth_failure_threshold,
                &reason,
            )
            .await?;
        if quarantined {
            tracing::warn!(integration_id = %integration.id, failures = in_a_row,
                "integration set to error after repeated authentication failures");
        }
        Ok(quarantined)
    }

    async fn retry_or_give_up(
        &self,
        claim: &Claim,
        integration: &Integration,
        policy: &RetryPolicy,
        failure: &ConnectorFailure,
        error: RequestError,
        trace: &TraceParent,
    ) -> Result<(), AttemptError> {
        let request = &claim.request;
        let attempts = u32::try_from(claim.attempt()).unwrap_or(u32::MAX);
        let elapsed = (Utc::now() - request.created_at)
            .to_std()
            .unwrap_or_default();
        let message = RequestMessage {
            tenant_id: request.tenant_id,
            request_id: request.id,
        };
        let reason = match policy.decide(attempts, failure.retry_after(), elapsed, rand::random()) {
            RetryDecision::RetryAfter(delay) => {
                let parked = self
                    .store
                    .park_for_retry(
                        request.tenant_id,
                        request.id,
                        claim.attempt(),
                        &error,
                        delay,
                    )
                    .await?;
                if parked {
                    self.publisher.publish_retry(&message, delay, trace).await?;
                    let rate_limited = matches!(failure, ConnectorFailure::RateLimited { .. });
                    crate::metrics::retry_parked(&request.service, rate_limited);
                    tracing::info!(request_id = %request.id, delay_ms = delay.as_millis() as u64, "retry parked");
                }
                return Ok(());
            }
            RetryDecision::GiveUp(GiveUpReason::AttemptsExhausted) => {
                format!("retries exhausted after {attempts} attempts")
            }
            RetryDecision::GiveUp(GiveUpReason::DeadlinePassed) => format!(
                "deadline passed after {attempts} attempts: no attempt may start more than \
                 {} s after the request was accepted",
                policy.deadline.as_secs()
            ),
        };
        if matches!(failure, ConnectorFailure::Transient { .. }) {
            // A transient failure may hide a create that landed (its answer lost, or
            // cut off): look once more before calling the request dead.
            if let Some(external_id) = self.find_existing(claim, integration).await {
                tracing::info!(request_id = %request.id, external_id,
                    "the account exists after all; adopted instead of giving up");
                let found = ProvisionOutcome::AlreadyExists { external_id };
                return self
                    .finish(claim, RequestState::Succeeded, Some(found), None)
                    .await;
            }
        }
        let dead = self
            .finish(claim, RequestState::Dead, None, Some(error.clone()))
            .await;
        let body = serde_json::to_vec(&message).unwrap_or_default();
        self.publisher
            .publish_dead_letter(
                &body,
                &format!("request.{}", request.service),
                &format!("{reason}: {}", error.message),
            )
            .await?;
        provisioner_broker::count_dead_letter(&self.publisher.topology().requests_exchange());
        dead
    }
}
