//! HR systems announce hires here, signed; and the signing secrets they sign with.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use provisioner_core::event::{HrEvent, HrEventError};
use provisioner_core::Scope;
use provisioner_hr_intake::signature::{verify, SignedHeaders};
use provisioner_hr_intake::IntakeOutcome;

use crate::auth::Caller;
use crate::problem::Problem;
use crate::views::{HrReceipt, HrRecorded, SigningSecret};
use crate::AppState;

/// Accepts a `com.provisioner.hr.employee.hired` CloudEvent signed as Standard Webhooks
/// has it. The signature is checked over the raw body before anything is parsed.
pub async fn receive(
    caller: Caller,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<HrReceipt>), Problem> {
    caller.require(Scope::HrEvents)?;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let secrets = state.store.hr_secrets(caller.tenant_id).await?;
    let now = chrono::Utc::now().timestamp();
    let signed = SignedHeaders {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
    };
    verify(&secrets, signed, &body, now)
        .map_err(|error| Problem::unauthenticated(&error.to_string()))?;
    let event = HrEvent::parse(&body).map_err(|error| match error {
        HrEventError::Unstorable(unstorable) => {
            Problem::invalid_field(&unstorable.field, unstorable.reason)
        }
        other => Problem::invalid_field("event", other.to_string()),
    })?;
    let outcome = state.intake.hire(caller.tenant_id, &event).await?;
    let recorded = match outcome {
        IntakeOutcome::Duplicate => None,
        IntakeOutcome::Recorded {
            employee_id,
            queued,
            failed,
        } => Some(HrRecorded {
            employee_id,
            requests_queued: queued,
            requests_failed: failed,
        }),
    };
    let body = HrReceipt {
        event_id: event.id,
        duplicate: recorded.is_none(),
        recorded,
    };
    Ok((StatusCode::ACCEPTED, Json(body)))
}

/// Makes a signing secret for this tenant's HR webhooks; shown once.
pub async fn create_secret(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<(StatusCode, Json<SigningSecret>), Problem> {
    caller.require(Scope::TokensAdmin)?;
    let (id, secret) = state.store.create_hr_secret(caller.tenant_id).await?;
    tracing::info!(secret_id = %id, "hr signing secret created");
    Ok((StatusCode::CREATED, Json(SigningSecret { id, secret })))
}
