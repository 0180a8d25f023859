//! The routes: `/healthz`, `/metrics`, and `/api/v1/...` reads over the live
//! snapshot (drones, missions, boxes, alerts) and the store (a tube's custody).

use crate::metrics::Metrics;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
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
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("labs", &self.lab_tokens.len())
            .finish_non_exhaustive()
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/status", get(status))
        .route("/api/v1/drones", get(drones))
        .route("/api/v1/missions", get(missions))
        .route("/api/v1/boxes", get(boxes))
        .route("/api/v1/tubes/{barcode}", get(tube))
        .merge(crate::lab::routes())
        .with_state(state)
}

/// Errors as JSON with a status, mapped in one place.
struct ApiError(StatusCode, String);

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

/// A plain front page until the dashboard lands: what runs and where to look.
async fn index(State(s): State<AppState>) -> axum::response::Html<String> {
    let line = match s.snapshot.borrow().as_ref() {
        Some(snap) => format!(
            "scenario <b>{}</b>, policy <b>{}</b>, service time {} ({}×), {} drones, {} boxes, {} tubes, {} missions",
            snap.scenario,
            snap.policy,
            snap.now.format("%Y-%m-%d %H:%M:%S UTC"),
            snap.speed,
            snap.state.drones.len(),
            snap.state.boxes.len(),
            snap.state.tubes.len(),
            snap.state.missions.len()
        ),
        None => "starting".into(),
    };
    axum::response::Html(format!(
        "<!doctype html><meta charset=utf-8><title>labflight</title>\
         <h1>labflight</h1><p>{line}</p><ul>\
         <li><a href=/api/v1/status>/api/v1/status</a></li>\
         <li><a href=/api/v1/drones>/api/v1/drones</a></li>\
         <li><a href=/api/v1/missions>/api/v1/missions</a></li>\
         <li><a href=/api/v1/boxes>/api/v1/boxes</a></li>\
         <li>/api/v1/tubes/&lt;barcode&gt; — a tube's chain of custody</li>\
         <li><a href=/metrics>/metrics</a></li></ul>"
    ))
}

async fn healthz(State(s): State<AppState>) -> Response {
    match s.store.last_seq().await {
        Ok(seq) => Json(json!({"status": "ok", "journal_seq": seq})).into_response(),
        Err(e) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "database unavailable", "error": e.to_string()})),
        )
            .into_response(),
    }
}

async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

async fn status(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
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

async fn drones(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let snap = snapshot(&s)?;
    Ok(Json(
        serde_json::to_value(snap.state.drones.values().collect::<Vec<_>>()).unwrap_or_default(),
    ))
}

async fn missions(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let snap = snapshot(&s)?;
    Ok(Json(
        serde_json::to_value(snap.state.missions.values().collect::<Vec<_>>()).unwrap_or_default(),
    ))
}

async fn boxes(State(s): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    let snap = snapshot(&s)?;
    Ok(Json(
        serde_json::to_value(snap.state.boxes.values().collect::<Vec<_>>()).unwrap_or_default(),
    ))
}

async fn tube(
    State(s): State<AppState>,
    Path(barcode): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let custody = s
        .store
        .custody(&barcode)
        .await
        .map_err(|e| ApiError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    if custody.is_empty() {
        return Err(ApiError(
            StatusCode::NOT_FOUND,
            format!("no tube with barcode `{barcode}`"),
        ));
    }
    let state = s.snapshot.borrow().as_ref().and_then(|snap| {
        snap.state
            .tubes
            .get(&labflight_core::TubeBarcode(barcode.clone()))
            .cloned()
    });
    Ok(Json(
        json!({"barcode": barcode, "state": state, "custody": custody}),
    ))
}
