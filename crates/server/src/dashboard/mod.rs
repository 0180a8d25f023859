//! The dashboard's API: the map layers and the live view (`live_view.rs`), also
//! pushed over Server-Sent Events as it changes (`feed.rs`), the coordinator's
//! controls (`controls.rs`, each an override event through the service core,
//! audit-logged), alert acknowledgements (`alerts.rs`) and the audit log
//! (`audit_log.rs`). A lab caller sees its own lab's items only; a live feed
//! ends as soon as the session that opened it does.

mod accepted;
pub(crate) mod alerts;
pub(crate) mod audit_log;
pub(crate) mod controls;
pub(crate) mod feed;
pub(crate) mod live_view;

pub use crate::state::DashboardContext;
pub use feed::run_feed;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};

/// The dashboard's routes.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/map", get(live_view::map))
        .route("/api/v1/dashboard", get(live_view::dashboard))
        .route("/api/v1/live", get(feed::live))
        .route("/api/v1/audit", get(audit_log::audit_log))
        .route("/api/v1/alerts/{id}/ack", post(alerts::ack_alert))
        .route("/api/v1/alerts/ack", post(alerts::ack_alerts))
        .route("/api/v1/control/fleet/ground", post(controls::ground))
        .route("/api/v1/control/fleet/release", post(controls::release))
        .route(
            "/api/v1/control/drones/{id}/pause",
            post(controls::pause_drone),
        )
        .route(
            "/api/v1/control/drones/{id}/resume",
            post(controls::resume_drone),
        )
        .route(
            "/api/v1/control/labs/{id}/unavailable",
            post(controls::lab_unavailable),
        )
        .route(
            "/api/v1/control/labs/{id}/available",
            post(controls::lab_available),
        )
        .route(
            "/api/v1/control/labs/{id}/divert",
            post(controls::divert_lab),
        )
        .route(
            "/api/v1/control/stations/{id}/force-pickup",
            post(controls::force_pickup),
        )
        .route(
            "/api/v1/control/missions/{id}/reassign",
            post(controls::reassign),
        )
}
