//! The partitioned topic layout on a real broker (Mosquitto): a service with
//! `topic_layout = "partitioned"` and devices on their partition's subtree
//! (`labflight/v1/p/{partition}/…`) run a short day to its end with nothing on
//! today's district topics; a service migrating (`both`) runs a day with devices
//! still on the district topics, publishing each command on both layouts; and a
//! partition's owner does not consume another partition's traffic. And a city:
//! one process serves two medical groups of Shenzhen (`--partitions`), each its
//! own partition (schema, lease, topics, HTTP port), a second stands by for
//! both and takes both over when the first is killed, and each group's devices
//! run its own day to the end.

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

/// What one day left: what the broker carried, the devices' report, and the
/// service's `/metrics` at the end.
struct Day {
    seen: Vec<(String, Vec<u8>)>,
    report: serde_json::Value,
    metrics: String,
}

/// One short day: a service with `layout` and devices with `device_layout`, on
/// a private Mosquitto.
/// `before_devices` runs once the service is up (given the broker's port and
/// the service's HTTP address).
fn day(
    tag: &str,
    layout: &str,
    device_layout: &str,
    before_devices: impl FnOnce(u16, &str),
) -> Day {
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
    // The same tubes and boxes as an uninterrupted district day (same seed).
    assert_same_tubes(
        &tubes_as_drawn(&db, None),
        &simulated_tubes(&short_scenario(), 7),
    );
    let (status, metrics) = http_get(&format!("127.0.0.1:{http_port}"), "/metrics");
    assert_eq!(status, 200);
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    drop(serve);
    let seen = seen.lock().unwrap().clone();
    Day {
        seen,
        report,
        metrics,
    }
}

/// The value of counter `name` in a Prometheus text.
fn counter(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in the metrics"))
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
    let Day {
        seen,
        report,
        metrics,
    } = day("layout-p", "partitioned", "partitioned", |port, http| {
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
    assert_eq!(
        counter(
            &metrics,
            "labflight_mqtt_district_layout_messages_received_total"
        ),
        0.0
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
    let Day {
        seen,
        report,
        metrics,
    } = day("layout-both", "both", "district", |_, _| {});
    // The devices not moved yet are seen on the district topics.
    let district_received = counter(
        &metrics,
        "labflight_mqtt_district_layout_messages_received_total",
    );
    assert!(district_received > 100.0, "{district_received}");
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

/// The Shenzhen city scenario (one partition per medical group).
fn city_scenario() -> std::path::PathBuf {
    short_scenario()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("shenzhen/scenario.toml")
}

#[test]
fn one_process_serves_two_medical_groups_of_a_city_each_its_own_partition() {
    let db = fresh_postgres("city");
    let broker = Mosquitto::start();
    let mqtt = broker.url();
    let dir = Scratch::new("city");
    // Two partitions: this port and the next.
    let http_port = free_ports(2, &[]);
    let config = dir.path("labflight.toml");
    std::fs::write(
        &config,
        format!(
            "scenario = \"{}\"\nspeed = 300.0\nhttp = \"127.0.0.1:{http_port}\"\nadmin_token = \"{ADMIN_TOKEN}\"\n",
            city_scenario().display()
        ),
    )
    .unwrap();
    let env = [
        ("LABFLIGHT_MQTT_URL", mqtt.as_str()),
        ("DATABASE_URL", db.as_str()),
    ];
    // A name that is not one of the city's groups is refused, naming them.
    let refused = std::process::Command::new(BIN)
        .args([
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--partitions",
            "YT-PH,NOPE",
        ])
        .envs(env)
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    let text = String::from_utf8_lossy(&refused.stderr);
    assert!(text.contains("`NOPE`") && text.contains("DP-KC"), "{text}");

    let mut serve = Proc::spawn(
        &[
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--partitions",
            "YT-PH,DP-KC",
        ],
        &env,
    );
    // Each partition on its own port, in the order listed.
    let mut dashboards = [
        serve.wait_line("dashboard:", Duration::from_secs(90)),
        serve.wait_line("dashboard:", Duration::from_secs(90)),
    ];
    dashboards.sort_by_key(|l| !l.ends_with("(partition YT-PH)"));
    assert_eq!(
        dashboards,
        [
            format!("http://127.0.0.1:{http_port}/ (partition YT-PH)"),
            format!("http://127.0.0.1:{}/ (partition DP-KC)", http_port + 1)
        ]
    );
    let groups = ["DP-KC", "YT-PH"];
    let devices: Vec<Proc> = groups
        .iter()
        .map(|g| {
            Proc::spawn(
                &[
                    "devices",
                    "--mqtt",
                    &mqtt,
                    "--scenario",
                    city_scenario().to_str().unwrap(),
                    "--partition",
                    g,
                    "--quiet",
                    "--max-seconds",
                    "400",
                ],
                &[],
            )
        })
        .collect();
    // A second process stands by for both; the first is killed mid-morning and
    // the second takes each partition over under epoch 2.
    let standby_http = format!("127.0.0.1:{}", free_ports(2, &[http_port, http_port + 1]));
    let mut standby = Proc::spawn(
        &[
            "serve",
            "--config",
            config.to_str().unwrap(),
            "--partitions",
            "YT-PH,DP-KC",
            "--standby",
        ],
        &[
            ("LABFLIGHT_MQTT_URL", mqtt.as_str()),
            ("DATABASE_URL", db.as_str()),
            ("LABFLIGHT_HTTP", standby_http.as_str()),
        ],
    );
    standby.wait_line("standby: partition", Duration::from_secs(90));
    standby.wait_line("standby: partition", Duration::from_secs(90));
    std::thread::sleep(Duration::from_secs(20));
    serve.kill9();
    let mut taken = [
        standby.wait_line("owner:", Duration::from_secs(60)),
        standby.wait_line("owner:", Duration::from_secs(60)),
    ];
    taken.sort();
    assert!(
        taken[0].starts_with("partition `DP-KC` epoch 2")
            && taken[1].starts_with("partition `YT-PH` epoch 2"),
        "{taken:?}"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    for (mut d, group) in devices.into_iter().zip(groups) {
        let line = d.wait_line("{", Duration::from_secs(420));
        let report = report_json(&format!("{{{line}"));
        assert!(d.wait_exit(Duration::from_secs(30)));
        assert_eq!(report["tubes_left"], 0, "{group}: {report}");
        assert!(
            report["commands_received"].as_u64().unwrap() > 0,
            "{group}: {report}"
        );
        // The group's custody is in its own schema, complete for every tube.
        let custody = settled_custody_in(&db, Some(group));
        assert_eq!(
            assert_complete_custody(&custody) as u64,
            report["tubes_drawn"].as_u64().unwrap(),
            "{group}"
        );
        println!("city partition {group}: {report}");
    }
    // Nothing in the single-district place; both partitions owned by the
    // standby that took them over.
    let out = std::process::Command::new(BIN)
        .args(["cluster", "status", "--json"])
        .env("DATABASE_URL", &db)
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let partitions = status["partitions"].as_array().unwrap();
    let names: Vec<&str> = partitions
        .iter()
        .map(|p| p["partition"].as_str().unwrap())
        .collect();
    assert_eq!(names, groups, "{status}");
    assert!(
        partitions
            .iter()
            .all(|p| p["epoch"] == 2 && p["owner"] == partitions[0]["owner"]),
        "{status}"
    );
    let owner = partitions[0]["owner"].as_str().unwrap();
    assert!(
        owner.contains(&format!("-{}-", standby.child.id())),
        "{status}"
    );
    let default = rt.block_on(async {
        labflight_store::Store::open(&db)
            .await
            .unwrap()
            .last_seq()
            .await
            .unwrap()
    });
    assert_eq!(default, 0, "the district place holds no journal");
    drop(standby);
}
