//! What every handler shares: [`AppState`] (the store, the metrics, the live
//! snapshot, the way to the service core, the configured tokens, the dashboard's
//! context and the sign-in guard) and the small types it holds. The service
//! builds it; the router hands it to each handler.

use crate::control::Control;
use crate::error::ApiError;
use crate::guard::Guard;
use crate::metrics::Metrics;
use crate::replay_catalog::ReplayCatalog;
use crate::view::View;
use axum::http::StatusCode;
use labflight_core::Instant;
use labflight_dispatch::state::State as DispatchState;
use labflight_dispatch::world::World;
use labflight_store::Store;
use serde_json::json;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use tokio::sync::{mpsc, watch};

/// What the service last published for readers.
#[derive(Clone, Debug)]
pub struct Snapshot {
    /// Service time.
    pub now: Instant,
    /// The last journal entry committed.
    pub journal_seq: i64,
    /// The dispatcher's state.
    pub state: Arc<DispatchState>,
    /// The scenario's name.
    pub scenario: String,
    /// The dispatch policy's name.
    pub policy: String,
    /// Service time per wall-clock second.
    pub speed: f64,
}

/// Says whether a hook URL may be called (the allowed hosts), and why not.
pub type HookUrlCheck = Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>;

/// What every handler is given: the service's parts the HTTP edge reads and
/// talks to. Cheap to clone (handles only).
#[derive(Clone)]
pub struct AppState {
    /// The database.
    pub store: Store,
    /// The counters `/metrics` shows.
    pub metrics: Arc<Metrics>,
    /// What the service last published (none while it starts).
    pub snapshot: watch::Receiver<Option<Snapshot>>,
    /// The service core, for requests that must be journaled.
    pub control: Option<mpsc::Sender<Control>>,
    /// Bearer token → lab id.
    pub lab_tokens: Arc<HashMap<String, String>>,
    /// Bearer token for managing hooks.
    pub admin_token: Option<String>,
    /// Checks a hook URL against the allowed hosts.
    pub hook_url_check: HookUrlCheck,
    /// The dashboard's world, map and recorded runs (none: API only).
    pub dashboard: Option<Arc<DashboardContext>>,
    /// The live view as JSON for SSE clients to subscribe to, rebuilt as the state
    /// changes while any is connected (fed by the task `router` starts).
    pub feed: Arc<watch::Sender<Option<Arc<FeedFrame>>>>,
    /// What the service's tasks report about themselves, for `/healthz`.
    pub liveness: Arc<Liveness>,
    /// Sign-in throttles, password-hashing slots, cookie policy, session-end signal.
    pub guard: Arc<Guard>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("labs", &self.lab_tokens.len())
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The snapshot last published; 503 while the service is starting.
    pub fn current_snapshot(&self) -> Result<Snapshot, ApiError> {
        self.snapshot.borrow().clone().ok_or_else(|| {
            ApiError(
                StatusCode::SERVICE_UNAVAILABLE,
                "service is starting".into(),
            )
        })
    }
}

/// What the service's tasks report about themselves, for the health check.
#[derive(Debug, Default)]
pub struct Liveness {
    /// The MQTT connection is up (set by the poll task; the ticks wait for it).
    pub broker_connected: Arc<AtomicBool>,
    /// The last commit of the core failed because the database is away.
    pub database_failing: AtomicBool,
    /// While this process is a standby for its partition: whom it follows and
    /// how far (reads are served from that; writes are refused). None once it
    /// owns the partition, and in a lone service.
    pub standby: std::sync::Mutex<Option<Following>>,
}

impl Liveness {
    /// What this process follows while it is a standby.
    pub fn standby(&self) -> Option<Following> {
        self.standby.lock().ok().and_then(|f| f.clone())
    }

    /// Records what this process follows (`None`: it owns its partition now).
    pub fn set_standby(&self, following: Option<Following>) {
        if let Ok(mut f) = self.standby.lock() {
            *f = following;
        }
    }
}

/// A standby's view of the owner it follows.
#[derive(Clone, Debug, PartialEq)]
pub struct Following {
    /// The partition.
    pub partition: String,
    /// The owner's member name and epoch, when one holds the lease.
    pub owner: Option<(String, i64)>,
    /// The last journaled event the standby's dispatcher has handled.
    pub seq: i64,
    /// Why the last look at the owner's journal failed (none: it succeeded).
    pub error: Option<String>,
}

/// One frame of the shared live feed: the view, its JSON for callers who see
/// everything, and the state it was built from (to scope it to a lab).
#[derive(Debug)]
pub struct FeedFrame {
    /// The live view.
    pub view: View,
    /// The view as JSON, for callers who see every lab.
    pub json: String,
    /// The state the view was built from.
    pub state: Arc<DispatchState>,
}

/// What the dashboard needs besides the live state: the world, the map layers and
/// the recorded runs.
#[derive(Debug)]
pub struct DashboardContext {
    /// The scenario's world (centres, labs, pads, the district).
    pub world: Arc<World>,
    /// The map folder's GeoJSON layers by name (district, stations, …).
    pub map: serde_json::Value,
    /// The recorded runs analysts can replay.
    pub replay: ReplayCatalog,
    /// The day's curves, sampled a minute at a time (`day_series.rs`).
    pub day_series: crate::day_series::DaySeries,
}

impl DashboardContext {
    /// Reads the map layers from the scenario's map folder.
    pub fn new(
        world: Arc<World>,
        map_dir: PathBuf,
        replay: ReplayCatalog,
    ) -> Result<DashboardContext, String> {
        let mut map = serde_json::Map::new();
        for layer in [
            "district",
            "subdistricts",
            "nofly",
            "stations",
            "labs",
            "pads",
        ] {
            let path = map_dir.join(format!("{layer}.geojson"));
            let value = match std::fs::read_to_string(&path) {
                Ok(text) => serde_json::from_str(&text)
                    .map_err(|e| format!("{}: not GeoJSON: {e}", path.display()))?,
                // A map without this layer (no subdistricts, say) shows none.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    json!({"type": "FeatureCollection", "features": []})
                }
                Err(e) => return Err(format!("{}: {e}", path.display())),
            };
            map.insert(layer.into(), value);
        }
        Ok(DashboardContext {
            world,
            map: serde_json::Value::Object(map),
            replay,
            day_series: Default::default(),
        })
    }
}
