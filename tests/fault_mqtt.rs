//! MQTT without open doors, run as the real binary: the embedded broker refuses
//! anonymous and wrong logins; on Mosquitto (QoS 1, the service's persistent
//! session) an oversized message and poison payloads are refused and counted
//! without a reconnect loop and are not redelivered after a restart; and a command
//! counts as published only when the broker acknowledged it, so commands held
//! back from the broker when the service is killed arrive, with their original
//! ids, after the restart.

mod support;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::*;

/// The value of one metric line (`name{labels} value`), 0 when absent.
fn metric(metrics: &str, name: &str) -> f64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// Valid telemetry samples the service took: journaled, or superseded by a later
/// sample of the same drone in the same batch (counted, not journaled). The
/// service subscribes to telemetry at QoS 0, so a burst of one drone's samples
/// may arrive as one batch.
fn telemetry_taken(metrics: &str) -> f64 {
    metric(
        metrics,
        "labflight_events_accepted_total{kind=\"drone_telemetry\"}",
    ) + metric(metrics, "labflight_telemetry_superseded_total")
}

fn metrics(http: &str) -> String {
    http_get(http, "/metrics").1
}

/// Polls `/metrics` (bounded) until `ok` holds; returns the last text.
fn wait_metrics(http: &str, within: Duration, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + within;
    loop {
        let m = metrics(http);
        if ok(&m) {
            return m;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {within:?}; metrics:\n{m}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A test MQTT client whose event loop runs in its own task (for at most two
/// minutes, stopping at the first error); received publishes and whether it got
/// a CONNACK / an error are forwarded, and PUBACKs counted.
struct TestClient {
    mqtt: AsyncClient,
    seen: tokio::sync::mpsc::UnboundedReceiver<Result<Option<rumqttc::Publish>, String>>,
    pubacks: tokio::sync::mpsc::UnboundedReceiver<()>,
}

impl TestClient {
    fn start(port: u16, id: &str, login: Login) -> TestClient {
        let mut o = MqttOptions::new(id, "127.0.0.1", port);
        o.set_keep_alive(Duration::from_secs(10));
        o.set_max_packet_size(4 << 20, 4 << 20);
        if let Some((u, p)) = login {
            o.set_credentials(u, p);
        }
        let (mqtt, mut ev) = AsyncClient::new(o, 100);
        let (tx, seen) = tokio::sync::mpsc::unbounded_channel();
        let (ack_tx, pubacks) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(120), async move {
                loop {
                    let got = match ev.poll().await {
                        Ok(Event::Incoming(Packet::PubAck(_))) => {
                            let _ = ack_tx.send(());
                            continue;
                        }
                        Ok(Event::Incoming(Packet::ConnAck(_))) => Ok(None),
                        Ok(Event::Incoming(Packet::Publish(p))) => Ok(Some(p)),
                        Ok(_) => continue,
                        Err(e) => Err(e.to_string()),
                    };
                    let stop = got.is_err();
                    if tx.send(got).is_err() || stop {
                        return;
                    }
                }
            })
            .await;
        });
        TestClient {
            mqtt,
            seen,
            pubacks,
        }
    }

    /// Whether the broker answers with a CONNACK (`false`: it refused or hung up).
    async fn admitted(&mut self) -> bool {
        match tokio::time::timeout(Duration::from_secs(5), self.seen.recv()).await {
            Ok(Some(Ok(None))) => true,
            Ok(Some(Err(e))) => {
                eprintln!("refused: {e}");
                false
            }
            other => panic!("neither CONNACK nor an error: {other:?}"),
        }
    }

    /// Publishes at QoS 1 and waits (bounded) for the broker's PUBACK.
    async fn publish(&mut self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.publish_unacked(topic, payload).await;
        tokio::time::timeout(Duration::from_secs(10), self.pubacks.recv())
            .await
            .unwrap_or_else(|_| panic!("no PUBACK for {topic} within 10 s"));
    }

    /// Publishes at QoS 1 without waiting (for what the broker refuses).
    async fn publish_unacked(&self, topic: &str, payload: impl Into<Vec<u8>>) {
        self.mqtt
            .publish(topic, QoS::AtLeastOnce, false, payload.into())
            .await
            .unwrap();
    }
}

/// A username and password, or none (anonymous).
type Login<'a> = Option<(&'a str, &'a str)>;

#[test]
fn the_embedded_broker_admits_only_its_own_logins() {
    let dir = Scratch::new("logins");
    let db = format!("sqlite://{}", dir.path("svc.db").display());
    let (mqtt_port, http_port) = (free_port(), free_port());
    let config = serve_config(&dir, 60.0, mqtt_port, http_port, &db);
    let mut serve = Proc::spawn(&["serve", "--config", config.to_str().unwrap()], &[]);
    let service = serve.wait_line("mqtt service login:", Duration::from_secs(60));
    let (user, service_password) = service.split_once(' ').unwrap();
    assert_eq!(user, "labflight");
    assert!(service_password.len() >= 24, "{service_password}");
    let key = serve.wait_line("mqtt device key:", Duration::from_secs(60));
    serve.wait_line("dashboard:", Duration::from_secs(60));
    let password = |id: &str| labflight_mqtt::device_password_from_key(&key, id).unwrap();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let refused: [(&str, &str, Login); 6] = [
            ("anonymous", "D-01", None),
            ("wrong password", "D-01", Some(("D-01", "guess"))),
            (
                "another device's password",
                "D-02",
                Some(("D-02", &password("D-01"))),
            ),
            (
                "its password under another client id",
                "labflight-service-1",
                Some(("D-01", &password("D-01"))),
            ),
            (
                "the service with a device's password",
                "x",
                Some(("labflight", &password("labflight"))),
            ),
            (
                "the service with a wrong password",
                "x",
                Some(("labflight", "guess")),
            ),
        ];
        for (what, id, login) in refused {
            let mut c = TestClient::start(mqtt_port, id, login);
            assert!(!c.admitted().await, "{what}: admitted");
        }
        // The right logins pass, so the refusals are about the credentials.
        let mut d = TestClient::start(mqtt_port, "D-01", Some(("D-01", &password("D-01"))));
        assert!(d.admitted().await, "a device with its own password");
        let mut s = TestClient::start(mqtt_port, "ops", Some(("labflight", service_password)));
        assert!(s.admitted().await, "the service login");
        // A packet over the service's limit is refused at the broker: its sender
        // is cut off, and the service never sees it.
        let max = labflight_mqtt::MAX_PACKET_BYTES;
        d.publish_unacked("labflight/v1/drones/D-01/telemetry", vec![b'x'; max + 1024])
            .await;
        match tokio::time::timeout(Duration::from_secs(10), d.seen.recv()).await {
            Ok(Some(Err(e))) => eprintln!("the embedded broker dropped the oversized sender: {e}"),
            other => panic!("the embedded broker took a packet over {max} bytes: {other:?}"),
        }
    });
    let m = metrics(&format!("127.0.0.1:{http_port}"));
    assert_eq!(metric(&m, "labflight_mqtt_reconnects_total"), 0.0, "{m}");
    assert_eq!(metric(&m, "labflight_mqtt_connected"), 1.0, "{m}");
    assert!(!m.contains("reason=\"too_large\""), "{m}");
    assert!(
        serve.child.try_wait().unwrap().is_none(),
        "service still up"
    );
}

/// A drone of the fleet, where it stands, and the service clock.
fn drone_and_now(http: &str) -> (String, f64, f64, String) {
    let (_, drones) = http_get(http, "/api/v1/drones");
    let drones: Value = serde_json::from_str(&drones).unwrap();
    let (_, status) = http_get(http, "/api/v1/status");
    let status: Value = serde_json::from_str(&status).unwrap();
    (
        drones[0]["id"].as_str().unwrap().to_owned(),
        drones[0]["position"]["lat"].as_f64().unwrap(),
        drones[0]["position"]["lon"].as_f64().unwrap(),
        status["now"].as_str().unwrap().to_owned(),
    )
}

fn start_serve(config: &std::path::Path, mqtt: &str) -> Proc {
    let mut p = Proc::spawn(
        &["serve", "--config", config.to_str().unwrap()],
        &[("LABFLIGHT_MQTT_URL", mqtt)],
    );
    p.wait_line("dashboard:", Duration::from_secs(60));
    p
}

#[test]
fn poison_and_oversized_messages_neither_loop_nor_come_back() {
    let max = labflight_mqtt::MAX_PACKET_BYTES;
    let broker = Mosquitto::start_with(&format!("max_packet_size {max}\n"));
    let dir = Scratch::new("poison");
    let db = format!("sqlite://{}", dir.path("svc.db").display());
    let http_port = free_port();
    let http = format!("127.0.0.1:{http_port}");
    let config = serve_config(&dir, 60.0, 0, http_port, &db);
    let mut serve = start_serve(&config, &broker.url());
    let (drone, lat, lon, now) = drone_and_now(&http);
    let topic = format!("labflight/v1/drones/{drone}/telemetry");
    let good = |battery: f64| {
        json!({"time": now, "lat": lat, "lon": lon, "alt_m": 0.0, "battery_pct": battery, "state": "idle"})
            .to_string()
    };
    let good_text = good(80.0);
    let with_battery = |v: &str| good_text.replace("80.0", v);
    let seal = |station: &str| {
        json!({"time": now, "kind": "sealed", "station": station, "tubes": [{
            "barcode": "T-P1", "tube_type": "fluoride", "tests": ["2345-7"], "families": ["chemistry"],
            "drawn_at": now, "stability_minutes": 1440.0, "band": {"min_c": 15.0, "max_c": 25.0}, "spun": true}]})
        .to_string()
    };
    // Each poison payload (QoS 1, on a device topic) and the reason it is refused for.
    let poison: Vec<(String, Vec<u8>, &str)> = vec![
        (topic.clone(), vec![b'{', 0xff, 0xfe, b'}'], "not_utf8"),
        (topic.clone(), "[".repeat(40_000).into_bytes(), "bad_json"),
        (
            topic.clone(),
            br#"{"drone":"x","readings":[1,2,3]}"#.to_vec(),
            "bad_json",
        ),
        (
            topic.clone(),
            with_battery("1e999").into_bytes(),
            "bad_json",
        ),
        (
            topic.clone(),
            with_battery("\"NaN\"").into_bytes(),
            "bad_json",
        ),
        (
            topic.clone(),
            with_battery("1e300").into_bytes(),
            "out_of_range",
        ),
        (
            "labflight/v1/drones/D-999/telemetry".into(),
            good(50.0).into_bytes(),
            "unknown_device",
        ),
        // Over the decoder's limit, within the broker's: read, refused, acknowledged.
        (topic.clone(), vec![b' '; 100_000], "too_large"),
        // A box speaking for another centre, and a box naming a lab.
        (
            "labflight/v1/boxes/BX-LH-C001-P1/events".into(),
            seal("LH-C002").into_bytes(),
            "foreign_station",
        ),
        (
            "labflight/v1/boxes/BX-LH-C001-P2/events".into(),
            json!({"time": now, "kind": "received", "lab": "LAB-PH"})
                .to_string()
                .into_bytes(),
            "box_names_lab",
        ),
    ];
    let mut expected: std::collections::BTreeMap<&str, f64> = Default::default();
    for (_, _, reason) in &poison {
        *expected.entry(reason).or_default() += 1.0;
    }
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        // (a) Over the broker's max_packet_size: Mosquitto refuses it (and drops
        // its sender), so it never reaches the service.
        let mut big = TestClient::start(broker.port, "fault-big", None);
        assert!(big.admitted().await);
        big.publish_unacked(&topic, vec![b'x'; max + 1024]).await;
        match tokio::time::timeout(Duration::from_secs(10), big.seen.recv()).await {
            Ok(Some(Err(e))) => eprintln!("the broker dropped the oversized sender: {e}"),
            other => panic!("the broker accepted a packet over max_packet_size: {other:?}"),
        }
        // (b) Poison, each followed by good telemetry.
        let mut dev = TestClient::start(broker.port, "fault-device", None);
        assert!(dev.admitted().await);
        for (i, (t, body, _)) in poison.iter().enumerate() {
            dev.publish(t, body.clone()).await;
            dev.publish(&topic, good(90.0 - i as f64)).await;
        }
    });
    let m = wait_metrics(
        &http,
        Duration::from_secs(30),
        "every poison payload rejected and every good one accepted",
        |m| {
            expected.iter().all(|(reason, n)| {
                metric(
                    m,
                    &format!("labflight_messages_rejected_total{{reason=\"{reason}\"}}"),
                ) >= *n
            }) && telemetry_taken(m) >= poison.len() as f64
        },
    );
    for (reason, n) in &expected {
        let got = metric(
            &m,
            &format!("labflight_messages_rejected_total{{reason=\"{reason}\"}}"),
        );
        assert_eq!(got, *n, "rejected for {reason}:\n{m}");
    }
    assert_eq!(
        metric(
            &m,
            "labflight_messages_rejected_total{reason=\"packet_too_large\"}"
        ),
        0.0,
        "the oversized packet never reached the service:\n{m}"
    );
    assert!(
        metric(&m, "labflight_mqtt_reconnects_total") <= 1.0,
        "no reconnect loop:\n{m}"
    );
    assert_eq!(metric(&m, "labflight_mqtt_connected"), 1.0, "{m}");
    // Let the acknowledgements of the last batch leave, then kill the service. A
    // QoS 1 message not acknowledged would be handed to the restarted service.
    std::thread::sleep(Duration::from_secs(2));
    serve.kill9();
    let _serve = start_serve(&config, &broker.url());
    // A marker after the restart: by the time it is accepted, whatever the broker
    // kept for the session has been delivered before it.
    let (_, _, _, now) = drone_and_now(&http);
    let marker = json!({"time": now, "lat": lat, "lon": lon, "alt_m": 0.0, "battery_pct": 42.0, "state": "idle"});
    rt.block_on(async {
        let mut dev = TestClient::start(broker.port, "fault-device-2", None);
        assert!(dev.admitted().await);
        dev.publish(&topic, marker.to_string()).await;
    });
    let m = wait_metrics(
        &http,
        Duration::from_secs(30),
        "the marker accepted after the restart",
        |m| {
            metric(
                m,
                "labflight_events_accepted_total{kind=\"drone_telemetry\"}",
            ) >= 1.0
        },
    );
    assert!(
        !m.contains("labflight_messages_rejected_total{"),
        "poison was redelivered after the restart (never acknowledged):\n{m}"
    );
    assert!(
        metric(&m, "labflight_mqtt_reconnects_total") <= 1.0,
        "no reconnect loop after the restart:\n{m}"
    );
}

/// A TCP relay between the service and the broker whose service→broker direction
/// can be held: what the service sends then waits in the relay, so the broker
/// acknowledges nothing.
struct Relay {
    port: u16,
    hold: Arc<AtomicBool>,
}

impl Relay {
    fn start(broker_port: u16) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hold = Arc::new(AtomicBool::new(false));
        let held = Arc::clone(&hold);
        std::thread::spawn(move || {
            // Bounded: the test makes a handful of connections.
            for conn in listener.incoming().take(20) {
                let Ok(service) = conn else { return };
                let Ok(broker) = TcpStream::connect(("127.0.0.1", broker_port)) else {
                    return;
                };
                let (s2, b2) = (service.try_clone().unwrap(), broker.try_clone().unwrap());
                let hold = Arc::clone(&held);
                std::thread::spawn(move || pump(service, broker, Some(hold)));
                std::thread::spawn(move || pump(b2, s2, None));
            }
        });
        Relay { port, hold }
    }
}

/// Copies `from` to `to` until either closes; while `hold` is set, waits before
/// writing (for at most five minutes), and drops what it held if `from` closed
/// meanwhile (a killed service's last words never reach the broker).
fn pump(mut from: TcpStream, mut to: TcpStream, hold: Option<Arc<AtomicBool>>) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if let Some(h) = &hold {
            let deadline = Instant::now() + Duration::from_secs(300);
            let mut waited = false;
            while h.load(Ordering::SeqCst) && Instant::now() < deadline {
                waited = true;
                std::thread::sleep(Duration::from_millis(20));
            }
            if waited {
                from.set_nonblocking(true).unwrap();
                let closed = match from.peek(&mut [0u8; 1]) {
                    Ok(0) => true,
                    Ok(_) => false,
                    Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
                };
                from.set_nonblocking(false).unwrap();
                if closed {
                    break;
                }
            }
        }
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
    let _ = from.shutdown(std::net::Shutdown::Both);
}

fn stored_commands(db: &str) -> Vec<labflight_store::StoredCommand> {
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = labflight_store::Store::open(db).await.unwrap();
        store.commands(false).await.unwrap()
    })
}

#[test]
fn commands_count_as_published_only_at_their_puback_and_survive_a_kill() {
    let broker = Mosquitto::start();
    let relay = Relay::start(broker.port);
    let relay_url = format!("mqtt://127.0.0.1:{}", relay.port);
    let dir = Scratch::new("puback");
    let db = format!("sqlite://{}", dir.path("svc.db").display());
    let http_port = free_port();
    let http = format!("127.0.0.1:{http_port}");
    let config = serve_config(&dir, 60.0, 0, http_port, &db);
    let mut serve = start_serve(&config, &relay_url);
    // Everything acknowledged so far is marked published.
    let acked_before: std::collections::BTreeSet<String> = {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let all = stored_commands(&db);
            if all.iter().all(|c| c.published) {
                break all.into_iter().map(|c| c.command_id).collect();
            }
            assert!(
                Instant::now() < deadline,
                "startup commands never acknowledged"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };

    let rt = tokio::runtime::Runtime::new().unwrap();
    // A listener for every command, straight on the broker.
    let mut listener = rt.block_on(async {
        let mut c = TestClient::start(broker.port, "fault-listener", None);
        assert!(c.admitted().await);
        c.mqtt
            .subscribe("labflight/v1/+/+/cmd", QoS::AtLeastOnce)
            .await
            .unwrap();
        c.mqtt
            .subscribe("labflight/v1/alerts", QoS::AtLeastOnce)
            .await
            .unwrap();
        c
    });
    // From now on nothing the service sends reaches the broker: no PUBACK.
    relay.hold.store(true, Ordering::SeqCst);
    let (_, _, _, now) = drone_and_now(&http);
    rt.block_on(async {
        let mut c = TestClient::start(broker.port, "BX-LH-C001-H1", None);
        let tubes: Vec<Value> = (0..6)
            .map(|i| {
                json!({"barcode": format!("T-H{i}"), "tube_type": "fluoride", "tests": ["2345-7"],
                       "families": ["chemistry"], "drawn_at": now, "stability_minutes": 120.0,
                       "band": {"min_c": 15.0, "max_c": 25.0}, "spun": true})
            })
            .collect();
        let body = json!({"time": now, "kind": "sealed", "station": "LH-C001", "tubes": tubes});
        c.publish("labflight/v1/boxes/BX-LH-C001-H1/events", body.to_string())
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
    });
    // The box makes the dispatcher issue commands; they are stored, handed to
    // the client, and not acknowledged: not published.
    let held: Vec<labflight_store::StoredCommand> = {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let fresh: Vec<_> = stored_commands(&db)
                .into_iter()
                .filter(|c| !acked_before.contains(&c.command_id))
                .collect();
            if !fresh.is_empty() {
                break fresh;
            }
            assert!(
                Instant::now() < deadline,
                "the sealed box caused no command"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    let m = wait_metrics(
        &http,
        Duration::from_secs(10),
        "commands awaiting their PUBACK",
        |m| metric(m, "labflight_commands_awaiting_puback") >= 1.0,
    );
    assert_eq!(metric(&m, "labflight_mqtt_connected"), 1.0, "{m}");
    std::thread::sleep(Duration::from_secs(2));
    let still: Vec<_> = stored_commands(&db)
        .into_iter()
        .filter(|c| held.iter().any(|h| h.command_id == c.command_id))
        .collect();
    assert!(
        still.iter().all(|c| !c.published),
        "a command counted as published without its PUBACK: {still:?}"
    );
    let m = metrics(&http);
    assert!(
        metric(&m, "labflight_oldest_unacknowledged_command_seconds") >= 1.0,
        "the oldest unacknowledged command ages:\n{m}"
    );
    let held_ids: std::collections::BTreeSet<String> =
        held.iter().map(|c| c.command_id.clone()).collect();
    // Killed before any PUBACK; the relay lets traffic through again.
    serve.kill9();
    relay.hold.store(false, Ordering::SeqCst);
    let _serve = start_serve(&config, &relay_url);
    // Every held command arrives, with its original id.
    let arrived = rt.block_on(async {
        let mut got = std::collections::BTreeSet::new();
        let _ = tokio::time::timeout(Duration::from_secs(30), async {
            while !held_ids.is_subset(&got) {
                match listener.seen.recv().await {
                    Some(Ok(Some(p))) => {
                        if let Ok(env) = serde_json::from_slice::<Value>(&p.payload)
                            && let Some(id) = env["command_id"].as_str()
                        {
                            got.insert(id.to_owned());
                        }
                    }
                    Some(Ok(None)) => {}
                    Some(Err(e)) => panic!("listener: {e}"),
                    None => break,
                }
            }
        })
        .await;
        got
    });
    assert!(
        held_ids.is_subset(&arrived),
        "held commands {held_ids:?} not all re-sent after the restart; arrived {arrived:?}"
    );
    // And now they are acknowledged: published.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = stored_commands(&db);
        let pending: Vec<_> = all
            .iter()
            .filter(|c| held_ids.contains(&c.command_id) && !c.published)
            .collect();
        if pending.is_empty() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "acknowledged commands not marked published: {pending:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    wait_metrics(
        &http,
        Duration::from_secs(10),
        "nothing awaits a PUBACK",
        |m| metric(m, "labflight_commands_awaiting_puback") == 0.0,
    );
}

/// Writes a Mosquitto password file (and copies the deploy ACL) into `dir`,
/// readable by the `mosquitto` user a root-started broker drops to.
fn protected_broker_files(dir: &Scratch, logins: &[(&str, &str)]) -> String {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path, m: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap()
    };
    mode(&dir.0, 0o755);
    let passwd = dir.path("passwd");
    for (i, (user, password)) in logins.iter().enumerate() {
        let mut cmd = std::process::Command::new("mosquitto_passwd");
        if i == 0 {
            cmd.arg("-c");
        }
        let out = cmd
            .arg("-b")
            .arg(&passwd)
            .arg(user)
            .arg(password)
            .output()
            .expect("mosquitto_passwd runs");
        assert!(out.status.success(), "mosquitto_passwd {user}");
    }
    mode(&passwd, 0o644);
    let acl = dir.path("acl");
    std::fs::copy(repo().join("deploy/mosquitto/acl"), &acl).unwrap();
    mode(&acl, 0o644);
    format!(
        "allow_anonymous false\npassword_file {}\nacl_file {}\nmax_packet_size {}\n",
        passwd.display(),
        acl.display(),
        labflight_mqtt::MAX_PACKET_BYTES
    )
}

#[test]
fn serve_logs_in_to_a_protected_broker_with_the_urls_credentials() {
    let files = Scratch::new("protected");
    let broker = Mosquitto::start_with(&protected_broker_files(
        &files,
        &[("labflight", "svc-s3cret:with@signs"), ("D-001", "d001-pw")],
    ));
    let dir = Scratch::new("protected-svc");
    let db = format!("sqlite://{}", dir.path("svc.db").display());
    let http_port = free_port();
    let http = format!("127.0.0.1:{http_port}");
    let config = serve_config(&dir, 60.0, 0, http_port, &db);
    // A wrong password: the service runs, but the broker never lets it in.
    {
        let url = format!("mqtt://labflight:wrong@127.0.0.1:{}", broker.port);
        let _serve = start_serve(&config, &url);
        std::thread::sleep(Duration::from_secs(2));
        let m = metrics(&http);
        assert_eq!(metric(&m, "labflight_mqtt_connected"), 0.0, "{m}");
    }
    let url = format!(
        "mqtt://labflight:svc-s3cret:with@signs@127.0.0.1:{}",
        broker.port
    );
    let mut serve = Proc::spawn(
        &["serve", "--config", config.to_str().unwrap()],
        &[("LABFLIGHT_MQTT_URL", &url)],
    );
    let shown = serve.wait_line("mqtt:", Duration::from_secs(60));
    assert_eq!(shown, format!("mqtt://labflight@127.0.0.1:{}", broker.port));
    serve.wait_line("dashboard:", Duration::from_secs(60));
    wait_metrics(&http, Duration::from_secs(20), "connected", |m| {
        metric(m, "labflight_mqtt_connected") == 1.0
    });
    let (drone, lat, lon, now) = drone_and_now(&http);
    assert_eq!(drone, "D-001");
    let body = json!({"time": now, "lat": lat, "lon": lon, "alt_m": 0.0, "battery_pct": 77.0, "state": "idle"});
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut anon = TestClient::start(broker.port, "D-001", None);
        assert!(!anon.admitted().await, "anonymous admitted");
        let mut d = TestClient::start(broker.port, "D-001", Some(("D-001", "d001-pw")));
        assert!(d.admitted().await);
        d.publish("labflight/v1/drones/D-001/telemetry", body.to_string())
            .await;
    });
    wait_metrics(
        &http,
        Duration::from_secs(20),
        "the drone's telemetry accepted",
        |m| {
            metric(
                m,
                "labflight_events_accepted_total{kind=\"drone_telemetry\"}",
            ) >= 1.0
        },
    );
}
