//! The read API over the live snapshot and the store: `/api/v1/status` (open),
//! the drones, missions and boxes the dispatcher holds, and a tube's chain of
//! custody, for signed-in callers. A lab caller reads only its own lab's boxes,
//! missions and tubes ([`crate::lab_scope::LabScope`]).

use crate::auth::{Caller, READERS, require};
use crate::error::{Api, ApiError, ErrorBody};
use crate::lab_scope::LabScope;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use axum::{Json, Router};
use labflight_core::Instant;
use labflight_core::custody::CustodyStep;
use labflight_dispatch::state::{State as DispatchState, TubeState};
use serde::Serialize;
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/status", get(status))
        .route("/api/v1/drones", get(drones))
        .route("/api/v1/missions", get(missions))
        .route("/api/v1/boxes", get(boxes))
        .route("/api/v1/tubes/{barcode}", get(tube))
}

/// The lab a lab caller is held to (none for coordinators and viewers).
fn lab_scope(caller: &Caller, state: &DispatchState) -> Option<LabScope> {
    caller.lab.as_deref().map(|lab| LabScope::new(state, lab))
}

/// What the service is running, and how far it is.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Status {
    /// Service time.
    #[schema(value_type = String, format = DateTime)]
    now: Instant,
    /// The scenario's name.
    scenario: String,
    /// The dispatch policy's name.
    policy: String,
    /// Service time per wall-clock second.
    speed: f64,
    /// The last journal entry committed.
    journal_seq: i64,
    /// Drones in the fleet.
    drones: usize,
    /// Boxes sealed today.
    boxes: usize,
    /// Tubes in those boxes.
    tubes: usize,
    /// Missions and van runs issued today.
    missions: usize,
    /// The fleet is grounded (by a coordinator or the weather).
    fleet_grounded: bool,
}

/// What the service is running, and how far it is (open to anyone).
#[utoipa::path(get, path = "/api/v1/status", tag = "service",
    responses(
        (status = 200, description = "scenario, policy, service time, counts", body = Status),
        (status = 503, description = "the service is starting", body = ErrorBody)))]
pub async fn status(State(s): State<AppState>) -> Result<Json<Status>, ApiError> {
    let snap = s.current_snapshot()?;
    let st = &snap.state;
    Ok(Json(Status {
        now: snap.now,
        scenario: snap.scenario.clone(),
        policy: snap.policy.clone(),
        speed: snap.speed,
        journal_seq: snap.journal_seq,
        drones: st.drones.len(),
        boxes: st.boxes.len(),
        tubes: st.tubes.len(),
        missions: st.missions.len(),
        fleet_grounded: st.fleet_grounded(),
    }))
}

/// The fleet as the dispatcher sees it; a lab caller sees no other lab's mission ids.
#[utoipa::path(get, path = "/api/v1/drones", tag = "state",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "the fleet as the dispatcher sees it", body = [crate::shapes::Drone]),
        (status = 503, description = "the service is starting", body = ErrorBody),
        crate::error::SignedInRefusals))]
pub async fn drones(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = require(&s, &headers, READERS).await?;
    let snap = s.current_snapshot()?;
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

/// Every mission and van run of the day (a lab caller's: those to its lab).
#[utoipa::path(get, path = "/api/v1/missions", tag = "state",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "every mission of the day", body = [crate::shapes::Mission]),
        (status = 503, description = "the service is starting", body = ErrorBody),
        crate::error::SignedInRefusals))]
pub async fn missions(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = require(&s, &headers, READERS).await?;
    let snap = s.current_snapshot()?;
    let scope = lab_scope(&caller, &snap.state);
    let missions: Vec<_> = snap
        .state
        .missions
        .values()
        .filter(|m| scope.as_ref().is_none_or(|l| l.has_mission(m.id.as_str())))
        .collect();
    Ok(Json(serde_json::to_value(missions).unwrap_or_default()))
}

/// Every box sealed today (a lab caller's: those bound for its lab).
#[utoipa::path(get, path = "/api/v1/boxes", tag = "state",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "every sealed box", body = [crate::shapes::SpecimenBox]),
        (status = 503, description = "the service is starting", body = ErrorBody),
        crate::error::SignedInRefusals))]
pub async fn boxes(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let caller = require(&s, &headers, READERS).await?;
    let snap = s.current_snapshot()?;
    let scope = lab_scope(&caller, &snap.state);
    let boxes: Vec<_> = snap
        .state
        .boxes
        .values()
        .filter(|b| scope.as_ref().is_none_or(|l| l.has_box(b.id.as_str())))
        .collect();
    Ok(Json(serde_json::to_value(boxes).unwrap_or_default()))
}

/// A tube and its whole chain of custody.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TubeCustody {
    /// The tube.
    barcode: String,
    /// Its state now, as the dispatcher tracks it (none once it is forgotten):
    /// the dashboard's snapshot, at most 250 ms behind the custody below.
    #[schema(value_type = Option<crate::shapes::TubeState>)]
    state: Option<TubeState>,
    /// Every custody step, in order.
    #[schema(value_type = Vec<crate::shapes::CustodyStep>)]
    custody: Vec<CustodyStep>,
}

/// A tube's state and whole chain of custody (a lab caller: its own lab's tubes only).
#[utoipa::path(get, path = "/api/v1/tubes/{barcode}", tag = "state",
    security(("bearer" = []), ("session" = [])),
    params(("barcode" = String, Path, description = "the tube's barcode", example = "LH-C001-0001", min_length = 1, max_length = 64)),
    responses(
        (status = 200, description = "the tube's state and whole chain of custody", body = TubeCustody),
        (status = 400, description = "the barcode is over 64 characters", body = ErrorBody),
        (status = 404, description = "no such tube (or, for a lab, another lab's)", body = ErrorBody),
        crate::error::SignedInRefusals))]
pub async fn tube(
    State(s): State<AppState>,
    headers: HeaderMap,
    Api(Path(barcode)): Api<Path<String>>,
) -> Result<Json<TubeCustody>, ApiError> {
    let caller = require(&s, &headers, READERS).await?;
    crate::error::bounded("barcode", &barcode, crate::limits::BARCODE)?;
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
    Ok(Json(TubeCustody {
        barcode,
        state,
        custody,
    }))
}
