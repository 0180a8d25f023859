//! `labflight serve`, `devices` and `demo`: command-line settings (with their
//! environment overrides) turned into the live service's options
//! (`labflight_service`).

use crate::BadInput;
use clap::Args;
use labflight_mqtt::MqttUrl;
use labflight_server::auth::Role;
use labflight_service::{ClockStart, DevicesOptions, HookSettings, ResultsApi, ServiceOptions};
use labflight_store::Subscription;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEFAULT_SCENARIO: &str = "maps/longhua/scenario.toml";
/// Journaled events between two snapshots of the dispatcher.
const DEFAULT_SNAPSHOT_EVERY: i64 = 2000;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Service settings (TOML); see docs/operations.md. Environment variables
    /// LABFLIGHT_MQTT_URL, DATABASE_URL and LABFLIGHT_HTTP override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Wait beside a running owner and take its partition over when its lease
    /// expires (high availability; both on one PostgreSQL database and broker).
    /// Without it the service takes its partition at once, fencing any other.
    #[arg(long)]
    standby: bool,
    /// How long the partition lease lasts unrenewed, in milliseconds (renewed
    /// every third of it): a standby takes over that long after the owner stops.
    #[arg(long, default_value_t = 3_000, value_parser = clap::value_parser!(i64).range(300..=600_000))]
    lease_ms: i64,
    /// The partitions this process serves: `auto` (every partition of the
    /// scenario: the free ones now, the held ones as their standby) or a
    /// comma-separated list. A district scenario is one partition, named after
    /// it; a city scenario (`dispatch.partition_by = "group"`) has one per
    /// medical group, each with its own schema, topics and HTTP port (the
    /// configured port, then the next ones). Default: the scenario whole.
    #[arg(long)]
    partitions: Option<String>,
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
    /// Bearer token that may manage hooks (`/api/v1/hooks/...`).
    admin_token: Option<String>,
    /// Where result hooks may go: `host:port`, `host:*` (any port) or `host` (the
    /// scheme's default port); default `127.0.0.1:*` and `localhost:*`.
    #[serde(default)]
    hook_hosts: Vec<String>,
    /// Lab id → the bearer token its LIS posts results with.
    #[serde(default)]
    labs: std::collections::BTreeMap<String, String>,
    /// Result-sharing subscriptions.
    #[serde(default)]
    hooks: Vec<HookConfig>,
    /// Recorded runs (folders with a journal.jsonl) the dashboard can replay.
    runs_dir: Option<PathBuf>,
    /// Save the dispatcher's state every this many journaled events (default 2000;
    /// 0 turns snapshots off and a restart replays the whole journal).
    snapshot_every: Option<i64>,
    /// The URL people reach the service at (e.g. behind a TLS proxy); when it is
    /// `https://…` the session cookie is marked `Secure`. Also LABFLIGHT_PUBLIC_URL.
    public_url: Option<String>,
    /// Where the topics live on the broker: `district` (default, today's
    /// `labflight/v1/…`), `partitioned` (`labflight/v1/p/{partition}/…`, the
    /// partition being the scenario's name) or `both` (while devices move over).
    topic_layout: Option<String>,
}

/// `[[hooks]]` in labflight.toml.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HookConfig {
    id: String,
    /// `all`, `station:<centre>` or `group:<medical group>`.
    scope: String,
    url: String,
    /// `whsec_...`; default LABFLIGHT_HOOK_SECRET.
    secret: Option<String>,
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
    /// The embedded broker's device key, as `labflight serve` prints it (`mqtt device
    /// key:`): each device logs in with its own password derived from it. Also
    /// LABFLIGHT_MQTT_DEVICE_KEY.
    #[arg(long, env = "LABFLIGHT_MQTT_DEVICE_KEY")]
    device_key: Option<String>,
    /// Give up after this many wall-clock seconds.
    #[arg(long, default_value_t = 6 * 3600)]
    max_seconds: u64,
    /// The service's HTTP base URL: the simulated labs post their results to its
    /// results API (FHIR) instead of over MQTT. Several, comma-separated (each
    /// `serve` process of a partition): a post that finds one away tries the next.
    #[arg(long, value_delimiter = ',')]
    results_url: Vec<String>,
    /// A lab's token for the results API, `LAB-ID=TOKEN` (one per lab).
    #[arg(long = "lab-token")]
    lab_tokens: Vec<String>,
    #[arg(long)]
    quiet: bool,
    /// The topics the devices use: `district` (today's `labflight/v1/…`; the
    /// default) or `partitioned` (`labflight/v1/p/{partition}/…`; the default
    /// with --partition).
    #[arg(long)]
    topic_layout: Option<String>,
    /// The partition the devices belong to: a city scenario's medical group
    /// (they act out its world only), or the subtree they use in the
    /// partitioned layout (default: the scenario's name).
    #[arg(long)]
    partition: Option<String>,
}

#[derive(Debug, Args)]
pub struct SinkArgs {
    #[arg(long, default_value_t = 9090)]
    port: u16,
    /// The Standard Webhooks secret the sender signs with (`whsec_...`).
    #[arg(long, env = "LABFLIGHT_HOOK_SECRET")]
    secret: String,
    /// File that keeps every accepted delivery (one JSON line each).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 60.0)]
    speed: f64,
    /// HTTP address [default: 127.0.0.1:8080, or a free port if that one is taken].
    #[arg(long)]
    http: Option<String>,
    /// Port of the embedded MQTT broker [default: 1883, or a free port if that one is
    /// taken — e.g. by a Mosquitto already running].
    #[arg(long)]
    mqtt_port: Option<u16>,
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
    /// Also send every centre's results to this URL (secret from LABFLIGHT_HOOK_SECRET).
    #[arg(long = "hook")]
    hooks: Vec<String>,
    #[arg(long)]
    quiet: bool,
}

/// How the dashboard's replay reads a recorded run.
fn replays() -> labflight_server::replay::ReplayLoader {
    std::sync::Arc::new(crate::replay_frames::load)
}

/// Ctrl-C (SIGINT) or SIGTERM (systemd, container engines).
async fn shutdown_signal() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        r = tokio::signal::ctrl_c() => r,
        _ = term.recv() => Ok(()),
    }
}

pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
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
    let hook_secret = env("LABFLIGHT_HOOK_SECRET");
    let subscriptions = cfg
        .hooks
        .iter()
        .map(|h| {
            // HL7 v2 over MLLP is not signed; every HTTP hook is.
            let secret = if labflight_service::is_mllp(&h.url) {
                String::new()
            } else {
                let secret = h
                    .secret
                    .clone()
                    .or_else(|| hook_secret.clone())
                    .ok_or_else(|| {
                        BadInput(format!(
                            "hooks `{}`: no secret (set `secret` or LABFLIGHT_HOOK_SECRET)",
                            h.id
                        ))
                    })?;
                labflight_hooks::signature::Secret::parse(&secret)
                    .map_err(|e| BadInput(format!("hooks `{}`: secret: {e}", h.id)))?;
                secret
            };
            Ok(Subscription {
                id: h.id.clone(),
                scope: h.scope.clone(),
                url: h.url.clone(),
                secret,
                active: true,
                disabled_reason: None,
            })
        })
        .collect::<Result<Vec<_>, BadInput>>()?;
    let admin_token = env("LABFLIGHT_ADMIN_TOKEN").or(cfg.admin_token.clone());
    if let Some(t) = &admin_token {
        labflight_server::auth::check_token("admin_token (or LABFLIGHT_ADMIN_TOKEN)", t)
            .map_err(BadInput)?;
    }
    for (lab, token) in &cfg.labs {
        labflight_server::auth::check_token(&format!("labs.{lab}"), token).map_err(BadInput)?;
    }
    let public_url = env("LABFLIGHT_PUBLIC_URL").or(cfg.public_url.clone());
    let secure_cookies = match public_url.as_deref() {
        None => false,
        Some(u) if u.starts_with("https://") => true,
        Some(u) if u.starts_with("http://") => false,
        Some(u) => {
            return Err(
                BadInput(format!("public_url `{u}`: expected http://… or https://…")).into(),
            );
        }
    };
    let hooks = HookSettings {
        lab_tokens: cfg
            .labs
            .iter()
            .map(|(lab, token)| (token.clone(), lab.clone()))
            .collect(),
        admin_token,
        allowed_hosts: cfg.hook_hosts.clone(),
        subscriptions,
    };
    let opts = ServiceOptions {
        hooks,
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
        runs_dir: cfg.runs_dir.unwrap_or_else(|| "runs".into()),
        snapshot_every: match cfg.snapshot_every.unwrap_or(DEFAULT_SNAPSHOT_EVERY) {
            n if n >= 0 => n,
            n => {
                return Err(
                    BadInput(format!("snapshot_every = {n}: must be 0 (off) or more")).into(),
                );
            }
        },
        secure_cookies,
        ownership: labflight_service::Ownership {
            member: labflight_service::default_member(),
            lease_ms: args.lease_ms,
            standby: args.standby,
        },
        topic_layout: cfg
            .topic_layout
            .clone()
            .unwrap_or_else(|| "district".into()),
        partition: None,
    };
    let chosen = match &args.partitions {
        Some(spec) => labflight_service::choose_partitions(spec, &opts.scenario, &opts.overrides)?,
        None => vec![None],
    };
    if chosen.len() > 1 && opts.mqtt.is_none() {
        return Err(BadInput(format!(
            "--partitions: {} partitions in one process need a shared broker (mqtt_url or LABFLIGHT_MQTT_URL); the embedded one serves one partition",
            chosen.len()
        ))
        .into());
    }
    // `auto` waits for the held partitions as their standby (and takes the
    // free ones at once): two processes started alike share the work.
    let auto = args.partitions.as_deref().map(str::trim) == Some("auto");
    let per_partition: Vec<ServiceOptions> = chosen
        .into_iter()
        .enumerate()
        .map(|(i, partition)| {
            let mut o = opts.clone();
            if partition.is_some() && cfg.topic_layout.is_none() {
                o.topic_layout = "partitioned".into();
            }
            if o.http.port() != 0 {
                o.http.set_port(o.http.port() + i as u16);
            }
            o.ownership.standby |= auto;
            o.partition = partition;
            o
        })
        .collect();
    runtime()?.block_on(run_partitions(per_partition))
}

/// Starts the service of each partition (a standby's start waits for its
/// lease), prints where each is reached, and on Ctrl-C or SIGTERM lets every
/// lease go. A partition that fails to start stops the process.
async fn run_partitions(per_partition: Vec<ServiceOptions>) -> anyhow::Result<()> {
    let (started_tx, mut started) = tokio::sync::mpsc::unbounded_channel();
    for opts in per_partition {
        let tx = started_tx.clone();
        tokio::spawn(async move {
            let partition = opts.partition.clone();
            let _ = tx.send((partition, labflight_service::start(opts, replays()).await));
        });
    }
    drop(started_tx);
    let stop = shutdown_signal();
    tokio::pin!(stop);
    let mut running = Vec::new();
    loop {
        tokio::select! {
            next = started.recv() => match next {
                Some((partition, Ok(r))) => {
                    let of = partition.map(|p| format!(" (partition {p})")).unwrap_or_default();
                    println!("mqtt: {}", r.mqtt);
                    print_broker_logins(&r);
                    println!("dashboard: http://{}/{of}", r.http);
                    println!("(sign in with an account made by `labflight users add`)");
                    running.push(r);
                }
                Some((_, Err(e))) => return Err(e),
                None => {
                    (&mut stop).await?;
                    break;
                }
            },
            s = &mut stop => {
                s?;
                break;
            }
        }
    }
    // A clean stop lets each partition go at once: a standby need not wait for
    // the lease to expire.
    for r in &running {
        if let Err(e) = r.store.release_lease(&r.lease).await {
            eprintln!("warning: releasing the partition lease: {e}");
        }
    }
    Ok(())
}

pub fn devices(args: DevicesArgs) -> anyhow::Result<()> {
    init_logs();
    let mqtt = MqttUrl::parse(&args.mqtt).map_err(|e| BadInput(format!("--mqtt: {e}")))?;
    let _ = args.speed;
    let opts = DevicesOptions {
        mqtt,
        results: match args.results_url.is_empty() {
            true => None,
            false => Some(ResultsApi {
                bases: args
                    .results_url
                    .iter()
                    .map(|b| b.trim_end_matches('/').to_owned())
                    .collect(),
                tokens: args
                    .lab_tokens
                    .iter()
                    .map(|kv| {
                        kv.split_once('=')
                            .map(|(l, t)| (l.to_owned(), t.to_owned()))
                            .ok_or_else(|| {
                                BadInput(format!("--lab-token {kv}: expected LAB-ID=TOKEN"))
                            })
                    })
                    .collect::<Result<_, _>>()?,
            }),
        },
        scenario: args.scenario,
        overrides: Vec::new(),
        seed: args.seed,
        device_password: args.device_password,
        device_key: args.device_key,
        max_wall: Duration::from_secs(args.max_seconds),
        quiet: args.quiet,
        topic_layout: args.topic_layout.unwrap_or_else(|| {
            match args.partition {
                Some(_) => "partitioned",
                None => "district",
            }
            .into()
        }),
        partition: args.partition,
    };
    runtime()?.block_on(async move {
        let report = labflight_service::run_devices(opts).await?;
        println!("{}", serde_json::to_string(&report)?);
        Ok(())
    })
}

pub fn demo(args: DemoArgs) -> anyhow::Result<()> {
    init_logs();
    if !(args.speed.is_finite() && args.speed > 0.0) {
        return Err(BadInput(format!("--speed {}: must be a positive number", args.speed)).into());
    }
    let demo_dir = std::env::temp_dir().join(format!("labflight-demo-{}", std::process::id()));
    std::fs::create_dir_all(&demo_dir)?;
    let database_url = match args.database_url {
        Some(u) => u,
        None => format!("sqlite://{}", demo_dir.join("labflight.db").display()),
    };
    // Recorded days for the dashboard's replay: the same scenario and seed under
    // the drone policy and the greedy baseline, and dispatched by medical group
    // (one partition each, replayed whole or one at a time; listed after the
    // others, so a run opened first is one dispatcher's, with its day views).
    let runs_dir = demo_dir.join("runs");
    let by_group = vec![("dispatch.partition_by".to_owned(), "group".to_owned())];
    let runs = [
        ("drone", Vec::new(), "drone"),
        ("greedy", Vec::new(), "greedy"),
        ("drone", by_group, "partitioned-drone"),
    ];
    for (policy, overrides, name) in &runs {
        crate::sim_cmd::record(
            &args.scenario,
            overrides,
            args.seed,
            policy,
            &runs_dir.join(format!("{name}-seed{}", args.seed)),
        )?;
    }
    // The demo's own secrets: a token per lab, an admin token, and a station-sink
    // that receives every centre's results.
    let scenario = labflight_core::Scenario::load(&args.scenario)?;
    let map = labflight_geo::MapData::load(&scenario.map_dir(&args.scenario))?;
    let lab_tokens: std::collections::HashMap<String, String> = map
        .labs
        .iter()
        .map(|l| (random_token("lab"), l.id.to_string()))
        .collect();
    let admin_token = random_token("admin");
    let sink_secret = format!("whsec_{}", base64_token());
    let sink_listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let sink_addr = sink_listener.local_addr()?;
    sink_listener.set_nonblocking(true)?;
    let mut subscriptions = vec![Subscription {
        id: "demo-station-sink".into(),
        scope: "all".into(),
        url: format!("http://{sink_addr}/fhir"),
        secret: sink_secret.clone(),
        active: true,
        disabled_reason: None,
    }];
    let hook_secret = env("LABFLIGHT_HOOK_SECRET");
    for (i, url) in args.hooks.iter().enumerate() {
        let secret = hook_secret.clone().ok_or_else(|| {
            BadInput(format!(
                "--hook {url}: set LABFLIGHT_HOOK_SECRET to its whsec_ secret"
            ))
        })?;
        labflight_hooks::signature::Secret::parse(&secret)
            .map_err(|e| BadInput(format!("LABFLIGHT_HOOK_SECRET: {e}")))?;
        subscriptions.push(Subscription {
            id: format!("hook-{}", i + 1),
            scope: "all".into(),
            url: url.clone(),
            secret,
            active: true,
            disabled_reason: None,
        });
    }
    let lab_by_id: std::collections::HashMap<String, String> = lab_tokens
        .iter()
        .map(|(t, l)| (l.clone(), t.clone()))
        .collect();
    let opts = ServiceOptions {
        hooks: HookSettings {
            lab_tokens,
            admin_token: Some(admin_token.clone()),
            allowed_hosts: Vec::new(),
            subscriptions,
        },
        scenario: args.scenario.clone(),
        overrides: Vec::new(),
        policy: "drone".into(),
        seed: args.seed,
        clock: ClockStart::ScenarioMorning { speed: args.speed },
        mqtt: None,
        mqtt_port: args.mqtt_port.unwrap_or_else(|| port_or_free(1883)),
        database_url: database_url.clone(),
        http: match &args.http {
            Some(h) => parse_addr("--http", h)?,
            None => std::net::SocketAddr::from(([127, 0, 0, 1], port_or_free(8080))),
        },
        runs_dir,
        snapshot_every: DEFAULT_SNAPSHOT_EVERY,
        secure_cookies: false,
        ownership: labflight_service::Ownership::lone(),
        topic_layout: "district".into(),
        partition: None,
    };
    let first_lab = map.labs.first().map(|l| l.id.0.clone());
    let sink_file =
        std::env::temp_dir().join(format!("labflight-demo-sink-{}.jsonl", std::process::id()));
    runtime()?.block_on(async move {
        let sink = labflight_hooks::signature::Secret::parse(&sink_secret)?;
        let listener = tokio::net::TcpListener::from_std(sink_listener)?;
        let file = sink_file.clone();
        tokio::spawn(async move {
            if let Err(e) = labflight_service::serve_station_sink(listener, sink, Some(file)).await
            {
                tracing::error!("station sink: {e}");
            }
        });
        let running = labflight_service::start(opts, replays()).await?;
        println!("mqtt: {}", running.mqtt);
        print_broker_logins(&running);
        println!("database: {database_url}");
        println!(
            "station sink: http://{sink_addr}/received (also {})",
            sink_file.display()
        );
        println!("admin token: {admin_token}");
        // The demo's accounts, with fresh passwords each run, and the line that
        // announces each (`login:` is the coordinator's, as the contract says).
        let mut accounts = vec![
            ("login".to_owned(), "coordinator", Role::Coordinator, None),
            ("viewer login".to_owned(), "viewer", Role::Viewer, None),
        ];
        if let Some(lab) = &first_lab {
            accounts.push((
                format!("lab login ({lab})"),
                "lab",
                Role::Lab,
                Some(lab.as_str()),
            ));
        }
        let mut logins = Vec::new();
        for (label, name, role, lab) in accounts {
            let password = labflight_server::auth::random_secret(12);
            labflight_server::auth::put_user(&running.store, name, role, lab, &password)
                .await
                .map_err(anyhow::Error::msg)?;
            logins.push(format!("{label}: {name} {password}"));
        }
        println!("dashboard: http://{}/", running.http);
        for line in logins {
            println!("{line}");
        }
        let devices = DevicesOptions {
            results: Some(ResultsApi {
                bases: vec![format!("http://{}", running.http)],
                tokens: lab_by_id,
            }),
            mqtt: running.mqtt.clone(),
            scenario: args.scenario,
            overrides: Vec::new(),
            seed: args.seed,
            device_password: None,
            device_key: running.broker_logins.as_ref().map(|l| l.device_key()),
            max_wall: Duration::from_secs_f64(24.0 * 3600.0 / args.speed + 600.0),
            quiet: args.quiet,
            topic_layout: "district".into(),
            partition: None,
        };
        let report = labflight_service::run_devices(devices).await?;
        // The last results may still be on their way to the centres (bounded wait).
        for _ in 0..600 {
            if running.store.pending_deliveries().await.unwrap_or(0) == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        println!("day done: {}", serde_json::to_string(&report)?);
        if args.exit_when_done {
            return Ok(());
        }
        println!("serving on; Ctrl-C to stop");
        tokio::signal::ctrl_c().await?;
        Ok(())
    })
}

#[derive(Debug, clap::Subcommand)]
pub enum UsersCommand {
    /// Adds a user, or replaces an existing user's role and password. The password
    /// comes from LABFLIGHT_PASSWORD, or a new one is generated and printed.
    Add(UserArgs),
}

#[derive(Debug, Args)]
pub struct UserArgs {
    name: String,
    /// coordinator (may act), viewer (read only) or lab (marks tubes, posts results).
    #[arg(long)]
    role: String,
    /// The lab a `lab` user acts for.
    #[arg(long)]
    lab: Option<String>,
    /// The service's database (default DATABASE_URL, else sqlite://labflight.db).
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://labflight.db")]
    database_url: String,
}

pub fn users(cmd: UsersCommand) -> anyhow::Result<()> {
    let UsersCommand::Add(args) = cmd;
    let role = Role::parse(&args.role).ok_or_else(|| {
        BadInput(format!(
            "--role {}: expected coordinator, viewer or lab",
            args.role
        ))
    })?;
    let (password, generated) = match env("LABFLIGHT_PASSWORD") {
        Some(p) => (p, false),
        None => (labflight_server::auth::random_secret(12), true),
    };
    runtime()?.block_on(async move {
        let store = labflight_store::Store::open(&args.database_url).await?;
        labflight_server::auth::put_user(&store, &args.name, role, args.lab.as_deref(), &password)
            .await
            .map_err(BadInput)?;
        if generated {
            println!("login: {} {password}", args.name);
        } else {
            println!("user {} saved ({})", args.name, role.as_str());
        }
        Ok(())
    })
}

/// The embedded broker's logins, fresh each start, for the operator's console (as
/// the demo's dashboard passwords): the service's own, and the key each device's
/// password derives from (`labflight devices --device-key`).
fn print_broker_logins(running: &labflight_service::Running) {
    if let Some(l) = &running.broker_logins {
        println!(
            "mqtt service login: {} {}",
            labflight_mqtt::SERVICE_USER,
            l.service_password
        );
        println!("mqtt device key: {}", l.device_key());
    }
}

/// A random bearer token (32 hex digits after a prefix).
fn random_token(prefix: &str) -> String {
    use rand::Rng;
    let n: u128 = rand::rng().random();
    format!("{prefix}-{n:032x}")
}

/// 24 random bytes, base64: a Standard Webhooks secret body.
fn base64_token() -> String {
    use base64::Engine;
    use rand::Rng;
    let bytes: [u8; 24] = rand::rng().random();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn station_sink(args: SinkArgs) -> anyhow::Result<()> {
    init_logs();
    let secret = labflight_hooks::signature::Secret::parse(&args.secret)
        .map_err(|e| BadInput(format!("--secret: {e}")))?;
    runtime()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
            .await
            .map_err(|e| BadInput(format!("--port {}: {e}", args.port)))?;
        println!(
            "station sink: http://{}/ (GET /received lists deliveries)",
            listener.local_addr()?
        );
        labflight_service::serve_station_sink(listener, secret, args.out).await
    })
}

/// `port` on 127.0.0.1 if nothing listens there, else 0 (any free port).
fn port_or_free(port: u16) -> u16 {
    if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
        0
    } else {
        port
    }
}
