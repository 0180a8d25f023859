//! Sessions: a random token handed out at sign-in, stored as its SHA-256
//! digest with an expiry, carried by the browser in an HttpOnly cookie (or by
//! scripts as a bearer token).

use crate::state::AppState;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "labflight_session";

/// How long a session lasts.
pub(crate) fn session_lifetime() -> chrono::Duration {
    chrono::Duration::hours(12)
}

pub(super) fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v)
}

pub(super) fn session_cookie_header(
    s: &AppState,
    token: &str,
    max_age: i64,
) -> Option<HeaderValue> {
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

/// The answer that ends the browser's session cookie.
pub(super) fn signed_out(s: &AppState) -> Response {
    let mut resp = StatusCode::NO_CONTENT.into_response();
    if let Some(v) = session_cookie_header(s, "", 0) {
        resp.headers_mut().insert(header::SET_COOKIE, v);
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue, header};

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
