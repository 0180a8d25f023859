//! High availability on PostgreSQL: `serve` processes share one database and one
//! broker; the owner holds the partition's lease and a standby waits. Over one
//! short live day:
//! 1. the owner is killed with SIGKILL: the standby takes the partition under
//!    the next epoch and sends commands within seconds;
//! 2. that new owner is paused (SIGSTOP) past its lease: a third process takes
//!    over; resumed (SIGCONT), the paused one finds itself fenced and steps down
//!    (exit status 75) instead of acting.
//!
//! Afterwards every tube has its complete custody, no box was in two live
//! missions, each posted result reached the centre's system once, and the
//! database names the third process the owner under epoch 3.

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

/// The first command seen under `epoch`, if any.
fn first_of_epoch(seen: &Seen, epoch: i64) -> Option<Instant> {
    seen.lock()
        .unwrap()
        .iter()
        .find(|(_, e, _)| *e == epoch)
        .map(|(t, _, _)| *t)
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
    require(5432, "PostgreSQL");
    let db = tokio::runtime::Runtime::new().unwrap().block_on(async {
        labflight_store::testing::fresh_postgres_database(
            "postgres://postgres@127.0.0.1:5432/postgres",
            &format!("lf_ha_{}", std::process::id()),
        )
        .await
        .expect("a fresh PostgreSQL database")
    });
    let broker = Mosquitto::start();
    let mqtt = broker.url();
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
    let serve = |http: &str, standby: bool| {
        let mut args = vec!["serve", "--config", config.to_str().unwrap()];
        args.extend(["--lease-ms", LEASE_MS]);
        if standby {
            args.push("--standby");
        }
        Proc::spawn(
            &args,
            &[
                ("LABFLIGHT_MQTT_URL", &mqtt),
                ("DATABASE_URL", &db),
                ("LABFLIGHT_HTTP", http),
            ],
        )
    };
    let mut a = serve(&https[0], false);
    assert!(
        a.wait_line("owner:", Duration::from_secs(60))
            .contains("epoch 1")
    );
    a.wait_line("dashboard:", Duration::from_secs(60));
    let mut b = serve(&https[1], true);
    b.wait_line("standby:", Duration::from_secs(60));

    let stop = Arc::new(AtomicBool::new(false));
    let (seen, watcher) = watch_commands(broker.port, Arc::clone(&stop));
    let urls = https
        .iter()
        .map(|h| format!("http://{h}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut devices = Proc::spawn(
        &[
            "devices",
            "--mqtt",
            &mqtt,
            "--scenario",
            short_scenario().to_str().unwrap(),
            "--quiet",
            "--max-seconds",
            "400",
            "--results-url",
            &urls,
            "--lab-token",
            "LAB-PH=t-ph-lab-token-0001",
            "--lab-token",
            "LAB-CH=t-ch-lab-token-0002",
            "--lab-token",
            "LAB-MCH=t-mch-lab-token-0003",
        ],
        &[],
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
    let line = devices.wait_line("{", Duration::from_secs(400));
    let report = report_json(&format!("{{{line}"));
    assert!(devices.wait_exit(Duration::from_secs(30)));
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    assert_eq!(report["tubes_left"], 0, "{report}");
    let custody = settled_custody(&db);
    assert_eq!(
        assert_complete_custody(&custody) as u64,
        report["tubes_drawn"].as_u64().unwrap()
    );
    assert_no_box_assigned_twice(&db);
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

    let status = std::process::Command::new(BIN)
        .args(["cluster", "status", "--json"])
        .env("DATABASE_URL", &db)
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let owner = &status["partitions"][0];
    assert_eq!(owner["epoch"], 3, "{status}");
    assert!(
        owner["owner"]
            .as_str()
            .unwrap()
            .contains(&c.child.id().to_string()),
        "{status}"
    );
    println!(
        "devices ignored {} commands of a deposed owner; {} commands seen",
        report["fenced_commands"],
        seen.lock().unwrap().len()
    );
}
