//! The error type of every handler but the labs' and hooks': a status and a message, answered as
//! `{"error": "…"}` ([`ErrorBody`] in the OpenAPI document). Internal failures
//! are logged under a correlation id and the caller hears only that id. axum's
//! own refusals of a path or query ([`Api`]), JSON bodies ([`small_json`]),
//! fields ([`bounded`]) and unknown routes are answered the same way, so every
//! error body has the documented shape. (The labs' and hooks' API answers FHIR
//! OperationOutcomes instead: `outcome.rs`.)

use crate::limits;
use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

/// Errors as JSON with a status, mapped in one place.
#[derive(Debug)]
pub struct ApiError(pub StatusCode, pub String);

/// What every error of the dashboard's API answers (the labs' and hooks' API
/// answers a FHIR OperationOutcome instead).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ErrorBody {
    /// What went wrong, in words.
    pub error: String,
}

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
        (self.0, Json(ErrorBody { error: self.1 })).into_response()
    }
}

/// The status and text of one of axum's own refusals (a path or query that does
/// not deserialize), to answer in the API's own error shape instead of plain text.
pub(crate) async fn rejection_parts(response: Response) -> (StatusCode, String) {
    let status = response.status();
    let text = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
    (status, text)
}

/// An axum extractor (`Path`, `Query`) whose refusal is an [`ApiError`].
#[derive(Debug)]
pub(crate) struct Api<X>(pub X);

impl<X, S> FromRequestParts<S> for Api<X>
where
    X: FromRequestParts<S>,
    X::Rejection: IntoResponse,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let response = match X::from_request_parts(parts, state).await {
            Ok(x) => return Ok(Api(x)),
            Err(rejection) => rejection.into_response(),
        };
        let (status, text) = rejection_parts(response).await;
        Err(ApiError(status, text))
    }
}

/// A small JSON body, refused with 413 past [`limits::SMALL_BODY`] and 400 when
/// it does not parse (`what` says what was expected).
pub(crate) async fn small_json<T: serde::de::DeserializeOwned>(
    body: axum::body::Body,
    what: &str,
) -> Result<T, ApiError> {
    let bytes = axum::body::to_bytes(body, limits::SMALL_BODY)
        .await
        .map_err(|_| {
            ApiError(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body: at most {} bytes", limits::SMALL_BODY),
            )
        })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError(StatusCode::BAD_REQUEST, format!("{what}: {e}")))
}

/// A field over its limit, or holding a NUL, as a 400 naming it.
pub(crate) fn bounded<'a>(
    name: &'static str,
    value: &'a str,
    limit: usize,
) -> Result<&'a str, ApiError> {
    limits::field(name, value, limit).map_err(|e| ApiError(StatusCode::BAD_REQUEST, e.to_string()))
}

/// What a request to no route hears: 404 in the API's error shape.
pub(crate) async fn no_route(uri: axum::http::Uri) -> ApiError {
    ApiError(StatusCode::NOT_FOUND, format!("no route `{}`", uri.path()))
}

/// What a request with a method its route does not take hears: 405.
pub(crate) async fn wrong_method(method: axum::http::Method, uri: axum::http::Uri) -> ApiError {
    ApiError(
        StatusCode::METHOD_NOT_ALLOWED,
        format!("`{}` does not take {method}", uri.path()),
    )
}

/// What a route for any signed-in caller may hear besides its own answers.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum SignedInRefusals {
    /// Not signed in: no session cookie, and no valid bearer token.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The store failed; the log has the details under the correlation id.
    #[response(status = 500)]
    Internal(ErrorBody),
}

/// What a route for some roles only may hear besides its own answers.
#[derive(utoipa::IntoResponses)]
#[allow(dead_code)]
pub(crate) enum RoleRefusals {
    /// Not signed in: no session cookie, and no valid bearer token.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// Signed in, in a role that may not do this (the error names the roles that may).
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// The store failed; the log has the details under the correlation id.
    #[response(status = 500)]
    Internal(ErrorBody),
}
