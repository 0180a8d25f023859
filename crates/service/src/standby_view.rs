//! What a standby shows while it waits for its partition: its warm dispatcher's
//! state, handed to the dashboard as an owner's would be, and whom it follows
//! (for `/healthz` and for the HTTP edge's refusal of writes). A coordinator on
//! a standby's dashboard keeps the same screen through a takeover.

use crate::clock::Clock;
use crate::recovery::Warm;
use labflight_server::health::Liveness;
use labflight_server::{Following, Metrics, Snapshot};
use std::sync::Arc;
use tokio::sync::watch;

/// A standby's view is republished at least this often (the service time moves
/// on), and whenever the owner's journal grew.
const REPUBLISH_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Where a standby shows what it follows.
pub(crate) struct StandbyView<'a> {
    pub(crate) snapshot: &'a watch::Sender<Option<Snapshot>>,
    pub(crate) liveness: &'a Liveness,
    pub(crate) metrics: &'a Metrics,
    pub(crate) clock: Clock,
    pub(crate) scenario: &'a str,
    pub(crate) policy: &'a str,
    /// When the view was last published, and at which event.
    pub(crate) published: std::sync::Mutex<Option<(std::time::Instant, i64)>>,
}

impl StandbyView<'_> {
    /// Shows one look at the owner: who holds the partition, the warm dispatcher
    /// (none: it could not follow the journal, and `error` says why).
    pub(crate) fn show(
        &self,
        partition: &str,
        owner: Option<(String, i64)>,
        warm: Option<&Warm>,
        error: Option<String>,
    ) {
        let seq = warm.map_or(0, Warm::seq);
        self.liveness.set_standby(Some(Following {
            partition: partition.to_owned(),
            owner,
            seq,
            error,
        }));
        self.metrics.journal_seq.set(seq);
        let Some(warm) = warm else { return };
        let Ok(mut published) = self.published.lock() else {
            return;
        };
        let due =
            published.is_none_or(|(at, shown)| shown != seq || at.elapsed() >= REPUBLISH_EVERY);
        if due {
            *published = Some((std::time::Instant::now(), seq));
            let _ = self.snapshot.send(Some(Snapshot {
                now: self.clock.now(),
                journal_seq: seq,
                state: Arc::new(warm.dispatcher().state().clone()),
                scenario: self.scenario.to_owned(),
                policy: self.policy.to_owned(),
                speed: self.clock.speed,
            }));
        }
    }
}
