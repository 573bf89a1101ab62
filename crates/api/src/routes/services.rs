use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::auth::Caller;
use crate::routes::tuning::policy_view;
use crate::AppState;

/// The catalog: every service, whether it can provision, the fields it needs, and how
/// its requests are retried unless an integration says otherwise.
pub async fn list(_caller: Caller, State(state): State<AppState>) -> Json<Value> {
    let services: Vec<Value> = state
        .catalog
        .services()
        .iter()
        .map(|s| {
            json!({
                "key": s.key,
                "name": s.name,
                "provisioning": s.provisioning,
                "requires_base_url": s.requires_base_url,
                "default_base_url": s.default_base_url,
                "account_schema": s.account_schema,
                "credentials_schema": s.credentials_schema,
                "retry_policy": policy_view(&state.catalog.retry_policy(s.key)),
            })
        })
        .collect();
    Json(json!({ "services": services }))
}
