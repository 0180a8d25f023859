//! The one error type of every handler: a status and a message, answered as
//! `{"error": "…"}`. Internal failures are logged under a correlation id and
//! the caller hears only that id.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Errors as JSON with a status, mapped in one place.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

impl ApiError {
    /// A 500 that tells the caller only "internal error" and a correlation id;
    /// the real text goes to the log under that id.
    pub fn internal(e: impl std::fmt::Display) -> ApiError {
        let id = crate::secret::random_secret(6);
        tracing::error!(correlation_id = %id, "internal error: {e}");
        ApiError(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error (correlation id {id})"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.0, Json(json!({"error": self.1}))).into_response()
    }
}
