//! The coordinator's controls: each an override event sent through the service
//! core (journaled, then answered) and audit-logged, whether accepted or refused.

use super::accepted::{Acknowledged, acknowledged};
use crate::auth::{Role, audit, require};
use crate::control::{Control, Refusal};
use crate::error::{Api, ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use labflight_core::event::Override;
use labflight_core::{DroneId, LabId, MissionId, StationId};
use serde::Deserialize;

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

/// What an override is about: the ids it names (each checked against
/// [`crate::limits::ID`]) and its target as the audit log shows it.
fn subject(action: &Override) -> (Vec<(&'static str, &str)>, String) {
    match action {
        Override::GroundFleet | Override::ReleaseFleet => (Vec::new(), "fleet".to_owned()),
        Override::PauseDrone { drone } | Override::ResumeDrone { drone } => {
            (vec![("drone", drone.as_str())], drone.to_string())
        }
        Override::LabUnavailable { lab } | Override::LabAvailable { lab } => {
            (vec![("lab", lab.as_str())], lab.to_string())
        }
        Override::DivertLab { from, to } => (
            vec![("lab", from.as_str()), ("to", to.as_str())],
            format!("{from} → {to}"),
        ),
        Override::ForcePickup { station } => {
            (vec![("station", station.as_str())], station.to_string())
        }
        Override::ReassignMission { mission, drone } => (
            vec![("mission", mission.as_str()), ("drone", drone.as_str())],
            format!("{mission} → {drone}"),
        ),
    }
}

/// Every control's one path: authorize (coordinators), check the ids the
/// override names, send it through the service core, audit-log how it ended,
/// and answer (202, or the core's refusal). A core that cannot answer is 503
/// and not audited.
async fn steer(s: &AppState, headers: &HeaderMap, action: Override) -> Result<Response, ApiError> {
    let caller = require(s, headers, &[Role::Coordinator]).await?;
    let (ids, target) = subject(&action);
    for (field, value) in ids {
        crate::error::bounded(field, value, crate::limits::ID)?;
    }
    let name = serde_json::to_value(&action)
        .ok()
        .and_then(|v| v.get("action").and_then(|a| a.as_str()).map(str::to_owned))
        .unwrap_or_default();
    let by = caller.user.clone();
    let answer = crate::control::ask(s.control.as_ref(), |reply| Control::Override {
        by,
        action,
        reply,
    })
    .await
    .map_err(|unreachable| ApiError(StatusCode::SERVICE_UNAVAILABLE, unreachable.diagnostics))?;
    match answer {
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
