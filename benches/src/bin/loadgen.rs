//! The live service's load generator: starts `labflight serve` with N drones, floods
//! drone telemetry through the broker from many connections, and reports — for the
//! same run and the same window — how many messages per second the broker delivered
//! to a subscriber that does nothing, and how many the service accepted (journaled
//! and handled), with the service's memory. The broker is the service's embedded
//! one, an external one (`--mqtt`), or a NATS server with MQTT that the load
//! generator starts for the run (`--nats`). Touches only 127.0.0.1; bounded in time.

use anyhow::{Context, bail};
use clap::Parser;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(Debug, Parser)]
#[command(about = "Telemetry load through the broker into labflight serve")]
struct Args {
    /// The labflight binary.
    #[arg(long, default_value = "target/release/labflight")]
    labflight: PathBuf,
    /// An external broker (mqtt://127.0.0.1:1883); none uses the service's embedded one.
    #[arg(long, conflicts_with = "nats")]
    mqtt: Option<String>,
    /// Start a NATS server with MQTT (and the JetStream it needs) on free loopback
    /// ports for this run, and use it as the broker (see `nats_broker`).
    #[arg(long)]
    nats: bool,
    /// The NATS server binary `--nats` starts.
    #[arg(long, default_value = "nats-server")]
    nats_server: PathBuf,
    /// An external broker's process id, to report its memory too.
    #[arg(long)]
    broker_pid: Option<u32>,
    #[arg(long, default_value_t = 1000)]
    drones: usize,
    /// Publishing connections (each sends for drones/publishers drones).
    #[arg(long, default_value_t = 20)]
    publishers: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Messages per second in all (0: as fast as the connections go).
    #[arg(long, default_value_t = 0)]
    rate: u64,
    /// Database for the service (default: SQLite in a temporary folder).
    #[arg(long)]
    database_url: Option<String>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The admin token the load generator gives the service it starts, for its reads.
const ADMIN_TOKEN: &str = "loadgen-admin-token-0123456789";

fn http_get(addr: &str, path: &str) -> anyhow::Result<String> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\r\n"
    )?;
    let mut text = String::new();
    s.read_to_string(&mut text)?;
    Ok(text
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_owned())
        .unwrap_or_default())
}

fn metric(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0) as u64
}

/// Telemetry the service consumed: (checked and journaled, checked and superseded).
fn accepted_telemetry(http: &str) -> anyhow::Result<(u64, u64)> {
    let m = http_get(http, "/metrics")?;
    Ok((
        metric(
            &m,
            "labflight_events_accepted_total{kind=\"drone_telemetry\"}",
        ),
        metric(&m, "labflight_telemetry_superseded_total"),
    ))
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// A child process stopped (and reaped) when dropped.
struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `nats-server` with MQTT on free loopback ports, its JetStream (which
/// MQTT sessions, QoS 1 and retained messages need) stored under `dir`, and waits
/// (at most 10 s) until it accepts MQTT connections. NATS MQTT has no QoS 2 and no
/// logins unless configured: the service and the load generator log in anonymously.
/// (NATS 2.9 does not apply `max_payload` to MQTT publishes: see
/// docs/operations.md, *NATS with MQTT*.)
fn nats_broker(
    binary: &std::path::Path,
    dir: &std::path::Path,
) -> anyhow::Result<(Service, String)> {
    let (client_port, mqtt_port) = (free_port(), free_port());
    let config = dir.join("nats.conf");
    std::fs::write(
        &config,
        format!(
            "server_name: labflight-loadgen\nlisten: 127.0.0.1:{client_port}\n\
             jetstream {{\n  store_dir: \"{}\"\n  max_memory_store: 256MB\n  max_file_store: 2GB\n}}\n\
             mqtt {{\n  listen: 127.0.0.1:{mqtt_port}\n}}\n",
            dir.join("nats-store").display()
        ),
    )?;
    let log = std::fs::File::create(dir.join("nats.log"))?;
    let child = Command::new(binary)
        .arg("-c")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .with_context(|| {
            format!(
                "starting `{}` for --nats (install nats-server 2.9 or later, or give --nats-server PATH)",
                binary.display()
            )
        })?;
    let mut nats = Service(child);
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], mqtt_port));
    let started = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if let Some(status) = nats.0.try_wait()? {
            bail!(
                "nats-server exited ({status}) before listening for MQTT; its log: {}",
                std::fs::read_to_string(dir.join("nats.log")).unwrap_or_default()
            );
        }
        if started.elapsed() > Duration::from_secs(10) {
            bail!("nats-server did not listen for MQTT on {addr} within 10 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((nats, format!("mqtt://{addr}")))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.drones == 0 || args.publishers == 0 || args.seconds == 0 || args.seconds > 600 {
        bail!("--drones and --publishers must be positive and --seconds within 1..=600");
    }
    let dir = std::env::temp_dir().join(format!("labflight-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    // Dropped after the service (declared first), so the service never outlives
    // its broker in the report's window.
    let nats = if args.nats {
        Some(nats_broker(&args.nats_server, &dir)?)
    } else {
        None
    };
    let external = args
        .mqtt
        .clone()
        .or_else(|| nats.as_ref().map(|n| n.1.clone()));
    let broker_pid = args
        .broker_pid
        .or_else(|| nats.as_ref().map(|n| n.0.0.id()));
    let broker_name = match (&args.mqtt, &nats) {
        (Some(url), _) => url.clone(),
        (None, Some(_)) => format!("nats-server MQTT ({})", nats_version(&args.nats_server)),
        (None, None) => "embedded rumqttd".to_owned(),
    };
    let (http_port, mqtt_port) = (free_port(), free_port());
    let http = format!("127.0.0.1:{http_port}");
    let db = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", dir.join("load.db").display()));
    let config = dir.join("labflight.toml");
    let mut toml = format!(
        "scenario = \"maps/longhua/scenario.toml\"\nset = [\"fleet.drones={}\"]\nhttp = \"{http}\"\nmqtt_port = {mqtt_port}\ndatabase_url = \"{db}\"\nadmin_token = \"{ADMIN_TOKEN}\"\n",
        args.drones
    );
    if let Some(url) = &external {
        toml.push_str(&format!("mqtt_url = \"{url}\"\n"));
    }
    std::fs::write(&config, toml)?;
    let mut child = Command::new(&args.labflight)
        .args(["serve", "--config"])
        .arg(&config)
        .env_remove("LABFLIGHT_MQTT_URL")
        .env_remove("DATABASE_URL")
        .env_remove("LABFLIGHT_HTTP")
        .stdout(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", args.labflight.display()))?;
    let out = child.stdout.take().expect("piped");
    let service = Service(child);
    let pid = service.0.id();
    let mut mqtt_url = None;
    // The embedded broker admits only its own logins: each connection logs in as
    // itself with the password the printed device key gives it.
    let mut device_key = None;
    let mut printed = BufReader::new(out).lines();
    for line in printed.by_ref().take(40) {
        let line = line?;
        if let Some(u) = line.strip_prefix("mqtt: ") {
            mqtt_url = Some(u.to_owned());
        }
        if let Some(k) = line.strip_prefix("mqtt device key:") {
            device_key = Some(k.trim().to_owned());
        }
        if line.starts_with("dashboard:") {
            break;
        }
    }
    // Keep reading what the service prints after (its sign-in lines): a closed
    // pipe would make its next print fail. Ends when the service exits.
    std::thread::spawn(move || printed.for_each(drop));
    let mqtt_url = mqtt_url.context("the service printed no `mqtt:` line")?;
    let hostport = mqtt_url
        .trim_start_matches("mqtt://")
        .rsplit('@')
        .next()
        .unwrap_or("")
        .to_owned();
    let (host, port) = hostport.rsplit_once(':').context("mqtt host:port")?;
    let (host, port) = (host.to_owned(), port.parse::<u16>()?);
    let drones: serde_json::Value = serde_json::from_str(&http_get(&http, "/api/v1/drones")?)?;
    let drones: Vec<(String, f64, f64)> = drones
        .as_array()
        .context("drone list")?
        .iter()
        .map(|d| {
            (
                d["id"].as_str().unwrap_or_default().to_owned(),
                d["position"]["lat"].as_f64().unwrap_or_default(),
                d["position"]["lon"].as_f64().unwrap_or_default(),
            )
        })
        .collect();
    if drones.len() != args.drones {
        bail!(
            "the service has {} drones, expected {}",
            drones.len(),
            args.drones
        );
    }

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let broker = BrokerAddr {
        host,
        port,
        device_key,
    };
    // Before the load: the service's retained status and a QoS 1 event through
    // this broker (what telemetry alone would not show).
    let (status, qos1_event_accepted) = rt.block_on(async {
        let status = watch_status(&broker).await?;
        let accepted = qos1_event_accepted(&broker, &http).await?;
        anyhow::Ok((status, accepted))
    })?;
    let retained_online = last_state(&status) == Some("online".to_owned());
    let opts = |id: &str| broker.options(id);
    let mut report = rt.block_on(async move {
        let rss_before_load = rss_mib(pid);
        // The subscriber that does nothing but count.
        let delivered = Arc::new(AtomicU64::new(0));
        let (null, mut null_loop) = AsyncClient::new(opts("loadgen-null"), 100);
        null.subscribe("labflight/v1/drones/+/telemetry", QoS::AtMostOnce).await?;
        let counter = Arc::clone(&delivered);
        tokio::spawn(async move {
            loop {
                match null_loop.poll().await {
                    Ok(Event::Incoming(Packet::Publish(_))) => {
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(500)).await;
        let stop = Arc::new(AtomicBool::new(false));
        let published = Arc::new(AtomicU64::new(0));
        let per_publisher = args.rate.div_ceil(args.publishers as u64);
        let mut tasks = Vec::new();
        for (i, chunk) in drones.chunks(drones.len().div_ceil(args.publishers)).enumerate() {
            let chunk = chunk.to_vec();
            let (client, mut ev) = AsyncClient::new(opts(&format!("loadgen-pub-{i}")), 1000);
            tokio::spawn(async move {
                loop {
                    if ev.poll().await.is_err() {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            });
            let (stop, published) = (Arc::clone(&stop), Arc::clone(&published));
            tasks.push(tokio::spawn(async move {
                let started = Instant::now();
                let mut n: u64 = 0;
                while !stop.load(Ordering::Relaxed) {
                    let (id, lat, lon) = &chunk[(n as usize) % chunk.len()];
                    let body = serde_json::json!({
                        "time": chrono::Utc::now().to_rfc3339(),
                        "lat": lat, "lon": lon, "alt_m": 0.0,
                        "battery_pct": 80.0, "state": "idle"
                    })
                    .to_string();
                    let topic = format!("labflight/v1/drones/{id}/telemetry");
                    if client.publish(topic, QoS::AtMostOnce, false, body).await.is_err() {
                        break;
                    }
                    n += 1;
                    published.fetch_add(1, Ordering::Relaxed);
                    if per_publisher > 0 {
                        let due = Duration::from_secs_f64(n as f64 / per_publisher as f64);
                        if let Some(wait) = due.checked_sub(started.elapsed()) {
                            tokio::time::sleep(wait).await;
                        }
                    }
                }
            }));
        }
        // Measure over a window that starts after a 2 s warm-up.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (p0, d0, a0) = (
            published.load(Ordering::Relaxed),
            delivered.load(Ordering::Relaxed),
            accepted_telemetry(&http)?,
        );
        let rss0 = rss_mib(pid);
        let broker_rss0 = broker_pid.map(rss_mib);
        let t0 = Instant::now();
        let mut rss_max = rss0;
        while t0.elapsed() < Duration::from_secs(args.seconds) {
            tokio::time::sleep(Duration::from_millis(500)).await;
            rss_max = rss_max.max(rss_mib(pid));
        }
        let (p1, d1, a1) = (
            published.load(Ordering::Relaxed),
            delivered.load(Ordering::Relaxed),
            accepted_telemetry(&http)?,
        );
        let secs = t0.elapsed().as_secs_f64();
        let (rss_end, broker_rss_end) = (rss_mib(pid), broker_pid.map(rss_mib));
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            let _ = t.await;
        }
        // Let the service drain what it had queued (bounded).
        let drain_start = Instant::now();
        let mut a_end = accepted_telemetry(&http)?;
        while drain_start.elapsed() < Duration::from_secs(30) {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let a = accepted_telemetry(&http)?;
            if a == a_end {
                break;
            }
            a_end = a;
        }
        let total_published = published.load(Ordering::Relaxed);
        anyhow::Ok(serde_json::json!({
            "drones": args.drones,
            "publishers": args.publishers,
            "broker": broker_name,
            "database": if db.starts_with("postgres") { "postgresql" } else { "sqlite" },
            "window_s": (secs * 10.0).round() / 10.0,
            "published_per_s": ((p1 - p0) as f64 / secs).round(),
            "null_subscriber_per_s": ((d1 - d0) as f64 / secs).round(),
            "service_consumed_per_s": (((a1.0 + a1.1) - (a0.0 + a0.1)) as f64 / secs).round(),
            "service_journaled_per_s": ((a1.0 - a0.0) as f64 / secs).round(),
            "service_vs_null": ((((a1.0 + a1.1) - (a0.0 + a0.1)) as f64 / (d1 - d0).max(1) as f64) * 1000.0).round() / 1000.0,
            "published_total": total_published,
            "service_consumed_total_after_drain": a_end.0 + a_end.1,
            "service_rss_mib": {
                "before_load": rss_before_load.round(),
                "start": rss0.round(),
                "max": rss_max.round(),
                "end": rss_end.round(),
            },
            "broker_rss_mib": broker_pid.map(|_| serde_json::json!({
                "start": broker_rss0.unwrap_or_default().round(),
                "end": broker_rss_end.unwrap_or_default().round(),
            })),
        }))
    })?;
    // The service gone without a word, its broker publishes its last will,
    // retained (the embedded broker goes with the service: nothing to check).
    drop(service);
    let last_will_offline = external.is_some().then(|| {
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(10)
            && last_state(&status).as_deref() != Some("offline")
        {
            std::thread::sleep(Duration::from_millis(100));
        }
        last_state(&status).as_deref() == Some("offline")
    });
    report["broker_checks"] = serde_json::json!({
        "retained_status_online": retained_online,
        "qos1_event_accepted": qos1_event_accepted,
        "last_will_offline": last_will_offline,
    });
    println!("{}", serde_json::to_string_pretty(&report)?);
    drop(nats);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// Where the load generator's clients connect, and how they log in.
struct BrokerAddr {
    host: String,
    port: u16,
    /// The embedded broker's device key (each client logs in as itself); none for
    /// an external broker, which admits loopback clients anonymously here.
    device_key: Option<String>,
}

impl BrokerAddr {
    fn options(&self, id: &str) -> MqttOptions {
        let mut o = MqttOptions::new(id, self.host.clone(), self.port);
        o.set_keep_alive(Duration::from_secs(30));
        if let Some(key) = &self.device_key {
            let password = labflight_mqtt::device_password_from_key(key, id)
                .expect("the service prints a 64-hex-digit device key");
            o.set_credentials(id, password);
        }
        o
    }
}

type Status = Arc<std::sync::Mutex<Option<String>>>;

fn last_state(status: &Status) -> Option<String> {
    status.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Follows the service's retained status (QoS 1) from its own connection; the
/// returned cell holds the last `state` seen. Waits (at most 10 s) for the first.
async fn watch_status(broker: &BrokerAddr) -> anyhow::Result<Status> {
    let (client, mut events) = AsyncClient::new(broker.options("loadgen-status"), 10);
    client
        .subscribe("labflight/v1/service/status", QoS::AtLeastOnce)
        .await?;
    let status: Status = Arc::default();
    let cell = Arc::clone(&status);
    tokio::spawn(async move {
        let _client = client;
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let state = serde_json::from_slice::<serde_json::Value>(&p.payload)
                        .ok()
                        .and_then(|v| v["state"].as_str().map(str::to_owned));
                    *cell.lock().unwrap_or_else(|e| e.into_inner()) = state;
                }
                Ok(_) => {}
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    });
    let started = Instant::now();
    while last_state(&status).is_none() && started.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(status)
}

/// Publishes one weather report (QoS 1, harmless to the dispatcher) and waits
/// (at most 10 s) until the service counts it accepted.
async fn qos1_event_accepted(broker: &BrokerAddr, http: &str) -> anyhow::Result<bool> {
    let weather = |m: &str| metric(m, "labflight_events_accepted_total{kind=\"weather\"}");
    let before = weather(&http_get(http, "/metrics")?);
    let (client, mut events) = AsyncClient::new(broker.options("weather-station"), 10);
    let acked = tokio::spawn(async move {
        loop {
            match events.poll().await {
                Ok(Event::Incoming(Packet::PubAck(_))) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    });
    let body = serde_json::json!({
        "time": chrono::Utc::now().to_rfc3339(),
        "wind_east_mps": 1.0, "wind_north_mps": 0.0, "rain_mm_h": 0.0
    });
    client
        .publish(
            "labflight/v1/weather",
            QoS::AtLeastOnce,
            false,
            body.to_string(),
        )
        .await?;
    let puback = tokio::time::timeout(Duration::from_secs(10), acked)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or(false);
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        if weather(&http_get(http, "/metrics")?) > before {
            let _ = client.disconnect().await;
            return Ok(puback);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(false)
}

/// `nats-server --version`'s answer, for the report.
fn nats_version(binary: &std::path::Path) -> String {
    Command::new(binary)
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "version unknown".to_owned())
}
