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
        crate::lab::results::post_result, crate::lab::results::tube_received, crate::lab::results::tube_rejected,
        crate::lab::subscriptions::list_subscriptions, crate::lab::subscriptions::add_subscription, crate::lab::subscriptions::change_subscription, crate::lab::subscriptions::remove_subscription,
        crate::lab::deliveries::deliveries, crate::lab::deliveries::resend,
        crate::auth::sign_in::login, crate::auth::sign_in::logout, crate::auth::sign_in::me, crate::auth::sign_in::change_password,
        crate::dashboard::live_view::map, crate::dashboard::live_view::dashboard, crate::dashboard::feed::live,
        crate::dashboard::audit_log::audit_log, crate::dashboard::alerts::ack_alert, crate::dashboard::alerts::ack_alerts,
        crate::dashboard::controls::ground, crate::dashboard::controls::release,
        crate::dashboard::controls::pause_drone, crate::dashboard::controls::resume_drone,
        crate::dashboard::controls::lab_unavailable, crate::dashboard::controls::lab_available, crate::dashboard::controls::divert_lab,
        crate::dashboard::controls::force_pickup, crate::dashboard::controls::reassign,
        crate::replay::runs, crate::replay::open, crate::replay::frame,
        crate::day_views::day, crate::day_views::report_csv,
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

/// What every bounded text field also refuses: a NUL (`limits::field`).
const NO_NUL: &str = "^[^\\u0000]*$";

/// The document as served: utoipa's, with every bounded text field that states
/// no pattern of its own saying it takes no NUL — said here once rather than on
/// each field (fields with a pattern exclude NUL in it).
pub(crate) fn document() -> serde_json::Value {
    let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or_default();
    refuse_nul(&mut doc);
    doc
}

fn refuse_nul(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            let string = match map.get("type") {
                Some(Value::String(t)) => t == "string",
                Some(Value::Array(ts)) => ts.iter().any(|t| t == "string"),
                _ => false,
            };
            if string && map.contains_key("maxLength") && !map.contains_key("pattern") {
                map.insert("pattern".into(), Value::String(NO_NUL.into()));
            }
            map.values_mut().for_each(refuse_nul);
        }
        Value::Array(items) => items.iter_mut().for_each(refuse_nul),
        _ => {}
    }
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/openapi.json", get(openapi))
}

async fn openapi() -> Json<serde_json::Value> {
    Json(document())
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

    fn doc() -> serde_json::Value {
        document()
    }

    /// A parameter's schema, by route, method and name.
    fn parameter(
        doc: &serde_json::Value,
        path: &str,
        method: &str,
        name: &str,
    ) -> serde_json::Value {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == name))
            .map(|p| p["schema"].clone())
            .unwrap_or_else(|| panic!("{method} {path} has no parameter `{name}`"))
    }

    #[test]
    fn the_documented_bounds_are_the_ones_the_handlers_check() {
        use crate::limits;
        let doc = doc();
        let max = |v: &serde_json::Value| {
            // Every bounded field also refuses a NUL, and says so.
            let pattern = v["pattern"].as_str().unwrap_or_default();
            assert!(pattern.contains("[^\\u0000"), "no NUL rule: {v}");
            v["maxLength"].as_u64().map(|n| n as usize)
        };
        for (path, method, name, limit) in [
            ("/api/v1/tubes/{barcode}", "get", "barcode", limits::BARCODE),
            (
                "/api/v1/lab/tubes/{barcode}/received",
                "post",
                "barcode",
                limits::BARCODE,
            ),
            (
                "/api/v1/lab/tubes/{barcode}/rejected",
                "post",
                "barcode",
                limits::BARCODE,
            ),
            (
                "/api/v1/hooks/deliveries",
                "get",
                "barcode",
                limits::BARCODE,
            ),
            ("/api/v1/alerts/{id}/ack", "post", "id", limits::ID),
            (
                "/api/v1/control/drones/{id}/pause",
                "post",
                "id",
                limits::ID,
            ),
            (
                "/api/v1/control/drones/{id}/resume",
                "post",
                "id",
                limits::ID,
            ),
            (
                "/api/v1/control/labs/{id}/unavailable",
                "post",
                "id",
                limits::ID,
            ),
            (
                "/api/v1/control/labs/{id}/available",
                "post",
                "id",
                limits::ID,
            ),
            (
                "/api/v1/control/stations/{id}/force-pickup",
                "post",
                "id",
                limits::ID,
            ),
            (
                "/api/v1/control/missions/{id}/reassign",
                "post",
                "id",
                limits::ID,
            ),
            ("/api/v1/hooks/subscriptions/{id}", "put", "id", limits::ID),
            (
                "/api/v1/hooks/subscriptions/{id}",
                "delete",
                "id",
                limits::ID,
            ),
            (
                "/api/v1/hooks/deliveries/{webhook_id}/resend",
                "post",
                "webhook_id",
                limits::ID,
            ),
        ] {
            let schema = parameter(&doc, path, method, name);
            assert_eq!(
                max(&schema),
                Some(limit),
                "{method} {path} `{name}`: {schema}"
            );
        }
        let schemas = &doc["components"]["schemas"];
        for (schema, field, limit) in [
            ("Login", "user", limits::USER_NAME),
            ("Login", "password", limits::PASSWORD),
            ("PasswordChange", "current", limits::PASSWORD),
            ("PasswordChange", "new", limits::PASSWORD),
            ("RejectBody", "reason", limits::REASON),
            ("NewSubscription", "id", limits::ID),
            ("NewSubscription", "scope", limits::SCOPE),
            ("NewSubscription", "url", limits::URL),
            ("NewSubscription", "secret", limits::SECRET),
            ("SubscriptionChange", "scope", limits::SCOPE),
            ("SubscriptionChange", "url", limits::URL),
            ("SubscriptionChange", "secret", limits::SECRET),
            ("Reassign", "drone", limits::ID),
            ("Divert", "to", limits::ID),
        ] {
            let property = &schemas[schema]["properties"][field];
            assert_eq!(max(property), Some(limit), "{schema}.{field}: {property}");
        }
        let ids = &schemas["AckAlerts"]["properties"]["ids"];
        assert_eq!(max(&ids["items"]), Some(limits::ID), "AckAlerts.ids: {ids}");
        assert_eq!(ids["maxItems"].as_u64(), Some(200), "AckAlerts.ids: {ids}");
        assert_eq!(
            schemas["PasswordChange"]["properties"]["new"]["minLength"].as_u64(),
            Some(limits::PASSWORD_MIN as u64)
        );
    }

    #[test]
    fn every_route_says_who_may_call_it_and_how_each_refusal_looks() {
        let doc = doc();
        let open = [
            "/healthz",
            "/metrics",
            "/api/v1/status",
            "/api/v1/auth/login",
        ];
        let mut operations = 0;
        for (path, methods) in doc["paths"].as_object().unwrap() {
            for (method, op) in methods.as_object().unwrap() {
                operations += 1;
                let responses = op["responses"].as_object().unwrap();
                assert!(
                    responses.keys().any(|s| s.starts_with('2')),
                    "{method} {path}: no success answer"
                );
                for (status, response) in responses {
                    if status.starts_with('4') || status.starts_with('5') {
                        assert!(
                            response["content"]
                                .as_object()
                                .is_some_and(|c| !c.is_empty()),
                            "{method} {path}: {status} has no documented body"
                        );
                    }
                }
                let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
                assert_eq!(
                    secured,
                    !open.contains(&path.as_str()),
                    "{method} {path}: security {}",
                    op["security"]
                );
                if secured && path != "/api/v1/auth/logout" {
                    assert!(
                        responses.contains_key("401"),
                        "{method} {path}: signed-in only, but no 401"
                    );
                }
            }
        }
        assert!(operations >= 36, "{operations} operations described");
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(schemes["bearer"]["scheme"], "bearer");
        assert_eq!(schemes["session"]["in"], "cookie");
        assert_eq!(schemes["session"]["name"], crate::auth::SESSION_COOKIE);
    }
}
