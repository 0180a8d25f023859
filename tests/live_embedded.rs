//! The live service on its defaults — embedded broker, SQLite — run as the real
//! binary: a short simulated day ends with every tube resulted and its custody
//! complete; malformed MQTT payloads are rejected with reasons and counted while
//! valid traffic goes on.

mod support;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::time::Duration;
use support::*;

#[test]
fn demo_short_day_resolves_every_tube_with_full_custody() {
    let dir = Scratch::new("demo");
    let db = format!("sqlite://{}", dir.path("demo.db").display());
    let (mqtt_port, http_port) = (free_port(), free_port());
    let mut demo = Proc::spawn(
        &[
            "demo",
            "--scenario",
            short_scenario().to_str().unwrap(),
            "--speed",
            "600",
            "--mqtt-port",
            &mqtt_port.to_string(),
            "--http",
            &format!("127.0.0.1:{http_port}"),
            "--database-url",
            &db,
            "--exit-when-done",
            "--quiet",
        ],
        &[],
    );
    let sink = demo.wait_line("station sink:", Duration::from_secs(60));
    let sink_file = sink
        .rsplit_once("(also ")
        .map(|(_, f)| f.trim_end_matches(')').to_owned())
        .expect("the demo says where the sink keeps what it received");
    let url = demo.wait_line("dashboard:", Duration::from_secs(60));
    assert_eq!(url, format!("http://127.0.0.1:{http_port}/"));
    let (status, body) = http_get(&format!("127.0.0.1:{http_port}"), "/healthz");
    assert_eq!(status, 200, "{body}");
    let done = demo.wait_line("day done:", Duration::from_secs(240));
    assert!(
        demo.wait_exit(Duration::from_secs(30)),
        "demo exits cleanly"
    );
    let report = report_json(&done);
    let drawn = report["tubes_drawn"].as_u64().unwrap();
    assert!(drawn > 100, "the short day draws tubes: {report}");
    assert_eq!(report["tubes_left"], 0, "every tube resolved: {report}");
    let custody = custody_by_tube(&db);
    assert_eq!(assert_complete_custody(&custody) as u64, drawn);
    // Every box has its current row: all reached a lab, holding every tube drawn.
    let boxes = tokio::runtime::Runtime::new().unwrap().block_on(async {
        labflight_store::Store::open(&db)
            .await
            .unwrap()
            .boxes()
            .await
            .unwrap()
    });
    assert!(!boxes.is_empty());
    let held: i64 = boxes.iter().map(|b| i64::from(b.tubes)).sum();
    assert_eq!(held as u64, drawn, "boxes hold every tube once");
    for b in &boxes {
        assert_eq!(b.status, "delivered", "{b:?}");
        assert!(b.lab.is_some(), "{b:?}");
    }
    // Serum and plasma tubes not spun at their centre are spun at the lab, once,
    // between reception and result.
    let spun: Vec<&Vec<String>> = custody
        .values()
        .filter(|s| s.iter().any(|x| x == "centrifuged"))
        .collect();
    assert!(!spun.is_empty(), "some tubes are centrifuged at the lab");
    for steps in spun {
        let at = |name: &str| steps.iter().position(|x| x == name);
        assert_eq!(
            steps.iter().filter(|x| *x == "centrifuged").count(),
            1,
            "{steps:?}"
        );
        assert!(at("received_at_lab") < at("centrifuged"), "{steps:?}");
    }

    // Every Bundle the demo's station sink received validates as FHIR R4.
    let text = std::fs::read_to_string(&sink_file).expect("the sink's file");
    let bundles: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["body"].clone())
        .collect();
    let results = bundles
        .iter()
        .filter(|b| b["entry"][0]["resource"]["resourceType"] == "DiagnosticReport")
        .count();
    assert!(
        results as u64 * 10 >= drawn * 9,
        "{results} result bundles for {drawn} tubes"
    );
    let files: Vec<std::path::PathBuf> = bundles
        .iter()
        .enumerate()
        .map(|(i, b)| {
            let f = dir.path(&format!("bundle-{i}.json"));
            std::fs::write(&f, b.to_string()).unwrap();
            f
        })
        .collect();
    let validator = repo().join("crates/hooks/tests/validate_fhir.py");
    let out = std::process::Command::new("python3")
        .arg(&validator)
        .args(&files)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "FHIR R4 validation failed (pip install 'fhir.resources==6.4.*'):\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_file(&sink_file);
}

/// A client of the embedded broker, logged in as `id` with the password the
/// printed device key gives it.
fn client(port: u16, id: &str, device_key: &str) -> (AsyncClient, rumqttc::EventLoop) {
    let mut o = MqttOptions::new(id, "127.0.0.1", port);
    let password = labflight_mqtt::device_password_from_key(device_key, id).unwrap();
    o.set_credentials(id, password);
    o.set_max_packet_size(4 << 20, 4 << 20);
    o.set_keep_alive(Duration::from_secs(10));
    AsyncClient::new(o, 100)
}

#[test]
fn malformed_payloads_are_rejected_and_counted_while_valid_traffic_continues() {
    let dir = Scratch::new("reject");
    let db = format!("sqlite://{}", dir.path("svc.db").display());
    let (mqtt_port, http_port) = (free_port(), free_port());
    let config = serve_config(&dir, 60.0, mqtt_port, http_port, &db);
    let mut serve = Proc::spawn(&["serve", "--config", config.to_str().unwrap()], &[]);
    let key = serve.wait_line("mqtt device key:", Duration::from_secs(60));
    serve.wait_line("dashboard:", Duration::from_secs(60));
    let http = format!("127.0.0.1:{http_port}");
    // A drone of the fleet, where it stands, and the service's clock.
    let (_, drones) = http_get(&http, "/api/v1/drones");
    let drones: serde_json::Value = serde_json::from_str(&drones).unwrap();
    let drone = drones[0]["id"].as_str().unwrap().to_owned();
    let (lat, lon) = (
        drones[0]["position"]["lat"].as_f64().unwrap(),
        drones[0]["position"]["lon"].as_f64().unwrap(),
    );
    let (_, status) = http_get(&http, "/api/v1/status");
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    let now = status["now"].as_str().unwrap().to_owned();

    let rt = tokio::runtime::Runtime::new().unwrap();
    let rejected: Vec<serde_json::Value> = rt.block_on(async {
        let (c, mut ev) = client(mqtt_port, "test-watcher", &key);
        c.subscribe("labflight/v1/rejected", QoS::AtLeastOnce)
            .await
            .unwrap();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(e) = ev.poll().await {
                if let Event::Incoming(Packet::Publish(p)) = e {
                    let _ =
                        tx.send(serde_json::from_slice::<serde_json::Value>(&p.payload).unwrap());
                }
            }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (d, mut dev) = client(mqtt_port, "test-device", &key);
        tokio::spawn(async move { while dev.poll().await.is_ok() {} });
        let topic = format!("labflight/v1/drones/{drone}/telemetry");
        let good = |battery: f64| {
            serde_json::json!({"time": now, "lat": lat, "lon": lon, "alt_m": 0.0,
                "battery_pct": battery, "state": "idle"})
            .to_string()
        };
        let bad: Vec<(String, String)> = vec![
            (topic.clone(), "{not json".into()),
            (topic.clone(), good(50.0).replace("50.0", "NaN")),
            (topic.clone(), good(150.0)),
            ("labflight/v1/drones/D-999/telemetry".into(), good(50.0)),
            // Over the decoder's limit, within the broker's (MAX_PACKET_BYTES).
            (topic.clone(), "x".repeat(100_000)),
            (topic.clone(), good(50.0).replace(&lat.to_string(), "48.85")),
            (
                topic.clone(),
                good(50.0).replace(&now, "2001-01-01T08:00:00+08:00"),
            ),
        ];
        for (i, (t, body)) in bad.iter().enumerate() {
            d.publish(t.clone(), QoS::AtLeastOnce, false, body.clone())
                .await
                .unwrap();
            // Valid telemetry between the bad ones.
            let ok = good(90.0 - i as f64);
            d.publish(topic.clone(), QoS::AtLeastOnce, false, ok)
                .await
                .unwrap();
        }
        let mut got = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(15), async {
            while got.len() < bad.len() {
                match rx.recv().await {
                    Some(v) => got.push(v),
                    None => break,
                }
            }
        })
        .await;
        got
    });
    let reasons: Vec<&str> = rejected
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        vec![
            "bad_json",
            "bad_json",
            "out_of_range",
            "unknown_device",
            "too_large",
            "outside_area",
            "bad_time"
        ],
        "{rejected:#?}"
    );
    assert!(
        rejected[2]["detail"]
            .as_str()
            .unwrap()
            .contains("battery_pct"),
        "{}",
        rejected[2]
    );
    assert!(
        rejected[3]["detail"].as_str().unwrap().contains("D-999"),
        "{}",
        rejected[3]
    );
    let (_, metrics) = http_get(&http, "/metrics");
    for (reason, n) in [
        ("bad_json", 2),
        ("out_of_range", 1),
        ("unknown_device", 1),
        ("too_large", 1),
        ("outside_area", 1),
        ("bad_time", 1),
    ] {
        let line = format!("labflight_messages_rejected_total{{reason=\"{reason}\"}} {n}");
        assert!(metrics.contains(&line), "missing `{line}` in:\n{metrics}");
    }
    // The last valid message follows the last rejected one: wait (bounded) for it.
    // Each valid sample is journaled, or superseded by a later one of the same
    // drone in the same batch and counted (telemetry comes at QoS 0, in bursts).
    let taken = |metrics: &str| {
        let value = |name: &str| -> u64 {
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
                .unwrap_or(0)
        };
        value("labflight_events_accepted_total{kind=\"drone_telemetry\"}")
            + value("labflight_telemetry_superseded_total")
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut last = metrics.clone();
    while taken(&last) < 7 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
        last = http_get(&http, "/metrics").1;
    }
    assert_eq!(
        taken(&last),
        7,
        "all 7 valid messages journaled or superseded:\n{last}"
    );
    let (status, _) = http_get(&http, "/healthz");
    assert_eq!(status, 200, "service still up");
    assert!(
        serve.child.try_wait().unwrap().is_none(),
        "service still running"
    );
}
