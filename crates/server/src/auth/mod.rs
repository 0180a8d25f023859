//! Who is calling, and what they may do. Dashboard users sign in with a
//! password (`sign_in.rs`) and get a session that expires (`sessions.rs`);
//! the configured admin and lab bearer tokens still work. Every route that
//! needs a person asks [`require`] (`callers.rs`) for the roles it needs
//! (`roles.rs`); actions are written to the audit log (`audit.rs`); accounts
//! are made by `users.rs`. What other modules use is re-exported here.

mod audit;
mod callers;
mod roles;
mod sessions;
pub(crate) mod sign_in;
mod users;

pub use crate::guard::Guard;
pub use crate::secret::{check_token, hash_password, random_secret, same_secret, verify_password};
pub(crate) use audit::audit;
pub(crate) use callers::{Caller, bearer, identify, require};
pub use roles::Role;
pub(crate) use roles::{ALL_LABS, READERS};
pub(crate) use sessions::SESSION_COOKIE;
pub use users::put_user;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};

/// Sign-in, sign-out, password change and who is signed in.
pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/auth/login", post(sign_in::login))
        .route("/api/v1/auth/logout", post(sign_in::logout))
        .route("/api/v1/auth/password", post(sign_in::change_password))
        .route("/api/v1/auth/me", get(sign_in::me))
}
