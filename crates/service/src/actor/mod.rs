//! The core actor: one task owns the dispatcher. Messages arrive from the MQTT
//! poll task in batches; each is checked (`labflight_mqtt::decode`), stamped by
//! the service clock, handled, and the batch — journal, commands, custody — is
//! committed in one transaction. Only then are commands published and the inbound
//! QoS 1 messages acknowledged (manual acks), so a crash at any instant leaves the
//! broker holding whatever was not yet durable, and a restart replays the journal
//! through a fresh dispatcher to the same state and the same commands. A command
//! counts as published only once the broker acknowledged it (PUBACK); a restart
//! re-sends every command never acknowledged, under its original id, so devices
//! can drop a repeat.
//!
//! This module holds the loop, the batch commit and the way every event is
//! applied; each other concern extends `Core` from a submodule: coordinators'
//! overrides, labs' claims about tubes, lab results, the results owed to the
//! centres, and what the core tells the outside about itself.

mod lab_claims;
mod lab_results;
mod overrides;
mod sharing;
mod status;

use crate::clock::Clock;
use crate::directory::LiveDirectory;
use crate::messages::{Inbound, Outbound};
use crate::rows::{box_row, boxes_touched, mission_of, mission_row, tube_row};
use chrono::Duration;
use labflight_core::{Command, Event, Instant, Stamped};
use labflight_dispatch::{Dispatcher, World, custody_steps};
use labflight_mqtt::{CommandEnvelope, CommandFence, Topic, decode};
use labflight_server::health::Liveness;
use labflight_server::{Accepted, Control, Metrics, Refusal, Snapshot};
use labflight_store::{Batch, BoxRow, JournalEntry, Lease, Store, StoredCommand, Subscription};
use rumqttc::{Publish, QoS};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::sync::{mpsc, watch};

/// Most messages handled in one transaction.
const MAX_BATCH: usize = 2_000;

/// The dashboard's snapshot is published at most this often under load, and
/// this long at most after the last event handled.
const SNAPSHOT_EVERY: std::time::Duration = std::time::Duration::from_millis(250);

/// What the core actor starts from: the recovered dispatcher and where it stands
/// in the journal, and the channels and shared parts it works with.
pub(crate) struct Setup {
    pub(crate) run_id: String,
    pub(crate) scenario_name: String,
    pub(crate) policy: String,
    pub(crate) world: Arc<World>,
    pub(crate) dispatcher: Dispatcher,
    pub(crate) store: Store,
    pub(crate) clock: Clock,
    /// The last journaled event and its time.
    pub(crate) seq: i64,
    pub(crate) last_at: Instant,
    /// Digests of the journaled messages.
    pub(crate) seen: HashSet<String>,
    pub(crate) subscriptions: Vec<Subscription>,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) out: mpsc::UnboundedSender<Outbound>,
    pub(crate) liveness: Arc<Liveness>,
    pub(crate) snapshot: watch::Sender<Option<Snapshot>>,
    pub(crate) snapshot_every: i64,
    /// The partition lease this core acts under (stamped on every command).
    pub(crate) lease: Lease,
}

/// The one owner of the dispatcher (see the module doc).
pub(crate) struct Core {
    /// Names this stored run in command ids and the status, so devices can tell
    /// its commands from a previous run's leftovers on a shared broker.
    run_id: String,
    scenario_name: String,
    policy: String,
    world: Arc<World>,
    dispatcher: Dispatcher,
    store: Store,
    clock: Clock,
    seq: i64,
    last_at: Instant,
    seen: HashSet<String>,
    /// Restarted on a stored journal: the first connection resumes the service.
    resumed_from_journal: bool,
    /// Active result-sharing subscriptions.
    subscriptions: Vec<Subscription>,
    /// Last stored status of each mission, so only changes are written.
    /// Compared before a row is built: every mission is looked at on every event.
    mission_status: HashMap<labflight_core::MissionId, labflight_dispatch::state::MissionStatus>,
    /// Last stored row of each box, so only changes are written.
    box_rows: HashMap<String, BoxRow>,
    metrics: Arc<Metrics>,
    out: mpsc::UnboundedSender<Outbound>,
    liveness: Arc<Liveness>,
    snapshot: watch::Sender<Option<Snapshot>>,
    last_snapshot: std::time::Instant,
    /// Whether anything was handled since the last publish (`receive_or_publish`).
    snapshot_behind: bool,
    /// Save the dispatcher every this many events (0: never).
    snapshot_every: i64,
    /// The partition lease this core acts under.
    lease: Lease,
    /// The event the last saved snapshot follows.
    last_saved_seq: i64,
}

impl Core {
    pub(crate) fn new(s: Setup) -> Core {
        Core {
            run_id: s.run_id,
            lease: s.lease,
            scenario_name: s.scenario_name,
            policy: s.policy,
            world: s.world,
            dispatcher: s.dispatcher,
            store: s.store,
            clock: s.clock,
            seq: s.seq,
            last_at: s.last_at,
            seen: s.seen,
            mission_status: HashMap::new(),
            box_rows: HashMap::new(),
            subscriptions: s.subscriptions,
            resumed_from_journal: s.seq > 0,
            metrics: s.metrics,
            out: s.out,
            liveness: s.liveness,
            snapshot: s.snapshot,
            last_snapshot: std::time::Instant::now() - std::time::Duration::from_secs(10),
            snapshot_behind: false,
            snapshot_every: s.snapshot_every,
            last_saved_seq: s.seq,
        }
    }

    /// Handles what arrives, batch by batch, until the inbound channel closes.
    pub(crate) async fn run(mut self, mut rx: mpsc::Receiver<Inbound>) {
        let mut buf = Vec::with_capacity(MAX_BATCH);
        loop {
            buf.clear();
            if !self.receive_or_publish(&mut rx, &mut buf).await {
                return;
            }
            if buf.is_empty() {
                continue;
            }
            let mut batch = Batch::default();
            let mut acks = Vec::new();
            let mut out = Vec::new();
            let mut replies = Vec::new();
            // Conflation: of several QoS 0 telemetry samples from one drone in a
            // batch, only the last is journaled and handled; the others are still
            // checked (and rejected when bad), then counted as superseded.
            let mut last_sample: HashMap<&str, usize> = HashMap::new();
            for (i, msg) in buf.iter().enumerate() {
                if let Inbound::Mqtt { publish: p, .. } = msg
                    && p.qos == QoS::AtMostOnce
                    && p.topic.ends_with("/telemetry")
                    && p.topic.contains("/drones/")
                {
                    last_sample.insert(p.topic.as_str(), i);
                }
            }
            let superseded: Vec<bool> = (0..buf.len())
                .map(|i| match &buf[i] {
                    Inbound::Mqtt { publish: p, .. } => last_sample
                        .get(p.topic.as_str())
                        .is_some_and(|last| *last != i),
                    _ => false,
                })
                .collect();
            drop(last_sample);
            for (msg, superseded) in buf.drain(..).zip(superseded) {
                match msg {
                    Inbound::Control(c) => {
                        self.control(c, &mut batch, &mut out, &mut replies).await
                    }
                    Inbound::Delivered(d) => self.delivered(d, &mut batch, &mut out),
                    Inbound::Tick => {
                        self.apply(Event::Tick, "clock".into(), None, &mut batch, &mut out)
                    }
                    Inbound::Connected { reconnect } => {
                        self.announce();
                        if reconnect || std::mem::take(&mut self.resumed_from_journal) {
                            self.apply(
                                Event::ServiceResumed,
                                "service".into(),
                                None,
                                &mut batch,
                                &mut out,
                            );
                        }
                    }
                    Inbound::Mqtt {
                        publish: p,
                        arrived,
                    } => {
                        self.receive(&p, arrived, superseded, &mut batch, &mut out);
                        if p.qos != QoS::AtMostOnce {
                            acks.push(p);
                        }
                    }
                }
            }
            if !batch.is_empty() {
                self.commit(&batch).await;
                self.metrics.batches.inc();
                self.metrics.journal_seq.set(self.seq);
                if self.snapshot_every > 0 && self.seq - self.last_saved_seq >= self.snapshot_every
                {
                    self.save_snapshot().await;
                }
            }
            for (reply, answer) in replies {
                let _ = reply.send(answer);
            }
            // Commands are marked published at their PUBACK (record_pubacks).
            for o in out {
                let _ = self.out.send(o);
            }
            for p in acks {
                let _ = self.out.send(Outbound::Ack(p));
            }
            // Cleared by the publish below, or by `receive_or_publish` once the
            // interval is over.
            self.snapshot_behind = true;
            if self.last_snapshot.elapsed() >= SNAPSHOT_EVERY {
                self.publish_snapshot();
            }
        }
    }

    /// Waits for what arrives next, into `buf`; false once the inbound channel
    /// closes. While the dashboard's snapshot is behind the journal (a batch came
    /// inside `SNAPSHOT_EVERY` of the last publish) it waits no longer than the
    /// rest of that interval, then publishes with `buf` left empty: the last
    /// events of a burst show without waiting for the next event or tick (a
    /// minute apart at real speed).
    async fn receive_or_publish(
        &mut self,
        rx: &mut mpsc::Receiver<Inbound>,
        buf: &mut Vec<Inbound>,
    ) -> bool {
        if !self.snapshot_behind {
            return rx.recv_many(buf, MAX_BATCH).await > 0;
        }
        let rest = SNAPSHOT_EVERY.saturating_sub(self.last_snapshot.elapsed());
        // recv_many is cancel safe: a timeout loses nothing.
        match tokio::time::timeout(rest, rx.recv_many(buf, MAX_BATCH)).await {
            Ok(n) => n > 0,
            Err(_) => {
                self.publish_snapshot();
                true
            }
        }
    }

    /// Makes the batch durable. While the database is away (down, restarting) it
    /// waits and tries again, however long, with `/healthz` saying so: nothing
    /// of the batch is acknowledged or published meanwhile, so nothing is lost.
    /// Any other failure five times over stops the process: the dispatcher has
    /// moved past what is durable, and the restart rebuilds it from the journal.
    async fn commit(&mut self, batch: &Batch) {
        let mut refused = 0;
        let mut pause = std::time::Duration::from_millis(200);
        while let Err(e) = self.store.commit(batch).await {
            crate::ownership::exit_if_fenced(&e);
            if e.is_unavailable() {
                self.liveness
                    .database_failing
                    .store(true, Ordering::Relaxed);
                tracing::error!("store: the database is away ({e}); retrying in {pause:?}");
            } else {
                refused += 1;
                if refused >= 5 {
                    eprintln!("error: cannot store events, stopping: {e}");
                    std::process::exit(labflight_server::tasks::TASK_STOPPED_EXIT);
                }
                tracing::error!("store: {e}; retrying");
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(std::time::Duration::from_secs(5));
        }
        self.liveness
            .database_failing
            .store(false, Ordering::Relaxed);
    }

    fn receive(
        &mut self,
        p: &Publish,
        arrived: Instant,
        superseded: bool,
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
    ) {
        tracing::debug!(target: "labflight::service", "received {} dup={}", p.topic, p.dup);
        self.metrics.mqtt_received.inc();
        let digest = (p.qos != QoS::AtMostOnce).then(|| {
            let mut h = Sha256::new();
            h.update(p.topic.as_bytes());
            h.update([0]);
            h.update(&p.payload);
            format!("{:x}", h.finalize())
        });
        if let Some(d) = &digest
            && self.seen.contains(d)
        {
            self.metrics.duplicates.inc();
            return;
        }
        // Judged by when it arrived, not by when the core got to it.
        let now = arrived;
        let skew = Duration::seconds((120.0_f64).max(10.0 * self.clock.speed) as i64);
        let dir = LiveDirectory {
            world: &self.world,
            state: self.dispatcher.state(),
            now,
            skew,
        };
        match decode(&p.topic, &p.payload, &dir) {
            Ok(_) if superseded => {
                self.metrics.superseded.inc();
            }
            Ok(event) => {
                if let Some(d) = &digest {
                    self.seen.insert(d.clone());
                }
                if let Some(detail) =
                    self.disputed_claim(&p.topic, digest.clone(), &event, batch, out)
                {
                    let rejection = labflight_mqtt::Rejection {
                        topic: p.topic.clone(),
                        reason: "custody_conflict".into(),
                        detail,
                    };
                    tracing::info!("rejected {rejection}");
                    self.publish_rejected(&rejection, now, out);
                    return;
                }
                self.apply(event, p.topic.clone(), digest, batch, out);
            }
            Err(rejection) => {
                self.metrics.reject(&rejection.reason);
                tracing::info!("rejected {rejection}");
                self.publish_rejected(&rejection, now, out);
            }
        }
    }

    /// Tells devices and operators on the rejected topic why a message was refused.
    fn publish_rejected(
        &self,
        rejection: &labflight_mqtt::Rejection,
        now: Instant,
        out: &mut Vec<Outbound>,
    ) {
        let mut body = serde_json::to_value(rejection).unwrap_or_default();
        body["time"] = serde_json::json!(now.with_timezone(&self.world.offset).to_rfc3339());
        out.push(Outbound::Publish {
            topic: Topic::Rejected.to_string(),
            payload: body.to_string().into_bytes(),
            retain: false,
            command_id: None,
        });
    }

    fn apply(
        &mut self,
        event: Event,
        source: String,
        digest: Option<String>,
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
    ) {
        self.seq += 1;
        let at = self.clock.now().max(self.last_at);
        self.last_at = at;
        let stamped = Stamped { at, event };
        self.metrics.accept(stamped.event.kind_name());
        let steps = custody_steps(self.dispatcher.state(), &stamped);
        let commands = self.dispatcher.handle(&stamped);
        let touched_boxes =
            boxes_touched(self.dispatcher.state(), &stamped.event, &commands, &steps);
        let notices = Self::status_notices(&steps, &commands, at);
        self.send_commands(commands, at, batch, out);
        self.record_rows(steps, touched_boxes, batch);
        batch.events.push(JournalEntry {
            seq: self.seq,
            source: source.clone(),
            digest,
            stamped,
        });
        self.owe_notices(notices, batch);
        // A lab's claim refused and held until the box reached it: applied now,
        // each an event of its own after the one that brought the box there.
        for claim in self.dispatcher.take_released_claims() {
            self.apply(claim, format!("held:{source}"), None, batch, out);
        }
    }

    /// Journals the commands of event `self.seq` and queues them for the broker.
    fn send_commands(
        &mut self,
        commands: Vec<Command>,
        at: Instant,
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
    ) {
        for (idx, c) in commands.into_iter().enumerate() {
            self.metrics.command(c.kind_name());
            let mission = mission_of(&c);
            let envelope = CommandEnvelope {
                command_id: format!("{}-{}-{idx}", self.run_id, self.seq),
                time: at.with_timezone(&self.world.offset),
                command: c,
                fence: Some(CommandFence {
                    partition: self.lease.partition.clone(),
                    epoch: self.lease.epoch,
                    seq: self.seq,
                }),
            };
            let body = serde_json::to_string(&envelope).expect("commands serialize");
            let topic = envelope.topic().to_string();
            out.push(Outbound::Publish {
                topic: topic.clone(),
                payload: body.clone().into_bytes(),
                retain: false,
                command_id: Some(envelope.command_id.clone()),
            });
            batch.commands.push(StoredCommand {
                event_seq: self.seq,
                idx: idx as i32,
                command_id: envelope.command_id,
                kind: envelope.command.kind_name().to_owned(),
                topic,
                mission,
                body,
                published: false,
            });
        }
    }

    /// Custody steps, and the rows of the tubes, boxes and missions that changed.
    fn record_rows(
        &mut self,
        steps: Vec<labflight_core::CustodyStep>,
        touched_boxes: BTreeSet<labflight_core::BoxId>,
        batch: &mut Batch,
    ) {
        let state = self.dispatcher.state();
        let mut touched = BTreeSet::new();
        for s in steps {
            touched.insert(s.barcode.clone());
            batch.custody.push((self.seq, s));
        }
        for barcode in touched {
            if let Some(row) = tube_row(state, &barcode) {
                batch.tubes.push(row);
            }
        }
        for id in touched_boxes {
            if let Some(row) = state.boxes.get(&id).map(box_row)
                && self.box_rows.get(&row.box_id) != Some(&row)
            {
                self.box_rows.insert(row.box_id.clone(), row.clone());
                batch.boxes.push(row);
            }
        }
        for m in state.missions.values() {
            if self.mission_status.get(&m.id) != Some(&m.status) {
                self.mission_status.insert(m.id.clone(), m.status.clone());
                batch.missions.push(mission_row(m));
            }
        }
    }

    /// Requests from the HTTP edge.
    async fn control(
        &mut self,
        c: Control,
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
        replies: &mut Vec<(labflight_server::control::Reply, Result<Accepted, Refusal>)>,
    ) {
        match c {
            Control::Override { by, action, reply } => {
                let answer = self.override_(by, action, batch, out);
                replies.push((reply, answer));
            }
            Control::Ping { reply } => replies.push((reply, Ok(Accepted::New))),
            Control::SubscriptionsChanged => match self.store.subscriptions().await {
                Ok(subs) => self.subscriptions = subs,
                Err(e) => tracing::warn!("reloading subscriptions: {e}"),
            },
            Control::LabResult {
                lab,
                report,
                raw,
                reply,
            } => {
                let answer = self.lab_result(&lab, report, raw, batch, out).await;
                replies.push((reply, answer));
            }
            Control::TubeAtLab {
                lab,
                barcode,
                status,
                reply,
            } => {
                let answer = self.tube_at_lab(&lab, &barcode, status, batch, out);
                replies.push((reply, answer));
            }
        }
    }
}
