//! Coordinators acknowledge alerts, one at a time or many at once; each
//! acknowledgement is audit-logged.

use super::accepted::{Acknowledged, acknowledged};
use crate::auth::{Role, audit, require};
use crate::error::{Api, ApiError, ErrorBody};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Alerts one bulk acknowledgement may name.
const BULK_ACK_MAX: usize = 200;

/// A bulk acknowledgement's body: room for its most ids at their longest, each
/// character escaped (`\u0001` is six bytes).
const BULK_ACK_BODY: usize = BULK_ACK_MAX * (crate::limits::ID * 6 + 4) + 64;

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
