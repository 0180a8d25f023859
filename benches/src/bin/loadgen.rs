//! The live service's load generator: starts `labflight serve` with N drones, floods
//! drone telemetry through the broker from many connections, and reports — for the
//! same run and the same window — how many messages per second the broker delivered
//! to a subscriber that does nothing, and how many the service accepted (journaled
//! and handled), with the service's memory. Touches only 127.0.0.1; bounded in time.

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
    #[arg(long)]
    mqtt: Option<String>,
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

struct Service(Child);

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.drones == 0 || args.publishers == 0 || args.seconds == 0 || args.seconds > 600 {
        bail!("--drones and --publishers must be positive and --seconds within 1..=600");
    }
    let dir = std::env::temp_dir().join(format!("labflight-loadgen-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
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
    if let Some(url) = &args.mqtt {
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
    let report = rt.block_on(async move {
        let opts = |id: &str| {
            let mut o = MqttOptions::new(id, host.clone(), port);
            o.set_keep_alive(Duration::from_secs(30));
            if let Some(key) = &device_key {
                let password = labflight_mqtt::device_password_from_key(key, id)
                    .expect("the service prints a 64-hex-digit device key");
                o.set_credentials(id, password);
            }
            o
        };
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
            "broker": args.mqtt.clone().unwrap_or_else(|| "embedded rumqttd".into()),
            "database": if db.starts_with("postgres") { "postgresql" } else { "sqlite" },
            "window_s": (secs * 10.0).round() / 10.0,
            "published_per_s": ((p1 - p0) as f64 / secs).round(),
            "null_subscriber_per_s": ((d1 - d0) as f64 / secs).round(),
            "service_consumed_per_s": (((a1.0 + a1.1) - (a0.0 + a0.1)) as f64 / secs).round(),
            "service_journaled_per_s": ((a1.0 - a0.0) as f64 / secs).round(),
            "service_vs_null": ((((a1.0 + a1.1) - (a0.0 + a0.1)) as f64 / (d1 - d0).max(1) as f64) * 1000.0).round() / 1000.0,
            "published_total": total_published,
            "service_consumed_total_after_drain": a_end.0 + a_end.1,
            "service_rss_mib": {"start": rss0.round(), "max": rss_max.round(), "end": rss_mib(pid).round()},
        }))
    })?;
    println!("{}", serde_json::to_string_pretty(&report)?);
    drop(service);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
