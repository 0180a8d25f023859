//! The routes: `/healthz`, `/metrics`, `/api/v1/status` (open), and `/api/v1/...`
//! reads over the live snapshot (drones, missions, boxes) and the store (a tube's
//! custody) for signed-in callers; the other route groups are merged in here.
//! A lab caller reads only its own lab's boxes, missions and tubes
//! ([`crate::view::LabScope`]). Every answer carries the security headers.

use crate::auth::{Caller, READERS, require};
use crate::metrics::Metrics;
use crate::view::LabScope;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use labflight_core::Instant;
use labflight_dispatch::state::State as DispatchState;
use labflight_store::Store;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};
use tower_http::set_header::SetResponseHeaderLayer;

/// What the service last published for readers.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub now: Instant,
    pub journal_seq: i64,
    pub state: Arc<DispatchState>,
    pub scenario: String,
    pub policy: String,
    pub speed: f64,
}

/// Says whether a hook URL may be called (the allowed hosts), and why not.
pub type HookUrlCheck = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub metrics: Arc<Metrics>,
    pub snapshot: watch::Receiver<Option<Snapshot>>,
    /// The service core, for requests that must be journaled.
    pub control: Option<mpsc::Sender<crate::control::Control>>,
    /// Bearer token → lab id.
    pub lab_tokens: Arc<HashMap<String, String>>,
    /// Bearer token for managing hooks.
    pub admin_token: Option<String>,
    /// Checks a hook URL against the allowed hosts.
    pub hook_url_check: HookUrlCheck,
    /// The dashboard's world, map and recorded runs (none: API only).
    pub dashboard: Option<Arc<crate::dashboard::DashboardContext>>,
    /// The live view as JSON for SSE clients to subscribe to, rebuilt as the state
    /// changes while any is connected (fed by the task `router` starts).
    pub feed: Arc<watch::Sender<Option<Arc<crate::dashboard::FeedFrame>>>>,
    /// What the service's tasks report about themselves, for `/healthz`.
    pub liveness: Arc<crate::health::Liveness>,
    /// Sign-in throttles, password-hashing slots, cookie policy, session-end signal.
    pub guard: Arc<crate::auth::Guard>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("labs", &self.lab_tokens.len())
            .finish_non_exhaustive()
    }
}

/// The whole HTTP surface. The live feed the dashboard's clients share runs
/// apart (`dashboard::run_feed`), supervised by the service.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/status", get(status))
        .route("/api/v1/drones", get(drones))
        .route("/api/v1/missions", get(missions))
        .route("/api/v1/boxes", get(boxes))
        .route("/api/v1/tubes/{barcode}", get(tube))
        .merge(crate::lab::routes(state.clone()))
        .merge(crate::auth::routes())
        .merge(crate::dashboard::routes())
        .merge(crate::replay::routes())
        .merge(crate::openapi::routes())
        .merge(crate::assets::routes())
        .with_state(state)
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// The dashboard loads everything from this server (Leaflet from
/// /assets/vendor, no map tiles from elsewhere); Leaflet positions its panes
/// with inline styles, and its marker images may be `data:` URLs.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
     object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Errors as JSON with a status, mapped in one place.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    /// A 500 that tells the caller only "internal error" and a correlation id;
    /// the real text goes to the log under that id.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        let id = crate::auth::random_secret(6);
        tracing::error!(correlation_id = %id, "internal error: {e}");
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error (correlation id {id})"),
        )
    }
}

/// The lab a lab caller is held to (none for coordinators and viewers).
pub(crate) fn lab_scope(caller: &Caller, state: &DispatchState) -> Option<LabScope> {
    caller.lab.as_deref().map(|lab| LabScope::new(state, lab))
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}

fn snapshot(s: &AppState) -> Result<Snapshot, ApiError> {
    s.snapshot.borrow().clone().ok_or_else(|| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "service is starting".into(),
        )
    })
}

#[utoipa::path(get, path = "/healthz", tag = "service", responses((status = 200, description = "every part is up: database, broker, core, delivery, outbox; with the journal sequence"), (status = 503, description = "a part is down: which, and what was seen")))]
pub async fn healthz(State(s): State<AppState>) -> Response {
    let report = crate::health::check(&s).await;
    let status = if report.healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}

#[utoipa::path(get, path = "/metrics", tag = "service", responses((status = 200, description = "Prometheus text format")))]
pub async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

#[utoipa::path(get, path = "/api/v1/status", tag = "service", responses((status = 200, description = "scenario, policy, service time, counts")))]
pub async fn status(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let snap = snapshot(&s)?;
    let st = &snap.state;
    Ok(Json(json!({
        "now": snap.now,
        "scenario": snap.scenario,
        "policy": snap.policy,
        "speed": snap.speed,
        "journal_seq": snap.journal_seq,
        "drones": st.drones.len(),
        "boxes": st.boxes.len(),
        "tubes": st.tubes.len(),
        "missions": st.missions.len(),
        "fleet_grounded": st.fleet_grounded(),
    })))
}

#[utoipa::path(get, path = "/api/v1/drones", tag = "state", responses((status = 200, description = "the fleet as the dispatcher sees it"), (status = 401, description = "not signed in")))]
pub async fn drones(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = require(&s, &headers, READERS).await?;
    let snap = snapshot(&s)?;
    let mut drones =
        serde_json::to_value(snap.state.drones.values().collect::<Vec<_>>()).unwrap_or_default();
    // A lab sees the fleet, but no other lab's mission ids.
    if let Some(scope) = lab_scope(&caller, &snap.state) {
        for d in drones.as_array_mut().into_iter().flatten() {
            let status = &mut d["status"];
            let theirs = status["mission"]
                .as_str()
                .is_some_and(|m| !scope.has_mission(m));
            if theirs {
                status["mission"] = serde_json::Value::Null;
            }
        }
    }
    Ok(Json(drones))
}

#[utoipa::path(get, path = "/api/v1/missions", tag = "state", responses((status = 200, description = "every mission of the day"), (status = 401, description = "not signed in")))]
pub async fn missions(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = require(&s, &headers, READERS).await?;
    let snap = snapshot(&s)?;
    let scope = lab_scope(&caller, &snap.state);
    let missions: Vec<_> = snap
        .state
        .missions
        .values()
        .filter(|m| scope.as_ref().is_none_or(|l| l.has_mission(m.id.as_str())))
        .collect();
    Ok(Json(serde_json::to_value(missions).unwrap_or_default()))
}

#[utoipa::path(get, path = "/api/v1/boxes", tag = "state", responses((status = 200, description = "every sealed box"), (status = 401, description = "not signed in")))]
pub async fn boxes(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = require(&s, &headers, READERS).await?;
    let snap = snapshot(&s)?;
    let scope = lab_scope(&caller, &snap.state);
    let boxes: Vec<_> = snap
        .state
        .boxes
        .values()
        .filter(|b| scope.as_ref().is_none_or(|l| l.has_box(b.id.as_str())))
        .collect();
    Ok(Json(serde_json::to_value(boxes).unwrap_or_default()))
}

#[utoipa::path(get, path = "/api/v1/tubes/{barcode}", tag = "state", params(("barcode" = String, Path)), responses((status = 200, description = "the tube's state and whole chain of custody"), (status = 404, description = "no such tube")))]
pub async fn tube(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(barcode): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = require(&s, &headers, READERS).await?;
    crate::auth::bounded("barcode", &barcode, crate::limits::BARCODE)?;
    // A lab asking for another lab's tube hears what it would for no tube at all.
    let hidden = match s.snapshot.borrow().as_ref() {
        Some(snap) => lab_scope(&caller, &snap.state).is_some_and(|l| !l.has_tube(&barcode)),
        None => caller.lab.is_some(),
    };
    let custody = if hidden {
        Vec::new()
    } else {
        s.store
            .custody(&barcode)
            .await
            .map_err(ApiError::internal)?
    };
    if custody.is_empty() {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no tube with barcode `{barcode}`"),
        ));
    }
    let state = s.snapshot.borrow().as_ref().and_then(|snap| {
        snap.state
            .tubes
            .get(&labflight_core::TubeBarcode::new(&barcode))
            .cloned()
    });
    Ok(Json(
        json!({"barcode": barcode, "state": state, "custody": custody}),
    ))
}
