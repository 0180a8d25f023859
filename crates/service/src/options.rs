//! What the live service is started with (`ServiceOptions`, from the binary's
//! command line and configuration file) and what a started service hands back
//! (`Running`).

use labflight_mqtt::{BrokerLogins, MqttUrl};
use labflight_store::{Store, Subscription};
use std::collections::HashMap;
use std::net::SocketAddr;

/// Where the service's clock starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ClockStart {
    /// Virtual time is wall time (production): the scenario's date becomes today.
    Wall,
    /// Half an hour before the scenario's first draw, at `speed`× (demo, tests).
    ScenarioMorning {
        /// Service seconds per wall second.
        speed: f64,
    },
}

/// How the live service is started.
#[derive(Clone, Debug)]
pub struct ServiceOptions {
    /// The scenario file (its map folder is read from it).
    pub scenario: std::path::PathBuf,
    /// Scenario overrides, `key=value` as for `labflight sim --set`.
    pub overrides: Vec<(String, String)>,
    /// The dispatch policy by name (`drone`, `courier`, `greedy`).
    pub policy: String,
    /// The dispatcher's seed for a fresh run.
    pub seed: u64,
    /// Where the service clock starts for a fresh run.
    pub clock: ClockStart,
    /// `None`: start the embedded broker on 127.0.0.1:`mqtt_port`.
    pub mqtt: Option<MqttUrl>,
    /// Port of the embedded broker.
    pub mqtt_port: u16,
    /// `sqlite://…` or `postgres://…`.
    pub database_url: String,
    /// Where the HTTP API and dashboard listen.
    pub http: SocketAddr,
    /// Result sharing.
    pub hooks: HookSettings,
    /// Recorded runs (folders with a journal) the dashboard can replay.
    pub runs_dir: std::path::PathBuf,
    /// A snapshot of the dispatcher every this many journaled events (0: none).
    pub snapshot_every: i64,
    /// Mark the session cookie `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// How this process holds the partition it serves.
    pub ownership: Ownership,
    /// Where the deployment's topics live: `district` (today's `labflight/v1/…`),
    /// `partitioned` (`labflight/v1/p/{partition}/…`) or `both` (migrating).
    pub topic_layout: String,
    /// The medical group this process serves of a city scenario (`None`: the
    /// scenario whole, one partition named after it). See `partitions.rs`.
    pub partition: Option<String>,
}

/// How a `serve` process holds its partition's lease.
#[derive(Clone, Debug)]
pub struct Ownership {
    /// This process as an owner: unique per process (host, pid and start time).
    pub member: String,
    /// Milliseconds a lease lasts unrenewed; renewed every third of it. A
    /// standby takes over that long after the owner's last renewal.
    pub lease_ms: i64,
    /// Wait for the lease to be free (a standby beside a running owner) rather
    /// than take it at once (a lone service, restarting).
    pub standby: bool,
}

impl Ownership {
    /// A lone service: takes its partition at once, 10 s leases.
    pub fn lone() -> Ownership {
        Ownership {
            member: default_member(),
            lease_ms: 10_000,
            standby: false,
        }
    }
}

/// `host-pid-millis`: unique per process, readable in `labflight cluster status`.
pub fn default_member() -> String {
    let host = std::env::var("HOSTNAME")
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .map(|h| h.trim().to_owned())
        })
        .unwrap_or_else(|| "host".into());
    format!(
        "{host}-{}-{}",
        std::process::id(),
        chrono::Utc::now().timestamp_millis()
    )
}

/// Result sharing: lab tokens, who may manage hooks, where hooks may go, and the
/// subscriptions the configuration declares.
#[derive(Clone, Debug, Default)]
pub struct HookSettings {
    /// Bearer token → lab id.
    pub lab_tokens: HashMap<String, String>,
    /// Bearer token that may manage hooks (`/api/v1/hooks/...`).
    pub admin_token: Option<String>,
    /// Hosts hooks may call (`host:port`, `host:*`, `host`); empty means
    /// `127.0.0.1:*` and `localhost:*`.
    pub allowed_hosts: Vec<String>,
    /// The subscriptions the configuration declares (stored at start-up).
    pub subscriptions: Vec<Subscription>,
}

/// A started service.
#[derive(Debug)]
pub struct Running {
    /// Where the HTTP API and dashboard listen.
    pub http: SocketAddr,
    /// The broker the service is connected to (without the service's login).
    pub mqtt: MqttUrl,
    /// The service's store.
    pub store: Store,
    /// The embedded broker's logins (none with an external broker).
    pub broker_logins: Option<BrokerLogins>,
    /// The partition lease this process owns (released on a clean shutdown).
    pub lease: labflight_store::Lease,
}
