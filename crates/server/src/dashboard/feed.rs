//! The live feed: the view rebuilt as the state changes, shared by every
//! Server-Sent Events client; each client's stream ends as soon as the session
//! that opened it does.

use super::live_view::live_frame;
use crate::auth::{Caller, READERS, identify, require};
use crate::error::ApiError;
use crate::state::{AppState, FeedFrame};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

/// The live feed is rebuilt at most this often.
const FEED_PERIOD: std::time::Duration = std::time::Duration::from_millis(1000);

/// An open live feed re-checks its session at least this often (and at once
/// when a session ends on this server).
const SESSION_RECHECK: std::time::Duration = std::time::Duration::from_secs(2);

/// Rebuilds the live view as the state changes (at most once a second) for the
/// SSE clients to share, only while at least one is connected. Idles once the
/// service stops publishing; never returns on its own (a return is a fault).
pub async fn run_feed(s: AppState) {
    if s.dashboard.is_none() {
        return std::future::pending().await;
    }
    let feed = Arc::clone(&s.feed);
    let mut snapshots = s.snapshot.clone();
    loop {
        crate::day_views::observe(&s).await;
        if feed.receiver_count() == 0 {
            // Nobody listens: no view to build, and none kept to go stale.
            feed.send_replace(None);
        } else {
            match live_frame(&s).await {
                Ok((view, state)) => {
                    if let Ok(json) = serde_json::to_string(&view) {
                        feed.send_replace(Some(Arc::new(FeedFrame { view, json, state })));
                    }
                }
                Err(e) => tracing::debug!("dashboard view: {}", e.1),
            }
        }
        tokio::time::sleep(FEED_PERIOD).await;
        if snapshots.changed().await.is_err() {
            // The service stopped publishing: nothing more to show.
            return std::future::pending().await;
        }
    }
}

/// Server-Sent Events: a `view` event with the live view whenever it changes
/// (scoped to a lab caller's lab). The feed re-checks its session on every
/// frame, every few seconds and whenever a session ends: once the session is
/// gone (sign-out, password change, expiry) it sends `signed_out` and closes.
#[utoipa::path(get, path = "/api/v1/live", tag = "dashboard",
    security(("bearer" = []), ("session" = [])),
    responses(
        (status = 200, description = "`view` events (View JSON) as the view changes, ending with `signed_out` when the session ends",
            content_type = "text/event-stream", body = String),
        crate::error::SignedInRefusals))]
pub(crate) async fn live(
    State(s): State<AppState>,
    headers: HeaderMap,
) -> Result<Sse<impl tokio_stream::Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let caller = require(&s, &headers, READERS).await?;
    let (tx, rx) = mpsc::channel(2);
    tokio::spawn(feed_one(s, headers, caller, tx));
    Ok(Sse::new(ReceiverStream::new(rx)).keep_alive(KeepAlive::default()))
}

/// Whether the request that opened a feed still identifies the same caller.
async fn still_signed_in(s: &AppState, headers: &HeaderMap, caller: &Caller) -> bool {
    match identify(s, headers).await {
        Ok(Some(now)) => {
            now.user == caller.user && now.role == caller.role && now.lab == caller.lab
        }
        Ok(None) => false,
        // The store hiccuped: the next check decides.
        Err(_) => true,
    }
}

/// Forwards the shared feed to one client until the client leaves or its session ends.
async fn feed_one(
    s: AppState,
    headers: HeaderMap,
    caller: Caller,
    tx: mpsc::Sender<Result<SseEvent, Infallible>>,
) {
    let mut frames = s.feed.subscribe();
    frames.mark_changed();
    let mut ended = s.guard.watch_sessions();
    let mut recheck = tokio::time::interval(SESSION_RECHECK);
    loop {
        let frame = tokio::select! {
            _ = tx.closed() => return,
            changed = frames.changed() => match changed {
                Ok(()) => frames.borrow_and_update().clone(),
                Err(_) => return,
            },
            changed = ended.changed() => match changed {
                Ok(()) => None,
                Err(_) => return,
            },
            _ = recheck.tick() => None,
        };
        if !still_signed_in(&s, &headers, &caller).await {
            let _ = tx
                .send(Ok(SseEvent::default()
                    .event("signed_out")
                    .data("session ended")))
                .await;
            return;
        }
        let Some(frame) = frame else { continue };
        let text = match &caller.lab {
            Some(lab) => {
                let view =
                    crate::lab_scope::LabScope::new(&frame.state, lab).filter(frame.view.clone());
                serde_json::to_string(&view).unwrap_or_default()
            }
            None => frame.json.clone(),
        };
        if tx
            .send(Ok(SseEvent::default().event("view").data(text)))
            .await
            .is_err()
        {
            return;
        }
    }
}
