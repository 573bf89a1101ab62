use crate::auth::Caller;
use crate::views::{ServiceList, ServiceView};
use crate::AppState;
use axum::extract::State;
use axum::Json;

/// The catalog: every service, whether it can provision, the fields it needs, and how
/// its requests are retried unless an integration says otherwise.
pub async fn list(_caller: Caller, State(state): State<AppState>) -> Json<ServiceList> {
    let catalog = &state.catalog;
    let services = catalog
        .services()
        .iter()
        .map(|s| ServiceView::new(s, &catalog.retry_policy(s.key)))
        .collect();
    Json(ServiceList { services })
}
