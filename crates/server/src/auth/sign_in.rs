//! Signing in and out, changing one's password, and who is signed in. Sign-in
//! and password changes are throttled per user name and per source address
//! ([`crate::guard::Guard`]); argon2 runs on blocking threads behind a small
//! semaphore, and an unknown user costs the same hashing as a wrong password.

use super::audit::audit;
use super::callers::{Caller, bearer, identify, require};
use super::roles::{READERS, Role};
use super::sessions::{session_cookie, session_cookie_header, session_lifetime, signed_out};
use super::users::check_password;
use crate::error::{ApiError, bounded, small_json};
use crate::limits;
use crate::secret::{hash_password, random_secret, token_digest, verify_password};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use labflight_store::User;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

/// A sign-in.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct Login {
    /// The user name (at most 64 characters).
    #[schema(example = "alice", max_length = 64)]
    pub user: String,
    /// The password (at most 256 characters).
    #[schema(max_length = 256)]
    pub password: String,
    /// Also return the session token in the body, for scripts sending it as a
    /// bearer token (the browser uses the HttpOnly cookie and leaves this out).
    #[serde(default)]
    pub api_token: bool,
}

/// 429 with `Retry-After` (whole seconds, at least 1).
fn too_many(wait: Duration) -> Response {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let secs = secs.max(1);
    let mut resp = ApiError(
        StatusCode::TOO_MANY_REQUESTS,
        format!("too many sign-in attempts; try again in {secs} s"),
    )
    .into_response();
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    resp
}

fn peer(request: &axum::extract::Request) -> Option<IpAddr> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Checks `password` against `user`'s hash off the async workers; an unknown
/// user costs the same hashing work as a wrong password.
async fn password_matches(
    s: &AppState,
    user: Option<&User>,
    password: &str,
) -> Result<bool, ApiError> {
    let password = password.to_owned();
    let phc = user.map(|u| u.password_hash.clone());
    s.guard
        .hashing(move || match phc {
            Some(phc) => verify_password(&password, &phc),
            None => {
                let _ = hash_password(&password);
                false
            }
        })
        .await
}

/// Who signed in, and the session token when asked for (`api_token`).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct SignedIn {
    /// The caller.
    #[serde(flatten)]
    pub caller: Caller,
    /// The session token, to send as `Authorization: Bearer <token>`; only when
    /// the sign-in asked for it with `api_token`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

/// Signs in; sets the session cookie and returns the caller (and, when asked
/// with `api_token`, the token for scripts). Throttled per user name and per
/// source address: 429 with `Retry-After`. The body is read as JSON whatever
/// its declared content type.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body(content = Login, content_type = "application/json"),
    responses(
        (status = 200, description = "signed in; `Set-Cookie` carries the session (HttpOnly, SameSite=Strict)", body = SignedIn,
            headers(("Set-Cookie" = String, description = "labflight_session=<token>; HttpOnly; SameSite=Strict; Path=/; Max-Age=43200"))),
        (status = 400, description = "not the JSON expected, or a field over its limit", body = crate::error::ErrorBody),
        (status = 401, description = "wrong user or password (the same answer for an unknown user)", body = crate::error::ErrorBody),
        (status = 413, description = "the body is over 16 KiB", body = crate::error::ErrorBody),
        (status = 429, description = "too many attempts for this user name or from this address", body = crate::error::ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the next attempt is let in"))),
        (status = 500, description = "the store failed", body = crate::error::ErrorBody),
        (status = 503, description = "every password-hashing slot stayed busy; try again shortly", body = crate::error::ErrorBody)))]
pub(crate) async fn login(State(s): State<AppState>, request: axum::extract::Request) -> Response {
    match login_inner(&s, request).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn login_inner(s: &AppState, request: axum::extract::Request) -> Result<Response, ApiError> {
    let address = peer(&request);
    let login: Login = small_json(
        request.into_body(),
        "login body: expected {\"user\":…,\"password\":…}",
    )
    .await?;
    bounded("user", &login.user, limits::USER_NAME)?;
    bounded("password", &login.password, limits::PASSWORD)?;
    if let Err(wait) = s.guard.admit_login(&login.user, address) {
        tracing::debug!("sign-in throttled for {address:?}");
        return Ok(too_many(wait));
    }
    let user = s
        .store
        .user(&login.user)
        .await
        .map_err(ApiError::internal)?;
    let ok = password_matches(s, user.as_ref(), &login.password).await?;
    let role = user.as_ref().and_then(|u| Role::parse(&u.role));
    let (Some(user), Some(role), true) = (user, role, ok) else {
        let who = Caller {
            user: login.user.clone(),
            role: Role::Viewer,
            lab: None,
            expires_at: None,
        };
        audit(
            s,
            &who,
            "login",
            None,
            "refused: wrong user or password",
            None,
        )
        .await;
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "wrong user or password".into(),
        ));
    };
    let token = random_secret(32);
    let now = Utc::now();
    let expires_at = now + session_lifetime();
    s.store
        .add_session(&token_digest(&token), &user.name, now, expires_at)
        .await
        .map_err(ApiError::internal)?;
    let caller = Caller {
        user: user.name,
        role,
        lab: user.lab,
        expires_at: Some(expires_at),
    };
    audit(s, &caller, "login", None, "ok", None).await;
    let mut resp = Json(SignedIn {
        caller,
        token: login.api_token.then(|| token.clone()),
    })
    .into_response();
    if let Some(v) = session_cookie_header(s, &token, session_lifetime().num_seconds()) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(resp)
}

/// Ends the session (cookie or bearer), and with it any live feed it opened.
/// Answers 204 whether or not a session was open.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    security((), ("bearer" = []), ("session" = [])),
    responses(
        (status = 204, description = "signed out; `Set-Cookie` clears the session cookie",
            headers(("Set-Cookie" = String, description = "labflight_session=; Max-Age=0"))),
        (status = 500, description = "the store failed", body = crate::error::ErrorBody)))]
pub(crate) async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok(Some(caller)) = identify(&s, &headers).await {
        audit(&s, &caller, "logout", None, "ok", None).await;
    }
    let token = bearer(&headers).or_else(|| session_cookie(&headers));
    if let Some(token) = token
        && let Err(e) = s.store.end_session(&token_digest(token)).await
    {
        return ApiError::internal(e).into_response();
    }
    s.guard.sessions_ended();
    signed_out(&s)
}

/// A password change.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub(crate) struct PasswordChange {
    /// The current password.
    #[schema(max_length = 256)]
    pub current: String,
    /// The new password: 8 to 256 characters.
    #[schema(min_length = 8, max_length = 256)]
    pub new: String,
}

/// Changes the signed-in user's password: every session of the user ends (this
/// one too, and the live feeds they opened). Throttled like sign-in. The body
/// is read as JSON whatever its declared content type.
#[utoipa::path(post, path = "/api/v1/auth/password", tag = "auth",
    security(("bearer" = []), ("session" = [])),
    request_body(content = PasswordChange, content_type = "application/json"),
    responses(
        (status = 204, description = "changed; signed out everywhere"),
        (status = 400, description = "a configured token has no password; not the JSON expected; the new password too short or too long", body = crate::error::ErrorBody),
        (status = 401, description = "not signed in, or the wrong current password", body = crate::error::ErrorBody),
        (status = 413, description = "the body is over 16 KiB", body = crate::error::ErrorBody),
        (status = 429, description = "too many attempts for this user or from this address", body = crate::error::ErrorBody,
            headers(("Retry-After" = u64, description = "seconds until the next attempt is let in"))),
        (status = 500, description = "the store failed", body = crate::error::ErrorBody),
        (status = 503, description = "every password-hashing slot stayed busy; try again shortly", body = crate::error::ErrorBody)))]
pub(crate) async fn change_password(
    State(s): State<AppState>,
    request: axum::extract::Request,
) -> Response {
    match change_password_inner(&s, request).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn change_password_inner(
    s: &AppState,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let address = peer(&request);
    let caller = require(s, request.headers(), READERS).await?;
    if caller.expires_at.is_none() {
        return Err(ApiError(
            StatusCode::BAD_REQUEST,
            format!(
                "{} signs in with a configured token, which has no password",
                caller.user
            ),
        ));
    }
    let change: PasswordChange = small_json(
        request.into_body(),
        "password body: expected {\"current\":…,\"new\":…}",
    )
    .await?;
    bounded("current", &change.current, limits::PASSWORD)?;
    bounded("new", &change.new, limits::PASSWORD)?;
    check_password(&caller.user, &change.new).map_err(|e| ApiError(StatusCode::BAD_REQUEST, e))?;
    if let Err(wait) = s.guard.admit_login(&caller.user, address) {
        return Ok(too_many(wait));
    }
    let user = s
        .store
        .user(&caller.user)
        .await
        .map_err(ApiError::internal)?;
    let Some(user) = user else {
        return Err(ApiError(StatusCode::UNAUTHORIZED, "no such user".into()));
    };
    if !password_matches(s, Some(&user), &change.current).await? {
        audit(
            s,
            &caller,
            "password",
            None,
            "refused: wrong current password",
            None,
        )
        .await;
        return Err(ApiError(
            StatusCode::UNAUTHORIZED,
            "wrong current password".into(),
        ));
    }
    let new = change.new.clone();
    let password_hash = s
        .guard
        .hashing(move || hash_password(&new))
        .await?
        .map_err(ApiError::internal)?;
    s.store
        .put_user(
            &User {
                password_hash,
                ..user
            },
            Utc::now(),
        )
        .await
        .map_err(ApiError::internal)?;
    s.guard.sessions_ended();
    audit(
        s,
        &caller,
        "password",
        None,
        "ok: every session ended",
        None,
    )
    .await;
    Ok(signed_out(s))
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "the caller", body = Caller), crate::error::SignedInRefusals))]
pub(crate) async fn me(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Caller>, ApiError> {
    require(&s, &headers, READERS).await.map(Json)
}
