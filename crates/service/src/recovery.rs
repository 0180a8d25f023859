//! Recovery at start-up: the latest snapshot of the dispatcher, then the journal
//! after it replayed through the restored dispatcher, gives back the state the last
//! process left (no snapshot, or an unusable one: the whole journal). The commands
//! the replay makes again are compared with the stored ones; a difference is
//! logged. A standby keeps a [`Warm`] dispatcher current from the journal while it
//! waits, so its takeover replays only what the owner wrote since its last look.

use labflight_core::Instant;
use labflight_dispatch::{Dispatcher, DispatcherSnapshot, PolicyKind, World};
use labflight_mqtt::CommandEnvelope;
use labflight_store::{RunMeta, Store, StoredCommand};
use std::collections::HashSet;
use std::sync::Arc;

/// The dispatcher as the last process left it, and where the journal stands.
pub(crate) struct Recovered {
    pub(crate) dispatcher: Dispatcher,
    /// Every stored command, oldest first (those never acknowledged are re-sent).
    pub(crate) stored: Vec<StoredCommand>,
    /// Digests of the journaled messages: a redelivery of one is dropped.
    pub(crate) seen: HashSet<String>,
    /// The last journaled event and its time (0 and the run's start when none).
    pub(crate) last_seq: i64,
    pub(crate) last_at: Instant,
}

/// A standby's dispatcher, kept current from the owner's journal.
pub(crate) struct Warm {
    dispatcher: Dispatcher,
    /// The last journaled event it has handled.
    seq: i64,
}

impl Warm {
    /// From the latest snapshot (or a fresh dispatcher), then the journal after it.
    pub(crate) async fn start(
        store: &Store,
        world: &Arc<World>,
        policy: PolicyKind,
        meta: &RunMeta,
    ) -> anyhow::Result<Warm> {
        let (dispatcher, seq) = restore_snapshot(store, world, policy, meta).await?;
        let mut warm = Warm { dispatcher, seq };
        warm.catch_up(store).await?;
        Ok(warm)
    }

    /// The last journaled event it has handled.
    pub(crate) fn seq(&self) -> i64 {
        self.seq
    }

    /// The dispatcher as of that event.
    pub(crate) fn dispatcher(&self) -> &Dispatcher {
        &self.dispatcher
    }

    /// Handles what the owner journaled since the last look (its commands are the
    /// owner's, already sent: dropped here). Returns the seq reached.
    pub(crate) async fn catch_up(&mut self, store: &Store) -> anyhow::Result<i64> {
        for e in store.journal_after(self.seq).await? {
            let _ = self.dispatcher.handle(&e.stamped);
            self.seq = e.seq;
        }
        Ok(self.seq)
    }
}

/// Restores the dispatcher of the run `meta` from `store`: from a standby's warm
/// dispatcher when there is one, else from the latest snapshot.
pub(crate) async fn recover(
    store: &Store,
    world: &Arc<World>,
    (policy, meta): (PolicyKind, &RunMeta),
    database_url: &str,
    warm: Option<Warm>,
) -> anyhow::Result<Recovered> {
    let warmed = warm.is_some();
    let (mut dispatcher, snapshot_seq) = match warm {
        Some(w) => (w.dispatcher, w.seq),
        None => restore_snapshot(store, world, policy, meta).await?,
    };
    let journal = store.journal_after(snapshot_seq).await?;
    let stored = store.commands(false).await?;
    let seen: HashSet<String> = store.journal_digests().await?.into_iter().collect();
    let (regenerated, mismatched) =
        compare_replayed(&mut dispatcher, &journal, &stored, snapshot_seq);
    if mismatched > 0 {
        tracing::warn!(
            "journal replay: {mismatched} of {regenerated} commands differ from the stored ones"
        );
    }
    let (last_seq, last_at) = store.journal_end().await?.unwrap_or((0, meta.started_at));
    if last_seq > 0 {
        let from = if warmed {
            "the standby's state at event"
        } else {
            "the snapshot of event"
        };
        println!(
            "recovered {last_seq} journaled events ({} replayed after {from} {snapshot_seq}) and {} commands from {}",
            journal.len(),
            stored.len(),
            database_url
        );
    }
    Ok(Recovered {
        dispatcher,
        stored,
        seen,
        last_seq,
        last_at,
    })
}

/// Replays `journal` into `dispatcher`, comparing the commands it makes again
/// with the `stored` ones after `snapshot_seq`: (made again, differing). Not
/// async: its iterators must not live across an await (the service's start-up
/// future is sent between threads).
fn compare_replayed(
    dispatcher: &mut Dispatcher,
    journal: &[labflight_store::JournalEntry],
    stored: &[StoredCommand],
    snapshot_seq: i64,
) -> (usize, usize) {
    let mut regenerated = 0usize;
    let mut mismatched = 0usize;
    let mut stored_iter = stored
        .iter()
        .filter(|s| s.event_seq > snapshot_seq)
        .peekable();
    for e in journal {
        for (idx, c) in dispatcher.handle(&e.stamped).into_iter().enumerate() {
            regenerated += 1;
            let want = stored_iter.next_if(|s| s.event_seq == e.seq && s.idx == idx as i32);
            let same = want.is_some_and(|s| {
                serde_json::from_str::<CommandEnvelope>(&s.body).is_ok_and(|env| env.command == c)
            });
            if !same {
                mismatched += 1;
            }
        }
    }
    (regenerated, mismatched)
}

/// The dispatcher of the latest usable snapshot and the event it follows, else a
/// fresh dispatcher at event 0.
async fn restore_snapshot(
    store: &Store,
    world: &Arc<World>,
    policy: PolicyKind,
    meta: &RunMeta,
) -> anyhow::Result<(Dispatcher, i64)> {
    let restored = match store.latest_snapshot().await? {
        Some((seq, body)) => match serde_json::from_str::<DispatcherSnapshot>(&body)
            .map_err(|e| e.to_string())
            .and_then(|snap| Dispatcher::restore(Arc::clone(world), policy, snap))
        {
            Ok(d) => Some((d, seq)),
            Err(e) => {
                tracing::warn!(
                    "snapshot after event {seq} unusable ({e}); replaying the whole journal"
                );
                None
            }
        },
        None => None,
    };
    Ok(restored.unwrap_or_else(|| {
        (
            Dispatcher::new(Arc::clone(world), policy, meta.seed, meta.started_at),
            0,
        )
    }))
}
