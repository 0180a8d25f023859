//! High availability on PostgreSQL: `serve` processes share one database and one
//! broker; the owner holds the partition's lease and a standby waits. Over one
//! short live day on a three-node NATS cluster:
//! 1. the owner is killed with SIGKILL: the standby takes the partition under
//!    the next epoch and sends commands within seconds;
//! 2. that new owner is paused (SIGSTOP) past its lease: a third process takes
//!    over; resumed (SIGCONT), the paused one finds itself fenced and steps down
//!    (exit status 75) instead of acting.
//!
//! Afterwards every tube has its complete custody, no box was in two live
//! missions, each posted result reached the centre's system once, and the
//! database names the third process the owner under epoch 3. Every day is also
//! compared with an uninterrupted one (the same tubes, times and boxes as the
//! simulator's day of the same seed). The other tests: ten kills at random
//! instants in one morning (takeover figures), a NATS node then the owner
//! killed, PostgreSQL restarted under an HA pair, a second lone service
//! refused, and a coordinator's dashboard on the standby kept through the
//! takeover.

mod support;

use rumqttc::{Client, Event, Packet, QoS};
use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// Lease length for the test's processes: short, so takeovers are quick.
const LEASE_MS: &str = "1500";

/// Every command published on the broker, as (when seen, epoch, command id).
type Seen = Arc<Mutex<Vec<(Instant, i64, String)>>>;

/// Watches the command topics until `stop` (bounded by the test's own length).
fn watch_commands(port: u16, stop: Arc<AtomicBool>) -> (Seen, std::thread::JoinHandle<()>) {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let handle = std::thread::spawn(move || {
        let mut o = rumqttc::MqttOptions::new("ha-test-watch", "127.0.0.1", port);
        o.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut conn) = Client::new(o, 100);
        for t in [
            "labflight/v1/drones/+/cmd",
            "labflight/v1/stations/+/cmd",
            "labflight/v1/couriers/+/cmd",
        ] {
            client.subscribe(t, QoS::AtMostOnce).unwrap();
        }
        let deadline = Instant::now() + Duration::from_secs(600);
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            if let Ok(Ok(Event::Incoming(Packet::Publish(p)))) =
                conn.recv_timeout(Duration::from_millis(200))
            {
                let v: serde_json::Value = serde_json::from_slice(&p.payload).unwrap_or_default();
                let epoch = v["fence"]["epoch"].as_i64().unwrap_or(0);
                let id = v["command_id"].as_str().unwrap_or_default().to_owned();
                log.lock().unwrap().push((Instant::now(), epoch, id));
            }
        }
    });
    (seen, handle)
}

/// When the first command the owner of `epoch` made itself was seen (not one it
/// re-sent for a previous owner: those carry ids seen before).
fn first_of_epoch(seen: &Seen, epoch: i64) -> Option<Instant> {
    own_commands(seen, epoch).first().copied()
}

/// When each command the owner of `epoch` made itself was seen.
fn own_commands(seen: &Seen, epoch: i64) -> Vec<Instant> {
    let seen = seen.lock().unwrap();
    let mut ids = std::collections::BTreeSet::new();
    let mut own = Vec::new();
    for (t, e, id) in seen.iter() {
        if *e == epoch && !ids.contains(id) {
            own.push(*t);
        }
        ids.insert(id.clone());
    }
    own
}

/// A `serve` process of the partition on `db` and `mqtt`, its HTTP on `http`.
fn serve(config: &std::path::Path, mqtt: &str, db: &str, http: &str, standby: bool) -> Proc {
    let mut args = vec!["serve", "--config", config.to_str().unwrap()];
    args.extend(["--lease-ms", LEASE_MS]);
    if standby {
        args.push("--standby");
    }
    Proc::spawn(
        &args,
        &[
            ("LABFLIGHT_MQTT_URL", mqtt),
            ("DATABASE_URL", db),
            ("LABFLIGHT_HTTP", http),
        ],
    )
}

/// The short-day config in `dir` at `speed`, snapshotting every 100 events (so
/// recoveries restore one).
fn config_with_snapshots(dir: &Scratch, speed: f64) -> std::path::PathBuf {
    let config = serve_config(dir, speed, 0, free_port(), "unused");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("snapshot_every = 100\n");
    std::fs::write(&config, text).unwrap();
    config
}

/// The simulated devices of the short day on `mqtt`, for at most `max_seconds`.
fn start_devices(mqtt: &str, max_seconds: &str, extra: &[&str]) -> Proc {
    let scenario = short_scenario();
    let mut args = vec![
        "devices",
        "--mqtt",
        mqtt,
        "--scenario",
        scenario.to_str().unwrap(),
        "--quiet",
        "--max-seconds",
        max_seconds,
    ];
    args.extend_from_slice(extra);
    Proc::spawn(&args, &[])
}

/// Waits (bounded) for the devices' report and checks the day lost nothing:
/// no tube left, every tube's custody complete, no box in two live missions,
/// and the tubes those of an uninterrupted day.
fn finish_day(devices: &mut Proc, db: &str, within: Duration) -> serde_json::Value {
    let line = devices.wait_line("{", within);
    let report = report_json(&format!("{{{line}"));
    assert!(devices.wait_exit(Duration::from_secs(30)));
    println!("devices: {report}");
    if report["tubes_left"] != 0 {
        let story = support::unsettled_story(db, None);
        panic!("tubes left: {report}\n{story}");
    }
    let custody = settled_custody(db);
    assert_eq!(
        assert_complete_custody(&custody) as u64,
        report["tubes_drawn"].as_u64().unwrap()
    );
    assert_no_box_assigned_twice(db);
    // Against an uninterrupted run: the same tubes, drawn at the same centres and
    // times, sealed in the same boxes (the simulator's day of the same seed).
    assert_same_tubes(
        &tubes_as_drawn(db, None),
        &simulated_tubes(&short_scenario(), DEVICES_SEED),
    );
    report
}

/// The seed the devices run with (their default).
const DEVICES_SEED: u64 = 7;

/// `labflight cluster status --json` on `db`.
fn cluster_status(db: &str) -> serde_json::Value {
    let out = std::process::Command::new(BIN)
        .args(["cluster", "status", "--json"])
        .env("DATABASE_URL", db)
        .output()
        .unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

fn signal(p: &Proc, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &p.child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill {sig} failed");
}

#[test]
fn a_standby_takes_over_a_killed_owner_and_a_paused_owner_is_fenced() {
    let db = fresh_postgres("ha");
    let cluster = support::nats::NatsCluster::start();
    let mqtt = cluster.url();
    let dir = Scratch::new("ha");
    let sink_port = free_port();
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let config = serve_config(&dir, 300.0, 0, free_port(), "unused");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "snapshot_every = 100\n\n[labs]\nLAB-PH = \"t-ph-lab-token-0001\"\nLAB-CH = \"t-ch-lab-token-0002\"\nLAB-MCH = \"t-mch-lab-token-0003\"\n\n[[hooks]]\nid = \"sink\"\nscope = \"all\"\nurl = \"http://127.0.0.1:{sink_port}/fhir\"\nsecret = \"{secret}\"\n"
    ));
    std::fs::write(&config, text).unwrap();
    let mut sink = Proc::spawn(
        &[
            "station-sink",
            "--port",
            &sink_port.to_string(),
            "--secret",
            secret,
        ],
        &[],
    );
    sink.wait_line("station sink:", Duration::from_secs(30));

    let ports = [free_port(), free_port(), free_port()];
    let https: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let serve = |http: &str, standby: bool| serve(&config, &mqtt, &db, http, standby);
    let mut a = serve(&https[0], false);
    assert!(
        a.wait_line("owner:", Duration::from_secs(60))
            .contains("epoch 1")
    );
    a.wait_line("dashboard:", Duration::from_secs(60));
    let mut b = serve(&https[1], true);
    b.wait_line("standby:", Duration::from_secs(60));

    let stop = Arc::new(AtomicBool::new(false));
    let (seen, watcher) = watch_commands(cluster.mqtt_port(2), Arc::clone(&stop));
    let urls = https
        .iter()
        .map(|h| format!("http://{h}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut devices = start_devices(
        &mqtt,
        "400",
        &[
            "--results-url",
            &urls,
            "--lab-token",
            "LAB-PH=t-ph-lab-token-0001",
            "--lab-token",
            "LAB-CH=t-ch-lab-token-0002",
            "--lab-token",
            "LAB-MCH=t-mch-lab-token-0003",
        ],
    );

    // 1. Kill the owner mid-morning, once it has sent commands.
    let started = Instant::now();
    while first_of_epoch(&seen, 1).is_none() || started.elapsed() < Duration::from_secs(8) {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the first owner sent no command within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let killed = Instant::now();
    a.kill9();
    assert!(
        b.wait_line("owner:", Duration::from_secs(30))
            .contains("epoch 2")
    );
    b.wait_line("dashboard:", Duration::from_secs(30));
    // The standby followed the journal while it waited: it replays only the tail.
    let recovered = b
        .seen
        .iter()
        .find(|l| l.starts_with("recovered"))
        .cloned()
        .unwrap_or_default();
    assert!(
        recovered.contains("the standby's state at event"),
        "the takeover starts from the standby's warm dispatcher: {:?}",
        b.seen
    );
    println!("{recovered}");
    let takeover = loop {
        if let Some(t) = first_of_epoch(&seen, 2) {
            break t.duration_since(killed);
        }
        assert!(
            killed.elapsed() < Duration::from_secs(30),
            "the new owner sent no command within 30 s of the kill"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    println!("takeover after SIGKILL: first command of epoch 2 after {takeover:?}");
    assert!(
        takeover < Duration::from_secs(10),
        "first command of the new owner {takeover:?} after the kill"
    );

    // 2. A third process waits; the owner is paused past its lease.
    let mut c = serve(&https[2], true);
    c.wait_line("standby:", Duration::from_secs(60));
    std::thread::sleep(Duration::from_secs(3));
    signal(&b, "-STOP");
    assert!(
        c.wait_line("owner:", Duration::from_secs(30))
            .contains("epoch 3"),
        "the standby takes the paused owner's partition"
    );
    c.wait_line("dashboard:", Duration::from_secs(30));
    signal(&b, "-CONT");
    let resumed = Instant::now();
    let status = loop {
        if let Ok(Some(s)) = b.child.try_wait() {
            break s;
        }
        assert!(
            resumed.elapsed() < Duration::from_secs(20),
            "the resumed, fenced owner is still running after 20 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        status.code(),
        Some(75),
        "the fenced owner steps down with status 75 (got {status:?}, signal {:?})",
        status.signal()
    );

    // The day completes under the third owner.
    let report = finish_day(&mut devices, &db, Duration::from_secs(400));
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    let posted = report["results_posted"].as_u64().unwrap();
    let (_, received) = http_get(&format!("127.0.0.1:{sink_port}"), "/received");
    let received: serde_json::Value = serde_json::from_str(&received).unwrap();
    let reports = received
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["body"]["entry"][0]["resource"]["resourceType"] == "DiagnosticReport")
        .count() as u64;
    assert_eq!(reports, posted, "one report per posted result: {report}");
    // Each delivery names its partition, the owner's epoch and the event.
    let epochs: std::collections::BTreeSet<i64> = received
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            assert_eq!(d["partition"], "longhua-short", "{d}");
            assert!(d["seq"].as_i64().is_some_and(|s| s > 0), "{d}");
            d["epoch"].as_i64().unwrap()
        })
        .collect();
    assert!(
        epochs.contains(&3),
        "the last owner delivered too: {epochs:?}"
    );

    let status = cluster_status(&db);
    let owner = &status["partitions"][0];
    assert_eq!(owner["epoch"], 3, "{status}");
    assert!(
        owner["owner"]
            .as_str()
            .unwrap()
            .contains(&c.child.id().to_string()),
        "{status}"
    );
    // A clean stop (SIGTERM) lets the partition go at once.
    signal(&c, "-TERM");
    assert!(
        c.wait_exit(Duration::from_secs(15)),
        "SIGTERM stops cleanly"
    );
    let status = cluster_status(&db);
    assert!(
        status["partitions"][0]["expires_in_ms"].as_i64().unwrap() < 0,
        "released on a clean stop: {status}"
    );
    println!(
        "devices ignored {} commands of a deposed owner; {} commands seen",
        report["fenced_commands"],
        seen.lock().unwrap().len()
    );
}

/// The median and the longest of `d`.
fn p50_max(d: &[Duration]) -> (Duration, Duration) {
    let mut d = d.to_vec();
    d.sort();
    (d[d.len() / 2], d[d.len() - 1])
}

/// On the three-node NATS cluster, ten owners killed with SIGKILL in one
/// morning, at instants spread over it: each time the standby takes over (the killed process comes back as the next
/// standby) and sends its first command of its own within 10 s; the day loses
/// nothing and gives no box to two live missions. Prints p50 and max of the
/// time to claim, to be ready and to the first command.
#[test]
fn ten_owners_killed_in_one_morning_are_each_taken_over_within_10_s() {
    let db = fresh_postgres("ha10");
    let cluster = support::nats::NatsCluster::start();
    let mqtt = cluster.url();
    let dir = Scratch::new("ha10");
    // 200×: the morning (draws until 11:30) lasts 90 s, room for ten kill
    // cycles while commands are due (at 300× the last kills fell in the quiet
    // afternoon; slower, the gaps between commands stretch the first command).
    let config = config_with_snapshots(&dir, 200.0);
    let https = [
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    ];
    let mut owner = serve(&config, &mqtt, &db, &https[0], false);
    owner.wait_line("dashboard:", Duration::from_secs(60));
    let mut standby = serve(&config, &mqtt, &db, &https[1], true);
    standby.wait_line("standby:", Duration::from_secs(60));
    let stop = Arc::new(AtomicBool::new(false));
    let (seen, watcher) = watch_commands(cluster.mqtt_port(2), Arc::clone(&stop));
    let mut devices = start_devices(&mqtt, "900", &[]);
    // The draws start half an hour into the service day (9 s at 200×): kill
    // only once the morning is busy and commands are due.
    std::thread::sleep(Duration::from_secs(11));
    // Each kill comes at a random instant after its owner got going; the seed is
    // printed (and LABFLIGHT_CHAOS_SEED replays one).
    let chaos_seed = std::env::var("LABFLIGHT_CHAOS_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    println!("chaos seed {chaos_seed} (LABFLIGHT_CHAOS_SEED={chaos_seed} replays these instants)");
    let mut chaos = <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(chaos_seed);
    let (mut claimed, mut ready, mut first) = (Vec::new(), Vec::new(), Vec::new());
    let mut owner_http = 0;
    for kill in 0..10 {
        let epoch = kill + 1;
        // Kill while commands are due (the morning is busy): once this owner
        // has sent three of its own, or one once 20 s have passed (on a slow CI
        // run the last kills can fall in the quiet afternoon).
        let since = Instant::now();
        loop {
            let own = own_commands(&seen, epoch).len();
            if own >= 3 || (own >= 1 && since.elapsed() > Duration::from_secs(20)) {
                break;
            }
            assert!(
                since.elapsed() < Duration::from_secs(90),
                "owner of epoch {epoch} sent no command of its own within 90 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        // Then anywhere in the next second: mid-batch, mid-commit, mid-publish.
        let jitter = rand::Rng::random_range(&mut chaos, 0..1_000u64);
        std::thread::sleep(Duration::from_millis(jitter));
        let killed = Instant::now();
        owner.kill9();
        let line = standby.wait_line("owner:", Duration::from_secs(30));
        assert!(line.contains(&format!("epoch {}", epoch + 1)), "{line}");
        claimed.push(killed.elapsed());
        standby.wait_line("dashboard:", Duration::from_secs(30));
        ready.push(killed.elapsed());
        let took = loop {
            if let Some(t) = first_of_epoch(&seen, epoch + 1) {
                break t.duration_since(killed);
            }
            assert!(
                killed.elapsed() < Duration::from_secs(30),
                "the owner of epoch {} sent no command within 30 s",
                epoch + 1
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        println!(
            "kill {} ({jitter} ms after its commands): claimed {:.2?}, ready {:.2?}, first command {took:.2?}",
            kill + 1,
            claimed[kill as usize],
            ready[kill as usize]
        );
        first.push(took);
        // The killed process comes back as the next standby.
        std::mem::swap(&mut owner, &mut standby);
        standby = serve(&config, &mqtt, &db, &https[owner_http], true);
        owner_http = 1 - owner_http;
        standby.wait_line("standby:", Duration::from_secs(60));
    }
    finish_day(&mut devices, &db, Duration::from_secs(900));
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    for (what, d) in [
        ("claimed", &claimed),
        ("ready", &ready),
        ("first command", &first),
    ] {
        let (p50, max) = p50_max(d);
        println!("takeover over 10 kills, {what}: p50 {p50:.2?}, max {max:.2?}");
    }
    let (_, slowest) = p50_max(&first);
    assert!(
        slowest < Duration::from_secs(10),
        "a new owner's first command came {slowest:?} after the kill: {first:?}"
    );
}

/// A clustered broker: three NATS nodes serving MQTT (sessions in JetStream).
/// The service, its standby and the devices all know every node. Mid-morning the
/// node everyone is connected to is killed: all move to another node and carry
/// on; then the owner is killed too and the standby takes over on the two nodes
/// left. The day loses no tube and gives no box to two live missions.
#[test]
fn a_broker_node_and_then_the_owner_killed_mid_day_lose_nothing() {
    let db = fresh_postgres("hanats");
    let mut cluster = support::nats::NatsCluster::start();
    let mqtt = cluster.url();
    let dir = Scratch::new("hanats");
    let config = config_with_snapshots(&dir, 300.0);
    let https = [
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    ];
    let mut owner = serve(&config, &mqtt, &db, &https[0], false);
    owner.wait_line("dashboard:", Duration::from_secs(60));
    let mut standby = serve(&config, &mqtt, &db, &https[1], true);
    standby.wait_line("standby:", Duration::from_secs(60));
    let mut devices = start_devices(&mqtt, "400", &[]);
    std::thread::sleep(Duration::from_secs(10));
    cluster.kill(0);
    std::thread::sleep(Duration::from_secs(8));
    owner.kill9();
    assert!(
        standby
            .wait_line("owner:", Duration::from_secs(30))
            .contains("epoch 2")
    );
    standby.wait_line("dashboard:", Duration::from_secs(30));
    finish_day(&mut devices, &db, Duration::from_secs(400));
    let (_, metrics) = http_get(&https[1], "/metrics");
    assert!(
        metrics.contains("labflight_mqtt_connected 1"),
        "the new owner is connected to a live node:\n{metrics}"
    );
}

/// On the three-node NATS cluster, PostgreSQL restarted mid-morning under two
/// processes run as an HA pair (both `--standby`: the first to come claims the
/// free partition). While the database is away nobody can renew; once it is
/// back exactly one process owns the partition: the owner again, or the standby
/// under the next epoch with the old owner stepped down (exit 75). Either way
/// the day loses nothing.
#[test]
fn a_database_restart_under_an_ha_pair_leaves_one_owner_and_loses_nothing() {
    let pg = support::postgres::PrivatePostgres::start();
    let db = pg.url();
    let cluster = support::nats::NatsCluster::start();
    let mqtt = cluster.url();
    let dir = Scratch::new("hapg");
    let config = config_with_snapshots(&dir, 300.0);
    let https = [
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    ];
    let mut first = serve(&config, &mqtt, &db, &https[0], true);
    assert!(
        first
            .wait_line("owner:", Duration::from_secs(60))
            .contains("epoch 1"),
        "the first of the pair claims the free partition"
    );
    first.wait_line("dashboard:", Duration::from_secs(60));
    let mut second = serve(&config, &mqtt, &db, &https[1], true);
    second.wait_line("standby:", Duration::from_secs(60));
    let mut devices = start_devices(&mqtt, "400", &[]);
    std::thread::sleep(Duration::from_secs(10));
    pg.stop();
    std::thread::sleep(Duration::from_secs(4));
    pg.start_again();
    finish_day(&mut devices, &db, Duration::from_secs(400));
    // Exactly one process still runs as the owner; one that stopped stepped down.
    let running: Vec<bool> = [&mut first, &mut second]
        .into_iter()
        .map(|p| match p.child.try_wait().unwrap() {
            None => true,
            Some(status) => {
                assert_eq!(status.code(), Some(75), "a process stopped: {status:?}");
                false
            }
        })
        .collect();
    let status = cluster_status(&db);
    let owner = status["partitions"][0]["owner"]
        .as_str()
        .unwrap()
        .to_owned();
    let owner_is = |p: &Proc| owner.contains(&format!("-{}-", p.child.id()));
    assert!(
        (running[0] && owner_is(&first)) || (running[1] && owner_is(&second)),
        "the owner in the database runs: {status} (running {running:?})"
    );
    println!("after the database restart: {status}");
}

/// Two lone services (neither `--standby`) on one database would fence each other
/// in turn. The second sees the first renew its lease and refuses to start, as bad
/// input naming the owner and `--standby`; the first keeps the partition. After a
/// SIGKILL of the owner, a lone restart does take the partition (no renewal comes).
#[test]
fn a_second_lone_service_on_a_live_owners_database_is_refused() {
    let db = fresh_postgres("halone");
    let broker = Mosquitto::start();
    let mqtt = broker.url();
    let dir = Scratch::new("halone");
    let config = serve_config(&dir, 300.0, 0, free_port(), "unused");
    let http = format!("127.0.0.1:{}", free_port());
    let mut first = serve(&config, &mqtt, &db, &http, false);
    first.wait_line("dashboard:", Duration::from_secs(60));
    let mut second = serve(
        &config,
        &mqtt,
        &db,
        &format!("127.0.0.1:{}", free_port()),
        false,
    );
    let status = loop {
        if let Ok(Some(s)) = second.child.try_wait() {
            break s;
        }
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            first.child.try_wait().unwrap().is_none(),
            "the first service keeps running"
        );
    };
    assert_eq!(status.code(), Some(2), "refused as bad input: {status:?}");
    assert_eq!(
        cluster_status(&db)["partitions"][0]["epoch"],
        1,
        "the first keeps its partition"
    );
    // The owner dies: a lone restart waits one renewal period, sees none, takes over.
    first.kill9();
    let mut restarted = serve(&config, &mqtt, &db, &http, false);
    assert!(
        restarted
            .wait_line("owner:", Duration::from_secs(30))
            .contains("epoch 2")
    );
    restarted.wait_line("dashboard:", Duration::from_secs(30));
}

/// The next `view` event of a live feed (bounded), as JSON.
async fn next_view(
    feed: &mut reqwest::Response,
    buffer: &mut String,
    within: Duration,
) -> serde_json::Value {
    let deadline = Instant::now() + within;
    loop {
        if let Some(end) = buffer.find("\n\n") {
            let event: String = buffer.drain(..end + 2).collect();
            if event.contains("event: view")
                && let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: "))
            {
                return serde_json::from_str(data).expect("a view is JSON");
            }
            continue;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "no view event within {within:?}: {buffer}");
        match tokio::time::timeout(left, feed.chunk()).await {
            Ok(Ok(Some(c))) => buffer.push_str(&String::from_utf8_lossy(&c)),
            other => panic!("the feed ended: {other:?}"),
        }
    }
}

/// A coordinator on a standby's dashboard: it shows the owner's day as the
/// standby follows the journal (the header says standby, read-only), refuses
/// writes with 503 naming the owner, and keeps the same live feed open through
/// the takeover (no reconnect), after which it takes writes.
#[test]
fn a_standbys_dashboard_follows_the_owner_and_its_feed_survives_the_takeover() {
    let db = fresh_postgres("hadash");
    let broker = Mosquitto::start();
    let mqtt = broker.url();
    let dir = Scratch::new("hadash");
    let config = config_with_snapshots(&dir, 300.0);
    let https = [
        format!("127.0.0.1:{}", free_port()),
        format!("127.0.0.1:{}", free_port()),
    ];
    let mut a = serve(&config, &mqtt, &db, &https[0], false);
    let owner_line = a.wait_line("owner:", Duration::from_secs(60));
    a.wait_line("dashboard:", Duration::from_secs(60));
    let mut b = serve(&config, &mqtt, &db, &https[1], true);
    b.wait_line("standby: dashboard", Duration::from_secs(60));
    let mut devices = start_devices(&mqtt, "400", &[]);
    let standby = format!("http://{}", https[1]);
    let http = reqwest::Client::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let get = |path: &str| {
            http.get(format!("{standby}{path}"))
                .bearer_auth(ADMIN_TOKEN)
                .timeout(Duration::from_secs(10))
                .send()
        };
        // The standby's health says what it is, and it is up.
        let health = get("/healthz").await.unwrap();
        assert_eq!(health.status(), 200);
        let health: serde_json::Value = health.json().await.unwrap();
        assert_eq!(health["role"], "standby", "{health}");
        // Its read API follows the owner's journal.
        let started = Instant::now();
        let seq = loop {
            let r = get("/api/v1/status").await.unwrap();
            if r.status() == 200 {
                let s: serde_json::Value = r.json().await.unwrap();
                let seq = s["journal_seq"].as_i64().unwrap();
                if seq > 20 {
                    break seq;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the standby's status never showed the owner's journal"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        // Writes are the owner's: refused with 503, Retry-After, and the owner named.
        let owner = owner_line
            .split('(')
            .nth(1)
            .unwrap()
            .trim_end_matches(')')
            .trim()
            .to_owned();
        let ground = http
            .post(format!("{standby}/api/v1/control/fleet/ground"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&serde_json::json!({"reason": "test"}))
            .send()
            .await
            .unwrap();
        assert_eq!(ground.status(), 503);
        assert!(ground.headers().contains_key("retry-after"));
        let text = ground.text().await.unwrap();
        assert!(text.contains(&owner) && text.contains("standby"), "{text}");
        let result = http
            .post(format!("{standby}/api/v1/lab/results"))
            .bearer_auth("t-ph-lab-token-0001")
            .header("content-type", "application/fhir+json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(result.status(), 503);
        let outcome: serde_json::Value = result.json().await.unwrap();
        assert_eq!(outcome["resourceType"], "OperationOutcome", "{outcome}");
        // A coordinator's feed on the standby: the header says standby.
        let mut feed = get("/api/v1/live").await.unwrap();
        assert_eq!(feed.status(), 200);
        let mut buffer = String::new();
        let view = next_view(&mut feed, &mut buffer, Duration::from_secs(30)).await;
        assert!(
            view["standby"].as_str().is_some_and(|s| s.contains(&owner)),
            "the standby's view names the owner it follows: {}",
            view["standby"]
        );
        // The owner dies; the same feed, unbroken, comes to show the new owner's day.
        a.kill9();
        let killed = Instant::now();
        let taken_over = loop {
            let view = next_view(&mut feed, &mut buffer, Duration::from_secs(30)).await;
            if view.get("standby").is_none() {
                break view;
            }
            assert!(
                killed.elapsed() < Duration::from_secs(30),
                "the feed still shows a standby 30 s after the owner died"
            );
        };
        println!(
            "the standby's feed showed the new owner's view {:?} after the kill",
            killed.elapsed()
        );
        let moved_on = next_view(&mut feed, &mut buffer, Duration::from_secs(30)).await;
        assert_ne!(
            moved_on["now"], taken_over["now"],
            "the feed keeps moving after the takeover"
        );
        let health: serde_json::Value = get("/healthz").await.unwrap().json().await.unwrap();
        assert_eq!(health["role"], "owner", "{health}");
        let status: serde_json::Value = get("/api/v1/status").await.unwrap().json().await.unwrap();
        assert!(status["journal_seq"].as_i64().unwrap() >= seq, "{status}");
        // Writes are taken now (acknowledging an alert nobody raised is harmless).
        let ack = http
            .post(format!("{standby}/api/v1/alerts/ack"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&serde_json::json!({"ids": ["no-such-alert"]}))
            .send()
            .await
            .unwrap();
        assert_eq!(ack.status(), 202, "{:?}", ack.text().await);
    });
    assert!(
        b.wait_line("owner:", Duration::from_secs(5))
            .contains("epoch 2")
    );
    finish_day(&mut devices, &db, Duration::from_secs(400));
}
