//! Replay for analysts: the recorded runs (folders holding a `journal.jsonl`
//! written by `labflight sim`) are listed; an opened run is cut into frames, one
//! per step of service time, which the dashboard scrubs with its time slider.
//! Frames are rendered on demand (playing forward is cheap, going back re-runs
//! the journal) and kept once rendered. Re-running is the binary's job (it knows
//! how to rebuild a run's world); the catalogue and the open runs are kept in
//! [`crate::replay_catalog`], and this module is their API.

use crate::auth::{ALL_LABS, audit, require};
use crate::error::{Api, ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use utoipa::IntoParams;

pub use crate::replay_catalog::{
    FrameRenderer, JOURNAL_FILE, ReplayCatalog, ReplayLoader, ReplayRun, RunEntry,
};

/// An opened run, ready to scrub.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Opened {
    /// The run's id.
    pub id: String,
    /// Service time of the first frame, local.
    pub start: String,
    /// Service time of the last frame, local.
    pub end: String,
    /// How many frames (`i` runs from 0 to `frames - 1`).
    pub frames: usize,
    /// Service seconds between frames.
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
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "recorded runs", body = [RunEntry]),
        (status = 503, description = "replay is not configured on this server", body = ErrorBody),
        crate::error::RoleRefusals))]
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

/// The run to open.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct OpenRun {
    /// The run's id, as listed by `GET /api/v1/replay/runs`.
    pub run: String,
}

/// Re-runs a recorded journal into frames for the time slider. The body is read
/// as JSON whatever its declared content type.
#[utoipa::path(post, path = "/api/v1/replay/open", tag = "replay",
    security(("bearer" = []), ("session" = [])),
    request_body(content = OpenRun, content_type = "application/json"),
    responses(
        (status = 200, description = "opened", body = Opened),
        (status = 400, description = "not the JSON expected", body = ErrorBody),
        (status = 404, description = "no such run", body = ErrorBody),
        (status = 413, description = "the body is over 16 KiB", body = ErrorBody),
        (status = 422, description = "the run's journal cannot be replayed here (the error says why)", body = ErrorBody),
        (status = 503, description = "replay is not configured on this server", body = ErrorBody),
        crate::error::RoleRefusals))]
pub(crate) async fn open(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Json<Opened>, ApiError> {
    let caller = require(&s, &headers, ALL_LABS).await?;
    let req: OpenRun =
        crate::error::small_json(body, "open body: expected {\"run\": \"<id>\"}").await?;
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

/// Which frame.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct FrameQuery {
    /// The frame's index, from 0.
    pub i: u32,
}

/// One frame of an opened run: a View with `mode: replay`.
#[utoipa::path(get, path = "/api/v1/replay/{id}/frame", tag = "replay",
    security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "the run's id", min_length = 1), FrameQuery),
    responses(
        (status = 200, description = "the view at that frame", body = crate::view::View),
        (status = 400, description = "the query does not parse (`i` missing or not a frame index)", body = ErrorBody),
        (status = 404, description = "the run is not open, or the frame is out of range", body = ErrorBody),
        (status = 503, description = "replay is not configured on this server", body = ErrorBody),
        crate::error::RoleRefusals))]
pub(crate) async fn frame(
    State(s): State<AppState>,
    headers: HeaderMap,
    Api(Path(id)): Api<Path<String>>,
    Api(Query(q)): Api<Query<FrameQuery>>,
) -> Result<Response, ApiError> {
    require(&s, &headers, ALL_LABS).await?;
    let run = catalog(&s)?.find_open(&id).ok_or_else(|| {
        ApiError(
            StatusCode::NOT_FOUND,
            format!("run `{id}` is not open (POST /api/v1/replay/open first)"),
        )
    })?;
    let i = q.i as usize;
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
