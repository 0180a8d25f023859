//! The day views' API (issue 24, item 7): one local day's service level per
//! centre with its curves (`GET /api/v1/day`), and the daily report as CSV
//! (`GET /api/v1/day/report.csv`), of the live service or of a recorded run
//! (`run=`). The numbers are `day_report.rs`'s, the curves `day_series.rs`'s.
//!
//! Who may read them: coordinators and viewers. A lab user is refused (403): the
//! page is about every centre's service, and a lab's scope (`lab_scope.rs`) is
//! the boxes sent to it, not centres.

use crate::auth::{ALL_LABS, require};
use crate::day_report::{self, DayReport};
use crate::day_series::SeriesView;
use crate::error::{Api, ApiError, ErrorBody};
use crate::state::AppState;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/day", get(day))
        .route("/api/v1/day/report.csv", get(report_csv))
}

/// Which day, of what.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct DayQuery {
    /// The local day (`YYYY-MM-DD`); default the latest day with tubes drawn.
    #[param(format = Date, example = "2026-06-15")]
    pub date: Option<String>,
    /// A recorded run's id (as `GET /api/v1/replay/runs` lists it); default the live service.
    #[param(min_length = 1, max_length = 128)]
    pub run: Option<String>,
}

/// One local day's views.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct DayView {
    /// `live` or `replay`.
    pub mode: String,
    /// The recorded run shown (replay only).
    pub run: Option<String>,
    /// The day's service level per centre and in total.
    pub report: DayReport,
    /// The day's curves.
    pub series: SeriesView,
}

/// Takes the live sample of this minute of service time, if not taken yet:
/// called by the live feed's task about once a second. Cheap when taken (one
/// lock); otherwise one forecast of every tube.
pub(crate) async fn observe(s: &AppState) {
    let (Some(ctx), Ok(snap)) = (s.dashboard.as_ref(), s.current_snapshot()) else {
        return;
    };
    use chrono::Timelike;
    let local = snap.now.with_timezone(&ctx.world.offset);
    if !ctx
        .day_series
        .wants(local.date_naive(), local.hour() * 60 + local.minute())
    {
        return;
    }
    let ctx = Arc::clone(ctx);
    let _ = tokio::task::spawn_blocking(move || {
        let sample = day_report::sample(&ctx.world, &snap.state, snap.now);
        ctx.day_series.record(sample);
    })
    .await;
}

/// A day as `YYYY-MM-DD` (a four-digit year).
fn parse_date(date: Option<&str>) -> Result<Option<NaiveDate>, ApiError> {
    date.map(|d| {
        NaiveDate::parse_from_str(d, "%Y-%m-%d")
            .ok()
            .filter(|_| d.len() == 10)
            .ok_or_else(|| {
                ApiError(
                    StatusCode::BAD_REQUEST,
                    format!("date: expected a day as YYYY-MM-DD, got `{d}`"),
                )
            })
    })
    .transpose()
}

/// The day asked for, computed from the live state or the recorded run.
async fn day_view(s: &AppState, q: &DayQuery) -> Result<DayView, ApiError> {
    let date = parse_date(q.date.as_deref())?;
    let ctx = s.dashboard.as_ref().ok_or_else(|| {
        ApiError(
            StatusCode::SERVICE_UNAVAILABLE,
            "the dashboard is not configured on this server".into(),
        )
    })?;
    match &q.run {
        None => {
            let snap = s.current_snapshot()?;
            let ctx = Arc::clone(ctx);
            tokio::task::spawn_blocking(move || {
                let report = day_report::report(&ctx.world, &snap.state, snap.now, date);
                let day = NaiveDate::parse_from_str(&report.date, "%Y-%m-%d").ok();
                let series = day
                    .map(|d| ctx.day_series.of_day(&ctx.world, d))
                    .unwrap_or_default();
                DayView {
                    mode: "live".into(),
                    run: None,
                    report,
                    series,
                }
            })
            .await
            .map_err(ApiError::internal)
        }
        Some(id) => {
            crate::error::bounded("run", id, crate::limits::ID)?;
            let ctx = Arc::clone(ctx);
            let id = id.clone();
            tokio::task::spawn_blocking(move || {
                let run = ctx.replay.open(&id)?;
                let data = run.day().map_err(|e| {
                    ApiError(StatusCode::UNPROCESSABLE_ENTITY, format!("run `{id}`: {e}"))
                })?;
                let report = day_report::report(&data.world, &data.state, data.now, date);
                let day = NaiveDate::parse_from_str(&report.date, "%Y-%m-%d").ok();
                let series = day
                    .map(|d| SeriesView::of_day(&data.world, data.samples.iter(), d))
                    .unwrap_or_default();
                Ok(DayView {
                    mode: "replay".into(),
                    run: Some(id),
                    report,
                    series,
                })
            })
            .await
            .map_err(ApiError::internal)?
        }
    }
}

/// One local day's service level per centre (drawn, on time, late, at risk, on
/// track, redraws; totals) and its curves (on-track share, drones in flight, lab
/// queues, one point a minute), of the live service or a recorded run.
/// Coordinators and viewers; a lab user is refused.
#[utoipa::path(get, path = "/api/v1/day", tag = "dashboard",
    security(("bearer" = []), ("session" = [])),
    params(DayQuery),
    responses(
        (status = 200, description = "the day's views (times local, the zone stated once in `report.zone`)", body = DayView),
        (status = 400, description = "`date` is not a day as YYYY-MM-DD, `run` is over 128 characters, or the query does not parse", body = ErrorBody),
        (status = 404, description = "no such recorded run", body = ErrorBody),
        (status = 422, description = "the run's journal cannot be replayed here (the error says why)", body = ErrorBody),
        (status = 503, description = "the service is starting, or the dashboard or replay is not configured", body = ErrorBody),
        crate::error::RoleRefusals))]
pub(crate) async fn day(
    State(s): State<AppState>,
    headers: HeaderMap,
    Api(Query(q)): Api<Query<DayQuery>>,
) -> Result<Json<DayView>, ApiError> {
    require(&s, &headers, ALL_LABS).await?;
    Ok(Json(day_view(&s, &q).await?))
}

/// The daily report as CSV: one row per centre, then the totals (`TOTAL`).
/// Coordinators and viewers; a lab user is refused.
#[utoipa::path(get, path = "/api/v1/day/report.csv", tag = "dashboard",
    security(("bearer" = []), ("session" = [])),
    params(DayQuery),
    responses(
        (status = 200, description = "the report, as a download (`date,centre_id,centre_name,centre_name_zh,drawn,on_time,late,at_risk,on_track,redraws,on_time_pct`)",
            content_type = "text/csv", body = String),
        (status = 400, description = "`date` is not a day as YYYY-MM-DD, `run` is over 128 characters, or the query does not parse", body = ErrorBody),
        (status = 404, description = "no such recorded run", body = ErrorBody),
        (status = 422, description = "the run's journal cannot be replayed here (the error says why)", body = ErrorBody),
        (status = 503, description = "the service is starting, or the dashboard or replay is not configured", body = ErrorBody),
        crate::error::RoleRefusals))]
pub(crate) async fn report_csv(
    State(s): State<AppState>,
    headers: HeaderMap,
    Api(Query(q)): Api<Query<DayQuery>>,
) -> Result<Response, ApiError> {
    require(&s, &headers, ALL_LABS).await?;
    let view = day_view(&s, &q).await?;
    let name = match &view.run {
        Some(run) => format!("labflight-{}-{}.csv", safe(run), view.report.date),
        None => format!("labflight-{}.csv", view.report.date),
    };
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        day_report::csv(&view.report),
    )
        .into_response())
}

/// A run id as a file name part: letters, digits, `-` and `_` only.
fn safe(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A day is four-digit year, month and day; anything else is refused by name.
    #[test]
    fn a_date_is_a_day_as_yyyy_mm_dd() {
        assert_eq!(
            parse_date(Some("2026-06-15")).unwrap(),
            NaiveDate::from_ymd_opt(2026, 6, 15)
        );
        assert_eq!(parse_date(None).unwrap(), None);
        for bad in ["2026-02-30", "15/06/2026", "12026-06-15", "2026-6-5", ""] {
            let e = parse_date(Some(bad)).unwrap_err();
            assert_eq!(e.0, StatusCode::BAD_REQUEST, "{bad}");
            assert!(e.1.contains("date:") && e.1.contains(bad), "{}", e.1);
        }
        assert_eq!(safe("drone-seed7/../x"), "drone-seed7____x");
    }
}
