//! Who may call the labs' and hooks' API: a lab (its bearer token or a signed-in
//! `lab` user) for results and tubes, a coordinator (the admin token or a
//! signed-in coordinator) for hooks; anyone else hears an OperationOutcome.

use crate::auth::{Caller, Role, bearer, identify};
use crate::control::Refusal;
use crate::outcome::Outcome;
use crate::state::AppState;
use axum::http::HeaderMap;
use labflight_hooks::fhir::IssueCode;

/// The lab the caller acts for: a lab's bearer token or a signed-in `lab` user.
pub(super) async fn lab_of(s: &AppState, headers: &HeaderMap) -> Result<Caller, Outcome> {
    match identify(s, headers).await {
        Ok(Some(c)) if c.role == Role::Lab && c.lab.is_some() => Ok(c),
        Ok(Some(c)) => Err(Outcome(Refusal::new(
            403,
            IssueCode::Forbidden,
            format!("{} is not a lab (signed in as {})", c.user, c.role.as_str()),
        ))),
        Ok(None) if bearer(headers).is_some() => Err(Outcome(Refusal::new(
            403,
            IssueCode::Forbidden,
            "this token belongs to no lab",
        ))),
        Ok(None) => Err(Outcome(Refusal::new(
            401,
            IssueCode::Login,
            "missing `Authorization: Bearer <lab token>` (or sign in as a lab user)",
        ))),
        Err(e) => Err(Outcome(Refusal::new(500, IssueCode::Exception, e.1))),
    }
}

/// Hooks are managed with the admin token or by a signed-in coordinator.
pub(super) async fn admin(s: &AppState, headers: &HeaderMap) -> Result<Caller, Outcome> {
    match identify(s, headers).await {
        Ok(Some(c)) if c.role == Role::Coordinator => Ok(c),
        Ok(Some(c)) => Err(Outcome(Refusal::new(
            403,
            IssueCode::Forbidden,
            format!("{} ({}) may not manage hooks", c.user, c.role.as_str()),
        ))),
        Ok(None) if bearer(headers).is_some() => Err(Outcome(Refusal::new(
            403,
            IssueCode::Forbidden,
            "this token may not manage hooks",
        ))),
        Ok(None) => Err(Outcome(Refusal::new(
            401,
            IssueCode::Login,
            "missing `Authorization: Bearer <admin token>` (or sign in as a coordinator)",
        ))),
        Err(e) => Err(Outcome(Refusal::new(500, IssueCode::Exception, e.1))),
    }
}
