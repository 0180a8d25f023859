//! A standby serves the dashboard and the read API from the owner's journal, so
//! a coordinator's screen survives a failover; it takes no writes (those are the
//! owner's: results, hooks, controls, alerts), and says so with 503 and
//! `Retry-After` naming the owner. Signing in and out still work: sessions live
//! in the database every process of the partition shares.

use crate::control::Refusal;
use crate::error::ApiError;
use crate::outcome::Outcome;
use crate::state::{AppState, Following};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use labflight_hooks::fhir::IssueCode;

/// Seconds a refused writer is told to wait: about one renewal of a short
/// lease, after which this process may own the partition.
const RETRY_AFTER_S: &str = "1";

/// Passes reads (and sign-in) through; refuses any other request while this
/// process is a standby.
pub(crate) async fn refuse_writes(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let Some(following) = s.liveness.standby() else {
        return next.run(req).await;
    };
    let path = req.uri().path();
    let reads = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if reads || path.starts_with("/api/v1/auth/") {
        return next.run(req).await;
    }
    let why = refusal_text(&following);
    let mut response = if path.starts_with("/api/v1/lab") || path.starts_with("/api/v1/hooks") {
        Outcome(Refusal::new(503, IssueCode::Transient, why)).into_response()
    } else {
        ApiError(StatusCode::SERVICE_UNAVAILABLE, why).into_response()
    };
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_S));
    response
}

/// Why a write was refused, naming the owner to send it to.
fn refusal_text(f: &Following) -> String {
    let owner = match &f.owner {
        Some((member, epoch)) => format!("owned by `{member}` (epoch {epoch})"),
        None => "between owners".to_owned(),
    };
    format!(
        "this labflight process is a standby for partition `{}`, {owner}: it serves reads from the owner's journal and takes no writes; send this to the owner, or retry when this process has taken over",
        f.partition
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_names_the_partition_and_its_owner() {
        let mut f = Following {
            partition: "longhua".into(),
            owner: Some(("node-a".into(), 4)),
            seq: 10,
            error: None,
        };
        let text = refusal_text(&f);
        assert!(
            text.contains("`longhua`") && text.contains("`node-a` (epoch 4)"),
            "{text}"
        );
        f.owner = None;
        assert!(refusal_text(&f).contains("between owners"));
    }
}
