//! The labs' and hooks' API, answered in FHIR R4 (every refusal an
//! OperationOutcome, `outcome.rs`): the labs' reports and tubes (`results.rs`),
//! the result-sharing subscriptions (`subscriptions.rs`) and deliveries
//! (`deliveries.rs`), each checking its caller through `callers.rs`. Every write
//! on it is audit-logged here, with its caller and how it ended.

mod callers;
pub(crate) mod deliveries;
pub(crate) mod results;
pub(crate) mod subscriptions;

use crate::auth::{audit, identify};
use crate::state::AppState;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};

/// The labs' and hooks' routes; every write goes through [`audit_writes`].
pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/api/v1/lab/results", post(results::post_result))
        .route(
            "/api/v1/lab/tubes/{barcode}/received",
            post(results::tube_received),
        )
        .route(
            "/api/v1/lab/tubes/{barcode}/rejected",
            post(results::tube_rejected),
        )
        .route(
            "/api/v1/hooks/subscriptions",
            get(subscriptions::list_subscriptions).post(subscriptions::add_subscription),
        )
        .route(
            "/api/v1/hooks/subscriptions/{id}",
            axum::routing::put(subscriptions::change_subscription)
                .delete(subscriptions::remove_subscription),
        )
        .route("/api/v1/hooks/deliveries", get(deliveries::deliveries))
        .route(
            "/api/v1/hooks/deliveries/{webhook_id}/resend",
            post(deliveries::resend),
        )
        .layer(axum::middleware::from_fn_with_state(state, audit_writes))
}

/// Every write on the labs' and hooks' API goes to the audit log with its caller
/// and how it ended.
async fn audit_writes(
    State(s): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let method = request.method().clone();
    if method == axum::http::Method::GET {
        return next.run(request).await;
    }
    let caller = identify(&s, request.headers()).await.ok().flatten();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    if let Some(caller) = caller {
        let status = response.status();
        let outcome = if status.is_success() {
            "ok".to_owned()
        } else {
            format!("refused: HTTP {}", status.as_u16())
        };
        audit(
            &s,
            &caller,
            &format!("{method} {path}"),
            None,
            &outcome,
            None,
        )
        .await;
    }
    response
}
