//! Who is calling: dashboard users sign in with a password (argon2 hash in the
//! store) and get a session token that expires (cookie for the browser, bearer for
//! scripts); the configured admin and lab bearer tokens still work. Every route
//! that needs a person asks `caller()` and checks the role it needs. Sign-in is
//! throttled per user name and per source address ([`Guard`]); argon2 runs on
//! blocking threads behind a small semaphore; tokens are compared in constant time.

use crate::error::ApiError;
use crate::limits;
use crate::secret::token_digest;
use crate::state::AppState;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use labflight_core::Instant;
use labflight_store::{AuditEntry, User};
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use crate::guard::Guard;
pub use crate::secret::{check_token, hash_password, random_secret, same_secret, verify_password};

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "labflight_session";

/// How long a session lasts.
pub(crate) fn session_lifetime() -> chrono::Duration {
    chrono::Duration::hours(12)
}

/// What a signed-in person may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Acts: overrides, acknowledgements, re-sends.
    Coordinator,
    /// Reads only.
    Viewer,
    /// Marks tubes received or rejected and posts results, for one lab.
    Lab,
}

impl Role {
    /// The role named `s` (`coordinator`, `viewer`, `lab`), if any.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "coordinator" => Some(Role::Coordinator),
            "viewer" => Some(Role::Viewer),
            "lab" => Some(Role::Lab),
            _ => None,
        }
    }

    /// The role's name, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Viewer => "viewer",
            Role::Lab => "lab",
        }
    }
}

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

fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
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

/// Any signed-in caller may read.
pub(crate) const READERS: &[Role] = &[Role::Coordinator, Role::Viewer, Role::Lab];

/// Callers who see every lab's items (a lab sees only its own).
pub(crate) const ALL_LABS: &[Role] = &[Role::Coordinator, Role::Viewer];

/// Writes one line of the audit log, each free-text part cut to
/// [`limits::AUDIT_TEXT`]; a failure to write is logged, not fatal.
pub(crate) async fn audit(
    s: &AppState,
    caller: &Caller,
    action: &str,
    target: Option<&str>,
    outcome: &str,
    detail: Option<String>,
) {
    let entry = AuditEntry {
        at: Utc::now(),
        user: limits::audit_text(&caller.user),
        role: caller.role.as_str().into(),
        action: limits::audit_text(action),
        target: target.map(limits::audit_text),
        outcome: limits::audit_text(outcome),
        detail: detail.as_deref().map(limits::audit_text),
    };
    if let Err(e) = s.store.audit(&entry).await {
        tracing::error!("audit log: {e}");
    }
}

/// Checks a new user's name, role and password.
fn check_user(name: &str, role: Role, lab: Option<&str>, password: &str) -> Result<(), String> {
    if name.trim().is_empty() || name.chars().count() > limits::USER_NAME {
        return Err(format!(
            "user name `{}`: 1 to {} characters",
            name.chars().take(limits::USER_NAME).collect::<String>(),
            limits::USER_NAME
        ));
    }
    check_password(name, password)?;
    if (role == Role::Lab) != lab.is_some() {
        return Err(format!(
            "user `{name}`: a lab user names its lab (--lab), other roles do not"
        ));
    }
    Ok(())
}

fn check_password(name: &str, password: &str) -> Result<(), String> {
    let len = password.chars().count();
    if len < limits::PASSWORD_MIN {
        return Err(format!(
            "password for `{name}`: at least {} characters",
            limits::PASSWORD_MIN
        ));
    }
    if len > limits::PASSWORD {
        return Err(format!(
            "password for `{name}`: at most {} characters",
            limits::PASSWORD
        ));
    }
    Ok(())
}

/// Creates or replaces a user (the CLI and the demo); the user's sessions end.
/// The hash is computed on a blocking thread.
pub async fn put_user(
    store: &labflight_store::Store,
    name: &str,
    role: Role,
    lab: Option<&str>,
    password: &str,
) -> Result<(), String> {
    check_user(name, role, lab, password)?;
    let owned = password.to_owned();
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&owned))
        .await
        .map_err(|e| e.to_string())??;
    let user = User {
        name: name.into(),
        role: role.as_str().into(),
        lab: lab.map(str::to_owned),
        password_hash,
    };
    store
        .put_user(&user, Utc::now())
        .await
        .map_err(|e| e.to_string())
}

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/password", post(change_password))
        .route("/api/v1/auth/me", get(me))
}

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

fn session_cookie_header(s: &AppState, token: &str, max_age: i64) -> Option<HeaderValue> {
    let secure = if s.guard.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age}{secure}"
    ))
    .ok()
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

/// The answer that ends the browser's session cookie.
fn signed_out(s: &AppState) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Some(v) = session_cookie_header(s, "", 0) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; labflight_session=tok; b=2"),
        );
        assert_eq!(session_cookie(&h), Some("tok"));
        h.insert(header::COOKIE, HeaderValue::from_static("a=1"));
        assert_eq!(session_cookie(&h), None);
    }

    #[test]
    fn passwords_are_bounded_both_ways() {
        assert!(check_user("u", Role::Viewer, None, "short").is_err());
        assert!(check_user("u", Role::Viewer, None, &"p".repeat(limits::PASSWORD)).is_ok());
        let e = check_user("u", Role::Viewer, None, &"p".repeat(limits::PASSWORD + 1)).unwrap_err();
        assert!(e.contains(&format!("at most {}", limits::PASSWORD)), "{e}");
        let e = check_user(
            &"n".repeat(limits::USER_NAME + 1),
            Role::Viewer,
            None,
            "long enough",
        )
        .unwrap_err();
        assert!(e.contains(&limits::USER_NAME.to_string()), "{e}");
    }
}
