//! Shared pieces of the end-to-end tests: free ports, the real `labflight` binary
//! as a child process (killed when dropped), a private Mosquitto, a fresh
//! PostgreSQL database, an MQTT test client, and reading what the service stored.
#![allow(dead_code)]

pub mod accounts;
pub mod carry;
pub mod nats;
pub mod postgres;

use labflight_store::Store;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_labflight");

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn short_scenario() -> PathBuf {
    repo().join("maps/longhua/longhua-short.toml")
}

/// What the browser tests drive: Debian's Chromium and playwright-core in
/// `tests/dashboard` (both installed by `scripts/test.sh`). Panics naming what is
/// missing; returns `tests/dashboard`.
pub fn browser_check_dir() -> PathBuf {
    const CHROMIUM: &str = "/usr/bin/chromium";
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} is missing: `apt-get install -y chromium` (scripts/test.sh does it)"
    );
    let check_dir = repo().join("tests/dashboard");
    assert!(
        check_dir.join("node_modules/playwright-core").exists(),
        "playwright-core is missing: `npm ci` in tests/dashboard (scripts/test.sh does it)"
    );
    check_dir
}

/// `labflight demo` of the short scenario at `speed`× on free loopback ports, once
/// it serves: the process and its dashboard line (the URL).
pub fn dashboard_demo(speed: u32) -> (Proc, String) {
    let http_port = free_port();
    let mqtt_port = free_port();
    let mut demo = Proc::spawn(
        &[
            "demo",
            "--scenario",
            short_scenario().to_str().unwrap(),
            "--speed",
            &speed.to_string(),
            "--http",
            &format!("127.0.0.1:{http_port}"),
            "--mqtt-port",
            &mqtt_port.to_string(),
            "--quiet",
        ],
        &[],
    );
    let url = demo.wait_line("dashboard:", Duration::from_secs(180));
    (demo, url)
}

/// `<target>/dashboard-screens`, where the browser tests keep their screenshots
/// as artifacts: beside the test binary's own target directory
/// (`<target>/debug/deps/<binary>`).
pub fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.ancestors().nth(3).map(|p| p.to_path_buf()))
        })
        .unwrap_or_else(|| repo().join("target"));
    target.join("dashboard-screens")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The first of `n` consecutive free ports on 127.0.0.1, none of them in
/// `taken` (a service serving several partitions listens on its port and the
/// next ones). Bounded: 200 tries.
pub fn free_ports(n: u16, taken: &[u16]) -> u16 {
    for _ in 0..200 {
        // Hold the first while probing the rest, so it is not handed out meanwhile.
        let first = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = first.local_addr().unwrap().port();
        if base.checked_add(n).is_none() {
            continue;
        }
        let clear = (base..base + n).all(|p| !taken.contains(&p))
            && (base + 1..base + n).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok());
        if clear {
            return base;
        }
    }
    panic!("no {n} consecutive free ports on 127.0.0.1");
}

/// A scratch folder under the system temp dir, removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Scratch {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        let dir = std::env::temp_dir().join(format!("lf-{tag}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
    pub fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A child process killed on drop; its stdout lines arrive on a channel.
pub struct Proc {
    pub child: Child,
    lines: mpsc::Receiver<String>,
    pub seen: Vec<String>,
    args: Vec<String>,
}

impl Proc {
    pub fn spawn(args: &[&str], envs: &[(&str, &str)]) -> Proc {
        let mut cmd = Command::new(BIN);
        cmd.args(args)
            .current_dir(repo())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .env_remove("LABFLIGHT_MQTT_URL")
            .env_remove("DATABASE_URL")
            .env_remove("LABFLIGHT_HTTP");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("labflight binary runs");
        let out = child.stdout.take().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Proc {
            child,
            lines: rx,
            seen: Vec::new(),
            args: args.iter().map(|a| a.to_string()).collect(),
        }
    }

    /// The value after `--config` on this process's command line.
    pub fn config_path(&self) -> PathBuf {
        let i = self
            .args
            .iter()
            .position(|a| a == "--config")
            .expect("started with --config");
        PathBuf::from(&self.args[i + 1])
    }

    /// Waits (bounded) for a stdout line starting with `prefix`; returns the rest.
    pub fn wait_line(&mut self, prefix: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            match self.lines.recv_timeout(Duration::from_millis(200)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if let Some(rest) = line.strip_prefix(prefix) {
                        return rest.trim().to_owned();
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if let Ok(Some(status)) = self.child.try_wait() {
                        panic!(
                            "labflight exited with {status} before printing `{prefix}`; output: {:?}",
                            self.seen
                        );
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = self.child.wait().ok();
                    panic!(
                        "labflight closed stdout ({status:?}) before printing `{prefix}`; output: {:?}",
                        self.seen
                    );
                }
            }
        }
        panic!(
            "no `{prefix}` line within {within:?}; output so far: {:?}",
            self.seen
        );
    }

    /// Waits (bounded) for the process to exit; returns whether it succeeded.
    pub fn wait_exit(&mut self, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("labflight did not exit within {within:?}");
    }

    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Waits until something accepts TCP connections on `port` (bounded).
pub fn wait_port(port: u16, within: Duration) {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on 127.0.0.1:{port} after {within:?}");
}

/// Requires a service on 127.0.0.1:`port`, naming what is missing if absent.
pub fn require(port: u16, what: &str) {
    if TcpStream::connect(("127.0.0.1", port)).is_err() {
        panic!("{what} is not running on 127.0.0.1:{port}; `bash scripts/test.sh` starts it");
    }
}

/// A private Mosquitto on a free port, with persistence in a scratch folder so a
/// restart keeps sessions and queued messages. Killed on drop.
pub struct Mosquitto {
    pub port: u16,
    conf: PathBuf,
    child: Option<Child>,
    _dir: Scratch,
}

impl Mosquitto {
    pub fn start() -> Mosquitto {
        Mosquitto::start_with("")
    }

    /// As `start`, with more config lines (e.g. `max_packet_size 262144\n`).
    pub fn start_with(extra_conf: &str) -> Mosquitto {
        let bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .expect("mosquitto is not installed (apt-get install mosquitto)");
        let dir = Scratch::new("mosquitto");
        // Started as root, Mosquitto drops to its own user: let it save its sessions.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o777)).unwrap();
        let port = free_port();
        let conf = dir.path("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\nautosave_interval 1\nmax_queued_messages 100000\n{extra_conf}",
                dir.0.display()
            ),
        )
        .unwrap();
        let mut m = Mosquitto {
            port,
            conf,
            child: None,
            _dir: dir,
        };
        m.spawn(bin);
        m
    }

    fn spawn(&mut self, bin: &str) {
        let child = Command::new(bin)
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto starts");
        self.child = Some(child);
        wait_port(self.port, Duration::from_secs(10));
    }

    /// Stops the broker gracefully (it saves its sessions), then starts it again.
    pub fn restart(&mut self, down_for: Duration) {
        self.stop();
        std::thread::sleep(down_for);
        self.start_again();
    }

    /// Stops the broker gracefully (it saves its sessions).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-TERM")
                .arg(c.id().to_string())
                .status();
            let _ = c.wait();
        }
    }

    /// Starts a stopped broker again on the same port, with its saved sessions.
    pub fn start_again(&mut self) {
        let bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap();
        self.spawn(bin);
    }

    pub fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The admin token `serve_config` gives the service.
pub const ADMIN_TOKEN: &str = "test-admin-token";

/// A fresh database `lf_{tag}_{pid}` on the local PostgreSQL (127.0.0.1:5432);
/// panics saying PostgreSQL is not running when nothing listens there.
pub fn fresh_postgres(tag: &str) -> String {
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(labflight_store::testing::local_postgres_database(tag))
}

/// A minimal HTTP/1.0 GET against 127.0.0.1 with the admin token: (status, body).
pub fn http_get(addr: &str, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).expect("HTTP server reachable");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAuthorization: Bearer {ADMIN_TOKEN}\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|x| x.1.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A service config file for `labflight serve --config`.
pub fn serve_config(
    dir: &Scratch,
    speed: f64,
    mqtt_port: u16,
    http_port: u16,
    database_url: &str,
) -> PathBuf {
    let path = dir.path("labflight.toml");
    std::fs::write(
        &path,
        format!(
            "scenario = \"{}\"\nspeed = {speed:?}\nmqtt_port = {mqtt_port}\nhttp = \"127.0.0.1:{http_port}\"\ndatabase_url = \"{database_url}\"\nadmin_token = \"{ADMIN_TOKEN}\"\n",
            short_scenario().display()
        ),
    )
    .unwrap();
    path
}

/// Every tube's custody steps, by barcode, as stored.
pub fn custody_by_tube(database_url: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    custody_by_tube_in(database_url, None)
}

/// Every tube's custody steps of a city partition (`None`: the district place).
pub fn custody_by_tube_in(
    database_url: &str,
    partition: Option<&str>,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open_partition(database_url, partition)
            .await
            .unwrap();
        let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
        for s in store.all_custody().await.unwrap() {
            out.entry(s.barcode.to_string())
                .or_default()
                .push(s.step.as_str().to_owned());
        }
        out
    })
}

/// For a failed day: each tube that never reached its last step (`reported` or
/// `rejected_at_lab`) with its custody, and every journal entry and command that
/// names its box or barcode, from the store (`partition` as for
/// `custody_by_tube_in`). What a test prints when tubes are left.
pub fn unsettled_story(database_url: &str, partition: Option<&str>) -> String {
    use std::fmt::Write;
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = Store::open_partition(database_url, partition)
            .await
            .unwrap();
        let mut by_tube: std::collections::BTreeMap<String, Vec<labflight_core::CustodyStep>> =
            Default::default();
        for s in store.all_custody().await.unwrap() {
            by_tube.entry(s.barcode.to_string()).or_default().push(s);
        }
        let mut out = String::new();
        let mut names: std::collections::BTreeSet<String> = Default::default();
        for (barcode, steps) in &by_tube {
            let settled = steps
                .iter()
                .any(|s| matches!(s.step.as_str(), "reported" | "rejected_at_lab"));
            if settled {
                continue;
            }
            names.insert(barcode.clone());
            let _ = writeln!(out, "tube {barcode}:");
            for s in steps {
                let _ = writeln!(
                    out,
                    "  {} {} at {:?} by {:?}",
                    s.at.format("%H:%M:%S%.3f"),
                    s.step.as_str(),
                    s.place,
                    s.by
                );
                if s.step.as_str() == "sealed_in_box"
                    && let Some(b) = &s.by
                {
                    names.insert(b.clone());
                }
            }
        }
        let names_in = |text: &str| names.iter().any(|n| text.contains(&format!("\"{n}\"")));
        let _ = writeln!(out, "journal entries naming them:");
        for e in store.journal().await.unwrap() {
            let body = serde_json::to_string(&e.stamped.event).unwrap_or_default();
            if names_in(&body) {
                let _ = writeln!(
                    out,
                    "  #{} {} {} {}",
                    e.seq,
                    e.stamped.at.format("%H:%M:%S%.3f"),
                    e.source,
                    body.chars().take(300).collect::<String>()
                );
            }
        }
        let _ = writeln!(out, "commands naming them:");
        for c in store.commands(false).await.unwrap() {
            if names_in(&c.body) {
                let _ = writeln!(
                    out,
                    "  after #{} {} {}",
                    c.event_seq,
                    c.command_id,
                    c.body.chars().take(300).collect::<String>()
                );
            }
        }
        out
    })
}

/// Each tube's custody once every tube has reached its last step (`reported`, or
/// `rejected_at_lab`) in the store, or as it stands after 20 s (polled every 200
/// ms): the devices finish before the service has stored the last reports.
pub fn settled_custody(database_url: &str) -> std::collections::BTreeMap<String, Vec<String>> {
    settled_custody_in(database_url, None)
}

/// As `settled_custody`, for a city partition (`None`: the district place).
pub fn settled_custody_in(
    database_url: &str,
    partition: Option<&str>,
) -> std::collections::BTreeMap<String, Vec<String>> {
    let mut custody = custody_by_tube_in(database_url, partition);
    for _ in 0..100 {
        let settled = custody.values().all(|steps| {
            steps
                .iter()
                .any(|s| s == "reported" || s == "rejected_at_lab")
        });
        if settled {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
        custody = custody_by_tube_in(database_url, partition);
    }
    custody
}

/// How each tube was drawn, by barcode: its centre, when (Unix ms) and the box
/// it was sealed in, from a live run's store (`partition` as for
/// `custody_by_tube_in`) ...
pub type DrawnTubes = std::collections::BTreeMap<String, (String, i64, String)>;

/// ... of a live run, as stored.
pub fn tubes_as_drawn(database_url: &str, partition: Option<&str>) -> DrawnTubes {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let steps = rt.block_on(async {
        let store = Store::open_partition(database_url, partition)
            .await
            .unwrap();
        store.all_custody().await.unwrap()
    });
    let mut out = DrawnTubes::new();
    for s in &steps {
        let entry = out.entry(s.barcode.to_string()).or_default();
        match s.step.as_str() {
            "drawn" => {
                entry.0 = s.place.clone().unwrap_or_default();
                entry.1 = s.at.timestamp_millis();
            }
            "sealed_in_box" => entry.2 = s.by.clone().unwrap_or_default(),
            _ => {}
        }
    }
    out
}

/// ... of an uninterrupted simulated day of `scenario` with `seed` (the live
/// devices draw the same tubes at the same times from the same seed): the
/// simulator's `specimens.csv`.
pub fn simulated_tubes(scenario: &Path, seed: u64) -> DrawnTubes {
    let dir = Scratch::new("uninterrupted");
    let out = dir.path("day");
    let ok = Command::new(BIN)
        .args([
            "sim",
            "--scenario",
            scenario.to_str().unwrap(),
            "--seed",
            &seed.to_string(),
        ])
        .arg("--out")
        .arg(&out)
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success();
    assert!(ok, "labflight sim of {}", scenario.display());
    let text = std::fs::read_to_string(out.join("specimens.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (barcode, station, drawn_at, box_id) =
        (col("barcode"), col("station"), col("drawn_at"), col("box"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            let at = chrono::DateTime::parse_from_rfc3339(f[drawn_at]).unwrap();
            (
                f[barcode].to_owned(),
                (
                    f[station].to_owned(),
                    at.timestamp_millis(),
                    f[box_id].to_owned(),
                ),
            )
        })
        .collect()
}

/// Asserts a live day drew exactly the uninterrupted day's tubes, each at its
/// centre at the same time (within a second) and sealed in the same box.
pub fn assert_same_tubes(live: &DrawnTubes, uninterrupted: &DrawnTubes) {
    let missing: Vec<&String> = uninterrupted
        .keys()
        .filter(|b| !live.contains_key(*b))
        .collect();
    let extra: Vec<&String> = live
        .keys()
        .filter(|b| !uninterrupted.contains_key(*b))
        .collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "tubes missing live {:?}, drawn live only {:?}",
        &missing[..missing.len().min(5)],
        &extra[..extra.len().min(5)]
    );
    for (barcode, (station, at, box_id)) in uninterrupted {
        let (l_station, l_at, l_box) = &live[barcode];
        assert!(
            l_station == station && (l_at - at).abs() <= 1_000 && l_box == box_id,
            "tube {barcode}: live at {l_station} {l_at} in {l_box}, uninterrupted at {station} {at} in {box_id}"
        );
    }
}

/// The milestones every resolved tube passes exactly once, whatever carried it
/// (`loaded` once per carrier: see `assert_complete_custody`).
pub const MILESTONES: [&str; 6] = [
    "drawn",
    "sealed_in_box",
    "loaded",
    "received_at_lab",
    "resulted",
    "reported",
];

/// Asserts each tube passed every milestone exactly once (a tube the lab rejected
/// ends there instead of with a result); returns the tube count.
pub fn assert_complete_custody(custody: &std::collections::BTreeMap<String, Vec<String>>) -> usize {
    assert!(!custody.is_empty(), "no custody stored");
    for (barcode, steps) in custody {
        let rejected = steps.iter().filter(|s| *s == "rejected_at_lab").count();
        assert!(rejected <= 1, "tube {barcode} rejected twice: {steps:?}");
        let milestones: &[&str] = if rejected == 1 {
            &MILESTONES[..4]
        } else {
            &MILESTONES
        };
        if rejected == 1 {
            assert!(
                !steps.iter().any(|s| s == "resulted" || s == "reported"),
                "tube {barcode}: {steps:?}"
            );
        }
        for m in milestones.iter().copied() {
            let n = steps.iter().filter(|s| *s == m).count();
            // A box set down on a pad on its way (a hub leg's hub, or where a
            // drone in trouble landed) is loaded again by the carrier that takes
            // it on: once more for each landing followed by a loading.
            let expected = if m == "loaded" {
                1 + steps
                    .windows(2)
                    .filter(|w| w[0] == "landed" && w[1] == "loaded")
                    .count()
            } else {
                1
            };
            assert_eq!(
                n, expected,
                "tube {barcode}: step `{m}` seen {n} times in {steps:?}"
            );
        }
    }
    custody.len()
}

/// Parses the devices' closing JSON (`day done: {...}` or the `devices` output).
pub fn report_json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("devices report `{text}`: {e}"))
}

/// The embedded broker's device key a `serve` or `demo` printed (`mqtt device key:`),
/// once its start-up lines were read.
pub fn printed_device_key(proc: &Proc) -> Option<String> {
    proc.seen.iter().find_map(|l| {
        l.strip_prefix("mqtt device key:")
            .map(|k| k.trim().to_owned())
    })
}

/// MQTT options for a test client logging in to the embedded broker as device `id`
/// (client id = user name, password derived from the printed device key).
pub fn device_login(port: u16, id: &str, device_key: &str) -> rumqttc::MqttOptions {
    let mut o = rumqttc::MqttOptions::new(id, "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(10));
    let password = labflight_mqtt::device_password_from_key(device_key, id)
        .expect("the printed device key is 64 hex digits");
    o.set_credentials(id, password);
    o
}

/// Each box is in at most one live mission: a second assignment only follows an abort.
pub fn assert_no_box_assigned_twice(db: &str) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let commands = rt.block_on(async {
        Store::open(db)
            .await
            .unwrap()
            .commands(false)
            .await
            .unwrap()
    });
    let mut owner: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let mut aborted: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    let mut ids = std::collections::BTreeSet::new();
    for c in &commands {
        assert!(
            ids.insert(c.command_id.clone()),
            "command id {} stored twice",
            c.command_id
        );
        let env: serde_json::Value = serde_json::from_str(&c.body).unwrap();
        let cmd = &env["command"];
        let mission = cmd["mission"].as_str().unwrap_or_default().to_owned();
        match cmd["type"].as_str().unwrap() {
            "abort_mission" => {
                aborted.insert(mission);
            }
            "assign_mission" | "add_to_mission" | "request_courier" => {
                for b in cmd["boxes"].as_array().unwrap() {
                    let b = b.as_str().unwrap().to_owned();
                    if let Some(prev) = owner.get(&b)
                        && prev != &mission
                    {
                        assert!(
                            aborted.contains(prev),
                            "box {b} given to {mission} while {prev} still held it"
                        );
                    }
                    owner.insert(b, mission.clone());
                }
            }
            _ => {}
        }
    }
}
