//! What the dashboard shows: the map layers, and the live view of the current
//! state (KPIs, centres, labs, drones, boxes, missions, tubes at risk, alerts,
//! deliveries), scoped to a lab caller's lab.

use crate::auth::{READERS, require};
use crate::error::{ApiError, ErrorBody};
use crate::state::{AppState, DashboardContext};
use crate::view::{self, Frame, View};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// Alerts shown on the dashboard (the badge counts all unacknowledged ones).
const ALERTS_SHOWN: i64 = 200;

/// Hook deliveries listed on the dashboard.
const DELIVERIES_SHOWN: i64 = 20;

fn context(s: &AppState) -> Result<&Arc<DashboardContext>, ApiError> {
    s.dashboard.as_ref().ok_or_else(|| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the dashboard is not configured on this server".into(),
        )
    })
}

/// The live view and the state it shows.
pub(super) async fn live_frame(
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
    view.standby = s.liveness.standby().map(|f| match f.owner {
        Some((member, epoch)) => format!("{member} (epoch {epoch})"),
        None => "-".to_owned(),
    });
    Ok((view, state))
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
