//! Replay for analysts: the recorded runs (folders holding a `journal.jsonl`
//! written by `labflight sim`) are listed; an opened run is cut into frames, one
//! per step of service time, which the dashboard scrubs with its time slider.
//! Frames are rendered on demand (playing forward is cheap, going back re-runs
//! the journal) and kept once rendered. Re-running is the binary's job (it knows
//! how to rebuild a run's world); the catalogue and the open runs are kept in
//! [`crate::replay_catalog`], and this module is their API.

use crate::auth::{ALL_LABS, audit, require};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};

pub use crate::replay_catalog::{
    FrameRenderer, JOURNAL_FILE, ReplayCatalog, ReplayLoader, ReplayRun, RunEntry,
};

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Opened {
    pub id: String,
    pub start: String,
    pub end: String,
    pub frames: usize,
    pub step_s: i64,
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/replay/runs", get(runs))
        .route("/api/v1/replay/open", post(open))
        .route("/api/v1/replay/{id}/frame", get(frame))
}

fn catalog(s: &AppState) -> Result<&ReplayCatalog, ApiError> {
    s.dashboard.as_ref().map(|d| &d.replay).ok_or_else(|| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "replay is not configured on this server".into(),
        )
    })
}

/// The recorded runs that can be replayed.
#[utoipa::path(get, path = "/api/v1/replay/runs", tag = "replay",
    responses((status = 200, description = "recorded runs", body = [RunEntry])))]
pub(crate) async fn runs(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Vec<RunEntry>>, ApiError> {
    require(&s, &headers, ALL_LABS).await?;
    let state = s.clone();
    tokio::task::spawn_blocking(move || catalog(&state).map(|c| c.runs()))
        .await
        .map_err(ApiError::internal)?
        .map(Json)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct OpenRun {
    pub run: String,
}

/// Re-runs a recorded journal into frames for the time slider.
#[utoipa::path(post, path = "/api/v1/replay/open", tag = "replay", request_body = OpenRun,
    responses((status = 200, description = "opened", body = Opened), (status = 404, description = "no such run")))]
pub(crate) async fn open(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Result<Json<Opened>, ApiError> {
    let caller = require(&s, &headers, ALL_LABS).await?;
    let req: OpenRun = serde_json::from_slice(&body).map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("open body: expected {{\"run\": \"<id>\"}}: {e}"),
        )
    })?;
    let state = s.clone();
    let id = req.run.clone();
    let run = tokio::task::spawn_blocking(move || catalog(&state)?.open(&id))
        .await
        .map_err(ApiError::internal)??;
    audit(&s, &caller, "replay_open", Some(&req.run), "ok", None).await;
    Ok(Json(Opened {
        id: req.run,
        start: run.start.clone(),
        end: run.end.clone(),
        frames: run.frames,
        step_s: run.step_s,
    }))
}

#[derive(Debug, Deserialize)]
pub(crate) struct FrameQuery {
    pub i: usize,
}

/// One frame of an opened run: a View with `mode: replay`.
#[utoipa::path(get, path = "/api/v1/replay/{id}/frame", tag = "replay",
    params(("id" = String, Path), ("i" = usize, Query, description = "frame index")),
    responses((status = 200, description = "the view at that frame", body = crate::view::View), (status = 404, description = "run not open or frame out of range")))]
pub(crate) async fn frame(
    State(s): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<FrameQuery>,
) -> Result<Response, ApiError> {
    require(&s, &headers, ALL_LABS).await?;
    let run = catalog(&s)?.find_open(&id).ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            format!("run `{id}` is not open (POST /api/v1/replay/open first)"),
        )
    })?;
    let i = q.i;
    let text = tokio::task::spawn_blocking(move || run.frame(i))
        .await
        .map_err(ApiError::internal)?
        .map_err(|e| ApiError(StatusCode::NOT_FOUND, format!("run `{id}`: {e}")))?;
    Ok((
        [(header::CONTENT_TYPE, "application/json")],
        text.as_str().to_owned(),
    )
        .into_response())
}
