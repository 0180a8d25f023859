//! The hooks' delivery worker: drains the outbox in order per endpoint, signs each
//! POST per Standard Webhooks (the same `webhook-id` on every retry), and records
//! every attempt. Retries back off exponentially with jitter over more than 24 hours
//! of service time and honour `Retry-After` (clamped); a 410 disables the
//! subscription; after the last try an item is dead until re-sent from the API. Only
//! allowed hosts and ports are called, each request with a timeout. A delivered
//! result becomes a `result_reported` event for the dispatcher.
//!
//! No receiver can stall or break the others: each endpoint is drained by its own
//! task (one at a time per endpoint, so its items still go in order), a task that
//! panics is caught, counted and its endpoint tried again later, and whatever a
//! receiver answers is read with bounds (`response`).

pub mod allow;
mod mllp;
pub mod response;

pub use allow::AllowList;

use crate::clock::Clock;
use chrono::Duration;
use labflight_hooks::signature::{Secret, headers};
use labflight_server::Metrics;
use labflight_store::{AttemptOutcome, OutboxItem, Store, Subscription};
use rand::Rng;
use response::FailureKind;
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Waits between tries, in service minutes: 1 min … 8 h; their sum exceeds 24 h.
const BACKOFF_MINUTES: [i64; 12] = [1, 2, 5, 10, 20, 40, 60, 120, 240, 480, 480, 480];
/// The longest wait a `Retry-After` may ask for: the backoff's longest step.
const MAX_RETRY_AFTER: Duration = Duration::minutes(480);
/// Per-request timeout (wall time): connect, send, and read the reply.
pub(crate) const REQUEST_TIMEOUT: StdDuration = StdDuration::from_secs(10);
/// How long an endpoint whose task panicked rests before it is tried again.
const PANIC_REST: StdDuration = StdDuration::from_secs(5);
/// Most items one endpoint task takes from the outbox at a time.
const ITEMS_PER_ROUND: i64 = 200;

/// A delivery the dispatcher should hear about.
#[derive(Debug)]
pub struct Delivered {
    pub barcode: String,
    pub kind: String,
}

#[derive(Clone, Debug)]
pub struct DeliveryOptions {
    /// Hosts and ports that may be called.
    pub allowed_hosts: AllowList,
    /// Where failures, panics, the oldest pending item and the heartbeat show.
    pub metrics: Arc<Metrics>,
    /// The partition and the epoch its owner delivers under: sent with each
    /// webhook (`labflight-partition`, `labflight-epoch`, `labflight-seq`) so a
    /// receiver can tell a deposed owner's late delivery.
    pub fence: (String, i64),
}

/// The `webhook-id` of the `idx`-th delivery owed by journal event `seq` to
/// subscription `sub`: the same on every retry and after a restart, and unique
/// whatever the number of deliveries one event owes (`seq` and `idx` are separate
/// fields of digits, so no (seq, idx) pair can spell another's).
pub fn webhook_id(run: &str, seq: i64, idx: i64, sub: &str) -> String {
    format!("msg_{run}_{seq}_{idx}_{sub}")
}

/// Whether a subscription takes HL7 v2 over MLLP (`mllp://host:port`).
pub fn is_mllp(url: &str) -> bool {
    url.starts_with("mllp://")
}

/// The wait before try `attempt + 1`, with ±20 % jitter; `None` after the last.
fn backoff(attempt: i32) -> Option<Duration> {
    let base = *BACKOFF_MINUTES.get(usize::try_from(attempt.max(1)).ok()? - 1)?;
    let jitter = rand::rng().random_range(0.8..1.2);
    Duration::try_milliseconds((base as f64 * 60_000.0 * jitter) as i64)
}

/// What every endpoint task shares.
#[derive(Debug)]
struct Context {
    store: Store,
    clock: Clock,
    client: reqwest::Client,
    opts: DeliveryOptions,
    delivered: mpsc::Sender<Delivered>,
}

pub async fn run(
    store: Store,
    clock: Clock,
    opts: DeliveryOptions,
    delivered: mpsc::Sender<Delivered>,
) {
    let client = match reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("hook delivery: cannot build the HTTP client: {e}");
            return;
        }
    };
    let metrics = Arc::clone(&opts.metrics);
    let ctx = Arc::new(Context {
        store,
        clock,
        client,
        opts,
        delivered,
    });
    let mut endpoints = Endpoints::default();
    // Poll often in wall time so a fast demo clock still delivers promptly.
    let mut tick = tokio::time::interval(StdDuration::from_millis(200));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        endpoints.reap(&metrics);
        match ctx.store.subscriptions().await {
            Ok(subs) => {
                for sub in subs.into_iter().filter(|s| s.active) {
                    if endpoints.idle(&sub.id, &metrics) {
                        let id = sub.id.clone();
                        endpoints.spawn(id, drain(Arc::clone(&ctx), sub));
                    }
                }
            }
            Err(e) => tracing::warn!("hook delivery: {e}"),
        }
        match ctx.store.oldest_pending_at().await {
            Ok(oldest) => {
                let age = oldest.map_or(0, |at| (ctx.clock.now() - at).num_seconds().max(0));
                metrics.delivery_oldest_pending_seconds.set(age);
            }
            Err(e) => tracing::warn!("hook delivery: {e}"),
        }
        metrics
            .delivery_worker_heartbeat
            .set(chrono::Utc::now().timestamp());
    }
}

/// The endpoint tasks: at most one per subscription (its items go in order), each
/// reaped when done; one that panicked is counted and its endpoint rests a while.
#[derive(Debug, Default)]
struct Endpoints {
    tasks: JoinSet<()>,
    running: HashMap<tokio::task::Id, String>,
    busy: HashSet<String>,
    /// Endpoints whose task panicked, with when they may be tried again.
    resting: HashMap<String, std::time::Instant>,
}

impl Endpoints {
    /// Whether `sub` may get a task now (none running, not resting). Ending a rest
    /// counts as a restart.
    fn idle(&mut self, sub: &str, metrics: &Metrics) -> bool {
        if self.busy.contains(sub) {
            return false;
        }
        match self.resting.get(sub) {
            Some(until) if *until > std::time::Instant::now() => false,
            Some(_) => {
                self.resting.remove(sub);
                metrics.delivery_task_restarts.inc();
                tracing::info!("hook delivery: endpoint `{sub}` tried again after a panic");
                true
            }
            None => true,
        }
    }

    fn spawn(&mut self, sub: String, task: impl Future<Output = ()> + Send + 'static) {
        let handle = self.tasks.spawn(task);
        self.running.insert(handle.id(), sub.clone());
        self.busy.insert(sub);
    }

    /// Collects finished tasks; returns the endpoints whose task panicked.
    fn reap(&mut self, metrics: &Metrics) -> Vec<String> {
        let mut panicked = Vec::new();
        while let Some(done) = self.tasks.try_join_next_with_id() {
            let (id, panic) = match done {
                Ok((id, ())) => (id, None),
                Err(e) => {
                    let id = e.id();
                    let message = if e.is_panic() {
                        labflight_server::tasks::panic_text(e.into_panic().as_ref())
                            .or(Some("(no message)".to_owned()))
                    } else {
                        None
                    };
                    (id, message)
                }
            };
            let Some(sub) = self.running.remove(&id) else {
                continue;
            };
            self.busy.remove(&sub);
            if let Some(message) = panic {
                metrics.delivery_task_panics.inc();
                tracing::error!(
                    "hook delivery: the task for endpoint `{sub}` panicked ({message}); \
                     the other endpoints go on, this one is tried again in {PANIC_REST:?}"
                );
                self.resting
                    .insert(sub.clone(), std::time::Instant::now() + PANIC_REST);
                panicked.push(sub);
            }
        }
        panicked
    }
}

/// Sends one endpoint's due items in order, stopping at the first not delivered.
async fn drain(ctx: Arc<Context>, sub: Subscription) {
    let items = match ctx.store.pending_for(&sub.id, ITEMS_PER_ROUND).await {
        Ok(items) => items,
        Err(e) => {
            tracing::warn!("hook delivery: {e}");
            return;
        }
    };
    for item in items {
        if item.next_attempt_at > ctx.clock.now() {
            return;
        }
        let tried = attempt(&ctx, &sub, &item).await;
        if let Some(kind) = tried.failure {
            ctx.opts.metrics.delivery_failure(&sub.id, kind.as_str());
        }
        let now = ctx.clock.now();
        let (outcome, disable) = match tried.next {
            Next::Delivered => (AttemptOutcome::Delivered, false),
            Next::Gone => (AttemptOutcome::Dead, true),
            Next::Retry(after) => match backoff(item.attempts.saturating_add(1)) {
                Some(wait) => {
                    let wait = after.map_or(wait, |a| a.max(wait));
                    // Both are bounded (8 h × 1.2 at most): no overflow near any real date.
                    (
                        AttemptOutcome::Retry(now.checked_add_signed(wait).unwrap_or(now)),
                        false,
                    )
                }
                None => (AttemptOutcome::Dead, false),
            },
        };
        let recorded = ctx
            .store
            .record_attempt(
                &item.webhook_id,
                now,
                tried.status,
                tried.error.as_deref(),
                outcome,
            )
            .await;
        if let Err(e) = recorded {
            crate::ownership::exit_if_fenced(&e);
            // Not recorded: the item stays pending and goes again, same webhook id.
            tracing::warn!("hook delivery: recording {}: {e}", item.webhook_id);
            return;
        }
        match outcome {
            AttemptOutcome::Delivered => {
                let _ = ctx
                    .delivered
                    .send(Delivered {
                        barcode: item.barcode.clone(),
                        kind: item.kind.clone(),
                    })
                    .await;
            }
            _ => {
                if disable
                    && let Err(e) = ctx
                        .store
                        .disable_subscription(&sub.id, "the endpoint answered 410 Gone")
                        .await
                {
                    tracing::warn!("hook delivery: disabling `{}`: {e}", sub.id);
                }
                return;
            }
        }
    }
}

#[derive(Debug)]
enum Next {
    Delivered,
    Gone,
    /// Retry, at the earliest after this much service time (`Retry-After`).
    Retry(Option<Duration>),
}

/// One attempt's result: the HTTP status, the error to record, what comes next,
/// and the failure's kind for the metrics.
#[derive(Debug)]
struct Tried {
    status: Option<i32>,
    error: Option<String>,
    next: Next,
    failure: Option<FailureKind>,
}

impl Tried {
    fn failed(kind: FailureKind, error: String) -> Tried {
        Tried {
            status: None,
            error: Some(error),
            next: Next::Retry(None),
            failure: Some(kind),
        }
    }
}

async fn attempt(ctx: &Context, sub: &Subscription, item: &OutboxItem) -> Tried {
    let url = sub.url.as_str();
    if let Err(e) = ctx.opts.allowed_hosts.check(url) {
        return Tried::failed(FailureKind::NotAllowed, e);
    }
    if let Some(addr) = url.strip_prefix("mllp://") {
        return match mllp::send(addr.trim_end_matches('/'), &item.body, REQUEST_TIMEOUT).await {
            Ok(()) => Tried {
                status: None,
                error: None,
                next: Next::Delivered,
                failure: None,
            },
            Err(e) => Tried::failed(FailureKind::Mllp, e),
        };
    }
    let secret = match Secret::parse(&sub.secret) {
        Ok(s) => s,
        Err(e) => return Tried::failed(FailureKind::Secret, format!("subscription secret: {e}")),
    };
    let timestamp = chrono::Utc::now().timestamp();
    let mut request = ctx
        .client
        .post(url)
        .header("content-type", "application/fhir+json")
        .body(item.body.clone());
    for (name, value) in headers(&secret, &item.webhook_id, timestamp, item.body.as_bytes()) {
        request = request.header(name, value);
    }
    let (partition, epoch) = &ctx.opts.fence;
    request = request
        .header("labflight-partition", partition.as_str())
        .header("labflight-epoch", epoch.to_string())
        .header("labflight-seq", item.seq.to_string());
    let resp = match request.send().await {
        Ok(resp) => resp,
        Err(e) => {
            let (kind, text) = response::describe(&e, url.starts_with("https://"));
            return Tried::failed(kind, text);
        }
    };
    let code = resp.status().as_u16();
    let status = Some(i32::from(code));
    // A success is taken at its status line: its body is not read at all.
    if resp.status().is_success() {
        return Tried {
            status,
            error: None,
            next: Next::Delivered,
            failure: None,
        };
    }
    if code == 410 {
        return Tried {
            status,
            error: Some("HTTP 410 Gone: the subscription is disabled".into()),
            next: Next::Gone,
            failure: Some(FailureKind::Gone),
        };
    }
    let kind = FailureKind::of_status(code);
    let after = resp.headers().get(reqwest::header::RETRY_AFTER).map(|v| {
        response::retry_after(
            v.as_bytes(),
            std::time::SystemTime::now(),
            ctx.clock.speed,
            MAX_RETRY_AFTER,
        )
    });
    let mut error = if kind == FailureKind::Redirect {
        let to = resp.headers().get(reqwest::header::LOCATION).map_or_else(
            || "nowhere".to_owned(),
            |l| response::excerpt(l.as_bytes(), 200),
        );
        format!("HTTP {code}: redirect to `{to}` not followed (subscribe the final URL)")
    } else {
        let body = response::body_excerpt(resp).await;
        if body.trim().is_empty() {
            format!("HTTP {code}")
        } else {
            format!("HTTP {code}: {body}")
        }
    };
    let mut wait = None;
    if let Some(after) = after {
        wait = after.wait;
        if let Some(note) = after.note {
            error.push_str(&format!(" ({note})"));
        }
    }
    Tried {
        status,
        error: Some(error),
        next: Next::Retry(wait),
        failure: Some(kind),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_spans_more_than_a_day_then_stops() {
        let total: i64 = BACKOFF_MINUTES.iter().sum();
        assert!(total > 24 * 60, "{total} min");
        assert!(backoff(1).is_some());
        assert!(backoff(BACKOFF_MINUTES.len() as i32).is_some());
        assert!(backoff(BACKOFF_MINUTES.len() as i32 + 1).is_none());
        assert!(backoff(i32::MAX).is_none());
        let w = backoff(3).unwrap().num_seconds();
        assert!((240..=360).contains(&w), "5 min ± 20 %: {w} s");
        assert_eq!(
            MAX_RETRY_AFTER,
            Duration::minutes(*BACKOFF_MINUTES.iter().max().unwrap())
        );
    }

    #[test]
    fn webhook_ids_cannot_collide_however_many_deliveries_one_event_owes() {
        // A 200-tube box received with 7 subscriptions: 1400 deliveries from event 5,
        // then the next events' own.
        let subs: Vec<String> = (0..7).map(|i| format!("centre-{i}")).collect();
        let mut ids = HashSet::new();
        let mut total = 0;
        for seq in 5..8 {
            for idx in 0..1400 {
                ids.insert(webhook_id("R1a", seq, idx, &subs[idx as usize % 7]));
                total += 1;
            }
        }
        assert_eq!(ids.len(), total);
        assert_eq!(webhook_id("R1a", 5, 1000, "s"), "msg_R1a_5_1000_s");
        assert_ne!(
            webhook_id("R1a", 5, 1000, "s"),
            webhook_id("R1a", 6, 0, "s")
        );
    }

    #[tokio::test]
    async fn a_panicking_endpoint_task_is_caught_counted_and_rested() {
        let metrics = Metrics::new();
        let mut endpoints = Endpoints::default();
        let (tx, mut rx) = mpsc::unbounded_channel();
        assert!(endpoints.idle("bad", &metrics));
        endpoints.spawn("bad".into(), async {
            panic!("a receiver's reply broke the endpoint task");
        });
        for name in ["good-1", "good-2"] {
            let tx = tx.clone();
            endpoints.spawn(name.into(), async move {
                tokio::time::sleep(StdDuration::from_millis(50)).await;
                let _ = tx.send(name);
            });
        }
        assert!(!endpoints.idle("good-1", &metrics), "one task per endpoint");
        let mut panicked = Vec::new();
        for _ in 0..100 {
            panicked.extend(endpoints.reap(&metrics));
            if endpoints.running.is_empty() {
                break;
            }
            tokio::time::sleep(StdDuration::from_millis(20)).await;
        }
        assert!(endpoints.running.is_empty(), "all tasks ended");
        assert_eq!(panicked, ["bad"]);
        let mut done = vec![rx.recv().await.unwrap(), rx.recv().await.unwrap()];
        done.sort();
        assert_eq!(done, ["good-1", "good-2"], "the others ran to the end");
        assert_eq!(metrics.delivery_task_panics.get(), 1);
        assert!(endpoints.idle("good-1", &metrics));
        assert!(!endpoints.idle("bad", &metrics), "resting after its panic");
        // Its rest over, it is tried again (a restart).
        endpoints
            .resting
            .insert("bad".into(), std::time::Instant::now());
        assert!(endpoints.idle("bad", &metrics));
        assert_eq!(metrics.delivery_task_restarts.get(), 1);
    }
}
