//! The result deliveries as the outbox holds them, with their attempts, for
//! coordinators to follow and re-send.

use super::callers::admin;
use crate::control::Refusal;
use crate::limits;
use crate::outcome::{Fhir, Outcome, bounded};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use labflight_hooks::fhir::IssueCode;
use labflight_store::{Attempt, OutboxItem};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Which deliveries to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Only this tube's deliveries.
    #[param(max_length = 64)]
    barcode: Option<String>,
}

/// A delivery with its attempts.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Delivery {
    /// The delivery.
    #[schema(value_type = crate::shapes::OutboxItem)]
    delivery: OutboxItem,
    /// Its attempts, in order.
    #[schema(value_type = Vec<crate::shapes::Attempt>)]
    attempts: Vec<Attempt>,
}

/// Every delivery owed to a subscriber, with its attempts.
#[utoipa::path(get, path = "/api/v1/hooks/deliveries", tag = "hooks",
    security(("bearer" = []), ("session" = [])),
    params(DeliveryQuery),
    responses(
        (status = 200, description = "deliveries with their attempts", body = [Delivery]),
        (status = 400, description = "the query does not parse, or the barcode is over 64 characters", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        crate::outcome::HookRefusals))]
pub async fn deliveries(
    State(s): State<AppState>,
    headers: HeaderMap,
    Fhir(Query(q)): Fhir<Query<DeliveryQuery>>,
) -> Response {
    if let Err(o) = admin(&s, &headers).await {
        return o.into_response();
    }
    if let Some(Err(o)) = q
        .barcode
        .as_deref()
        .map(|b| bounded("barcode", b, limits::BARCODE))
    {
        return o.into_response();
    }
    let items = match s.store.outbox(q.barcode.as_deref()).await {
        Ok(i) => i,
        Err(e) => {
            return Outcome(Refusal::new(500, IssueCode::Exception, e.to_string())).into_response();
        }
    };
    let mut out = Vec::with_capacity(items.len());
    for i in items {
        let attempts = s.store.attempts(&i.webhook_id).await.unwrap_or_default();
        out.push(Delivery {
            delivery: i,
            attempts,
        });
    }
    Json(out).into_response()
}

/// Queues a delivery again, with the same webhook id.
#[utoipa::path(post, path = "/api/v1/hooks/deliveries/{webhook_id}/resend", tag = "hooks",
    security(("bearer" = []), ("session" = [])),
    params(("webhook_id" = String, Path, description = "the delivery's id", min_length = 1, max_length = 128)),
    responses(
        (status = 202, description = "queued again, same webhook id"),
        (status = 400, description = "the id is over 128 characters", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        (status = 404, description = "unknown or already queued", body = crate::outcome::OperationOutcomeDoc, content_type = "application/fhir+json"),
        crate::outcome::HookRefusals))]
pub async fn resend(
    State(s): State<AppState>,
    headers: HeaderMap,
    Fhir(Path(webhook_id)): Fhir<Path<String>>,
) -> Response {
    if let Err(o) = admin(&s, &headers).await {
        return o.into_response();
    }
    if let Err(o) = bounded("webhook_id", &webhook_id, limits::ID) {
        return o.into_response();
    }
    let now = s
        .snapshot
        .borrow()
        .as_ref()
        .map_or_else(chrono::Utc::now, |snap| snap.now);
    match s.store.resend(&webhook_id, now).await {
        Ok(true) => StatusCode::ACCEPTED.into_response(),
        Ok(false) => Outcome(Refusal::new(
            404,
            IssueCode::NotFound,
            format!("no delivery `{webhook_id}` to re-send (unknown or already queued)"),
        ))
        .into_response(),
        Err(e) => Outcome(Refusal::new(500, IssueCode::Exception, e.to_string())).into_response(),
    }
}
