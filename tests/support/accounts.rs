//! Dashboard accounts for the end-to-end tests: users made with the real CLI
//! (`labflight users add`), every one with [`PASSWORD`], and signing in over
//! HTTP for a session token to send as a bearer token.

use super::BIN;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::process::{Command, Output};

/// Every test user's password.
pub const PASSWORD: &str = "correct-horse-battery";

/// Runs `labflight users add` (password [`PASSWORD`]) and returns how it ended,
/// for tests of what the CLI refuses.
pub fn try_add_user(db: &str, name: &str, role: &str, lab: Option<&str>) -> Output {
    let mut args = vec!["users", "add", name, "--role", role, "--database-url", db];
    if let Some(l) = lab {
        args.extend(["--lab", l]);
    }
    Command::new(BIN)
        .args(&args)
        .env("LABFLIGHT_PASSWORD", PASSWORD)
        .output()
        .expect("labflight runs")
}

/// Adds a user (password [`PASSWORD`]); fails the test naming the user and
/// quoting the CLI when it refuses.
pub fn add_user(db: &str, name: &str, role: &str, lab: Option<&str>) {
    let out = try_add_user(db, name, role, lab);
    assert!(
        out.status.success(),
        "users add {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Signs in at `base` asking for the token: the status, the `Retry-After`
/// header (whole seconds) when there is one, and the body (`null` if not JSON).
pub async fn login(
    http: &reqwest::Client,
    base: &str,
    user: &str,
    password: &str,
) -> (StatusCode, Option<u64>, Value) {
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .body(json!({"user": user, "password": password, "api_token": true}).to_string())
        .send()
        .await
        .unwrap();
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (r.status(), retry, r.json().await.unwrap_or(Value::Null))
}

/// Signs `user` in with [`PASSWORD`] and returns the session token; fails the
/// test with the answer when the sign-in is refused.
pub async fn token(http: &reqwest::Client, base: &str, user: &str) -> String {
    let (code, _, body) = login(http, base, user, PASSWORD).await;
    assert_eq!(code, StatusCode::OK, "{user} signs in: {body}");
    body["token"].as_str().unwrap().to_owned()
}
