//! Whether each part of the live service is up: the database, the broker
//! connection, the core, hook delivery and the outbox. `/healthz` answers 503
//! when one is down, naming it; `/metrics` carries the same facts
//! (`labflight_part_up`, `labflight_core_lag_seconds`,
//! `labflight_delivery_oldest_pending_seconds`), refreshed every few seconds
//! whether or not anyone asks.

use crate::control::Control;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::oneshot;

pub use crate::state::Liveness;

/// How long a part may take to answer before it counts as down.
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
/// The delivery worker finishes a round every fraction of a second; silence this
/// long means it is stuck or dead.
const DELIVERY_SILENCE: Duration = Duration::from_secs(30);
/// Results owed to a centre for longer than this (service time) make `/healthz`
/// red: retries span a day, so a day-old result means nobody is getting it.
const OUTBOX_MAX_AGE: chrono::Duration = chrono::Duration::hours(24);
/// How often the metrics are refreshed without a `/healthz` call.
pub const REFRESH_EVERY: Duration = Duration::from_secs(5);

pub(crate) fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
}

#[utoipa::path(get, path = "/healthz", tag = "service",
    responses(
        (status = 200, description = "every part is up: database, broker, core, delivery, outbox; with the journal sequence", body = Report),
        (status = 503, description = "a part is down: which, and what was seen", body = Report)))]
pub(crate) async fn healthz(State(s): State<AppState>) -> Response {
    let report = check(&s).await;
    let status = if report.healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}

#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub(crate) async fn metrics(State(s): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        s.metrics.render(),
    )
        .into_response()
}

/// One part's state.
#[derive(Clone, Debug, Serialize, PartialEq, utoipa::ToSchema)]
pub(crate) struct Part {
    /// `database`, `broker`, `core`, `delivery`, `outbox`, or on a standby
    /// `standby` (following the owner's journal).
    #[schema(value_type = String)]
    pub name: &'static str,
    /// Whether it is up.
    pub up: bool,
    /// What was seen, in words (an error, a lag, an age).
    pub detail: String,
}

/// Every part, and whether all are up.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub(crate) struct Report {
    /// `ok` or `unhealthy`.
    #[schema(value_type = String, pattern = "^(ok|unhealthy)$")]
    pub status: &'static str,
    /// `owner` (this process acts for its partition), `standby` (it follows the
    /// owner's journal and serves reads) or `api` (no live core).
    #[schema(value_type = String, pattern = "^(owner|standby|api)$")]
    pub role: &'static str,
    /// The last journal entry committed (none when the database does not answer).
    pub journal_seq: Option<i64>,
    /// Each part.
    pub parts: Vec<Part>,
}

impl Report {
    pub fn healthy(&self) -> bool {
        self.parts.iter().all(|p| p.up)
    }
}

/// Asks each part, at most `PROBE_TIMEOUT` each, and records the answers in the metrics.
pub(crate) async fn check(s: &AppState) -> Report {
    let mut parts = Vec::new();
    let mut journal_seq = None;

    let database = tokio::time::timeout(PROBE_TIMEOUT, s.store.last_seq()).await;
    let failing = s.liveness.database_failing.load(Ordering::Relaxed);
    parts.push(match database {
        Ok(Ok(seq)) if !failing => {
            journal_seq = Some(seq);
            part("database", true, "answers".into())
        }
        Ok(Ok(_)) => part(
            "database",
            false,
            "answers again; the core is still retrying its last commit".into(),
        ),
        Ok(Err(e)) => {
            tracing::warn!("health: database: {e}");
            part(
                "database",
                false,
                "does not answer (see the service log)".into(),
            )
        }
        Err(_) => part(
            "database",
            false,
            format!("no answer within {PROBE_TIMEOUT:?}"),
        ),
    });

    if let Some(following) = s.liveness.standby() {
        // A standby has no broker, core or delivery of its own yet: it is up
        // while it keeps following the owner's journal.
        let behind = journal_seq.map_or(0, |seq| (seq - following.seq).max(0));
        parts.push(match following.error {
            None => part(
                "standby",
                true,
                format!(
                    "following the owner's journal: event {} handled, {behind} behind",
                    following.seq
                ),
            ),
            Some(e) => part(
                "standby",
                false,
                format!("cannot follow the owner's journal: {e}"),
            ),
        });
        return finish(s, journal_seq, parts, "standby");
    }
    let Some(control) = &s.control else {
        // API only (no live core, broker or delivery to watch).
        return finish(s, journal_seq, parts, "api");
    };
    let connected = s.liveness.broker_connected.load(Ordering::Relaxed);
    parts.push(part(
        "broker",
        connected,
        if connected {
            "connected".into()
        } else {
            "not connected; reconnecting".into()
        },
    ));

    let (tx, rx) = oneshot::channel();
    let asked = std::time::Instant::now();
    let answered = tokio::time::timeout(PROBE_TIMEOUT, async {
        control.send(Control::Ping { reply: tx }).await.ok()?;
        rx.await.ok()
    })
    .await;
    let lag = asked.elapsed();
    parts.push(match answered {
        Ok(Some(_)) => {
            s.metrics.core_lag_seconds.set(lag.as_secs_f64());
            part("core", true, format!("answered in {} ms", lag.as_millis()))
        }
        Ok(None) => part("core", false, "stopped".into()),
        Err(_) => {
            s.metrics.core_lag_seconds.set(lag.as_secs_f64());
            part(
                "core",
                false,
                format!("no answer within {PROBE_TIMEOUT:?}: behind or stuck"),
            )
        }
    });

    let last_round = s.metrics.delivery_worker_heartbeat.get() * 1000;
    let silent_ms = chrono::Utc::now().timestamp_millis() - last_round;
    parts.push(if last_round == 0 {
        part("delivery", false, "has not finished a round yet".into())
    } else if silent_ms > DELIVERY_SILENCE.as_millis() as i64 {
        part(
            "delivery",
            false,
            format!("no round for {} s", silent_ms / 1000),
        )
    } else {
        part("delivery", true, format!("last round {silent_ms} ms ago"))
    });

    // The delivery worker measures the oldest undelivered item every round; read
    // its gauge rather than ask the store again. (A stale gauge means the worker
    // or the database is down, which their own parts already say.)
    let age = chrono::Duration::seconds(s.metrics.delivery_oldest_pending_seconds.get());
    parts.push(if age > chrono::Duration::zero() {
        part(
            "outbox",
            age <= OUTBOX_MAX_AGE,
            format!(
                "oldest undelivered result waited {} min (service time)",
                age.num_minutes()
            ),
        )
    } else {
        part("outbox", true, "nothing undelivered".into())
    });
    finish(s, journal_seq, parts, "owner")
}

fn part(name: &'static str, up: bool, detail: String) -> Part {
    Part { name, up, detail }
}

fn finish(s: &AppState, journal_seq: Option<i64>, parts: Vec<Part>, role: &'static str) -> Report {
    for p in &parts {
        s.metrics.part_up(p.name, p.up);
    }
    let status = if parts.iter().all(|p| p.up) {
        "ok"
    } else {
        "unhealthy"
    };
    Report {
        status,
        role,
        journal_seq,
        parts,
    }
}

/// Keeps the health metrics fresh between `/healthz` calls. Runs until the process ends.
pub async fn refresh_metrics(s: AppState) {
    let mut every = tokio::time::interval(REFRESH_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let report = check(&s).await;
        if !report.healthy() {
            let down: Vec<String> = report
                .parts
                .iter()
                .filter(|p| !p.up)
                .map(|p| format!("{}: {}", p.name, p.detail))
                .collect();
            tracing::warn!("unhealthy: {}", down.join("; "));
        }
    }
}
