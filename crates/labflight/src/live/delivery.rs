//! The hooks' delivery worker: drains the outbox in order per endpoint, signs each
//! POST per Standard Webhooks (the same `webhook-id` on every retry), and records
//! every attempt. Retries back off exponentially with jitter over more than 24 hours
//! of service time and honour `Retry-After`; a 410 disables the subscription; after
//! the last try an item is dead until re-sent from the API. Only hosts on the
//! allow-list are called, each request with a timeout. A delivered result becomes a
//! `result_reported` event for the dispatcher.

use crate::live::clock::Clock;
use chrono::Duration;
use labflight_hooks::signature::{Secret, headers};
use labflight_server::health::Liveness;
use labflight_store::{AttemptOutcome, OutboxItem, Store};
use rand::Rng;
use std::sync::Arc;
use std::time::Duration as StdDuration;
use tokio::sync::mpsc;

/// Waits between tries, in service minutes: 1 min … 8 h; their sum exceeds 24 h.
const BACKOFF_MINUTES: [i64; 12] = [1, 2, 5, 10, 20, 40, 60, 120, 240, 480, 480, 480];
/// Per-request timeout (wall time).
const REQUEST_TIMEOUT: StdDuration = StdDuration::from_secs(10);

/// A delivery the dispatcher should hear about.
#[derive(Debug)]
pub struct Delivered {
    pub barcode: String,
    pub kind: String,
}

#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// Hosts that may be called (`127.0.0.1`, `localhost`, `his.example.cn`).
    pub allowed_hosts: Vec<String>,
}

/// Whether `url` is http(s) to an allowed host.
pub fn allowed(url: &str, hosts: &[String]) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("hook URL `{url}`: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https" | "mllp") {
        return Err(format!(
            "hook URL `{url}` must be http://, https:// or mllp://"
        ));
    }
    let host = parsed.host_str().unwrap_or_default();
    if hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
        Ok(())
    } else {
        Err(format!(
            "hook URL `{url}`: host `{host}` is not in the allowed hosts ({})",
            hosts.join(", ")
        ))
    }
}

/// The wait before try `attempt + 1`, with ±20 % jitter; `None` after the last.
fn backoff(attempt: i32) -> Option<Duration> {
    let base = *BACKOFF_MINUTES.get(attempt.max(1) as usize - 1)?;
    let jitter = rand::rng().random_range(0.8..1.2);
    Some(Duration::milliseconds(
        (base as f64 * 60_000.0 * jitter) as i64,
    ))
}

pub async fn run(
    store: Store,
    clock: Clock,
    opts: DeliveryOptions,
    delivered: mpsc::Sender<Delivered>,
    liveness: Arc<Liveness>,
) {
    let client = match reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!("hook delivery: cannot build the HTTP client: {e}");
            return;
        }
    };
    // Poll often in wall time so a fast demo clock still delivers promptly.
    let mut tick = tokio::time::interval(StdDuration::from_millis(200));
    loop {
        tick.tick().await;
        liveness.delivery_round();
        let subs = match store.subscriptions().await {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("hook delivery: {e}");
                continue;
            }
        };
        for sub in subs.iter().filter(|s| s.active) {
            let items = match store.pending_for(&sub.id, 200).await {
                Ok(items) => items,
                Err(e) => {
                    tracing::warn!("hook delivery: {e}");
                    continue;
                }
            };
            // In order: stop at the first item not yet due or not delivered.
            for item in items {
                if item.next_attempt_at > clock.now() {
                    break;
                }
                let (status, error, next) =
                    attempt(&client, &opts, &sub.url, &sub.secret, &item, &clock).await;
                let now = clock.now();
                let delivered_now = matches!(next, Next::Delivered);
                let result = match next {
                    Next::Delivered => {
                        let r = store
                            .record_attempt(
                                &item.webhook_id,
                                now,
                                status,
                                None,
                                AttemptOutcome::Delivered,
                            )
                            .await;
                        let _ = delivered
                            .send(Delivered {
                                barcode: item.barcode.clone(),
                                kind: item.kind.clone(),
                            })
                            .await;
                        r
                    }
                    Next::Gone => {
                        let _ = store
                            .record_attempt(
                                &item.webhook_id,
                                now,
                                status,
                                error.as_deref(),
                                AttemptOutcome::Dead,
                            )
                            .await;
                        store
                            .disable_subscription(&sub.id, "the endpoint answered 410 Gone")
                            .await
                    }
                    Next::Retry(after) => {
                        let outcome = match backoff(item.attempts + 1) {
                            Some(wait) => {
                                AttemptOutcome::Retry(now + after.map_or(wait, |a| a.max(wait)))
                            }
                            None => AttemptOutcome::Dead,
                        };
                        store
                            .record_attempt(
                                &item.webhook_id,
                                now,
                                status,
                                error.as_deref(),
                                outcome,
                            )
                            .await
                    }
                };
                if let Err(e) = result {
                    tracing::warn!("hook delivery: recording {}: {e}", item.webhook_id);
                    break;
                }
                if !delivered_now {
                    break;
                }
            }
        }
    }
}

enum Next {
    Delivered,
    Gone,
    /// Retry, at the earliest after this much service time (`Retry-After`).
    Retry(Option<Duration>),
}

async fn attempt(
    client: &reqwest::Client,
    opts: &DeliveryOptions,
    url: &str,
    secret: &str,
    item: &OutboxItem,
    clock: &Clock,
) -> (Option<i32>, Option<String>, Next) {
    if let Err(e) = allowed(url, &opts.allowed_hosts) {
        return (None, Some(e), Next::Retry(None));
    }
    if let Some(addr) = url.strip_prefix("mllp://") {
        return match mllp_send(addr.trim_end_matches('/'), &item.body).await {
            Ok(()) => (None, None, Next::Delivered),
            Err(e) => (None, Some(e), Next::Retry(None)),
        };
    }
    let secret = match Secret::parse(secret) {
        Ok(s) => s,
        Err(e) => {
            return (
                None,
                Some(format!("subscription secret: {e}")),
                Next::Retry(None),
            );
        }
    };
    let timestamp = chrono::Utc::now().timestamp();
    let mut request = client
        .post(url)
        .header("content-type", "application/fhir+json")
        .body(item.body.clone());
    for (name, value) in headers(&secret, &item.webhook_id, timestamp, item.body.as_bytes()) {
        request = request.header(name, value);
    }
    match request.send().await {
        Ok(resp) => {
            let code = resp.status().as_u16();
            if resp.status().is_success() {
                return (Some(i32::from(code)), None, Next::Delivered);
            }
            if code == 410 {
                return (Some(410), Some("410 Gone".into()), Next::Gone);
            }
            // Retry-After in seconds of wall time: as service time at the clock's speed.
            let after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
                .map(|secs| Duration::milliseconds((secs as f64 * 1000.0 * clock.speed) as i64));
            (
                Some(i32::from(code)),
                Some(format!("HTTP {code}")),
                Next::Retry(after),
            )
        }
        Err(e) => (None, Some(e.to_string()), Next::Retry(None)),
    }
}

/// Sends one HL7 v2 message over MLLP and waits for an `AA` acknowledgement.
async fn mllp_send(addr: &str, message: &str) -> Result<(), String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr)
            .await
            .map_err(|e| format!("MLLP {addr}: {e}"))?;
        stream
            .write_all(&labflight_hooks::hl7::frame(message))
            .await
            .map_err(|e| format!("MLLP {addr}: {e}"))?;
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| format!("MLLP {addr}: {e}"))?;
            if n == 0 {
                return Err(format!("MLLP {addr}: closed before acknowledging"));
            }
            buf.extend_from_slice(&chunk[..n]);
            if let Some(ack) = labflight_hooks::hl7::unframe(&buf) {
                return match labflight_hooks::hl7::ack_code(ack) {
                    Some("AA") | Some("CA") => Ok(()),
                    other => Err(format!("MLLP {addr}: acknowledged {other:?}")),
                };
            }
            if buf.len() > 1 << 20 {
                return Err(format!("MLLP {addr}: no acknowledgement in 1 MB"));
            }
        }
    };
    tokio::time::timeout(REQUEST_TIMEOUT, exchange)
        .await
        .map_err(|_| format!("MLLP {addr}: no acknowledgement within {REQUEST_TIMEOUT:?}"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_allowed_hosts_are_called() {
        let hosts = vec!["127.0.0.1".to_owned(), "his.example.cn".to_owned()];
        assert!(allowed("http://127.0.0.1:9000/hook", &hosts).is_ok());
        assert!(allowed("https://his.example.cn/fhir", &hosts).is_ok());
        let e = allowed("http://10.0.0.8/hook", &hosts).unwrap_err();
        assert!(e.contains("10.0.0.8"), "{e}");
        assert!(allowed("ftp://127.0.0.1/x", &hosts).is_err());
        assert!(allowed("http://127.0.0.1.evil.example/", &hosts).is_err());
    }

    #[test]
    fn backoff_spans_more_than_a_day_then_stops() {
        let total: i64 = BACKOFF_MINUTES.iter().sum();
        assert!(total > 24 * 60, "{total} min");
        assert!(backoff(1).is_some());
        assert!(backoff(BACKOFF_MINUTES.len() as i32).is_some());
        assert!(backoff(BACKOFF_MINUTES.len() as i32 + 1).is_none());
        let w = backoff(3).unwrap().num_seconds();
        assert!((240..=360).contains(&w), "5 min ± 20 %: {w} s");
    }
}
