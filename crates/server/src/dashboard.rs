//! The dashboard's API: the map layers, the live view (one JSON document, also
//! pushed over Server-Sent Events as it changes), the coordinator's controls (each
//! an override event through the service core, audit-logged), alert
//! acknowledgements and the audit log. A lab caller sees its own lab's items
//! only; a live feed ends as soon as the session that opened it does.

use crate::auth::{Caller, READERS, Role, audit, identify, require};
use crate::control::{Control, Refusal};
use crate::error::{Api, ApiError, ErrorBody};
use crate::state::{AppState, FeedFrame};
use crate::view::{self, Frame, View};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use labflight_core::event::Override;
use labflight_core::{DroneId, LabId, MissionId, StationId};
use serde::{Deserialize, Serialize};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use tokio_stream::wrappers::ReceiverStream;
use utoipa::{IntoParams, ToSchema};

pub use crate::state::DashboardContext;

/// Alerts shown on the dashboard (the badge counts all unacknowledged ones).
const ALERTS_SHOWN: i64 = 200;
/// Alerts one bulk acknowledgement may name.
const BULK_ACK_MAX: usize = 200;
/// A bulk acknowledgement's body: room for its most ids at their longest, each
/// character escaped (`\u0001` is six bytes).
const BULK_ACK_BODY: usize = BULK_ACK_MAX * (crate::limits::ID * 6 + 4) + 64;
/// Hook deliveries listed on the dashboard.
const DELIVERIES_SHOWN: i64 = 20;
/// The live feed is rebuilt at most this often.
const FEED_PERIOD: std::time::Duration = std::time::Duration::from_millis(1000);
/// An open live feed re-checks its session at least this often (and at once
/// when a session ends on this server).
const SESSION_RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// What an accepted control or acknowledgement answers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Acknowledged {
    /// Always true.
    pub accepted: bool,
}

fn acknowledged() -> Response {
    (StatusCode::ACCEPTED, Json(Acknowledged { accepted: true })).into_response()
}

/// What any coordinator's control may hear besides its own answers.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum ControlRefusals {
    /// Not signed in: no session cookie, and no valid bearer token.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Signed in, but not as a coordinator.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// The store failed; the log has the details under the correlation id.
    #[response(status = 500)]
    Internal(ErrorBody),
    /// The service core is not running, or stopped.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/map", get(map))
        .route("/api/v1/dashboard", get(dashboard))
        .route("/api/v1/live", get(live))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/alerts/{id}/ack", post(ack_alert))
        .route("/api/v1/alerts/ack", post(ack_alerts))
        .route("/api/v1/control/fleet/ground", post(ground))
        .route("/api/v1/control/fleet/release", post(release))
        .route("/api/v1/control/drones/{id}/pause", post(pause_drone))
        .route("/api/v1/control/drones/{id}/resume", post(resume_drone))
        .route(
            "/api/v1/control/labs/{id}/unavailable",
            post(lab_unavailable),
        )
        .route("/api/v1/control/labs/{id}/available", post(lab_available))
        .route("/api/v1/control/labs/{id}/divert", post(divert_lab))
        .route(
            "/api/v1/control/stations/{id}/force-pickup",
            post(force_pickup),
        )
        .route("/api/v1/control/missions/{id}/reassign", post(reassign))
}

fn context(s: &AppState) -> Result<&Arc<DashboardContext>, ApiError> {
    s.dashboard.as_ref().ok_or_else(|| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the dashboard is not configured on this server".into(),
        )
    })
}

/// The live view and the state it shows.
async fn live_frame(
    s: &AppState,
) -> Result<(View, Arc<labflight_dispatch::state::State>), ApiError> {
    let ctx = context(s)?;
    let snap = s.current_snapshot()?;
    let offset = ctx.world.offset;
    let alerts = s
        .store
        .recent_alerts(ALERTS_SHOWN)
        .await
        .map_err(ApiError::internal)?
        .iter()
        .filter_map(|a| view::alert_view(a, offset))
        .collect();
    let hooks = view::hooks_view(
        &s.store
            .hook_summary(DELIVERIES_SHOWN)
            .await
            .map_err(ApiError::internal)?,
    );
    let unacked = s
        .store
        .unacked_alert_count()
        .await
        .map_err(ApiError::internal)?;
    let world = Arc::clone(&ctx.world);
    let state = Arc::clone(&snap.state);
    let mut view = tokio::task::spawn_blocking(move || {
        view::build(
            &world,
            &snap.state,
            Frame {
                mode: "live",
                now: snap.now,
                scenario: &snap.scenario,
                policy: &snap.policy,
                speed: snap.speed,
                alerts,
                hooks,
            },
        )
    })
    .await
    .map_err(ApiError::internal)?;
    view.alerts_unacked = usize::try_from(unacked).unwrap_or(0);
    Ok((view, state))
}

/// Rebuilds the live view as the state changes (at most once a second) for the
/// SSE clients to share, only while at least one is connected. Idles once the
/// service stops publishing; never returns on its own (a return is a fault).
pub async fn run_feed(s: AppState) {
    if s.dashboard.is_none() {
        return std::future::pending().await;
    }
    let feed = Arc::clone(&s.feed);
    let mut snapshots = s.snapshot.clone();
    loop {
        if feed.receiver_count() == 0 {
            // Nobody listens: no view to build, and none kept to go stale.
            feed.send_replace(None);
        } else {
            match live_frame(&s).await {
                Ok((view, state)) => {
                    if let Ok(json) = serde_json::to_string(&view) {
                        feed.send_replace(Some(Arc::new(FeedFrame { view, json, state })));
                    }
                }
                Err(e) => tracing::debug!("dashboard view: {}", e.1),
            }
        }
        tokio::time::sleep(FEED_PERIOD).await;
        if snapshots.changed().await.is_err() {
            // The service stopped publishing: nothing more to show.
            return std::future::pending().await;
        }
    }
}

/// The map layers as GeoJSON FeatureCollections.
#[utoipa::path(get, path = "/api/v1/map", tag = "dashboard",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "the map layers", body = crate::shapes::MapLayers),
        (status = 503, description = "the dashboard is not configured on this server", body = ErrorBody),
        crate::error::SignedInRefusals))]
pub(crate) async fn map(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require(&s, &headers, READERS).await?;
    Ok(Json(context(&s)?.map.clone()).into_response())
}

/// The live view: KPIs, centres, labs, drones, boxes, missions, tubes at risk, alerts, deliveries.
#[utoipa::path(get, path = "/api/v1/dashboard", tag = "dashboard",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "the live view (a lab caller's scoped to its lab)", body = View),
        (status = 503, description = "the service is starting, or the dashboard is not configured", body = ErrorBody),
        crate::error::SignedInRefusals))]
pub(crate) async fn dashboard(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<View>, ApiError> {
    let caller = require(&s, &headers, READERS).await?;
    let (view, state) = live_frame(&s).await?;
    Ok(Json(match &caller.lab {
        Some(lab) => crate::lab_scope::LabScope::new(&state, lab).filter(view),
        None => view,
    }))
}

/// Server-Sent Events: a `view` event with the live view whenever it changes
/// (scoped to a lab caller's lab). The feed re-checks its session on every
/// frame, every few seconds and whenever a session ends: once the session is
/// gone (sign-out, password change, expiry) it sends `signed_out` and closes.
#[utoipa::path(get, path = "/api/v1/live", tag = "dashboard",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "`view` events (View JSON) as the view changes, ending with `signed_out` when the session ends",
            content_type = "text/event-stream", body = String),
        crate::error::SignedInRefusals))]
pub(crate) async fn live(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Sse<impl tokio_stream::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let caller = require(&s, &headers, READERS).await?;
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(feed_one(s, headers, caller, tx));
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()))
}

/// Whether the request that opened a feed still identifies the same caller.
async fn still_signed_in(s: &AppState, headers: &HeaderMap, caller: &Caller) -> bool {
    match identify(s, headers).await {
        Ok(Some(now)) => {
            now.user == caller.user && now.role == caller.role && now.lab == caller.lab
        }
        Ok(None) => false,
        // The store hiccuped: the next check decides.
        Err(_) => true,
    }
}

/// Forwards the shared feed to one client until the client leaves or its session ends.
async fn feed_one(
    s: AppState,
    headers: HeaderMap,
    caller: Caller,
    tx: mpsc::Sender<Result<SseEvent, Infallible>>,
) {
    let mut frames = s.feed.subscribe();
    frames.mark_changed();
    let mut ended = s.guard.watch_sessions();
    let mut recheck = tokio::time::interval(SESSION_RECHECK);
    loop {
        let frame = tokio::select! {
            _ = tx.closed() => return,
            changed = frames.changed() => match changed {
                Ok(()) => frames.borrow_and_update().clone(),
                Err(_) => return,
            },
            changed = ended.changed() => match changed {
                Ok(()) => None,
                Err(_) => return,
            },
            _ = recheck.tick() => None,
        };
        if !still_signed_in(&s, &headers, &caller).await {
            let _ = tx
                .send(Ok(SseEvent::default()
                    .event("signed_out")
                    .data("session ended")))
                .await;
            return;
        }
        let Some(frame) = frame else { continue };
        let text = match &caller.lab {
            Some(lab) => {
                let view =
                    crate::lab_scope::LabScope::new(&frame.state, lab).filter(frame.view.clone());
                serde_json::to_string(&view).unwrap_or_default()
            }
            None => frame.json.clone(),
        };
        if tx
            .send(Ok(SseEvent::default().event("view").data(text)))
            .await
            .is_err()
        {
            return;
        }
    }
}

/// How much of the audit log to read.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    /// How many entries (default 200; a number outside 1..=5000 is clamped to it).
    #[param(minimum = 1, maximum = 5000)]
    pub limit: Option<i64>,
}

/// The audit log, newest first (coordinators).
#[utoipa::path(get, path = "/api/v1/audit", tag = "dashboard",
    security(("bearer" = []), ("session" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "audit entries, newest first", body = [crate::shapes::AuditEntry]),
        (status = 400, description = "the query does not parse (`limit` is not a 64-bit integer)", body = ErrorBody),
        crate::error::RoleRefusals))]
pub(crate) async fn audit_log(
    State(s): State<AppState>,
    headers: HeaderMap,
    Api(axum::extract::Query(q)): Api<axum::extract::Query<AuditQuery>>,
) -> Result<Response, ApiError> {
    require(&s, &headers, &[Role::Coordinator]).await?;
    let entries = s
        .store
        .audit_log(q.limit.unwrap_or(200).clamp(1, 5000))
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(entries).into_response())
}

/// Acknowledges an alert (coordinators).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/ack", tag = "dashboard",
    security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "the alert's command id", min_length = 1, max_length = 128)),
    responses(
        (status = 202, description = "acknowledged", body = Acknowledged),
        (status = 400, description = "the id is over 128 characters", body = ErrorBody),
        (status = 404, description = "no such alert", body = ErrorBody),
        crate::error::RoleRefusals))]
pub(crate) async fn ack_alert(
    State(s): State<AppState>,
    headers: HeaderMap,
    Api(Path(id)): Api<Path<String>>,
) -> Result<Response, ApiError> {
    let caller = require(&s, &headers, &[Role::Coordinator]).await?;
    crate::error::bounded("alert id", &id, crate::limits::ID)?;
    let found = s
        .store
        .ack_alert(&id, &caller.user, chrono::Utc::now())
        .await
        .map_err(ApiError::internal)?;
    if !found {
        audit(
            &s,
            &caller,
            "ack_alert",
            Some(&id),
            "refused: no such alert",
            None,
        )
        .await;
        return Err(ApiError(StatusCode::NOT_FOUND, format!("no alert `{id}`")));
    }
    audit(&s, &caller, "ack_alert", Some(&id), "ok", None).await;
    Ok(acknowledged())
}

/// The alerts to acknowledge at once.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct AckAlerts {
    /// The alerts' command ids.
    #[schema(schema_with = alert_ids)]
    pub ids: Vec<String>,
}

/// 1 to [`BULK_ACK_MAX`] ids of at most [`crate::limits::ID`] characters.
fn alert_ids() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .max_length(Some(crate::limits::ID)),
        )
        .min_items(Some(1))
        .max_items(Some(BULK_ACK_MAX))
        .description(Some("the alerts' command ids"))
        .build()
}

/// What a bulk acknowledgement did.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct AlertsAcknowledged {
    /// Always true.
    pub accepted: bool,
    /// The ids acknowledged now or before.
    pub acknowledged: Vec<String>,
    /// The ids no alert has.
    pub unknown: Vec<String>,
}

/// Acknowledges several alerts in one request (coordinators), e.g. a group of
/// alerts about one box or everything a filter shows. Each is audited like a
/// single acknowledgement; ids no alert has are listed, not refused.
#[utoipa::path(post, path = "/api/v1/alerts/ack", tag = "dashboard",
    security(("bearer" = []), ("session" = [])),
    request_body(content = AckAlerts, content_type = "application/json"),
    responses(
        (status = 202, description = "acknowledged (ids without an alert are listed in `unknown`)", body = AlertsAcknowledged),
        (status = 400, description = "not the JSON expected, no ids, more than 200 ids, or an id over 128 characters", body = ErrorBody),
        (status = 413, description = "the body is larger than 200 ids of 128 escaped characters need (about 150 KiB)", body = ErrorBody),
        crate::error::RoleRefusals))]
pub(crate) async fn ack_alerts(
    State(s): State<AppState>,
    headers: HeaderMap,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let caller = require(&s, &headers, &[Role::Coordinator]).await?;
    let bytes = axum::body::to_bytes(body, BULK_ACK_BODY)
        .await
        .map_err(|_| {
            ApiError(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body: at most {BULK_ACK_BODY} bytes"),
            )
        })?;
    let req: AckAlerts = serde_json::from_slice(&bytes).map_err(|e| {
        ApiError(
            StatusCode::BAD_REQUEST,
            format!("alerts ack body: expected {{\"ids\": [\"<alert id>\", …]}}: {e}"),
        )
    })?;
    if req.ids.is_empty() || req.ids.len() > BULK_ACK_MAX {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!("ids: 1 to {BULK_ACK_MAX} alert ids"),
        ));
    }
    for id in &req.ids {
        crate::error::bounded("alert id", id, crate::limits::ID)?;
    }
    let now = chrono::Utc::now();
    let mut done = AlertsAcknowledged {
        accepted: true,
        acknowledged: Vec::new(),
        unknown: Vec::new(),
    };
    for id in req.ids {
        let found = s
            .store
            .ack_alert(&id, &caller.user, now)
            .await
            .map_err(ApiError::internal)?;
        let outcome = if found {
            "ok"
        } else {
            "refused: no such alert"
        };
        audit(&s, &caller, "ack_alert", Some(&id), outcome, None).await;
        if found {
            done.acknowledged.push(id);
        } else {
            done.unknown.push(id);
        }
    }
    Ok((StatusCode::ACCEPTED, Json(done)).into_response())
}

/// Sends an override through the service core and audit-logs it.
async fn steer(s: &AppState, headers: &HeaderMap, action: Override) -> Result<Response, ApiError> {
    let caller = require(s, headers, &[Role::Coordinator]).await?;
    let ids: Vec<(&'static str, &str)> = match &action {
        Override::GroundFleet | Override::ReleaseFleet => Vec::new(),
        Override::PauseDrone { drone } | Override::ResumeDrone { drone } => {
            vec![("drone", drone.as_str())]
        }
        Override::LabUnavailable { lab } | Override::LabAvailable { lab } => {
            vec![("lab", lab.as_str())]
        }
        Override::DivertLab { from, to } => vec![("lab", from.as_str()), ("to", to.as_str())],
        Override::ForcePickup { station } => vec![("station", station.as_str())],
        Override::ReassignMission { mission, drone } => {
            vec![("mission", mission.as_str()), ("drone", drone.as_str())]
        }
    };
    for (field, value) in ids {
        crate::error::bounded(field, value, crate::limits::ID)?;
    }
    let name = serde_json::to_value(&action)
        .ok()
        .and_then(|v| v.get("action").and_then(|a| a.as_str()).map(str::to_owned))
        .unwrap_or_default();
    let target = match &action {
        Override::GroundFleet | Override::ReleaseFleet => "fleet".to_owned(),
        Override::PauseDrone { drone } | Override::ResumeDrone { drone } => drone.to_string(),
        Override::LabUnavailable { lab } | Override::LabAvailable { lab } => lab.to_string(),
        Override::DivertLab { from, to } => format!("{from} → {to}"),
        Override::ForcePickup { station } => station.to_string(),
        Override::ReassignMission { mission, drone } => format!("{mission} → {drone}"),
    };
    let Some(control) = &s.control else {
        return Err(ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the service core is not running".into(),
        ));
    };
    let (tx, rx) = oneshot::channel();
    let stopped = || {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the service core stopped".into(),
        )
    };
    control
        .send(Control::Override {
            by: caller.user.clone(),
            action,
            reply: tx,
        })
        .await
        .map_err(|_| stopped())?;
    match rx.await.map_err(|_| stopped())? {
        Ok(_) => {
            audit(s, &caller, &name, Some(&target), "ok", None).await;
            Ok(acknowledged())
        }
        Err(Refusal {
            status,
            diagnostics,
            ..
        }) => {
            audit(
                s,
                &caller,
                &name,
                Some(&target),
                &format!("refused: {diagnostics}"),
                None,
            )
            .await;
            Err(ApiError(
                StatusCode::from_u16(status).unwrap_or(StatusCode::CONFLICT),
                diagnostics,
            ))
        }
    }
}

/// Grounds the whole fleet (drones in the air return or land).
#[utoipa::path(post, path = "/api/v1/control/fleet/ground", tag = "control",
    security(("bearer" = []), ("session" = [])),
    responses((status = 202, description = "accepted and journaled", body = Acknowledged), ControlRefusals))]
pub(crate) async fn ground(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    steer(&s, &headers, Override::GroundFleet).await
}

/// Releases a fleet grounded by a coordinator.
#[utoipa::path(post, path = "/api/v1/control/fleet/release", tag = "control",
    security(("bearer" = []), ("session" = [])),
    responses((status = 202, description = "accepted and journaled", body = Acknowledged), ControlRefusals))]
pub(crate) async fn release(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    steer(&s, &headers, Override::ReleaseFleet).await
}

/// Pauses a drone: it takes no new mission (an assigned one is aborted and re-planned).
#[utoipa::path(post, path = "/api/v1/control/drones/{id}/pause", tag = "control",
    security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "the drone's id", example = "D-001", min_length = 1, max_length = 128)),
    responses(
        (status = 202, description = "accepted and journaled", body = Acknowledged),
        (status = 400, description = "the id is over 128 characters", body = ErrorBody),
        (status = 404, description = "no such drone", body = ErrorBody),
        ControlRefusals))]
pub(crate) async fn pause_drone(
    State(s): State<AppState>,
    headers: HeaderMap,
    Api(Path(id)): Api<Path<String>>,
) -> Result<Response, ApiError> {
    steer(
        &s,
        &headers,
        Override::PauseDrone {
            drone: DroneId::new(id),
        },
    )
    .await
}

/// Resumes a paused drone.
#[utoipa::path(post, path = "/api/v1/control/drones/{id}/resume", tag = "control",
    security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "the drone's id", example = "D-001", min_length = 1, max_length = 128)),
    responses(
        (status = 202, description = "accepted and journaled", body = Acknowledged),
        (status = 400, description = "the id is over 128 characters", body = ErrorBody),
        (status = 404, description = "no such drone", body = ErrorBody),
        ControlRefusals))]
pub(crate) async fn resume_drone(
    State(s): State<AppState>,
    headers: HeaderMap,
    Api(Path(id)): Api<Path<String>>,
) -> Result<Response, ApiError> {
    steer(
        &s,
        &headers,
        Override::ResumeDrone {
            drone: DroneId::new(id),
        },
    )
    .await
}

/// Marks a lab unavailable: nothing more is sent there; drones on the way are redirected.
#[utoipa::path(post, path = "/api/v1/control/labs/{id}/unavailable", tag = "control",
    security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "the lab's id", example = "LAB-CH", min_length = 1, max_length = 128)),
    responses(
        (status = 202, description = "accepted and journaled", body = Acknowledged),
        (status = 400, description = "the id is over 128 characters", body = ErrorBody),
        (status = 404, description = "no such lab", body = ErrorBody),
        ControlRefusals))]
pub(crate) async fn lab_unavailable(
    State(s): State<AppState>,
    headers: HeaderMap,
    Api(Path(id)): Api<Path<String>>,
) -> Result<Response, ApiError> {
    steer(
        &s,
        &headers,
        Override::LabUnavailable {
            lab: LabId::new(id),
        },
    )
    .await
}

/// Makes a lab available again.
#[utoipa::path(post, path = "/api/v1/control/labs/{id}/available", tag = "control",
    security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "the lab's id", example = "LAB-CH", min_length = 1, max_length = 128)),
    responses(
        (status = 202, description = "accepted and journaled", body = Acknowledged),
        (status = 400, description = "the id is over 128 characters", body = ErrorBody),
        (status = 404, description = "no such lab", body = ErrorBody),
        ControlRefusals))]
pub(crate) async fn lab_available(
    State(s): State<AppState>,
    headers: HeaderMap,
    Api(Path(id)): Api<Path<String>>,
) -> Result<Response, ApiError> {
    steer(
        &s,
        &headers,
        Override::LabAvailable {
            lab: LabId::new(id),
        },
    )
    .await
}

/// Sends a drone to a centre now, for whatever it has sealed.
#[utoipa::path(post, path = "/api/v1/control/stations/{id}/force-pickup", tag = "control",
    security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "the centre's id", example = "LH-C001", min_length = 1, max_length = 128)),
    responses(
        (status = 202, description = "accepted and journaled", body = Acknowledged),
        (status = 400, description = "the id is over 128 characters", body = ErrorBody),
        (status = 404, description = "no such centre", body = ErrorBody),
        ControlRefusals))]
pub(crate) async fn force_pickup(
    State(s): State<AppState>,
    headers: HeaderMap,
    Api(Path(id)): Api<Path<String>>,
) -> Result<Response, ApiError> {
    steer(
        &s,
        &headers,
        Override::ForcePickup {
            station: StationId::new(id),
        },
    )
    .await
}

/// The drone to give a mission to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Reassign {
    /// The drone's id.
    #[schema(example = "D-002", min_length = 1, max_length = 128)]
    pub drone: String,
}

/// Gives an assigned (not yet picked up) mission to another drone. The body is
/// read as JSON whatever its declared content type.
#[utoipa::path(post, path = "/api/v1/control/missions/{id}/reassign", tag = "control",
    security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "the mission's id", example = "M-000001", min_length = 1, max_length = 128)),
    request_body(content = Reassign, content_type = "application/json"),
    responses(
        (status = 202, description = "accepted and journaled", body = Acknowledged),
        (status = 400, description = "not the JSON expected, or an id over 128 characters", body = ErrorBody),
        (status = 404, description = "no such mission or drone", body = ErrorBody),
        (status = 409, description = "the mission is past assignment, or the drone is not available", body = ErrorBody),
        (status = 413, description = "the body is over 16 KiB", body = ErrorBody),
        ControlRefusals))]
pub(crate) async fn reassign(
    State(s): State<AppState>,
    headers: HeaderMap,
    Api(Path(id)): Api<Path<String>>,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let r: Reassign =
        crate::error::small_json(body, "reassign body: expected {\"drone\": \"<id>\"}").await?;
    steer(
        &s,
        &headers,
        Override::ReassignMission {
            mission: MissionId::new(id),
            drone: DroneId::new(r.drone),
        },
    )
    .await
}

/// The lab to divert another lab's pending boxes to.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Divert {
    /// The lab's id; it must run every test of the boxes diverted.
    #[schema(example = "LAB-PH", min_length = 1, max_length = 128)]
    pub to: String,
}

/// Diverts the boxes bound for a lab to another one: the lab takes nothing more
/// until marked available again, flights on their way to it turn to the other
/// lab, and boxes not yet loaded are planned again without it. Refused when the
/// other lab lacks a test one of those boxes needs. The body is read as JSON
/// whatever its declared content type.
#[utoipa::path(post, path = "/api/v1/control/labs/{id}/divert", tag = "control",
    security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "the lab to divert from", example = "LAB-CH", min_length = 1, max_length = 128)),
    request_body(content = Divert, content_type = "application/json"),
    responses(
        (status = 202, description = "accepted and journaled", body = Acknowledged),
        (status = 400, description = "not the JSON expected, or an id over 128 characters", body = ErrorBody),
        (status = 404, description = "no such lab", body = ErrorBody),
        (status = 409, description = "the same lab twice, the other lab takes nothing now, or it lacks a test a pending box needs (named)", body = ErrorBody),
        (status = 413, description = "the body is over 16 KiB", body = ErrorBody),
        ControlRefusals))]
pub(crate) async fn divert_lab(
    State(s): State<AppState>,
    headers: HeaderMap,
    Api(Path(id)): Api<Path<String>>,
    body: axum::body::Body,
) -> Result<Response, ApiError> {
    let d: Divert =
        crate::error::small_json(body, "divert body: expected {\"to\": \"<lab id>\"}").await?;
    steer(
        &s,
        &headers,
        Override::DivertLab {
            from: LabId::new(id),
            to: LabId::new(d.to),
        },
    )
    .await
}
