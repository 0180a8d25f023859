//! The REST API described as OpenAPI 3.1 at `/api/openapi.json`, generated from
//! the handlers' annotations (utoipa; nothing is downloaded at build time):
//! every route with every status it can answer and the body of each, typed
//! request bodies, parameters with the bounds the handlers check, and the two
//! ways to be identified (a bearer token, or the browser's session cookie).
//! tests/openapi_conformance.rs holds the live service to it with schemathesis.

use crate::state::AppState;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The two ways a caller is identified, named by every route that needs one.
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut bearer = Http::new(HttpAuthScheme::Bearer);
        bearer.description = Some(
            "A session token (`POST /api/v1/auth/login` with `api_token: true`), the \
             configured admin token (a coordinator), or a lab's configured token (that lab)."
                .into(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::SESSION_COOKIE,
                "The browser's session cookie, set by `POST /api/v1/auth/login` (HttpOnly, SameSite=Strict).",
            ))),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    modifiers(&SecuritySchemes),
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
