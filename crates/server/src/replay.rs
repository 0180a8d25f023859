//! Replay for analysts: the recorded runs (folders holding a `journal.jsonl`
//! written by `labflight sim`) are listed; an opened run is cut into frames, one
//! per step of service time, which the dashboard scrubs with its time slider.
//! Frames are rendered on demand (playing forward is cheap, going back re-runs
//! the journal) and kept once rendered. Re-running is the binary's job (it knows
//! how to rebuild a run's world); this module keeps the catalogue and open runs.

use crate::auth::{ALL_LABS, audit, require};
use crate::routes::{ApiError, AppState};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex};

/// The file a recorded run's journal is in.
pub const JOURNAL_FILE: &str = "journal.jsonl";
/// Runs kept open at once (each holds its frames in memory).
const OPEN_RUNS: usize = 4;

/// Renders frame `i` of a run as View JSON.
pub type FrameRenderer = Box<dyn FnMut(usize) -> Result<String, String> + Send>;

/// An opened run: its span, and its frames as they are rendered.
pub struct ReplayRun {
    pub start: String,
    pub end: String,
    pub step_s: i64,
    pub frames: usize,
    render: Mutex<FrameRenderer>,
    rendered: Mutex<HashMap<usize, Arc<String>>>,
}

impl std::fmt::Debug for ReplayRun {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayRun")
            .field("start", &self.start)
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl ReplayRun {
    pub fn new(
        start: String,
        end: String,
        step_s: i64,
        frames: usize,
        render: FrameRenderer,
    ) -> ReplayRun {
        ReplayRun {
            start,
            end,
            step_s,
            frames,
            render: Mutex::new(render),
            rendered: Mutex::new(HashMap::new()),
        }
    }

    /// Frame `i` as View JSON (rendered once, then kept).
    pub fn frame(&self, i: usize) -> Result<Arc<String>, String> {
        if i >= self.frames {
            return Err(format!("frame {i}: the run has {} frames", self.frames));
        }
        if let Some(f) = self.rendered.lock().map_err(|e| e.to_string())?.get(&i) {
            return Ok(Arc::clone(f));
        }
        let text = Arc::new((self.render.lock().map_err(|e| e.to_string())?)(i)?);
        self.rendered
            .lock()
            .map_err(|e| e.to_string())?
            .insert(i, Arc::clone(&text));
        Ok(text)
    }
}

/// Re-runs a journal file into frames, or says why it cannot.
pub type ReplayLoader = Arc<dyn Fn(&FsPath) -> Result<ReplayRun, String> + Send + Sync>;

pub struct ReplayCatalog {
    dir: PathBuf,
    loader: ReplayLoader,
    open: Mutex<Vec<(String, Arc<ReplayRun>)>>,
    /// Line counts of journals already listed, by path and size.
    counts: Mutex<HashMap<(PathBuf, u64), usize>>,
}

impl std::fmt::Debug for ReplayCatalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReplayCatalog")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RunEntry {
    /// The run's folder name under the runs directory.
    pub id: String,
    pub scenario: String,
    pub policy: String,
    pub seed: u64,
    pub events: usize,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Opened {
    pub id: String,
    pub start: String,
    pub end: String,
    pub frames: usize,
    pub step_s: i64,
}

impl ReplayCatalog {
    pub fn new(dir: PathBuf, loader: ReplayLoader) -> ReplayCatalog {
        ReplayCatalog {
            dir,
            loader,
            open: Mutex::new(Vec::new()),
            counts: Mutex::new(HashMap::new()),
        }
    }

    /// The recorded runs, by folder name.
    pub fn runs(&self) -> Vec<RunEntry> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut runs: Vec<RunEntry> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let id = e.file_name().to_str()?.to_owned();
                let journal = e.path().join(JOURNAL_FILE);
                let size = std::fs::metadata(&journal).ok()?.len();
                let file = std::fs::File::open(&journal).ok()?;
                let mut lines = std::io::BufReader::new(file).lines();
                let header: serde_json::Value = serde_json::from_str(&lines.next()?.ok()?).ok()?;
                header.get("labflight_journal")?;
                let events = *self
                    .counts
                    .lock()
                    .ok()?
                    .entry((journal.clone(), size))
                    .or_insert_with(|| lines.count());
                let named = header
                    .get("scenario")
                    .and_then(|v| v.as_str())
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned);
                let scenario = named
                    .or_else(|| {
                        header
                            .get("scenario_file")
                            .and_then(|v| v.as_str())
                            .map(|p| {
                                FsPath::new(p)
                                    .file_stem()
                                    .and_then(|s| s.to_str())
                                    .unwrap_or(p)
                                    .to_owned()
                            })
                    })
                    .unwrap_or_default();
                Some(RunEntry {
                    id,
                    scenario,
                    policy: header["policy"].as_str().unwrap_or_default().to_owned(),
                    seed: header["seed"].as_u64().unwrap_or_default(),
                    events,
                })
            })
            .collect();
        runs.sort_by(|a, b| a.id.cmp(&b.id));
        runs
    }

    fn find_open(&self, id: &str) -> Option<Arc<ReplayRun>> {
        let open = self.open.lock().ok()?;
        open.iter()
            .find(|(k, _)| k == id)
            .map(|(_, r)| Arc::clone(r))
    }

    /// Opens a run (re-running it unless it is open already).
    pub fn open(&self, id: &str) -> Result<Arc<ReplayRun>, ApiError> {
        if let Some(r) = self.find_open(id) {
            return Ok(r);
        }
        if !self.runs().iter().any(|r| r.id == id) {
            return Err(ApiError(
                StatusCode::NOT_FOUND,
                format!(
                    "no recorded run `{id}` in {} (a folder with {JOURNAL_FILE})",
                    self.dir.display()
                ),
            ));
        }
        let run = (self.loader)(&self.dir.join(id).join(JOURNAL_FILE))
            .map_err(|e| ApiError(StatusCode::UNPROCESSABLE_ENTITY, e))?;
        let run = Arc::new(run);
        if let Ok(mut open) = self.open.lock() {
            open.retain(|(k, _)| k != id);
            open.push((id.to_owned(), Arc::clone(&run)));
            while open.len() > OPEN_RUNS {
                open.remove(0);
            }
        }
        Ok(run)
    }
}

pub fn routes() -> Router<AppState> {
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
pub async fn runs(
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
pub struct OpenRun {
    pub run: String,
}

/// Re-runs a recorded journal into frames for the time slider.
#[utoipa::path(post, path = "/api/v1/replay/open", tag = "replay", request_body = OpenRun,
    responses((status = 200, description = "opened", body = Opened), (status = 404, description = "no such run")))]
pub async fn open(
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
pub struct FrameQuery {
    pub i: usize,
}

/// One frame of an opened run: a View with `mode: replay`.
#[utoipa::path(get, path = "/api/v1/replay/{id}/frame", tag = "replay",
    params(("id" = String, Path), ("i" = usize, Query, description = "frame index")),
    responses((status = 200, description = "the view at that frame", body = crate::view::View), (status = 404, description = "run not open or frame out of range")))]
pub async fn frame(
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
