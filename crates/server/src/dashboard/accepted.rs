//! What an accepted control or alert acknowledgement answers: 202 with
//! `{"accepted": true}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// What an accepted control or acknowledgement answers.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct Acknowledged {
    /// Always true.
    pub accepted: bool,
}

/// The answer to an accepted request.
pub(crate) fn acknowledged() -> Response {
    (StatusCode::ACCEPTED, Json(Acknowledged { accepted: true })).into_response()
}
