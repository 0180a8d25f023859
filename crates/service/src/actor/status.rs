//! What the core tells the outside about itself: the retained service status
//! (online, and the clock devices follow), the dashboard's snapshot of the state,
//! and the saved dispatcher snapshot a restart starts from.

use super::Core;
use crate::messages::Outbound;
use labflight_mqtt::Topic;
use labflight_server::Snapshot;
use std::sync::Arc;

impl Core {
    /// Keeps the dispatcher's state as of the last committed event, so a restart
    /// replays only what came after. A failure only costs restart time.
    pub(super) async fn save_snapshot(&mut self) {
        let body = match serde_json::to_string(&self.dispatcher.snapshot()) {
            Ok(b) => b,
            Err(e) => {
                tracing::warn!("snapshot: {e}");
                return;
            }
        };
        match self.store.put_snapshot(self.seq, self.last_at, &body).await {
            Ok(()) => {
                self.last_saved_seq = self.seq;
                self.metrics.snapshots.inc();
            }
            Err(e) => {
                crate::ownership::exit_if_fenced(&e);
                tracing::warn!("snapshot after event {}: {e}", self.seq)
            }
        }
    }

    /// The retained status: online, and the clock devices should follow.
    pub(crate) fn announce(&self) {
        let body = serde_json::json!({
            "state": "online",
            "scenario": self.scenario_name,
            "policy": self.policy,
            "clock": self.clock,
            "run": self.run_id,
        });
        let _ = self.out.send(Outbound::Publish {
            topic: Topic::ServiceStatus.to_string(),
            payload: body.to_string().into_bytes(),
            retain: true,
            command_id: None,
        });
    }

    /// Hands the dashboard the current state.
    pub(crate) fn publish_snapshot(&mut self) {
        self.last_snapshot = std::time::Instant::now();
        self.snapshot_behind = false;
        let _ = self.snapshot.send(Some(Snapshot {
            now: self.clock.now(),
            journal_seq: self.seq,
            state: Arc::new(self.dispatcher.state().clone()),
            scenario: self.scenario_name.clone(),
            policy: self.policy.clone(),
            speed: self.clock.speed,
        }));
    }
}
