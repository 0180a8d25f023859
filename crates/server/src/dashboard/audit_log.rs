//! The audit log as coordinators read it, newest first.

use crate::auth::{Role, require};
use crate::error::{Api, ApiError, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa::IntoParams;

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
