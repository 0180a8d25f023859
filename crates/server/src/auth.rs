//! Who is calling: dashboard users sign in with a password (argon2 hash in the
//! store) and get a session token that expires (cookie for the browser, bearer for
//! scripts); the configured admin and lab bearer tokens still work. Every route
//! that needs a person asks `caller()` and checks the role it needs.

use crate::routes::{ApiError, AppState};
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::Engine;
use chrono::Utc;
use labflight_core::Instant;
use labflight_store::{AuditEntry, User};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "labflight_session";

/// How long a session lasts.
pub fn session_lifetime() -> chrono::Duration {
    chrono::Duration::hours(12)
}

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
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "coordinator" => Some(Role::Coordinator),
            "viewer" => Some(Role::Viewer),
            "lab" => Some(Role::Lab),
            _ => None,
        }
    }

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
pub struct Caller {
    pub user: String,
    pub role: Role,
    /// The lab a `lab` caller acts for.
    pub lab: Option<String>,
    /// When the session ends (none for configured tokens).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Instant>,
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> Result<String, String> {
    let mut salt = [0u8; 16];
    rand::rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt).map_err(|e| e.to_string())?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| e.to_string())
}

pub fn verify_password(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A fresh random secret, URL-safe (session tokens, generated passwords).
pub fn random_secret(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

fn token_digest(token: &str) -> String {
    format!("{:x}", Sha256::digest(token.as_bytes()))
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
/// session). `None` when nothing identifies the caller.
pub async fn identify(s: &AppState, headers: &HeaderMap) -> Result<Option<Caller>, ApiError> {
    if let Some(token) = bearer(headers) {
        if s.admin_token.as_deref() == Some(token) {
            return Ok(Some(Caller {
                user: "admin".into(),
                role: Role::Coordinator,
                lab: None,
                expires_at: None,
            }));
        }
        if let Some(lab) = s.lab_tokens.get(token) {
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

async fn session(s: &AppState, token: &str) -> Result<Option<Caller>, ApiError> {
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
pub async fn require(
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
pub const READERS: &[Role] = &[Role::Coordinator, Role::Viewer, Role::Lab];

/// Writes one line of the audit log; a failure to write is logged, not fatal.
pub async fn audit(
    s: &AppState,
    caller: &Caller,
    action: &str,
    target: Option<&str>,
    outcome: &str,
    detail: Option<String>,
) {
    let entry = AuditEntry {
        at: Utc::now(),
        user: caller.user.clone(),
        role: caller.role.as_str().into(),
        action: action.into(),
        target: target.map(str::to_owned),
        outcome: outcome.into(),
        detail,
    };
    if let Err(e) = s.store.audit(&entry).await {
        tracing::error!("audit log: {e}");
    }
}

/// Creates or replaces a user (the CLI and the demo).
pub async fn put_user(
    store: &labflight_store::Store,
    name: &str,
    role: Role,
    lab: Option<&str>,
    password: &str,
) -> Result<(), String> {
    if name.trim().is_empty() || name.len() > 64 {
        return Err(format!("user name `{name}`: 1 to 64 characters"));
    }
    if password.len() < 8 {
        return Err(format!("password for `{name}`: at least 8 characters"));
    }
    if (role == Role::Lab) != lab.is_some() {
        return Err(format!(
            "user `{name}`: a lab user names its lab (--lab), other roles do not"
        ));
    }
    let user = User {
        name: name.into(),
        role: role.as_str().into(),
        lab: lab.map(str::to_owned),
        password_hash: hash_password(password)?,
    };
    store
        .put_user(&user, Utc::now())
        .await
        .map_err(|e| e.to_string())
}

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct Login {
    pub user: String,
    pub password: String,
    /// Also return the session token in the body, for scripts sending it as a
    /// bearer token (the browser uses the HttpOnly cookie and leaves this out).
    #[serde(default)]
    pub api_token: bool,
}

/// Signs in; sets the session cookie and returns the caller (and, when asked
/// with `api_token`, the token for scripts).
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = Login,
    responses((status = 200, description = "signed in", body = Caller), (status = 401, description = "wrong user or password")))]
pub async fn login(State(s): State<AppState>, body: axum::body::Bytes) -> Response {
    let login: Login = match serde_json::from_slice(&body) {
        Ok(l) => l,
        Err(e) => {
            return ApiError(
                StatusCode::BAD_REQUEST,
                format!("login body: expected {{\"user\":…,\"password\":…}}: {e}"),
            )
            .into_response();
        }
    };
    let user = match s.store.user(&login.user).await {
        Ok(u) => u,
        Err(e) => return ApiError::internal(e).into_response(),
    };
    // The same answer (and the same hashing work) for an unknown user as for a wrong password.
    let ok = match &user {
        Some(u) => verify_password(&login.password, &u.password_hash),
        None => {
            let _ = hash_password(&login.password);
            false
        }
    };
    let role = user.as_ref().and_then(|u| Role::parse(&u.role));
    let (Some(user), Some(role), true) = (user, role, ok) else {
        let who = Caller {
            user: login.user.clone(),
            role: Role::Viewer,
            lab: None,
            expires_at: None,
        };
        audit(
            &s,
            &who,
            "login",
            None,
            "refused: wrong user or password",
            None,
        )
        .await;
        return ApiError(StatusCode::UNAUTHORIZED, "wrong user or password".into()).into_response();
    };
    let token = random_secret(32);
    let now = Utc::now();
    let expires_at = now + session_lifetime();
    if let Err(e) = s
        .store
        .add_session(&token_digest(&token), &user.name, now, expires_at)
        .await
    {
        return ApiError::internal(e).into_response();
    }
    let caller = Caller {
        user: user.name,
        role,
        lab: user.lab,
        expires_at: Some(expires_at),
    };
    audit(&s, &caller, "login", None, "ok", None).await;
    let cookie = format!(
        "{SESSION_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        session_lifetime().num_seconds()
    );
    let mut body = serde_json::to_value(&caller).unwrap_or_default();
    if login.api_token {
        body["token"] = serde_json::Value::String(token.clone());
    }
    let mut resp = Json(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

/// Ends the session (cookie or bearer).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", responses((status = 204, description = "signed out")))]
pub async fn logout(State(s): State<AppState>, headers: HeaderMap) -> Response {
    if let Ok(Some(caller)) = identify(&s, &headers).await {
        audit(&s, &caller, "logout", None, "ok", None).await;
    }
    let token = bearer(&headers).or_else(|| session_cookie(&headers));
    if let Some(token) = token
        && let Err(e) = s.store.end_session(&token_digest(token)).await
    {
        return ApiError::internal(e).into_response();
    }
    let mut resp = StatusCode::NO_CONTENT.into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "labflight_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0",
        ),
    );
    resp
}

/// Who is signed in.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth",
    responses((status = 200, description = "the caller", body = Caller), (status = 401, description = "not signed in")))]
pub async fn me(State(s): State<AppState>, headers: HeaderMap) -> Result<Json<Caller>, ApiError> {
    require(&s, &headers, READERS).await.map(Json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_against_their_own_hash() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("correct horsf", &h));
        assert!(!verify_password("correct horse", "not a hash"));
        assert_ne!(h, hash_password("correct horse").unwrap(), "salted");
    }

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
}
