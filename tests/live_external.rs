//! The live service against the machine's own Mosquitto (127.0.0.1:1883) and
//! PostgreSQL (127.0.0.1:5432), with the simulated devices as a separate process
//! whose labs post their results to the results API, and a station sink receiving
//! the reports: a short day completes with every tube's custody complete in
//! PostgreSQL, reported through the hooks.

mod support;

use std::time::Duration;
use support::*;

#[test]
fn short_day_over_mosquitto_and_postgresql() {
    require(1883, "Mosquitto");
    require(5432, "PostgreSQL");
    let db = fresh_postgres("e2e");
    let dir = Scratch::new("external");
    let (http_port, sink_port) = (free_port(), free_port());
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let config = serve_config(&dir, 300.0, 0, http_port, "unused");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[labs]\nLAB-PH = \"t-ph-lab-token-0001\"\nLAB-CH = \"t-ch-lab-token-0002\"\nLAB-MCH = \"t-mch-lab-token-0003\"\n\n[[hooks]]\nid = \"sink\"\nscope = \"all\"\nurl = \"http://127.0.0.1:{sink_port}/fhir\"\nsecret = \"{secret}\"\n"
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
    let mqtt = "mqtt://127.0.0.1:1883";
    let mut serve = Proc::spawn(
        &["serve", "--config", config.to_str().unwrap()],
        &[
            ("LABFLIGHT_MQTT_URL", mqtt),
            ("DATABASE_URL", &db),
            // A rejected message is logged with its topic, field and value.
            ("LABFLIGHT_LOG", "warn,labflight_service::actor=info"),
        ],
    );
    assert_eq!(serve.wait_line("mqtt:", Duration::from_secs(60)), mqtt);
    serve.wait_line("dashboard:", Duration::from_secs(30));
    let mut devices = Proc::spawn(
        &[
            "devices",
            "--mqtt",
            mqtt,
            "--scenario",
            short_scenario().to_str().unwrap(),
            "--quiet",
            "--max-seconds",
            "300",
            "--results-url",
            &format!("http://127.0.0.1:{http_port}"),
            "--lab-token",
            "LAB-PH=t-ph-lab-token-0001",
            "--lab-token",
            "LAB-CH=t-ch-lab-token-0002",
            "--lab-token",
            "LAB-MCH=t-mch-lab-token-0003",
        ],
        &[],
    );
    let report = report_json(
        &devices
            .wait_line("{", Duration::from_secs(320))
            .replace_range_prefix(),
    );
    assert!(devices.wait_exit(Duration::from_secs(30)));
    assert_eq!(report["tubes_left"], 0, "{report}");
    let posted = report["results_posted"].as_u64().unwrap();
    assert!(
        posted > 100,
        "the labs posted their results to the API: {report}"
    );
    // The last reports reach the sink and come back as `reported` (bounded wait).
    let custody = settled_custody(&db);
    assert_eq!(
        assert_complete_custody(&custody) as u64,
        report["tubes_drawn"].as_u64().unwrap()
    );
    // Each posted result reached the centre's system once, as a DiagnosticReport Bundle.
    let (_, received) = http_get(&format!("127.0.0.1:{sink_port}"), "/received");
    let received: serde_json::Value = serde_json::from_str(&received).unwrap();
    let reports = received
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["body"]["entry"][0]["resource"]["resourceType"] == "DiagnosticReport")
        .count() as u64;
    assert_eq!(reports, posted, "one report per posted result");
    let (_, metrics) = http_get(&format!("127.0.0.1:{http_port}"), "/metrics");
    assert!(
        !metrics.contains("labflight_messages_rejected_total"),
        "the devices' own traffic is all valid:\n{metrics}"
    );
}

trait Brace {
    fn replace_range_prefix(self) -> String;
}

impl Brace for String {
    /// `wait_line("{")` strips the opening brace; put it back.
    fn replace_range_prefix(self) -> String {
        format!("{{{self}")
    }
}
