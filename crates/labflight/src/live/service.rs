//! `labflight serve`: MQTT in, the dispatcher core, the store, commands out.
//!
//! One task owns the dispatcher. Messages arrive from the MQTT poll task in
//! batches; each is checked (`labflight_mqtt::decode`), stamped by the service
//! clock, handled, and the batch — journal, commands, custody — is committed in one
//! transaction. Only then are commands published and the inbound QoS 1 messages
//! acknowledged (manual acks), so a crash at any instant leaves the broker holding
//! whatever was not yet durable, and a restart replays the journal through a fresh
//! dispatcher to the same state and the same commands. A command counts as
//! published only once the broker acknowledged it (PUBACK); a restart re-sends
//! every command never acknowledged, under its original id, so devices can drop
//! a repeat.

use crate::live::clock::Clock;
use crate::live::delivery::{self, AllowList, Delivered, DeliveryOptions};
use crate::live::directory::LiveDirectory;
use crate::live::puback::PubackTracker;
use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use labflight_core::TubeBarcode;
use labflight_core::event::Override;
use labflight_core::{Command, Event, Instant, Scenario, Stamped};
use labflight_dispatch::state::TubeStatus;
use labflight_dispatch::state::{Carrier, MissionStatus, State};
use labflight_dispatch::{
    ClaimRefused, Dispatcher, DispatcherSnapshot, LabClaim, World, check_lab_claim, custody_steps,
};
use labflight_hooks::fhir::{IssueCode, LabResult, StatusKind, report_bundle, status_bundle};
use labflight_mqtt::broker::{BrokerLogins, SERVICE_USER};
use labflight_mqtt::topics::SERVICE_SUBSCRIPTIONS;
use labflight_mqtt::{CommandEnvelope, MqttUrl, Topic, decode};
use labflight_server::health::Liveness;
use labflight_server::replay::ReplayCatalog;
use labflight_server::{
    Accepted, AppState, Control, DashboardContext, Metrics, Refusal, Snapshot, Supervisor,
    TubeAtLab,
};
use labflight_store::{
    Batch, BoxRow, JournalEntry, MissionRow, RunMeta, Store, StoredCommand, TubeRow,
};
use labflight_store::{LabReportRow, OutboxItem, Subscription};
use rumqttc::{AsyncClient, Event as MqttEvent, LastWill, Outgoing, Packet, Publish, QoS};
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};

/// How many recent commands are re-sent after a restart on the embedded broker,
/// acknowledged or not (devices ignore repeats): the embedded broker keeps its
/// queues in memory, so what it acknowledged but had not yet delivered to an
/// offline device died with the last process. An external broker keeps them
/// (Mosquitto's persistence), so there only unacknowledged commands are re-sent.
const RESEND_TAIL_EMBEDDED: usize = 300;
/// Most messages handled in one transaction.
const MAX_BATCH: usize = 2_000;
pub const SERVICE_CLIENT_ID: &str = "labflight-service";

/// Where the service's clock starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ClockStart {
    /// Virtual time is wall time (production): the scenario's date becomes today.
    Wall,
    /// Half an hour before the scenario's first draw, at `speed`× (demo, tests).
    ScenarioMorning { speed: f64 },
}

#[derive(Clone, Debug)]
pub struct ServiceOptions {
    pub scenario: std::path::PathBuf,
    pub overrides: Vec<(String, String)>,
    pub policy: String,
    pub seed: u64,
    pub clock: ClockStart,
    /// `None`: start the embedded broker on 127.0.0.1:`mqtt_port`.
    pub mqtt: Option<MqttUrl>,
    pub mqtt_port: u16,
    pub database_url: String,
    pub http: SocketAddr,
    pub hooks: HookSettings,
    /// Recorded runs (folders with a journal) the dashboard can replay.
    pub runs_dir: std::path::PathBuf,
    /// A snapshot of the dispatcher every this many journaled events (0: none).
    pub snapshot_every: i64,
    /// Mark the session cookie `Secure` (the public URL is https).
    pub secure_cookies: bool,
}

/// Result sharing: lab tokens, who may manage hooks, where hooks may go, and the
/// subscriptions the configuration declares.
#[derive(Clone, Debug, Default)]
pub struct HookSettings {
    /// Bearer token → lab id.
    pub lab_tokens: HashMap<String, String>,
    pub admin_token: Option<String>,
    /// Hosts hooks may call (`host:port`, `host:*`, `host`); empty means
    /// `127.0.0.1:*` and `localhost:*`.
    pub allowed_hosts: Vec<String>,
    pub subscriptions: Vec<Subscription>,
}

/// A started service.
#[derive(Debug)]
pub struct Running {
    pub http: SocketAddr,
    pub mqtt: MqttUrl,
    pub store: Store,
    /// The embedded broker's logins (none with an external broker).
    pub broker_logins: Option<BrokerLogins>,
}

enum Inbound {
    /// A message from a device, with the service time it arrived at: its own
    /// time is judged against that, not against when the core gets to it (the
    /// core may have been waiting for its database).
    Mqtt {
        publish: Publish,
        arrived: Instant,
    },
    /// From the HTTP edge: answered once its effects are committed.
    Control(Control),
    /// The delivery worker delivered an outbox item.
    Delivered(Delivered),
    Tick,
    /// The broker connection is up: re-announce the clock; after the first
    /// connection (a reconnect) the devices were unheard for a while.
    Connected {
        reconnect: bool,
    },
}

enum Outbound {
    Publish {
        topic: String,
        payload: Vec<u8>,
        retain: bool,
        /// The command this publish carries: marked published at its PUBACK.
        command_id: Option<String>,
    },
    Ack(Publish),
}

/// Loads everything, recovers from the journal, connects, and starts the tasks.
pub async fn start(opts: ServiceOptions) -> anyhow::Result<Running> {
    let mut scenario = Scenario::load_with_overrides(&opts.scenario, &opts.overrides)?;
    let policy = crate::sim_cmd::parse_policy(&opts.policy)?;
    // Configuration is checked whole before anything starts.
    let allowed_hosts = AllowList::parse(&opts.hooks.allowed_hosts).map_err(crate::BadInput)?;
    for sub in &opts.hooks.subscriptions {
        allowed_hosts.check(&sub.url).map_err(crate::BadInput)?;
    }
    let store = Store::open(&opts.database_url).await?;
    let meta = match store.run_meta().await? {
        Some(meta) => {
            if meta.scenario != scenario.name || meta.policy != opts.policy {
                bail!(crate::BadInput(format!(
                    "database `{}` holds a run of scenario `{}` with policy `{}`, not `{}` with `{}`; use another DATABASE_URL",
                    opts.database_url, meta.scenario, meta.policy, scenario.name, opts.policy
                )));
            }
            meta
        }
        None => {
            let wall = Utc::now();
            let (started_at, speed) = match opts.clock {
                ClockStart::Wall => (wall, 1.0),
                ClockStart::ScenarioMorning { speed } => (
                    scenario.at(scenario.service.first_draw) - Duration::minutes(30),
                    speed,
                ),
            };
            let meta = RunMeta {
                scenario: scenario.name.clone(),
                policy: opts.policy.clone(),
                seed: opts.seed,
                started_at,
                wall_epoch_ms: wall.timestamp_millis(),
                speed,
            };
            store.set_run_meta(&meta).await?;
            meta
        }
    };
    if opts.clock == ClockStart::Wall {
        scenario.date = meta
            .started_at
            .with_timezone(&scenario.offset())
            .date_naive();
    }
    let map = labflight_geo::MapData::load(&scenario.map_dir(&opts.scenario))?;
    let world = Arc::new(World::from_map(&scenario, &map));
    let clock = Clock {
        wall_epoch_ms: meta.wall_epoch_ms,
        start: meta.started_at,
        speed: meta.speed,
    };

    // Recover: the latest snapshot, then the journal after it through the
    // restored dispatcher, gives back the state (no snapshot: the whole journal).
    let restored = match store.latest_snapshot().await? {
        Some((seq, body)) => match serde_json::from_str::<DispatcherSnapshot>(&body)
            .map_err(|e| e.to_string())
            .and_then(|snap| Dispatcher::restore(Arc::clone(&world), policy, snap))
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
    let (mut dispatcher, snapshot_seq) = restored.unwrap_or_else(|| {
        (
            Dispatcher::new(Arc::clone(&world), policy, meta.seed, meta.started_at),
            0,
        )
    });
    let journal = store.journal_after(snapshot_seq).await?;
    let stored = store.commands(false).await?;
    let seen: HashSet<String> = store.journal_digests().await?.into_iter().collect();
    let mut regenerated = 0usize;
    let mut mismatched = 0usize;
    let mut stored_iter = stored
        .iter()
        .filter(|s| s.event_seq > snapshot_seq)
        .peekable();
    for e in &journal {
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
    if mismatched > 0 {
        tracing::warn!(
            "journal replay: {mismatched} of {regenerated} commands differ from the stored ones"
        );
    }
    let (last_seq, last_at) = store.journal_end().await?.unwrap_or((0, meta.started_at));
    if last_seq > 0 {
        println!(
            "recovered {last_seq} journaled events ({} replayed after the snapshot of event {snapshot_seq}) and {} commands from {}",
            journal.len(),
            stored.len(),
            opts.database_url
        );
    }

    // The broker: embedded unless one is configured. The embedded one admits only
    // the logins made for it now: the service's, and the devices' (from a key).
    let (mqtt, broker_logins) = match &opts.mqtt {
        Some(url) => (url.clone(), None),
        None => {
            let logins = BrokerLogins::generate();
            let addr = labflight_mqtt::broker::start_embedded(
                SocketAddr::from(([127, 0, 0, 1], opts.mqtt_port)),
                &logins,
            )
            .map_err(anyhow::Error::msg)?;
            let url = MqttUrl::parse(&format!("mqtt://{addr}")).map_err(anyhow::Error::msg)?;
            (url, Some(logins))
        }
    };
    let service_url = match &broker_logins {
        Some(l) => mqtt.with_credentials(SERVICE_USER, &l.service_password),
        None => mqtt.clone(),
    };
    let metrics = Arc::new(Metrics::new());
    metrics.journal_seq.set(last_seq);
    let supervisor = Supervisor::new(Arc::clone(&metrics));
    let liveness = Arc::new(Liveness::default());
    let (in_tx, in_rx) = mpsc::channel::<Inbound>(20_000);
    let (out_tx, out_rx) = mpsc::unbounded_channel::<Outbound>();

    // One persistent session per stored run: a restart picks up what the broker
    // kept for it; a fresh database starts a fresh session.
    let client_id = format!("{SERVICE_CLIENT_ID}-{}", meta.wall_epoch_ms);
    let mut options = service_url.options(&client_id, true);
    options.set_manual_acks(true);
    options.set_last_will(LastWill::new(
        Topic::ServiceStatus.to_string(),
        serde_json::json!({"state": "offline"}).to_string(),
        QoS::AtLeastOnce,
        true,
    ));
    let (client, eventloop) = AsyncClient::new(options, 1_000);
    let connected = Arc::clone(&liveness.broker_connected);
    let pubacks = Arc::new(Mutex::new(PubackTracker::default()));
    let (acked_tx, acked_rx) = mpsc::unbounded_channel::<String>();
    supervisor.spawn_vital(
        "mqtt_poll",
        poll_mqtt(
            eventloop,
            client.clone(),
            in_tx.clone(),
            Arc::clone(&metrics),
            Arc::clone(&connected),
            (Arc::clone(&pubacks), acked_tx),
            clock,
        ),
    );
    supervisor.spawn_vital(
        "mqtt_publish",
        publish_out(client, out_rx, Arc::clone(&pubacks)),
    );
    supervisor.spawn_vital(
        "puback_record",
        record_pubacks(
            store.clone(),
            clock,
            acked_rx,
            pubacks,
            Arc::clone(&metrics),
        ),
    );
    let tick_tx = in_tx.clone();
    let tick_minutes = world.params.tick_minutes;
    supervisor.spawn_restarting("tick", move || {
        tick(clock, tick_minutes, tick_tx.clone(), Arc::clone(&connected))
    });

    // Re-send, under their original ids, every command the broker never
    // acknowledged, however old (and on the embedded broker the recent tail too).
    // Each is marked published when its PUBACK arrives.
    let tail = if broker_logins.is_some() {
        RESEND_TAIL_EMBEDDED
    } else {
        0
    };
    let tail_from = stored.len().saturating_sub(tail);
    for (i, c) in stored.iter().enumerate() {
        if i >= tail_from || !c.published {
            let _ = out_tx.send(Outbound::Publish {
                topic: c.topic.clone(),
                payload: c.body.clone().into_bytes(),
                retain: false,
                command_id: Some(c.command_id.clone()),
            });
        }
    }

    // Result sharing: configured subscriptions, the delivery worker, the control channel.
    for sub in &opts.hooks.subscriptions {
        store.add_subscription(sub, clock.now()).await?;
    }
    let subscriptions = store.subscriptions().await?;
    let (delivered_tx, mut delivered_rx) = mpsc::channel::<Delivered>(1_000);
    let delivery_store = store.clone();
    let delivery_options = DeliveryOptions {
        allowed_hosts: allowed_hosts.clone(),
        metrics: Arc::clone(&metrics),
    };
    supervisor.spawn_restarting("delivery", move || {
        delivery::run(
            delivery_store.clone(),
            clock,
            delivery_options.clone(),
            delivered_tx.clone(),
        )
    });
    let forward = in_tx.clone();
    supervisor.spawn_vital("delivered_forward", async move {
        while let Some(d) = delivered_rx.recv().await {
            if forward.send(Inbound::Delivered(d)).await.is_err() {
                return;
            }
        }
    });
    let (control_tx, mut control_rx) = mpsc::channel::<Control>(1_000);
    let forward = in_tx.clone();
    supervisor.spawn_vital("control_forward", async move {
        while let Some(c) = control_rx.recv().await {
            if forward.send(Inbound::Control(c)).await.is_err() {
                return;
            }
        }
    });

    let (snap_tx, snap_rx) = watch::channel(None);
    let mut core = Core {
        run_id: format!("R{:x}", meta.wall_epoch_ms),
        scenario_name: scenario.name.clone(),
        policy: opts.policy.clone(),
        world: Arc::clone(&world),
        dispatcher,
        store: store.clone(),
        clock,
        seq: last_seq,
        last_at,
        seen,
        mission_status: HashMap::new(),
        box_rows: HashMap::new(),
        subscriptions,
        resumed_from_journal: last_seq > 0,
        metrics: Arc::clone(&metrics),
        out: out_tx,
        liveness: Arc::clone(&liveness),
        snapshot: snap_tx,
        last_snapshot: std::time::Instant::now() - std::time::Duration::from_secs(10),
        snapshot_every: opts.snapshot_every,
        last_saved_seq: last_seq,
    };
    let reconciled = core.reconcile_deliveries().await?;
    if reconciled > 0 {
        println!("reconciled {reconciled} delivered results without their result_reported");
    }
    core.announce();
    core.publish_snapshot();
    supervisor.spawn_vital("core", core.run(in_rx));

    let state = AppState {
        store: store.clone(),
        metrics: Arc::clone(&metrics),
        snapshot: snap_rx.clone(),
        control: Some(control_tx),
        lab_tokens: Arc::new(opts.hooks.lab_tokens.clone()),
        admin_token: opts.hooks.admin_token.clone(),
        hook_url_check: Arc::new(move |url: &str| allowed_hosts.check(url)),
        dashboard: Some(Arc::new(
            DashboardContext::new(
                Arc::clone(&world),
                scenario.map_dir(&opts.scenario),
                ReplayCatalog::new(opts.runs_dir.clone(), Arc::new(crate::replay_frames::load)),
            )
            .map_err(crate::BadInput)?,
        )),
        feed: Arc::new(watch::channel(None).0),
        liveness: Arc::clone(&liveness),
        guard: Arc::new(labflight_server::auth::Guard::new(opts.secure_cookies)),
    };
    let feed_state = state.clone();
    supervisor.spawn_restarting("live_feed", move || {
        labflight_server::dashboard::run_feed(feed_state.clone())
    });
    let health_state = state.clone();
    supervisor.spawn_restarting("health", move || {
        labflight_server::health::refresh_metrics(health_state.clone())
    });
    let app = labflight_server::router(state);
    let listener = tokio::net::TcpListener::bind(opts.http)
        .await
        .with_context(|| format!("HTTP address {}", opts.http))?;
    let http = listener.local_addr()?;
    supervisor.spawn_vital("http", async move {
        if let Err(e) = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        {
            tracing::error!("HTTP server stopped: {e}");
        }
    });
    Ok(Running {
        http,
        mqtt,
        store,
        broker_logins,
    })
}

/// Polls the broker connection forever: forwards publishes (stamped with when they
/// arrived), follows PUBACKs (`pubacks`, then `acked`), re-subscribes after
/// every (re)connect, follows each publish to its PUBACK, and backs off while the
/// broker is away. Never awaits a publish itself (that would stall the loop that
/// drains rumqttc's queue).
async fn poll_mqtt(
    mut eventloop: rumqttc::EventLoop,
    client: AsyncClient,
    in_tx: mpsc::Sender<Inbound>,
    metrics: Arc<Metrics>,
    connected: Arc<AtomicBool>,
    (pubacks, acked): (Arc<Mutex<PubackTracker>>, mpsc::UnboundedSender<String>),
    clock: Clock,
) {
    let mut backoff = std::time::Duration::from_millis(100);
    let mut connected_once = false;
    loop {
        match eventloop.poll().await {
            Ok(MqttEvent::Outgoing(Outgoing::Publish(pkid))) => {
                lock(&pubacks).sent(pkid);
            }
            Ok(MqttEvent::Outgoing(Outgoing::AwaitAck(pkid))) => {
                lock(&pubacks).held_back(pkid);
            }
            Ok(MqttEvent::Incoming(Packet::PubAck(ack))) => {
                let command = lock(&pubacks).acknowledged(ack.pkid);
                if let Some(id) = command {
                    let _ = acked.send(id);
                }
            }
            Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                let arrived = clock.now();
                if in_tx
                    .send(Inbound::Mqtt {
                        publish: p,
                        arrived,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Ok(MqttEvent::Incoming(Packet::ConnAck(_))) => {
                backoff = std::time::Duration::from_millis(100);
                connected.store(true, Ordering::SeqCst);
                metrics.mqtt_connected.set(1);
                let reconnect = std::mem::replace(&mut connected_once, true);
                if reconnect {
                    metrics.mqtt_reconnects.inc();
                }
                let client = client.clone();
                tokio::spawn(async move {
                    for filter in SERVICE_SUBSCRIPTIONS {
                        if let Err(e) = client.subscribe(filter, QoS::AtLeastOnce).await {
                            tracing::error!("subscribe {filter}: {e}");
                        }
                    }
                });
                let _ = in_tx.send(Inbound::Connected { reconnect }).await;
            }
            Ok(_) => {}
            Err(e) => {
                connected.store(false, Ordering::SeqCst);
                metrics.mqtt_connected.set(0);
                // A packet over MAX_PACKET_BYTES cannot be read, so it cannot be
                // acknowledged: the broker hands it over again after every
                // reconnect. Brokers are configured never to deliver one (the
                // embedded broker refuses it, Mosquitto's max_packet_size); if one
                // does anyway, say so, count it, and keep backing off.
                if let rumqttc::ConnectionError::MqttState(rumqttc::StateError::Deserialization(
                    rumqttc::mqttbytes::Error::PayloadSizeLimitExceeded(size),
                )) = &e
                {
                    metrics.reject("packet_too_large");
                    tracing::error!(
                        "the broker delivered a {size}-byte packet, over the {} bytes the service reads; set the broker's max_packet_size to at most that",
                        labflight_mqtt::connect::MAX_PACKET_BYTES
                    );
                }
                tracing::warn!("MQTT connection: {e}; retrying in {backoff:?}");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(std::time::Duration::from_secs(5));
            }
        }
    }
}

/// Hands what the core sends out to the MQTT client, in order, noting each
/// publish (and the command it carries) for its PUBACK.
async fn publish_out(
    client: AsyncClient,
    mut rx: mpsc::UnboundedReceiver<Outbound>,
    pubacks: Arc<Mutex<PubackTracker>>,
) {
    while let Some(o) = rx.recv().await {
        let result = match o {
            Outbound::Publish {
                topic,
                payload,
                retain,
                command_id,
            } => {
                // Noted before the client can send it: rumqttc reports it sent
                // (with its packet id) in the order publishes were handed over.
                lock(&pubacks).handed(command_id);
                client
                    .publish(topic, QoS::AtLeastOnce, retain, payload)
                    .await
            }
            Outbound::Ack(p) => client.ack(&p).await,
        };
        if let Err(e) = result {
            tracing::error!("MQTT client queue closed: {e}");
            return;
        }
    }
}

/// Marks commands published as their PUBACKs arrive (in small batches), and
/// keeps the gauges of commands awaiting one up to date.
async fn record_pubacks(
    store: Store,
    clock: Clock,
    mut acked: mpsc::UnboundedReceiver<String>,
    pubacks: Arc<Mutex<PubackTracker>>,
    metrics: Arc<Metrics>,
) {
    let mut ids = Vec::new();
    loop {
        ids.clear();
        let got = tokio::time::timeout(
            std::time::Duration::from_secs(1),
            acked.recv_many(&mut ids, 1_000),
        )
        .await;
        if matches!(got, Ok(0)) {
            return;
        }
        // Retried: a PUBACK not recorded leaves the command to be re-sent after
        // a restart, which devices tolerate, but is worth a few tries.
        for attempt in 1..=3u64 {
            match store.mark_published(&ids, clock.now()).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!("store: marking {} commands published: {e}", ids.len());
                    tokio::time::sleep(std::time::Duration::from_millis(200 * attempt)).await;
                }
            }
        }
        let (waiting, oldest) = lock(&pubacks).awaiting();
        metrics.commands_awaiting_puback.set(waiting as i64);
        metrics
            .oldest_unacknowledged_command_seconds
            .set(oldest.map_or(0, |d| d.as_secs() as i64));
    }
}

fn lock(pubacks: &Mutex<PubackTracker>) -> std::sync::MutexGuard<'_, PubackTracker> {
    pubacks.lock().unwrap_or_else(|e| e.into_inner())
}

/// The dispatcher's timer: one tick per `tick_minutes` of service time, while the
/// broker is reachable (silence while it is not says nothing about the drones).
async fn tick(
    clock: Clock,
    tick_minutes: f64,
    in_tx: mpsc::Sender<Inbound>,
    connected: Arc<AtomicBool>,
) {
    let every = clock.wall(Duration::milliseconds((tick_minutes * 60_000.0) as i64));
    let mut interval = tokio::time::interval(every.max(std::time::Duration::from_millis(10)));
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval.tick().await;
    loop {
        interval.tick().await;
        if !connected.load(Ordering::SeqCst) {
            continue;
        }
        if in_tx.send(Inbound::Tick).await.is_err() {
            return;
        }
    }
}

struct Core {
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
    /// Save the dispatcher every this many events (0: never).
    snapshot_every: i64,
    /// The event the last saved snapshot follows.
    last_saved_seq: i64,
}

impl Core {
    async fn run(mut self, mut rx: mpsc::Receiver<Inbound>) {
        let mut buf = Vec::with_capacity(MAX_BATCH);
        loop {
            buf.clear();
            if rx.recv_many(&mut buf, MAX_BATCH).await == 0 {
                return;
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
            if self.last_snapshot.elapsed() >= std::time::Duration::from_millis(250) {
                self.publish_snapshot();
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

    /// A lab's claim over MQTT about a tube it does not hold (`check_lab_claim`):
    /// journaled as disputed (the coordinators are alerted), the message refused.
    /// `None` when the event is no such claim, or an allowed one.
    fn disputed_claim(
        &mut self,
        topic: &str,
        digest: Option<String>,
        event: &Event,
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
    ) -> Option<String> {
        let state = self.dispatcher.state();
        let (lab, barcode, claim) = match event {
            Event::BoxReceived { box_id, lab } => {
                let first = state.boxes.get(box_id)?.tubes.first()?;
                (lab.clone(), first.barcode.clone(), LabClaim::Received)
            }
            Event::TubeResulted { barcode, lab } => {
                (lab.clone(), barcode.clone(), LabClaim::Resulted)
            }
            Event::TubeCentrifuged { barcode, lab } => {
                (lab.clone(), barcode.clone(), LabClaim::Centrifuged)
            }
            Event::TubeRejected { barcode, lab, .. } => {
                (lab.clone(), barcode.clone(), LabClaim::Rejected)
            }
            Event::ResultReported { barcode } => match Topic::parse(topic) {
                Some(Topic::LabEvents(lab)) => (lab, barcode.clone(), LabClaim::ResultReported),
                _ => return None,
            },
            _ => return None,
        };
        // Repeats of what is already so are harmless: the dispatcher ignores them.
        if let (LabClaim::Rejected, Some(t)) = (claim, state.tubes.get(&barcode))
            && t.status == TubeStatus::Rejected
            && t.lab.as_ref() == Some(&lab)
        {
            return None;
        }
        self.lab_may(
            &lab,
            &barcode,
            claim,
            (topic.to_owned(), digest),
            batch,
            out,
        )
        .err()
        .map(|r| r.diagnostics)
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
        let mut notices: Vec<(TubeBarcode, StatusKind)> = Vec::new();
        // Redraw requests follow the notices of the event that caused them.
        let mut redraws: Vec<(TubeBarcode, StatusKind)> = Vec::new();
        let state = self.dispatcher.state();
        for (idx, c) in commands.into_iter().enumerate() {
            self.metrics.command(c.kind_name());
            if let Command::NotifyStation {
                notice: labflight_core::command::StationNotice::RedrawNeeded { barcode, reason },
                ..
            } = &c
            {
                let kind = StatusKind::RedrawRequested {
                    reason: reason.clone(),
                    at,
                };
                redraws.push((barcode.clone(), kind));
            }
            let mission = mission_of(&c);
            let envelope = CommandEnvelope {
                command_id: format!("{}-{}-{idx}", self.run_id, self.seq),
                time: at.with_timezone(&self.world.offset),
                command: c,
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
        // Status notices for the centres: received at a lab, rejected, redraw needed.
        for s in steps.iter() {
            let kind = match s.step {
                labflight_core::CustodyStepKind::ReceivedAtLab => StatusKind::Received {
                    lab: s.place.clone().unwrap_or_default(),
                    at,
                },
                labflight_core::CustodyStepKind::RejectedAtLab => StatusKind::Rejected {
                    lab: s.place.clone().unwrap_or_default(),
                    at,
                    reason: s.by.clone().unwrap_or_default(),
                },
                _ => continue,
            };
            notices.push((s.barcode.clone(), kind));
        }
        notices.append(&mut redraws);
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
        batch.events.push(JournalEntry {
            seq: self.seq,
            source,
            digest,
            stamped,
        });
        for (barcode, kind) in notices {
            let station = self
                .dispatcher
                .state()
                .tubes
                .get(&barcode)
                .and_then(|t| self.dispatcher.state().boxes.get(&t.box_id))
                .map(|b| b.station.clone());
            if let Some(station) = station {
                let label = match kind {
                    StatusKind::Received { .. } => "received",
                    StatusKind::Rejected { .. } => "rejected",
                    StatusKind::RedrawRequested { .. } => "redraw",
                };
                let body = status_bundle(&kind, barcode.as_str(), station.as_str()).to_string();
                // Status notices go as FHIR only (HL7 v2 subscribers get results).
                self.owe(&station, &barcode, label, batch, |sub, _| {
                    (!is_mllp(&sub.url)).then(|| body.clone())
                });
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

    /// A coordinator's override: checked against the state, then journaled and
    /// handled like any event (source `user:<name>`).
    fn override_(
        &mut self,
        by: String,
        action: Override,
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
    ) -> Result<Accepted, Refusal> {
        let state = self.dispatcher.state();
        let missing = |what: &str, id: &str| {
            Err(Refusal::new(
                404,
                IssueCode::NotFound,
                format!("no {what} `{id}`"),
            ))
        };
        match &action {
            Override::GroundFleet | Override::ReleaseFleet => {}
            Override::PauseDrone { drone } | Override::ResumeDrone { drone } => {
                if !state.drones.contains_key(drone) {
                    return missing("drone", drone.as_str());
                }
            }
            Override::LabUnavailable { lab } | Override::LabAvailable { lab } => {
                if !self.world.labs.contains_key(lab) {
                    return missing("lab", lab.as_str());
                }
            }
            Override::ForcePickup { station } => {
                if !self.world.stations.contains_key(station) {
                    return missing("centre", station.as_str());
                }
            }
            Override::ReassignMission { mission, drone } => {
                let Some(m) = state.missions.get(mission) else {
                    return missing("mission", mission.as_str());
                };
                let Some(d) = state.drones.get(drone) else {
                    return missing("drone", drone.as_str());
                };
                if m.status != MissionStatus::Assigned || !matches!(m.carrier, Carrier::Drone(_)) {
                    return Err(Refusal::new(
                        409,
                        IssueCode::BusinessRule,
                        format!(
                            "mission `{mission}` is {:?}: only an assigned drone mission not yet picked up can be reassigned",
                            m.status
                        ),
                    ));
                }
                // The dispatcher's own test: a drone it would not take is refused here.
                if !d.available(self.world.drone_spec.reserve_fraction) {
                    return Err(Refusal::new(
                        409,
                        IssueCode::BusinessRule,
                        format!(
                            "drone `{drone}` is not available (busy, charging, paused, out of contact or low on battery)"
                        ),
                    ));
                }
            }
        }
        self.apply(
            Event::Override {
                by: by.clone(),
                action,
            },
            format!("user:{by}"),
            None,
            batch,
            out,
        );
        // The effect shows on the dashboard at once, not at the next periodic snapshot.
        self.last_snapshot = std::time::Instant::now() - std::time::Duration::from_secs(10);
        Ok(Accepted::New)
    }

    async fn lab_result(
        &mut self,
        lab: &str,
        report: labflight_hooks::fhir::IncomingReport,
        raw: String,
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
    ) -> Result<Accepted, Refusal> {
        let barcode = TubeBarcode::new(&report.barcode);
        let expression = "Specimen.identifier";
        // The same report, already accepted (in this batch or before): harmless.
        let earlier = match batch
            .lab_reports
            .iter()
            .find(|r| r.lab == lab && r.report_id == report.report_id)
        {
            Some(r) => Some(r.barcode.clone()),
            None => self
                .store
                .lab_report(lab, &report.report_id)
                .await
                .map_err(|e| Refusal::new(500, IssueCode::Exception, e.to_string()))?
                .map(|r| r.barcode),
        };
        if let Some(b) = earlier {
            return if b == report.barcode {
                Ok(Accepted::Duplicate)
            } else {
                Err(Refusal::new(
                    409,
                    IssueCode::Conflict,
                    format!(
                        "report `{}` was already accepted for tube `{b}`, not `{barcode}`",
                        report.report_id
                    ),
                )
                .at("DiagnosticReport.identifier"))
            };
        }
        let lab_id = labflight_core::LabId::new(lab);
        self.lab_may(
            &lab_id,
            &barcode,
            LabClaim::Resulted,
            (format!("lab:{lab}"), None),
            batch,
            out,
        )?;
        let state = self.dispatcher.state();
        let Some(tube) = state.tubes.get(&barcode) else {
            return Err(Refusal::new(
                404,
                IssueCode::NotFound,
                format!("no tube with barcode `{barcode}`"),
            )
            .at(expression));
        };
        if tube.lab.as_ref() != Some(&lab_id) || tube.status < TubeStatus::AtLab {
            return Err(Refusal::new(
                409,
                IssueCode::BusinessRule,
                format!("tube `{barcode}` was never received by {lab}: mark it received first"),
            )
            .at(expression));
        }
        if tube.status != TubeStatus::AtLab {
            return Err(Refusal::new(
                409,
                IssueCode::BusinessRule,
                format!(
                    "tube `{barcode}` already has a result or was rejected ({:?})",
                    tube.status
                ),
            )
            .at(expression));
        }
        let Some((station, drawn_at)) = state.boxes.get(&tube.box_id).and_then(|b| {
            b.tubes
                .iter()
                .find(|t| t.barcode == barcode)
                .map(|t| (b.station.clone(), t.drawn_at))
        }) else {
            return Err(Refusal::new(
                500,
                IssueCode::Exception,
                format!("tube `{barcode}` has no box"),
            ));
        };
        self.apply(
            Event::TubeResulted {
                barcode: barcode.clone(),
                lab: lab_id,
            },
            format!("lab:{lab}"),
            None,
            batch,
            out,
        );
        let issued = self.last_at;
        batch.lab_reports.push(LabReportRow {
            report_id: report.report_id.clone(),
            lab: lab.to_owned(),
            barcode: barcode.to_string(),
            body: raw,
            received_at: issued,
        });
        let result = LabResult {
            report_id: report.report_id.clone(),
            barcode: barcode.to_string(),
            station: station.to_string(),
            lab: lab.to_owned(),
            collected_at: drawn_at,
            issued_at: issued,
            observations: report.observations.clone(),
        };
        let fhir = report_bundle(&result).to_string();
        self.owe(&station, &barcode, "result", batch, |sub, id| {
            if is_mllp(&sub.url) {
                Some(labflight_hooks::hl7::oru_r01(&result, id))
            } else {
                Some(fhir.clone())
            }
        });
        Ok(Accepted::New)
    }

    /// A lab marks a tube received or rejected. Only the lab the tube's box is
    /// delivered to or on its way to may (`check_lab_claim`); anything else is
    /// refused, naming the tube's actual state, and raised as a custody conflict.
    fn tube_at_lab(
        &mut self,
        lab: &str,
        barcode: &str,
        status: TubeAtLab,
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
    ) -> Result<Accepted, Refusal> {
        let code = TubeBarcode::new(barcode);
        let lab_id = labflight_core::LabId::new(lab);
        let claim = match status {
            TubeAtLab::Received => LabClaim::Received,
            TubeAtLab::Rejected { .. } => LabClaim::Rejected,
        };
        let state = self.dispatcher.state();
        if let Some(t) = state.tubes.get(&code) {
            let duplicate = match &status {
                TubeAtLab::Received => {
                    t.lab.as_ref() == Some(&lab_id) && t.status >= TubeStatus::AtLab
                }
                TubeAtLab::Rejected { .. } => {
                    t.lab.as_ref() == Some(&lab_id) && t.status == TubeStatus::Rejected
                }
            };
            if duplicate {
                return Ok(Accepted::Duplicate);
            }
        }
        self.lab_may(
            &lab_id,
            &code,
            claim,
            (format!("lab:{lab}"), None),
            batch,
            out,
        )?;
        let state = self.dispatcher.state();
        let Some(tube) = state.tubes.get(&code) else {
            return Err(Refusal::new(
                404,
                IssueCode::NotFound,
                format!("no tube with barcode `{barcode}`"),
            ));
        };
        match status {
            TubeAtLab::Received => {
                let box_id = tube.box_id.clone();
                self.apply(
                    Event::BoxReceived {
                        box_id,
                        lab: lab_id,
                    },
                    format!("lab:{lab}"),
                    None,
                    batch,
                    out,
                );
            }
            TubeAtLab::Rejected { reason } => {
                if tube.lab.as_ref() != Some(&lab_id) || tube.status < TubeStatus::AtLab {
                    return Err(Refusal::new(
                        409,
                        IssueCode::BusinessRule,
                        format!(
                            "tube `{barcode}` was never received by {lab}: mark it received first"
                        ),
                    ));
                }
                if tube.status >= TubeStatus::Resulted {
                    return Err(Refusal::new(
                        409,
                        IssueCode::BusinessRule,
                        format!(
                            "tube `{barcode}` already has a result ({})",
                            tube.status.name()
                        ),
                    ));
                }
                self.apply(
                    Event::TubeRejected {
                        barcode: code.clone(),
                        lab: lab_id,
                        reason: reason.clone(),
                    },
                    format!("lab:{lab}"),
                    None,
                    batch,
                    out,
                );
            }
        }
        Ok(Accepted::New)
    }

    /// Asks the custody rule whether `lab` may make `claim` about a tube. A refusal
    /// of a known tube is journaled as `custody_disputed` (the dispatcher raises a
    /// custody-conflict alert for the coordinators) and answered 409 with the
    /// tube's actual state; an unknown tube is a 404.
    fn lab_may(
        &mut self,
        lab: &labflight_core::LabId,
        barcode: &TubeBarcode,
        claim: LabClaim,
        (source, digest): (String, Option<String>),
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
    ) -> Result<(), Refusal> {
        match check_lab_claim(self.dispatcher.state(), lab, barcode) {
            Ok(()) => Ok(()),
            Err(ClaimRefused::UnknownTube) => Err(Refusal::new(
                404,
                IssueCode::NotFound,
                format!("no tube with barcode `{barcode}`"),
            )
            .at("Specimen.identifier")),
            Err(ClaimRefused::NotYours { actual }) => {
                self.metrics.reject("custody_conflict");
                self.apply(
                    Event::CustodyDisputed {
                        lab: lab.clone(),
                        barcode: barcode.clone(),
                        claim: claim.name().to_owned(),
                    },
                    source,
                    digest,
                    batch,
                    out,
                );
                Err(Refusal::new(
                    409,
                    IssueCode::BusinessRule,
                    format!(
                        "lab {lab} may not mark tube `{barcode}` {}: {actual}; only the lab its box is delivered to or on its way to may",
                        claim.name()
                    ),
                )
                .at("Specimen.identifier"))
            }
        }
    }

    /// A delivered result is the centre having it: `result_reported`.
    fn delivered(&mut self, d: Delivered, batch: &mut Batch, out: &mut Vec<Outbound>) {
        if d.kind != "result" {
            return;
        }
        let barcode = TubeBarcode::new(d.barcode);
        let resulted = self
            .dispatcher
            .state()
            .tubes
            .get(&barcode)
            .is_some_and(|t| t.status == TubeStatus::Resulted);
        if resulted {
            self.apply(
                Event::ResultReported { barcode },
                "hooks".into(),
                None,
                batch,
                out,
            );
        }
    }

    /// Start-up reconciliation, after recovery: the worker records a delivery, then
    /// tells the core, which journals `result_reported`; a crash between the two
    /// leaves a delivered result whose tube is still only `Resulted`. Each such
    /// tube gets its `result_reported` now, once (a reported tube is skipped).
    /// Returns how many were applied.
    async fn reconcile_deliveries(&mut self) -> anyhow::Result<usize> {
        let mut batch = Batch::default();
        let mut out = Vec::new();
        for barcode in self.store.delivered_result_barcodes().await? {
            self.delivered(
                Delivered {
                    barcode,
                    kind: "result".into(),
                },
                &mut batch,
                &mut out,
            );
        }
        if batch.is_empty() {
            return Ok(0);
        }
        self.store.commit(&batch).await?;
        self.metrics.batches.inc();
        self.metrics.journal_seq.set(self.seq);
        for o in out {
            let _ = self.out.send(o);
        }
        let ids: Vec<String> = batch
            .commands
            .iter()
            .map(|c| c.command_id.clone())
            .collect();
        self.store.mark_published(&ids, self.last_at).await?;
        Ok(batch.events.len())
    }

    /// Queues a delivery to every active subscription covering `station`, in this
    /// batch (the same transaction as the event that owes it); `render` gives the
    /// body for a subscription and delivery id (none: nothing for that one).
    fn owe(
        &mut self,
        station: &labflight_core::StationId,
        barcode: &TubeBarcode,
        kind: &str,
        batch: &mut Batch,
        render: impl Fn(&Subscription, &str) -> Option<String>,
    ) {
        let group = self
            .world
            .stations
            .get(station)
            .map(|s| s.group.0.clone())
            .unwrap_or_default();
        for sub in self.subscriptions.iter().filter(|s| s.active) {
            let covers = sub.scope == "all"
                || sub.scope.strip_prefix("station:") == Some(station.as_str())
                || sub.scope.strip_prefix("group:") == Some(group.as_str());
            if !covers {
                continue;
            }
            // Several deliveries can come of one event: number them within it. This
            // event's are the batch's last items (seqs only grow within a batch).
            let idx = batch
                .outbox
                .iter()
                .rev()
                .take_while(|o| o.seq == self.seq)
                .count() as i64;
            let webhook_id = delivery::webhook_id(&self.run_id, self.seq, idx, &sub.id);
            let Some(body) = render(sub, &webhook_id) else {
                continue;
            };
            batch.outbox.push(OutboxItem {
                webhook_id,
                seq: self.seq,
                idx,
                subscription: sub.id.clone(),
                barcode: barcode.to_string(),
                kind: kind.to_owned(),
                body,
                status: "pending".into(),
                attempts: 0,
                next_attempt_at: self.last_at,
                created_at: self.last_at,
                delivered_at: None,
                last_status: None,
                last_error: None,
            });
        }
    }

    /// Keeps the dispatcher's state as of the last committed event, so a restart
    /// replays only what came after. A failure only costs restart time.
    async fn save_snapshot(&mut self) {
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
            Err(e) => tracing::warn!("snapshot after event {}: {e}", self.seq),
        }
    }

    /// The retained status: online, and the clock devices should follow.
    fn announce(&self) {
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

    fn publish_snapshot(&mut self) {
        self.last_snapshot = std::time::Instant::now();
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

fn mission_of(c: &Command) -> Option<String> {
    match c {
        Command::AssignMission(p) => Some(p.mission.to_string()),
        Command::AbortMission { mission, .. }
        | Command::AddToMission { mission, .. }
        | Command::Redirect { mission, .. } => Some(mission.to_string()),
        Command::RequestCourier(r) => Some(r.mission.to_string()),
        _ => None,
    }
}

fn tube_row(state: &State, barcode: &labflight_core::TubeBarcode) -> Option<TubeRow> {
    let t = state.tubes.get(barcode)?;
    let b = state.boxes.get(&t.box_id)?;
    let tube = b.tubes.iter().find(|x| &x.barcode == barcode)?;
    Some(TubeRow {
        barcode: barcode.to_string(),
        station: b.station.to_string(),
        box_id: b.id.to_string(),
        tube_type: tube.tube_type.0.clone(),
        drawn_at: tube.drawn_at,
        status: t.status.name().to_owned(),
    })
}

/// The boxes an event and its commands may have changed.
fn boxes_touched(
    state: &State,
    event: &Event,
    commands: &[Command],
    steps: &[labflight_core::CustodyStep],
) -> BTreeSet<labflight_core::BoxId> {
    let mut ids = BTreeSet::new();
    match event {
        Event::BoxSealed { box_id, .. } | Event::BoxReceived { box_id, .. } => {
            ids.insert(box_id.clone());
        }
        _ => {}
    }
    for s in steps {
        if let Some(t) = state.tubes.get(&s.barcode) {
            ids.insert(t.box_id.clone());
        }
    }
    let of_mission = |m: &labflight_core::MissionId| {
        state
            .missions
            .get(m)
            .map(|m| m.boxes.clone())
            .unwrap_or_default()
    };
    for c in commands {
        let named = match c {
            Command::AssignMission(p) => p.boxes.clone(),
            Command::AddToMission { boxes, .. } => boxes.clone(),
            Command::RequestCourier(r) => r.boxes.clone(),
            Command::AbortMission { mission, .. } | Command::Redirect { mission, .. } => {
                of_mission(mission)
            }
            _ => Vec::new(),
        };
        ids.extend(named);
    }
    ids
}

fn box_row(b: &labflight_dispatch::state::SpecimenBox) -> BoxRow {
    let lab = match &b.status {
        labflight_dispatch::state::BoxStatus::Delivered { lab } => Some(lab.to_string()),
        _ => None,
    };
    BoxRow {
        box_id: b.id.to_string(),
        station: b.station.to_string(),
        tubes: b.tubes.len() as i32,
        sealed_at: b.sealed_at,
        status: b.status.name().to_owned(),
        mission: b.status.mission().map(|m| m.to_string()),
        lab,
    }
}

fn mission_row(m: &labflight_dispatch::state::Mission) -> MissionRow {
    MissionRow {
        mission: m.id.to_string(),
        carrier: match &m.carrier {
            Carrier::Drone(d) => d.to_string(),
            Carrier::Courier(c) => c.to_string(),
        },
        station: m.station.to_string(),
        lab: m.lab.to_string(),
        status: format!("{:?}", m.status).to_lowercase(),
    }
}

/// Whether a subscription takes HL7 v2 over MLLP (`mllp://host:port`).
pub fn is_mllp(url: &str) -> bool {
    url.starts_with("mllp://")
}
