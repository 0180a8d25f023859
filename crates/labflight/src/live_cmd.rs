//! `labflight serve`, `devices` and `demo`: command-line settings (with their
//! environment overrides) turned into the live module's options.

use crate::BadInput;
use crate::live::devices::{self, DevicesOptions};
use crate::live::service::{self, ClockStart, ServiceOptions};
use clap::Args;
use labflight_mqtt::MqttUrl;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEFAULT_SCENARIO: &str = "maps/longhua/scenario.toml";

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Service settings (TOML); see docs/operations.md. Environment variables
    /// LABFLIGHT_MQTT_URL, DATABASE_URL and LABFLIGHT_HTTP override it.
    #[arg(long)]
    config: Option<PathBuf>,
}

/// `labflight.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServeConfig {
    scenario: Option<PathBuf>,
    policy: Option<String>,
    seed: Option<u64>,
    /// `mqtt://user:password@host:port`; none starts the embedded broker.
    mqtt_url: Option<String>,
    /// Port of the embedded broker.
    mqtt_port: Option<u16>,
    database_url: Option<String>,
    http: Option<String>,
    /// 1 (default) runs on the wall clock; more runs the scenario's day at that speed.
    speed: Option<f64>,
    /// Scenario overrides, `key=value` as for `labflight sim --set`.
    #[serde(default)]
    set: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Broker URL, e.g. mqtt://127.0.0.1:1883.
    #[arg(long)]
    mqtt: String,
    #[arg(long, default_value = DEFAULT_SCENARIO)]
    scenario: PathBuf,
    /// Accepted for symmetry with `demo`; the devices follow the service's clock.
    #[arg(long)]
    speed: Option<f64>,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Password each device logs in with (username = device id); also LABFLIGHT_DEVICE_PASSWORD.
    #[arg(long, env = "LABFLIGHT_DEVICE_PASSWORD")]
    device_password: Option<String>,
    /// Give up after this many wall-clock seconds.
    #[arg(long, default_value_t = 6 * 3600)]
    max_seconds: u64,
    #[arg(long)]
    quiet: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 60.0)]
    speed: f64,
    #[arg(long, default_value = "127.0.0.1:8080")]
    http: String,
    #[arg(long, default_value_t = 1883)]
    mqtt_port: u16,
    #[arg(long, default_value = DEFAULT_SCENARIO)]
    scenario: PathBuf,
    /// Database; default a fresh SQLite file in a temporary folder.
    #[arg(long)]
    database_url: Option<String>,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Exit when the day is done instead of serving on.
    #[arg(long)]
    exit_when_done: bool,
    #[arg(long)]
    quiet: bool,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("LABFLIGHT_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn,rumqttd=off")),
        )
        .with_writer(std::io::stderr)
        .try_init();
}

fn parse_addr(what: &str, s: &str) -> anyhow::Result<SocketAddr> {
    s.parse().map_err(|_| {
        BadInput(format!(
            "{what} `{s}`: expected host:port, e.g. 127.0.0.1:8080"
        ))
        .into()
    })
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

fn load_config(path: &Path) -> anyhow::Result<ServeConfig> {
    let text =
        std::fs::read_to_string(path).map_err(|e| BadInput(format!("{}: {e}", path.display())))?;
    toml::from_str(&text).map_err(|e| BadInput(format!("{}: {e}", path.display())).into())
}

pub fn serve(args: ServeArgs) -> anyhow::Result<()> {
    init_logs();
    let cfg = match &args.config {
        Some(p) => load_config(p)?,
        None => ServeConfig::default(),
    };
    let mqtt = match env("LABFLIGHT_MQTT_URL").or(cfg.mqtt_url) {
        Some(u) => {
            Some(MqttUrl::parse(&u).map_err(|e| BadInput(format!("LABFLIGHT_MQTT_URL: {e}")))?)
        }
        None => None,
    };
    let speed = cfg.speed.unwrap_or(1.0);
    if !(speed.is_finite() && speed > 0.0) {
        return Err(BadInput(format!("speed = {speed}: must be a positive number")).into());
    }
    let opts = ServiceOptions {
        scenario: cfg.scenario.unwrap_or_else(|| DEFAULT_SCENARIO.into()),
        overrides: cfg
            .set
            .iter()
            .map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .ok_or_else(|| BadInput(format!("set = \"{kv}\": expected key=value")))
            })
            .collect::<Result<_, _>>()?,
        policy: cfg.policy.unwrap_or_else(|| "drone".into()),
        seed: cfg.seed.unwrap_or(7),
        clock: if speed == 1.0 {
            ClockStart::Wall
        } else {
            ClockStart::ScenarioMorning { speed }
        },
        mqtt,
        mqtt_port: cfg.mqtt_port.unwrap_or(1883),
        database_url: env("DATABASE_URL")
            .or(cfg.database_url)
            .unwrap_or_else(|| "sqlite://labflight.db".into()),
        http: parse_addr(
            "LABFLIGHT_HTTP",
            &env("LABFLIGHT_HTTP")
                .or(cfg.http)
                .unwrap_or_else(|| "127.0.0.1:8080".into()),
        )?,
    };
    runtime()?.block_on(async move {
        let running = service::start(opts).await?;
        println!("mqtt: {}", running.mqtt);
        println!("dashboard: http://{}/", running.http);
        tokio::signal::ctrl_c().await?;
        Ok(())
    })
}

pub fn devices(args: DevicesArgs) -> anyhow::Result<()> {
    init_logs();
    let mqtt = MqttUrl::parse(&args.mqtt).map_err(|e| BadInput(format!("--mqtt: {e}")))?;
    let _ = args.speed;
    let opts = DevicesOptions {
        mqtt,
        scenario: args.scenario,
        overrides: Vec::new(),
        seed: args.seed,
        device_password: args.device_password,
        max_wall: Duration::from_secs(args.max_seconds),
        quiet: args.quiet,
    };
    runtime()?.block_on(async move {
        let report = devices::run(opts).await?;
        println!("{}", serde_json::to_string(&report)?);
        Ok(())
    })
}

pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    init_logs();
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(BadInput(format!("--speed {}: must be a positive number", args.speed)).into());
    }
    let database_url = match args.database_url {
        Some(u) => u,
        None => {
            let dir = std::env::temp_dir().join(format!("labflight-demo-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            format!("sqlite://{}", dir.join("labflight.db").display())
        }
    };
    let opts = ServiceOptions {
        scenario: args.scenario.clone(),
        overrides: Vec::new(),
        policy: "drone".into(),
        seed: args.seed,
        clock: ClockStart::ScenarioMorning { speed: args.speed },
        mqtt: None,
        mqtt_port: args.mqtt_port,
        database_url: database_url.clone(),
        http: parse_addr("--http", &args.http)?,
    };
    runtime()?.block_on(async move {
        let running = service::start(opts).await?;
        println!("mqtt: {}", running.mqtt);
        println!("database: {database_url}");
        println!("dashboard: http://{}/", running.http);
        let devices = DevicesOptions {
            mqtt: running.mqtt.clone(),
            scenario: args.scenario,
            overrides: Vec::new(),
            seed: args.seed,
            device_password: None,
            max_wall: Duration::from_secs_f64(24.0 * 3600.0 / args.speed + 600.0),
            quiet: args.quiet,
        };
        let report = devices::run(devices).await?;
        println!("day done: {}", serde_json::to_string(&report)?);
        if args.exit_when_done {
            return Ok(());
        }
        println!("serving on; Ctrl-C to stop");
        tokio::signal::ctrl_c().await?;
        Ok(())
    })
}
