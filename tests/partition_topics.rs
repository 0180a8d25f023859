//! The partitioned topic layout on a real broker (Mosquitto): a service with
//! `topic_layout = "partitioned"` and devices on their partition's subtree
//! (`labflight/v1/p/{partition}/…`) run a short day to its end with nothing on
//! today's district topics; a service migrating (`both`) runs a day with devices
//! still on the district topics, publishing each command on both layouts; and a
//! partition's owner does not consume another partition's traffic.

mod support;

use rumqttc::{Client, Event, Packet, QoS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use support::*;

/// The short day's partition: its scenario's name.
const PARTITION: &str = "longhua-short";

/// Every publish on the broker under `labflight/v1/#`, as (topic, payload).
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// Records every labflight publish until `stop` (bounded by 600 s).
fn watch_everything(port: u16, stop: Arc<AtomicBool>) -> (Seen, std::thread::JoinHandle<()>) {
    let seen: Seen = Arc::default();
    let log = Arc::clone(&seen);
    let handle = std::thread::spawn(move || {
        let mut o = rumqttc::MqttOptions::new("layout-test-watch", "127.0.0.1", port);
        o.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut conn) = Client::new(o, 1_000);
        client.subscribe("labflight/v1/#", QoS::AtMostOnce).unwrap();
        let deadline = Instant::now() + Duration::from_secs(600);
        while !stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            if let Ok(Ok(Event::Incoming(Packet::Publish(p)))) =
                conn.recv_timeout(Duration::from_millis(200))
            {
                log.lock()
                    .unwrap()
                    .push((p.topic.clone(), p.payload.to_vec()));
            }
        }
    });
    (seen, handle)
}

/// One short day: a service with `layout` and devices with `device_layout`, on
/// a private Mosquitto; returns what the broker carried and the devices' report.
/// `before_devices` runs once the service is up (given the broker's port and
/// the service's HTTP address).
fn day(
    tag: &str,
    layout: &str,
    device_layout: &str,
    before_devices: impl FnOnce(u16, &str),
) -> (Vec<(String, Vec<u8>)>, serde_json::Value) {
    let broker = Mosquitto::start();
    let mqtt = broker.url();
    let dir = Scratch::new(tag);
    let db = format!("sqlite://{}", dir.path("svc.db").display());
    let http_port = free_port();
    let config = serve_config(&dir, 300.0, 0, http_port, &db);
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!("topic_layout = \"{layout}\"\n"));
    std::fs::write(&config, text).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let (seen, watcher) = watch_everything(broker.port, Arc::clone(&stop));
    let mut serve = Proc::spawn(
        &["serve", "--config", config.to_str().unwrap()],
        &[("LABFLIGHT_MQTT_URL", &mqtt)],
    );
    serve.wait_line("dashboard:", Duration::from_secs(60));
    before_devices(broker.port, &format!("127.0.0.1:{http_port}"));
    let mut devices = Proc::spawn(
        &[
            "devices",
            "--mqtt",
            &mqtt,
            "--scenario",
            short_scenario().to_str().unwrap(),
            "--quiet",
            "--max-seconds",
            "300",
            "--topic-layout",
            device_layout,
        ],
        &[],
    );
    let line = devices.wait_line("{", Duration::from_secs(320));
    let report = report_json(&format!("{{{line}"));
    assert!(devices.wait_exit(Duration::from_secs(30)));
    assert_eq!(report["tubes_left"], 0, "{report}");
    let custody = settled_custody(&db);
    assert_eq!(
        assert_complete_custody(&custody) as u64,
        report["tubes_drawn"].as_u64().unwrap()
    );
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    drop(serve);
    let seen = seen.lock().unwrap().clone();
    (seen, report)
}

fn is_command(topic: &str) -> bool {
    topic.ends_with("/cmd")
}

fn command_id(payload: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(payload).unwrap_or_default();
    v["command_id"].as_str().unwrap_or_default().to_owned()
}

#[test]
fn a_partitioned_day_keeps_to_its_partitions_subtree() {
    let own = format!("labflight/v1/p/{PARTITION}/");
    let mut foreign_sent = false;
    let (seen, report) = day("layout-p", "partitioned", "partitioned", |port, http| {
        // Another partition's drone reports a fault on its own subtree: not this
        // owner's to hear (it would be rejected as unknown if it were).
        let mut o = rumqttc::MqttOptions::new("layout-test-other", "127.0.0.1", port);
        o.set_max_packet_size(1 << 20, 1 << 20);
        let (client, mut conn) = Client::new(o, 10);
        client
            .publish(
                "labflight/v1/p/futian/drones/D-01/events",
                QoS::AtLeastOnce,
                false,
                r#"{"event":"fault","code":"motor"}"#,
            )
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Ok(Event::Incoming(Packet::PubAck(_)))) =
                conn.recv_timeout(Duration::from_millis(200))
            {
                foreign_sent = true;
                break;
            }
        }
        // Nothing was rejected: the owner never received it.
        std::thread::sleep(Duration::from_secs(1));
        let (status, metrics) = http_get(http, "/metrics");
        assert_eq!(status, 200);
        let rejected: Vec<&str> = metrics
            .lines()
            .filter(|l| l.starts_with("labflight_messages_rejected_total{") && !l.ends_with(" 0"))
            .collect();
        assert!(rejected.is_empty(), "{rejected:?}");
    });
    assert!(
        foreign_sent,
        "the other partition's message reached the broker"
    );
    assert!(
        report["commands_received"].as_u64().unwrap() > 0,
        "{report}"
    );
    let commands: Vec<&String> = seen
        .iter()
        .map(|(t, _)| t)
        .filter(|t| is_command(t))
        .collect();
    assert!(!commands.is_empty());
    let off: Vec<&&String> = commands.iter().filter(|t| !t.starts_with(&own)).collect();
    assert!(
        off.is_empty(),
        "commands outside {own}: {:?}",
        &off[..off.len().min(5)]
    );
    // The devices' own traffic too: nothing of this day on the district topics
    // (the foreign partition's one message aside).
    let district: Vec<&String> = seen
        .iter()
        .map(|(t, _)| t)
        .filter(|t| !t.starts_with("labflight/v1/p/"))
        .collect();
    assert!(
        district.is_empty(),
        "on district topics: {:?}",
        &district[..district.len().min(5)]
    );
    println!(
        "partitioned day: {} publishes, {} commands, all under {own}",
        seen.len(),
        commands.len()
    );
}

#[test]
fn a_migrating_service_serves_district_devices_and_publishes_on_both() {
    let own = format!("labflight/v1/p/{PARTITION}/");
    let (seen, report) = day("layout-both", "both", "district", |_, _| {});
    assert!(
        report["commands_received"].as_u64().unwrap() > 0,
        "{report}"
    );
    let mut district = std::collections::BTreeSet::new();
    let mut partitioned = std::collections::BTreeSet::new();
    for (topic, payload) in seen.iter().filter(|(t, _)| is_command(t)) {
        let id = command_id(payload);
        if topic.starts_with(&own) {
            partitioned.insert(id);
        } else {
            district.insert(id);
        }
    }
    assert!(!district.is_empty());
    assert_eq!(
        district, partitioned,
        "each command goes out on both layouts while migrating"
    );
    println!("migrating day: {} commands on both layouts", district.len());
}
