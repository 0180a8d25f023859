//! The REST API described as OpenAPI 3.1 at `/api/openapi.json`, generated from
//! the handlers' annotations (utoipa; nothing is downloaded at build time).

use crate::state::AppState;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(title = "labflight", description = "Drone dispatch of blood specimens: live state, labs' results, result-sharing hooks, the dispatch dashboard and replay."),
    paths(
        crate::health::healthz, crate::health::metrics, crate::reads::status,
        crate::reads::drones, crate::reads::missions, crate::reads::boxes, crate::reads::tube,
        crate::lab::post_result, crate::lab::tube_received, crate::lab::tube_rejected,
        crate::lab::list_subscriptions, crate::lab::add_subscription, crate::lab::change_subscription, crate::lab::remove_subscription,
        crate::lab::deliveries, crate::lab::resend,
        crate::auth::login, crate::auth::logout, crate::auth::me, crate::auth::change_password,
        crate::dashboard::map, crate::dashboard::dashboard, crate::dashboard::live,
        crate::dashboard::audit_log, crate::dashboard::ack_alert,
        crate::dashboard::ground, crate::dashboard::release,
        crate::dashboard::pause_drone, crate::dashboard::resume_drone,
        crate::dashboard::lab_unavailable, crate::dashboard::lab_available,
        crate::dashboard::force_pickup, crate::dashboard::reassign,
        crate::replay::runs, crate::replay::open, crate::replay::frame,
    ),
    tags(
        (name = "service", description = "health and metrics"),
        (name = "state", description = "the dispatcher's live state and custody"),
        (name = "lab", description = "labs: tubes received or rejected, results (FHIR R4)"),
        (name = "hooks", description = "result-sharing subscriptions and deliveries"),
        (name = "auth", description = "sign-in and sessions"),
        (name = "dashboard", description = "the coordinators' live view"),
        (name = "control", description = "coordinators' overrides"),
        (name = "replay", description = "recorded runs for analysts"),
    )
)]
pub struct ApiDoc;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(openapi))
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_group_is_described() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        for path in [
            "/api/v1/lab/results",
            "/api/v1/control/fleet/ground",
            "/api/v1/dashboard",
            "/api/v1/replay/{id}/frame",
            "/api/v1/auth/login",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} missing");
        }
        assert!(doc["components"]["schemas"].get("View").is_some());
    }
}
