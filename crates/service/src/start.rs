//! Start-up: the live service comes up in phases, each a function below, in this
//! order: load the scenario, the store and its run (`load`); claim the
//! partition's lease (`ownership`; a standby waits here); recover the
//! dispatcher (`recovery`); reach the broker (`broker`) and start the MQTT tasks
//! (`spawn_mqtt`); re-send what the broker never acknowledged
//! (`resend_unacknowledged`); start result sharing (`start_sharing`), the core
//! actor (`start_core`) and the HTTP edge (`serve_http`). Configuration is checked
//! whole before anything starts.

use crate::actor::{Core, Setup};
use crate::clock::Clock;
use crate::delivery::{self, AllowList, Delivered, DeliveryOptions};
use crate::error::BadInput;
use crate::messages::{Inbound, Outbound};
use crate::mqtt_io::{BrokerLink, poll_mqtt, publish_out, record_pubacks, tick};
use crate::options::{ClockStart, Running, ServiceOptions};
use crate::ownership;
use crate::puback::PubackTracker;
use crate::recovery::{self, Recovered};
use crate::standby_view::StandbyView;
use anyhow::{Context, bail};
use chrono::{Duration, Utc};
use labflight_core::Scenario;
use labflight_dispatch::{PolicyKind, World};
use labflight_mqtt::{BrokerLogins, CommandEnvelope, MqttUrl, SERVICE_USER, Topic, TopicLayout};
use labflight_server::health::Liveness;
use labflight_server::replay::{ReplayCatalog, ReplayLoader};
use labflight_server::{AppState, Control, DashboardContext, Metrics, Snapshot, Supervisor};
use labflight_store::{RunMeta, Store, StoredCommand, Subscription};
use rumqttc::{AsyncClient, LastWill, QoS};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use tokio::sync::{mpsc, watch};

/// How many recent commands are re-sent after a restart on the embedded broker,
/// acknowledged or not (devices ignore repeats): the embedded broker keeps its
/// queues in memory, so what it acknowledged but had not yet delivered to an
/// offline device died with the last process. An external broker keeps them
/// (Mosquitto's persistence), so there only unacknowledged commands are re-sent.
const RESEND_TAIL_EMBEDDED: usize = 300;
/// Bound of the core's inbound queue (messages from the broker, ticks, the HTTP
/// edge's requests, delivery outcomes): four of the core's largest batches, so
/// the poll loop fills the next batches while one commits. When it is full the
/// poll loop waits (`mqtt_io::forward`) and the broker holds what comes next; at
/// telemetry size (about 300 bytes) it holds about 2.4 MB.
const INBOUND_QUEUE: usize = 8_000;
/// The service's MQTT client id, before the run it belongs to.
const SERVICE_CLIENT_ID: &str = "labflight-service";

/// Loads everything, recovers from the journal, connects, and starts the tasks.
/// `replays` reads a recorded run for the dashboard's replay.
pub async fn start(opts: ServiceOptions, replays: ReplayLoader) -> anyhow::Result<Running> {
    let Loaded {
        scenario,
        policy,
        allowed_hosts,
        store,
        meta,
        world,
        clock,
        partition,
        layout,
    } = load(&opts).await?;
    // What the dashboard calls the run: the scenario, and a city's partition.
    let shown_name = match &opts.partition {
        Some(p) => format!("{} · {p}", scenario.name),
        None => scenario.name.clone(),
    };
    let metrics = Arc::new(Metrics::new());
    let (in_tx, in_rx) = mpsc::channel::<Inbound>(INBOUND_QUEUE);
    let mut shared = Shared {
        supervisor: Supervisor::new(Arc::clone(&metrics)),
        store: store.clone(),
        clock,
        world: Arc::clone(&world),
        metrics,
        liveness: Arc::new(Liveness::default()),
        inbound: in_tx,
    };
    let (snapshot_tx, snapshot_rx) = watch::channel(None);
    let (control_tx, control_rx) = mpsc::channel::<Control>(1_000);
    let dashboard = Dashboard {
        snapshot: snapshot_rx,
        map_dir: scenario.map_dir(&opts.scenario),
        replays,
    };
    // A standby serves the dashboard and the read API from the start, from the
    // owner's journal it follows (writes refused until it owns the partition);
    // a lone service opens its HTTP edge once it runs.
    let mut dashboard = Some(dashboard);
    let mut http = None;
    let view = if opts.ownership.standby {
        shared
            .liveness
            .set_standby(Some(labflight_server::Following {
                partition: partition.clone(),
                owner: None,
                seq: 0,
                error: None,
            }));
        let edge = dashboard.take().expect("the dashboard is set up once");
        let at = serve_http(
            &shared,
            &opts,
            edge,
            control_tx.clone(),
            allowed_hosts.clone(),
        )
        .await?;
        println!("standby: dashboard (read-only until it takes over): http://{at}/");
        http = Some(at);
        Some(StandbyView {
            snapshot: &snapshot_tx,
            liveness: &shared.liveness,
            metrics: &shared.metrics,
            clock,
            scenario: &shown_name,
            policy: &opts.policy,
            published: Default::default(),
        })
    } else {
        None
    };
    // Nothing is recovered, read from the broker or sent before the lease is ours.
    let run = ownership::Run {
        world: &world,
        policy,
        meta: &meta,
    };
    let (lease, warm) =
        ownership::claim(&store, &partition, &opts.ownership, run, view.as_ref()).await?;
    println!(
        "owner: partition `{}` epoch {} ({})",
        lease.partition, lease.epoch, lease.owner
    );
    let store = store.fenced(&lease);
    shared.store = store.clone();
    let Recovered {
        dispatcher,
        stored,
        seen,
        last_seq,
        last_at,
    } = recovery::recover(&store, &world, (policy, &meta), &opts.database_url, warm).await?;
    let (mqtt, broker_logins) = broker(&opts)?;
    let service_url = match &broker_logins {
        Some(l) => mqtt.with_credentials(SERVICE_USER, &l.service_password),
        None => mqtt.clone(),
    };
    shared.metrics.journal_seq.set(last_seq);
    shared.supervisor.spawn_vital(
        "lease",
        ownership::keep(
            store.clone(),
            lease.clone(),
            opts.ownership.clone(),
            Arc::clone(&shared.metrics),
        ),
    );
    // One persistent session per stored run (and city partition): a restart picks
    // up what the broker kept for it; a fresh database starts a fresh session.
    let client_id = match &opts.partition {
        Some(p) => format!("{SERVICE_CLIENT_ID}-{p}-{}", meta.wall_epoch_ms),
        None => format!("{SERVICE_CLIENT_ID}-{}", meta.wall_epoch_ms),
    };
    let out = spawn_mqtt(&shared, &service_url, &layout, &client_id);
    resend_unacknowledged(&stored, broker_logins.is_some(), lease.epoch, &out);
    let fence = (lease.partition.clone(), lease.epoch);
    let subscriptions = start_sharing(&shared, &opts, &allowed_hosts, fence, control_rx).await?;
    let core = Core::new(Setup {
        run_id: format!("R{:x}", meta.wall_epoch_ms),
        scenario_name: shown_name.clone(),
        policy: opts.policy.clone(),
        world: Arc::clone(&world),
        dispatcher,
        store: store.clone(),
        clock,
        seq: last_seq,
        last_at,
        seen,
        subscriptions,
        metrics: Arc::clone(&shared.metrics),
        out,
        liveness: Arc::clone(&shared.liveness),
        snapshot: snapshot_tx,
        snapshot_every: opts.snapshot_every,
        lease: lease.clone(),
    });
    start_core(&shared, core, in_rx).await?;
    let http = match (http, dashboard) {
        (Some(at), _) => at,
        (None, Some(edge)) => serve_http(&shared, &opts, edge, control_tx, allowed_hosts).await?,
        (None, None) => unreachable!("the HTTP edge is either started or still to start"),
    };
    // The core runs: a former standby's edge now takes writes too.
    shared.liveness.set_standby(None);
    Ok(Running {
        http,
        mqtt,
        store,
        broker_logins,
        lease,
    })
}

/// What start-up reads before anything runs.
struct Loaded {
    /// Dated for this run (production: the day the run started).
    scenario: Scenario,
    policy: PolicyKind,
    /// Where result hooks may go.
    allowed_hosts: AllowList,
    store: Store,
    /// The run the store holds (made now for a fresh store).
    meta: RunMeta,
    world: Arc<World>,
    clock: Clock,
    /// The partition's name: the scenario's, or its medical group's.
    partition: String,
    /// Where the partition's topics live on the broker.
    layout: TopicLayout,
}

/// What the running tasks share.
struct Shared {
    supervisor: Supervisor,
    store: Store,
    clock: Clock,
    world: Arc<World>,
    metrics: Arc<Metrics>,
    liveness: Arc<Liveness>,
    /// Into the core actor.
    inbound: mpsc::Sender<Inbound>,
}

/// What the dashboard is served from, beside the shared parts.
struct Dashboard {
    snapshot: watch::Receiver<Option<Snapshot>>,
    map_dir: PathBuf,
    replays: ReplayLoader,
}

/// Loads the scenario, checks the policy and the hook settings, opens the store and
/// its run (a stored run must be of this scenario and policy), and builds the world
/// and the service clock.
async fn load(opts: &ServiceOptions) -> anyhow::Result<Loaded> {
    let mut scenario = Scenario::load_with_overrides(&opts.scenario, &opts.overrides)?;
    let policy = opts
        .policy
        .parse::<PolicyKind>()
        .map_err(|e| BadInput(format!("--policy: {e}")))?;
    // Configuration is checked whole before anything starts.
    let allowed_hosts = AllowList::parse(&opts.hooks.allowed_hosts).map_err(BadInput)?;
    for sub in &opts.hooks.subscriptions {
        allowed_hosts.check(&sub.url).map_err(BadInput)?;
    }
    // A city partition is checked before its schema is made.
    let map = labflight_geo::MapData::load(&scenario.map_dir(&opts.scenario))?;
    let group = match &opts.partition {
        Some(g) => Some(crate::partitions::check_group(&scenario, &map, g)?),
        None => None,
    };
    let partition = group
        .as_ref()
        .map_or_else(|| scenario.name.clone(), |g| g.as_str().to_owned());
    let layout = TopicLayout::parse(&opts.topic_layout, &partition)
        .map_err(|e| BadInput(format!("topic_layout: {e}")))?;
    if group.is_some() && layout == TopicLayout::District {
        bail!(BadInput(format!(
            "partition `{partition}`: a city partition needs topic_layout = \"partitioned\" (each partition's devices and service status on its own topics)"
        )));
    }
    let store = Store::open_partition(&opts.database_url, opts.partition.as_deref()).await?;
    let meta = run_meta(&store, &scenario, opts).await?;
    if opts.clock == ClockStart::Wall {
        scenario.date = meta
            .started_at
            .with_timezone(&scenario.offset())
            .date_naive();
    }
    let world = Arc::new(match &group {
        Some(g) => World::partition_from_map_alone(&scenario, &map, g),
        None => World::from_map(&scenario, &map),
    });
    let clock = Clock {
        wall_epoch_ms: meta.wall_epoch_ms,
        start: meta.started_at,
        speed: meta.speed,
    };
    Ok(Loaded {
        scenario,
        policy,
        allowed_hosts,
        store,
        meta,
        world,
        clock,
        partition,
        layout,
    })
}

/// The run the store holds, or a new one starting now (its clock as asked).
async fn run_meta(
    store: &Store,
    scenario: &Scenario,
    opts: &ServiceOptions,
) -> anyhow::Result<RunMeta> {
    Ok(match store.run_meta().await? {
        Some(meta) => {
            if meta.scenario != scenario.name || meta.policy != opts.policy {
                bail!(BadInput(format!(
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
    })
}

/// The broker: embedded unless one is configured. The embedded one admits only
/// the logins made for it now: the service's, and the devices' (from a key).
fn broker(opts: &ServiceOptions) -> anyhow::Result<(MqttUrl, Option<BrokerLogins>)> {
    Ok(match &opts.mqtt {
        Some(url) => (url.clone(), None),
        None => {
            let logins = BrokerLogins::generate();
            let addr = labflight_mqtt::start_embedded(
                SocketAddr::from(([127, 0, 0, 1], opts.mqtt_port)),
                &logins,
            )
            .map_err(anyhow::Error::msg)?;
            let url = MqttUrl::parse(&format!("mqtt://{addr}")).map_err(anyhow::Error::msg)?;
            (url, Some(logins))
        }
    })
}

/// Connects the service to the broker at `url` and starts the MQTT tasks: the
/// poll loop, the publisher, the PUBACK recorder and the dispatcher's timer.
/// Returns where the core sends what goes out.
fn spawn_mqtt(
    shared: &Shared,
    url: &MqttUrl,
    layout: &TopicLayout,
    client_id: &str,
) -> mpsc::UnboundedSender<Outbound> {
    let (out_tx, out_rx) = mpsc::unbounded_channel::<Outbound>();
    let mut options = url.options(client_id, true);
    options.set_manual_acks(true);
    // One will only: on the district topic while migrating (`both`).
    let status_topic = layout.outgoing(&Topic::ServiceStatus.to_string()).remove(0);
    options.set_last_will(LastWill::new(
        status_topic,
        serde_json::json!({"state": "offline"}).to_string(),
        QoS::AtLeastOnce,
        true,
    ));
    let (client, eventloop) = AsyncClient::new(options, 1_000);
    let connected = Arc::clone(&shared.liveness.broker_connected);
    let pubacks = Arc::new(Mutex::new(PubackTracker::default()));
    let (acked_tx, acked_rx) = mpsc::unbounded_channel::<String>();
    let supervisor = &shared.supervisor;
    supervisor.spawn_vital(
        "mqtt_poll",
        poll_mqtt(
            BrokerLink {
                eventloop,
                rotation: labflight_mqtt::NodeRotation::new(url),
                layout: layout.clone(),
            },
            client.clone(),
            shared.inbound.clone(),
            Arc::clone(&shared.metrics),
            Arc::clone(&connected),
            (Arc::clone(&pubacks), acked_tx),
            shared.clock,
        ),
    );
    supervisor.spawn_vital(
        "mqtt_publish",
        publish_out(client, out_rx, Arc::clone(&pubacks), layout.clone()),
    );
    supervisor.spawn_vital(
        "puback_record",
        record_pubacks(
            shared.store.clone(),
            shared.clock,
            acked_rx,
            pubacks,
            Arc::clone(&shared.metrics),
        ),
    );
    let tick_tx = shared.inbound.clone();
    let tick_minutes = shared.world.params.tick_minutes;
    let clock = shared.clock;
    supervisor.spawn_restarting("tick", move || {
        tick(clock, tick_minutes, tick_tx.clone(), Arc::clone(&connected))
    });
    out_tx
}

/// Re-sends, under their original ids, every command the broker never
/// acknowledged, however old (and on the embedded broker the recent tail too),
/// stamped with this owner's `epoch` (devices drop older epochs than they have
/// seen). Each is marked published when its PUBACK arrives.
fn resend_unacknowledged(
    stored: &[StoredCommand],
    embedded: bool,
    epoch: i64,
    out: &mpsc::UnboundedSender<Outbound>,
) {
    let tail = if embedded { RESEND_TAIL_EMBEDDED } else { 0 };
    let tail_from = stored.len().saturating_sub(tail);
    for (i, c) in stored.iter().enumerate() {
        if i >= tail_from || !c.published {
            let payload = match serde_json::from_str::<CommandEnvelope>(&c.body) {
                Ok(mut envelope) => {
                    if let Some(f) = &mut envelope.fence {
                        f.epoch = epoch;
                    }
                    serde_json::to_string(&envelope).expect("commands serialize")
                }
                Err(_) => c.body.clone(),
            };
            let _ = out.send(Outbound::Publish {
                topic: c.topic.clone(),
                payload: payload.into_bytes(),
                retain: false,
                command_id: Some(c.command_id.clone()),
            });
        }
    }
}

/// Result sharing: stores the configured subscriptions and starts the delivery
/// worker and the channels that carry deliveries and the HTTP edge's requests
/// (`control`) to the core. Returns the subscriptions.
async fn start_sharing(
    shared: &Shared,
    opts: &ServiceOptions,
    allowed_hosts: &AllowList,
    fence: (String, i64),
    mut control_rx: mpsc::Receiver<Control>,
) -> anyhow::Result<Vec<Subscription>> {
    let clock = shared.clock;
    for sub in &opts.hooks.subscriptions {
        shared.store.add_subscription(sub, clock.now()).await?;
    }
    let subscriptions = shared.store.subscriptions().await?;
    let (delivered_tx, mut delivered_rx) = mpsc::channel::<Delivered>(1_000);
    let delivery_store = shared.store.clone();
    let delivery_options = DeliveryOptions {
        allowed_hosts: allowed_hosts.clone(),
        metrics: Arc::clone(&shared.metrics),
        fence,
    };
    shared.supervisor.spawn_restarting("delivery", move || {
        delivery::run(
            delivery_store.clone(),
            clock,
            delivery_options.clone(),
            delivered_tx.clone(),
        )
    });
    let forward = shared.inbound.clone();
    shared
        .supervisor
        .spawn_vital("delivered_forward", async move {
            while let Some(d) = delivered_rx.recv().await {
                if forward.send(Inbound::Delivered(d)).await.is_err() {
                    return;
                }
            }
        });
    let forward = shared.inbound.clone();
    shared
        .supervisor
        .spawn_vital("control_forward", async move {
            while let Some(c) = control_rx.recv().await {
                if forward.send(Inbound::Control(c)).await.is_err() {
                    return;
                }
            }
        });
    Ok(subscriptions)
}

/// Reconciles delivered results, announces the service, and starts the core actor
/// on `inbound`.
async fn start_core(
    shared: &Shared,
    mut core: Core,
    inbound: mpsc::Receiver<Inbound>,
) -> anyhow::Result<()> {
    let reconciled = core.reconcile_deliveries().await?;
    if reconciled > 0 {
        println!("reconciled {reconciled} delivered results without their result_reported");
    }
    core.announce();
    core.publish_snapshot();
    shared.supervisor.spawn_vital("core", core.run(inbound));
    Ok(())
}

/// The HTTP edge: the API, the dashboard and its live feed, the health check.
/// Returns the address it listens on.
async fn serve_http(
    shared: &Shared,
    opts: &ServiceOptions,
    dashboard: Dashboard,
    control: mpsc::Sender<Control>,
    allowed_hosts: AllowList,
) -> anyhow::Result<SocketAddr> {
    let supervisor = &shared.supervisor;
    let state = AppState {
        store: shared.store.clone(),
        metrics: Arc::clone(&shared.metrics),
        snapshot: dashboard.snapshot,
        control: Some(control),
        lab_tokens: Arc::new(opts.hooks.lab_tokens.clone()),
        admin_token: opts.hooks.admin_token.clone(),
        hook_url_check: Arc::new(move |url: &str| allowed_hosts.check(url)),
        dashboard: Some(Arc::new(
            DashboardContext::new(
                Arc::clone(&shared.world),
                dashboard.map_dir,
                ReplayCatalog::new(opts.runs_dir.clone(), dashboard.replays),
            )
            .map_err(BadInput)?,
        )),
        feed: Arc::new(watch::channel(None).0),
        liveness: Arc::clone(&shared.liveness),
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
    Ok(http)
}
