//! The live service against the machine's own Mosquitto (127.0.0.1:1883) and
//! PostgreSQL (127.0.0.1:5432), with the simulated devices as a separate process:
//! a short day completes with every tube's custody complete in PostgreSQL.

mod support;

use std::time::Duration;
use support::*;

#[test]
fn short_day_over_mosquitto_and_postgresql() {
    require(1883, "Mosquitto");
    require(5432, "PostgreSQL");
    let db = tokio::runtime::Runtime::new().unwrap().block_on(async {
        labflight_store::testing::fresh_postgres_database(
            "postgres://postgres@127.0.0.1:5432/postgres",
            &format!("lf_e2e_{}", std::process::id()),
        )
        .await
        .expect("a fresh PostgreSQL database")
    });
    let dir = Scratch::new("external");
    let http_port = free_port();
    let config = serve_config(&dir, 600.0, 0, http_port, "unused");
    let mqtt = "mqtt://127.0.0.1:1883";
    let mut serve = Proc::spawn(
        &["serve", "--config", config.to_str().unwrap()],
        &[("LABFLIGHT_MQTT_URL", mqtt), ("DATABASE_URL", &db)],
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
    let custody = custody_by_tube(&db);
    assert_eq!(
        assert_complete_custody(&custody) as u64,
        report["tubes_drawn"].as_u64().unwrap()
    );
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
