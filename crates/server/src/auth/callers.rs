//! Who is calling: the configured admin and lab bearer tokens (compared in
//! constant time, every one each time), or a session (cookie or bearer); and
//! the check every route that needs a person makes (401, then 403 by role).

use super::roles::Role;
use super::sessions::session_cookie;
use crate::error::ApiError;
use crate::secret::{same_secret, token_digest};
use crate::state::AppState;
use axum::http::{HeaderMap, StatusCode, header};
use chrono::Utc;
use labflight_core::Instant;
use serde::Serialize;

/// The person (or token) behind a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub(crate) struct Caller {
    pub user: String,
    pub role: Role,
    /// The lab a `lab` caller acts for.
    pub lab: Option<String>,
    /// When the session ends (none for configured tokens).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Instant>,
}

/// The token of an `Authorization: Bearer` header.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
}

/// Resolves the caller from the session cookie, or a bearer token (admin, lab, or
/// session). `None` when nothing identifies the caller. Configured tokens are
/// compared in constant time, every one of them each time.
pub(crate) async fn identify(
    s: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Caller>, ApiError> {
    if let Some(token) = bearer(headers) {
        if s.admin_token
            .as_deref()
            .is_some_and(|a| same_secret(a, token))
        {
            return Ok(Some(Caller {
                user: "admin".into(),
                role: Role::Coordinator,
                lab: None,
                expires_at: None,
            }));
        }
        let lab = s
            .lab_tokens
            .iter()
            .fold(None, |found, (t, lab)| match same_secret(t, token) {
                true => Some(lab),
                false => found,
            });
        if let Some(lab) = lab {
            return Ok(Some(Caller {
                user: format!("lab:{lab}"),
                role: Role::Lab,
                lab: Some(lab.clone()),
                expires_at: None,
            }));
        }
        return session(s, token).await;
    }
    match session_cookie(headers) {
        Some(token) => session(s, token).await,
        None => Ok(None),
    }
}

/// The session's caller: looked up by the token's SHA-256 digest, so what the
/// database compares is never the token itself.
async fn session(s: &AppState, token: &str) -> Result<Option<Caller>, ApiError> {
    if token.len() > 256 {
        return Ok(None);
    }
    let found = s
        .store
        .session_user(&token_digest(token), Utc::now())
        .await
        .map_err(ApiError::internal)?;
    Ok(found.and_then(|(user, expires_at)| {
        Some(Caller {
            role: Role::parse(&user.role)?,
            user: user.name,
            lab: user.lab,
            expires_at: Some(expires_at),
        })
    }))
}

/// The caller, who must be signed in (401) and hold one of `roles` (403).
pub(crate) async fn require(
    s: &AppState,
    headers: &HeaderMap,
    roles: &[Role],
) -> Result<Caller, ApiError> {
    let caller = identify(s, headers).await?.ok_or_else(|| {
        ApiError(
            StatusCode::UNAUTHORIZED,
            "sign in first (POST /api/v1/auth/login), or send `Authorization: Bearer <token>`"
                .into(),
        )
    })?;
    if roles.contains(&caller.role) {
        Ok(caller)
    } else {
        Err(ApiError(
            StatusCode::FORBIDDEN,
            format!(
                "{} is signed in as {}, which may not do this (needs {})",
                caller.user,
                caller.role.as_str(),
                roles
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ),
        ))
    }
}
