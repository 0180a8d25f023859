//! `labflight devices`: the simulator's world — drones, smart boxes, centres,
//! vans, lab systems and a weather station — as real MQTT clients, one connection
//! per device with its own client id and credentials. It follows the service's
//! clock (read from the retained `service/status`), publishes what each device
//! would report, and acts out the commands the devices receive.

use crate::clock::Clock;
use crate::error::BadInput;
use anyhow::{Context, bail};
use labflight_core::event::DroneState;
use labflight_core::scenario::PartitionBy;
use labflight_core::{Event, Scenario, Stamped, TubeBarcode};
use labflight_dispatch::World;
use labflight_hooks::fhir::{FHIR_JSON, LAB_SYSTEM, LOINC_SYSTEM, TUBE_SYSTEM, UCUM_SYSTEM};
use labflight_mqtt::{CommandEnvelope, Encoding, MqttUrl, Topic, TopicLayout, encode};
use labflight_sim::engine::Engine;
use rumqttc::{AsyncClient, Event as MqttEvent, LastWill, Packet, QoS};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// How often a drone on the ground reports, in simulated minutes.
const HEARTBEAT_MINUTES: i64 = 5;

/// Where the simulated labs post results (the HTTP results API) and with which
/// bearer token each lab signs in.
#[derive(Clone, Debug)]
pub struct ResultsApi {
    /// The service's HTTP base URLs, e.g. `http://127.0.0.1:8080`: one per
    /// `serve` process that may own the partition; a post that finds one away
    /// tries the next.
    pub bases: Vec<String>,
    /// Lab id → token.
    pub tokens: HashMap<String, String>,
}

/// How the simulated devices run.
#[derive(Clone, Debug)]
pub struct DevicesOptions {
    /// The broker the devices log in to.
    pub mqtt: MqttUrl,
    /// Labs post results over HTTP as FHIR (and the hooks report them); without
    /// it they publish `tube_resulted` / `result_reported` on MQTT.
    pub results: Option<ResultsApi>,
    /// The scenario whose world the devices act out (dated to the service's day).
    pub scenario: std::path::PathBuf,
    /// Scenario overrides, `key=value`.
    pub overrides: Vec<(String, String)>,
    /// The simulation's seed (demand, lab values).
    pub seed: u64,
    /// Password every device logs in with (brokers with a password file).
    pub device_password: Option<String>,
    /// The embedded broker's device key (64 hex digits): each device logs in with
    /// its own password derived from it. Takes precedence over `device_password`.
    pub device_key: Option<String>,
    /// Give up if the day is not done after this much wall time.
    pub max_wall: Duration,
    /// No progress bar.
    pub quiet: bool,
    /// The topics the devices use: `district` (today's) or `partitioned` (their
    /// partition's subtree, `labflight/v1/p/{partition}/…`).
    pub topic_layout: String,
    /// Their partition: in a city scenario the medical group whose world they act
    /// out; in the partitioned layout the subtree they use (default: the
    /// scenario's name, the partition a district service owns).
    pub partition: Option<String>,
}

/// How the simulated day went, as the devices saw it.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct DevicesReport {
    /// Tubes drawn during the day.
    pub tubes_drawn: usize,
    /// Tubes not resolved when the devices stopped.
    pub tubes_left: usize,
    /// Messages the devices published.
    pub published: u64,
    /// Commands of this service run acted on.
    pub commands_received: u64,
    /// Commands received again (a redelivery), ignored.
    pub duplicate_commands: u64,
    /// Commands of another service run (left on a shared broker), ignored.
    pub stale_commands: u64,
    /// Commands of a deposed partition owner (an epoch older than one the device
    /// already obeyed), ignored.
    pub fenced_commands: u64,
    /// Lab reports posted to the results API.
    pub results_posted: u64,
    /// Device connections made.
    pub connections: usize,
    /// Device subscriptions the broker refused (each made again).
    pub subscriptions_refused: u64,
}

/// How devices log in: username = device id, and a password of their own.
#[derive(Clone, Debug)]
enum Logins {
    /// One password for all (a broker's password file holding each id with it).
    Shared(Option<String>),
    /// Each device's own, derived from the embedded broker's device key.
    DeviceKey(String),
}

impl Logins {
    fn of(opts: &DevicesOptions) -> anyhow::Result<Logins> {
        Ok(match &opts.device_key {
            Some(key) => {
                labflight_mqtt::device_password_from_key(key, "check")
                    .map_err(|e| BadInput(format!("--device-key: {e}")))?;
                Logins::DeviceKey(key.clone())
            }
            None => Logins::Shared(opts.device_password.clone()),
        })
    }

    /// The broker URL as device `id` logs in.
    fn url(&self, mqtt: &MqttUrl, id: &str) -> MqttUrl {
        let password = match self {
            Logins::Shared(p) => p.clone().unwrap_or_default(),
            Logins::DeviceKey(key) => {
                labflight_mqtt::device_password_from_key(key, id).unwrap_or_default()
            }
        };
        mqtt.with_credentials(id, &password)
    }
}

struct Fleet {
    mqtt: MqttUrl,
    logins: Logins,
    layout: TopicLayout,
    clients: HashMap<String, AsyncClient>,
    commands: mpsc::UnboundedSender<(String, Vec<u8>)>,
    /// Subscriptions the broker refused (each made again).
    subscriptions_refused: Arc<std::sync::atomic::AtomicU64>,
    /// Devices whose command topic the broker has confirmed (SUBACK), and how
    /// many listen: a command published before a device's subscription exists
    /// is lost to it (on a clustered broker making one takes seconds).
    listening: Arc<std::sync::atomic::AtomicUsize>,
    listeners: usize,
}

impl Fleet {
    /// Waits (at most `within`) until every device that listens has its
    /// subscription confirmed by the broker; an error names how many have not.
    async fn wait_until_listening(&self, within: Duration) -> anyhow::Result<()> {
        let started = std::time::Instant::now();
        loop {
            let listening = self.listening.load(std::sync::atomic::Ordering::Relaxed);
            if listening >= self.listeners {
                let took = started.elapsed();
                if took > Duration::from_secs(2) {
                    tracing::warn!(
                        "the broker took {took:.1?} to confirm {listening} devices' command subscriptions"
                    );
                }
                return Ok(());
            }
            if started.elapsed() > within {
                bail!(
                    "only {listening} of {} devices' command subscriptions were confirmed by the broker at {} within {within:?}",
                    self.listeners,
                    self.mqtt
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The connection of device `id`, made on first use; `listen` is its command topic.
    fn client(&mut self, id: &str, listen: Option<Topic>, will: Option<Topic>) -> AsyncClient {
        if let Some(c) = self.clients.get(id) {
            return c.clone();
        }
        let url = self.logins.url(&self.mqtt, id);
        let mut rotation = labflight_mqtt::NodeRotation::new(&url);
        let mut options = url.options(id, true);
        let on_layout = |t: Topic| self.layout.device_topic(&t.to_string());
        let birth = will.map(on_layout);
        if let Some(t) = &birth {
            let offline = serde_json::json!({"state": "offline"}).to_string();
            options.set_last_will(LastWill::new(t.clone(), offline, QoS::AtLeastOnce, true));
        }
        let (client, mut eventloop) = AsyncClient::new(options, 500);
        let tx = self.commands.clone();
        let sub = client.clone();
        let listen = listen.map(on_layout);
        let refused = Arc::clone(&self.subscriptions_refused);
        let listening = Arc::clone(&self.listening);
        let mut confirmed = false;
        if listen.is_some() {
            self.listeners += 1;
        }
        let device = id.to_owned();
        tokio::spawn(async move {
            loop {
                match eventloop.poll().await {
                    Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                        if tx.send((p.topic.clone(), p.payload.to_vec())).is_err() {
                            return;
                        }
                    }
                    Ok(MqttEvent::Incoming(Packet::SubAck(ack)))
                        if labflight_mqtt::subscription_refused(&ack) =>
                    {
                        // A device that stopped listening would miss its commands.
                        refused.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        tracing::warn!(
                            "the broker refused device {device}'s subscription; subscribing again in 500 ms"
                        );
                        if let Some(t) = listen.clone() {
                            let sub = sub.clone();
                            tokio::spawn(async move {
                                tokio::time::sleep(Duration::from_millis(500)).await;
                                let _ = sub.subscribe(t, QoS::AtLeastOnce).await;
                            });
                        }
                    }
                    Ok(MqttEvent::Incoming(Packet::SubAck(_))) => {
                        if listen.is_some() && !std::mem::replace(&mut confirmed, true) {
                            listening.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                    }
                    Ok(MqttEvent::Incoming(Packet::ConnAck(_))) => {
                        // On every (re)connect: listen again, and a device with a
                        // last will says it is back (its birth message).
                        let (sub, listen, birth) = (sub.clone(), listen.clone(), birth.clone());
                        tokio::spawn(async move {
                            if let Some(t) = listen {
                                let _ = sub.subscribe(t, QoS::AtLeastOnce).await;
                            }
                            if let Some(t) = birth {
                                let online = serde_json::json!({"state": "online"}).to_string();
                                let _ = sub.publish(t, QoS::AtLeastOnce, true, online).await;
                            }
                        });
                    }
                    Ok(_) => {}
                    Err(rumqttc::ConnectionError::RequestsDone) => return,
                    Err(e) => {
                        tracing::debug!("device connection: {e}");
                        rotation.after_error(&mut eventloop);
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                }
            }
        });
        self.clients.insert(id.to_owned(), client.clone());
        client
    }
}

/// Waits for the service's retained status; returns its clock and run id.
async fn service_clock(
    mqtt: &MqttUrl,
    logins: &Logins,
    layout: &TopicLayout,
) -> anyhow::Result<(Clock, String)> {
    // One login for the simulator itself (a password file needs a fixed name;
    // the embedded broker wants client id = username); a city partition's
    // simulator has its own (`labflight-devices-LH-PH`), so the simulators of
    // several partitions on one broker do not take each other's session.
    let id = match layout {
        TopicLayout::Partitioned(p) => format!("labflight-devices-{p}"),
        _ => "labflight-devices".to_owned(),
    };
    let id = id.as_str();
    let url = logins.url(mqtt, id);
    let mut rotation = labflight_mqtt::NodeRotation::new(&url);
    let (client, mut eventloop) = AsyncClient::new(url.options(id, false), 10);
    client
        .subscribe(
            layout.device_topic(&Topic::ServiceStatus.to_string()),
            QoS::AtLeastOnce,
        )
        .await?;
    let found = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match eventloop.poll().await {
                Ok(MqttEvent::Incoming(Packet::Publish(p))) => {
                    let v: serde_json::Value =
                        serde_json::from_slice(&p.payload).unwrap_or_default();
                    if v["state"] == "online"
                        && let Ok(clock) = serde_json::from_value::<Clock>(v["clock"].clone())
                        && let Some(run) = v["run"].as_str()
                    {
                        return Ok((clock, run.to_owned()));
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!("waiting for the service: {e}");
                    rotation.after_error(&mut eventloop);
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    })
    .await;
    let _ = client.disconnect().await;
    match found {
        Ok(r) => r,
        Err(_) => bail!(
            "no labflight service status on {mqtt} within 60 s (is `labflight serve` running? Against its embedded broker, pass the `mqtt device key` it printed with --device-key)"
        ),
    }
}

/// The devices' topic layout: one of them (a device does not migrate halfway).
fn device_layout(opts: &DevicesOptions, scenario: &str) -> anyhow::Result<TopicLayout> {
    let partition = opts.partition.as_deref().unwrap_or(scenario);
    match TopicLayout::parse(&opts.topic_layout, partition) {
        Ok(TopicLayout::Both(_)) => Err(BadInput(
            "--topic-layout both: a device uses one layout, `district` or `partitioned` (`both` is the service's, while its devices move)".into(),
        )
        .into()),
        Ok(layout) => Ok(layout),
        Err(e) => Err(BadInput(format!("--topic-layout: {e}")).into()),
    }
}

/// Runs the simulated devices until every tube drawn today is resolved.
pub async fn run(opts: DevicesOptions) -> anyhow::Result<DevicesReport> {
    let mut scenario = Scenario::load_with_overrides(&opts.scenario, &opts.overrides)?;
    let logins = Logins::of(&opts)?;
    let layout = device_layout(&opts, &scenario.name)?;
    let (clock, run) = service_clock(&opts.mqtt, &logins, &layout).await?;
    let run_prefix = format!("{run}-");
    // The devices live on the service's day.
    scenario.date = clock.start.with_timezone(&scenario.offset()).date_naive();
    let map = labflight_geo::MapData::load(&scenario.map_dir(&opts.scenario))?;
    // A city partition's devices act out that medical group's world only.
    let world = Arc::new(match &opts.partition {
        Some(g) if scenario.dispatch.partition_by == PartitionBy::Group => {
            let group = crate::partitions::check_group(&scenario, &map, g)?;
            World::partition_from_map_alone(&scenario, &map, &group)
        }
        _ => World::from_map(&scenario, &map),
    });
    let mut engine = Engine::detached(&scenario, Arc::clone(&world), opts.seed);
    let drawn = engine.tubes_left();
    let (cmd_tx, mut cmd_rx) = mpsc::unbounded_channel();
    let mut fleet = Fleet {
        mqtt: opts.mqtt.clone(),
        logins,
        layout: layout.clone(),
        clients: HashMap::new(),
        commands: cmd_tx,
        subscriptions_refused: Arc::default(),
        listening: Arc::default(),
        listeners: 0,
    };
    for d in &world.drones {
        fleet.client(
            d.id.as_str(),
            Some(Topic::DroneCmd(d.id.clone())),
            Some(Topic::DroneStatus(d.id.clone())),
        );
    }
    for s in world.stations.keys() {
        fleet.client(s.as_str(), Some(Topic::StationCmd(s.clone())), None);
    }
    for c in &world.couriers {
        fleet.client(c.id.as_str(), Some(Topic::CourierCmd(c.id.clone())), None);
    }
    fleet.wait_until_listening(Duration::from_secs(120)).await?;
    let mut report = DevicesReport {
        tubes_drawn: drawn,
        ..Default::default()
    };
    let mut seen_commands = HashSet::new();
    let mut newest_epoch: HashMap<(String, String), i64> = HashMap::new();
    // Which lab resulted each tube: its `result_reported` is that lab's to send.
    let mut result_lab: BTreeMap<TubeBarcode, labflight_core::LabId> = BTreeMap::new();
    let encoding = Encoding {
        offset: world.offset,
        cruise_airspeed_mps: world.drone_spec.cruise_airspeed_mps,
    };
    let wall_start = std::time::Instant::now();
    let bar = (!opts.quiet).then(|| {
        let bar = indicatif::ProgressBar::new(drawn as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "devices [{bar:40}] {pos}/{len} tubes resolved {elapsed}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        bar
    });
    // The engine's clock may be ahead of the service's at first: wait for it.
    let mut last_progress = 0usize;
    let mut next_heartbeat = engine.now();
    let mut tests: BTreeMap<TubeBarcode, Vec<labflight_core::LoincCode>> = BTreeMap::new();
    let mut values = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(opts.seed);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let mut report_posts = 0u64;
    let mut posts = Vec::new();
    loop {
        let now = clock.now();
        if now >= engine.now() {
            engine.advance_to(now);
        }
        let mut outbox = engine.take_outbox();
        // Drones standing on a pad say they are alive now and then (a heartbeat).
        if engine.now() >= next_heartbeat {
            next_heartbeat = engine.now() + chrono::Duration::minutes(HEARTBEAT_MINUTES);
            for (drone, position, battery_pct, flying) in engine.drone_positions() {
                if !flying {
                    outbox.push(Stamped {
                        at: engine.now(),
                        event: Event::DroneTelemetry {
                            drone,
                            position,
                            alt_m: 0.0,
                            battery_pct: (battery_pct * 10.0).round() / 10.0,
                            state: DroneState::Idle,
                        },
                    });
                }
            }
        }
        for stamped in outbox {
            if let Event::BoxSealed { tubes, .. } = &stamped.event {
                for t in tubes {
                    tests.insert(t.barcode.clone(), t.tests.clone());
                }
            }
            if let Some(api) = &opts.results {
                let post = |path: &str, lab: &labflight_core::LabId, kind, body| LabPost {
                    urls: api.bases.iter().map(|b| format!("{b}{path}")).collect(),
                    token: api.tokens.get(lab.as_str()).cloned().unwrap_or_default(),
                    content_type: kind,
                    body,
                };
                match &stamped.event {
                    Event::TubeResulted { barcode, lab } => {
                        let report = lab_report(barcode, lab, tests.get(barcode), &mut values);
                        let p = post("/api/v1/lab/results", lab, FHIR_JSON, report.to_string());
                        posts.push(tokio::spawn(p.send(http.clone())));
                        report_posts += 1;
                        continue;
                    }
                    // Refused at reception: over the API too, so a refusal that
                    // comes before labflight has the tube received is sent again.
                    Event::TubeRejected {
                        barcode,
                        lab,
                        reason,
                    } => {
                        let path = format!("/api/v1/lab/tubes/{barcode}/rejected");
                        let body = serde_json::json!({ "reason": reason }).to_string();
                        let p = post(&path, lab, "application/json", body);
                        posts.push(tokio::spawn(p.send(http.clone())));
                        continue;
                    }
                    // The centre has the result when the hook delivers it.
                    Event::ResultReported { .. } => continue,
                    _ => {}
                }
            }
            let lab = match &stamped.event {
                Event::TubeResulted { barcode, lab } => {
                    result_lab.insert(barcode.clone(), lab.clone());
                    None
                }
                Event::ResultReported { barcode } => result_lab.get(barcode),
                _ => None,
            };
            if let Some(m) = encode(&stamped, &encoding, lab) {
                tracing::debug!(target: "labflight::devices", "publish {}", m.topic);
                let client = fleet.client(&m.device, m.listen, None);
                client
                    .publish(
                        layout.device_topic(&m.topic.to_string()),
                        m.qos,
                        m.retain,
                        m.payload,
                    )
                    .await
                    .context("device MQTT queue closed")?;
                report.published += 1;
            }
        }
        while let Ok((topic, body)) = cmd_rx.try_recv() {
            let Ok(env) = serde_json::from_slice::<CommandEnvelope>(&body) else {
                tracing::warn!("device got an unreadable command on {topic}");
                continue;
            };
            if !env.command_id.starts_with(&run_prefix) {
                report.stale_commands += 1;
                continue;
            }
            if let Some(f) = &env.fence {
                // Each device keeps the newest epoch it obeyed per partition.
                let newest = newest_epoch
                    .entry((topic.clone(), f.partition.clone()))
                    .or_insert(f.epoch);
                if f.epoch < *newest {
                    report.fenced_commands += 1;
                    tracing::warn!(
                        "device on {topic} ignored command {} of partition `{}` epoch {} (it obeys epoch {})",
                        env.command_id,
                        f.partition,
                        f.epoch,
                        *newest
                    );
                    continue;
                }
                *newest = f.epoch;
            }
            if !seen_commands.insert(env.command_id.clone()) {
                report.duplicate_commands += 1;
                continue;
            }
            report.commands_received += 1;
            engine.command(clock.now().max(engine.now()), &env.command);
        }
        let done = drawn - engine.tubes_left();
        if let Some(b) = &bar
            && done != last_progress
        {
            b.set_position(done as u64);
            last_progress = done;
        }
        if engine.tubes_left() == 0 || engine.next_at().is_none() {
            break;
        }
        if wall_start.elapsed() > opts.max_wall {
            bail!(
                "the simulated day did not finish within {:?} of wall time: {} of {drawn} tubes unresolved",
                opts.max_wall,
                engine.tubes_left()
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if let Some(b) = bar {
        b.finish();
    }
    // Every lab report is in (each post retries, bounded).
    for p in posts {
        let _ = p.await;
    }
    // Let the last QoS 1 messages leave before the connections close.
    tokio::time::sleep(Duration::from_millis(500)).await;
    report.tubes_left = engine.tubes_left();
    report.results_posted = report_posts;
    report.connections = fleet.clients.len();
    report.subscriptions_refused = fleet
        .subscriptions_refused
        .load(std::sync::atomic::Ordering::Relaxed);
    for c in fleet.clients.values() {
        let _ = c.try_disconnect();
    }
    Ok(report)
}

/// A lab's FHIR R4 DiagnosticReport for one tube: contained Specimen (the barcode)
/// and one Observation per test, values drawn around the reference range (about
/// one in eight outside it).
fn lab_report(
    barcode: &TubeBarcode,
    lab: &labflight_core::LabId,
    tests: Option<&Vec<labflight_core::LoincCode>>,
    rng: &mut rand_chacha::ChaCha8Rng,
) -> serde_json::Value {
    use rand::Rng;
    let mut contained = vec![serde_json::json!({
        "resourceType": "Specimen",
        "id": "specimen",
        "identifier": [{"system": TUBE_SYSTEM, "value": barcode.as_str()}]
    })];
    let mut results = Vec::new();
    // A panel is reported as its member tests.
    fn members(code: &str) -> Vec<&str> {
        match code {
            "58410-2" => vec!["718-7", "6690-2", "777-3"],
            "24323-8" => vec!["14749-6", "14682-9", "2823-3", "2951-2"],
            "57698-3" => vec!["14647-2"],
            "5902-2" => vec!["5902-2", "6301-6"],
            other => vec![other],
        }
    }
    let codes: Vec<&str> = tests
        .into_iter()
        .flatten()
        .flat_map(|c| members(c.0.as_str()))
        .collect();
    for (i, code) in codes.into_iter().enumerate() {
        let Some((display, unit, low, high)) = labflight_hooks::fhir::normal_ranges(code) else {
            continue;
        };
        let span = high - low;
        let value = low + span * rng.random_range(-0.15..1.15);
        let value = (value.max(low * 0.2) * 100.0).round() / 100.0;
        let id = format!("obs{i}");
        contained.push(serde_json::json!({
            "resourceType": "Observation",
            "id": id,
            "status": "final",
            "code": {"coding": [{"system": LOINC_SYSTEM, "code": code, "display": display}]},
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM_SYSTEM, "code": unit},
            "referenceRange": [{
                "low": {"value": low, "unit": unit, "system": UCUM_SYSTEM, "code": unit},
                "high": {"value": high, "unit": unit, "system": UCUM_SYSTEM, "code": unit}
            }]
        }));
        results.push(serde_json::json!({"reference": format!("#{id}")}));
    }
    serde_json::json!({
        "resourceType": "DiagnosticReport",
        "identifier": [{"system": format!("{LAB_SYSTEM}:{lab}:report"), "value": format!("{lab}-{barcode}")}],
        "status": "final",
        "code": {"coding": [{"system": LOINC_SYSTEM, "code": "11502-2", "display": "Laboratory report"}]},
        "contained": contained,
        "specimen": [{"reference": "#specimen"}],
        "result": results
    })
}

/// A lab system's write to the service's API (a result, a tube refused), sent
/// to each of the service's URLs in turn.
struct LabPost {
    urls: Vec<String>,
    token: String,
    content_type: &'static str,
    body: String,
}

impl LabPost {
    /// Sends it, bounded (20 tries): a 409 (labflight has not the tube's
    /// reception yet: another link) is tried again later, as an LIS queues what
    /// it could not deliver; another refusal is logged and given up.
    async fn send(self, http: reqwest::Client) {
        let urls = &self.urls;
        for attempt in 0..20u64 {
            let url = &urls[attempt as usize % urls.len()];
            let sent = http
                .post(url)
                .bearer_auth(&self.token)
                .header("content-type", self.content_type)
                .body(self.body.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => return,
                Ok(r) if r.status() == reqwest::StatusCode::CONFLICT && attempt + 1 < 20 => {
                    let body = r.text().await.unwrap_or_default();
                    tracing::debug!("lab post to {url} refused for now (409): {body}");
                    let pause = (250 * (attempt + 1)).min(2_000);
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                }
                Ok(r) if r.status().is_client_error() => {
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    tracing::warn!("lab post to {url} refused ({status}): {body}");
                    return;
                }
                // Away or not taking writes (a standby answers 503): the next URL
                // at once; a pause once every URL has been tried.
                Ok(_) | Err(_) if !(attempt as usize + 1).is_multiple_of(urls.len()) => {}
                Ok(_) | Err(_) => {
                    tokio::time::sleep(Duration::from_millis(200 * (attempt + 1))).await
                }
            }
        }
        tracing::warn!("lab post to {urls:?} not accepted after 20 tries");
    }
}
