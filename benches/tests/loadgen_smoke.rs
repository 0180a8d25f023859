//! The load generator still runs: three-second smoke runs against the real
//! `labflight serve` (SQLite), on the embedded broker and on a NATS server with
//! MQTT that the load generator starts, must report that the service consumed
//! what was published. Speed is not judged here (benches/README.md
//! holds the figures); only that the tool works end to end.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn loadgen_reports_a_short_run_against_the_real_service() {
    let report = smoke_run(&[]);
    assert_eq!(report["broker"], "embedded rumqttd", "{report}");
}

/// NATS with MQTT: the broker the high-availability work uses. `nats-server` must
/// be installed (scripts/test.sh installs it); a missing one fails here.
#[test]
fn loadgen_runs_against_a_nats_mqtt_server() {
    let found = Command::new("nats-server").arg("--version").output();
    assert!(
        found.as_ref().is_ok_and(|o| o.status.success()),
        "nats-server is not installed (`apt-get install nats-server`, 2.9 or later; scripts/test.sh does): {found:?}"
    );
    let report = smoke_run(&["--nats"]);
    assert!(
        report["broker"]
            .as_str()
            .unwrap_or("")
            .contains("nats-server"),
        "{report}"
    );
    assert!(
        report["broker_rss_mib"]["end"].as_f64().unwrap_or(0.0) > 0.0,
        "{report}"
    );
}

/// Runs loadgen for three seconds at a low rate with `extra` arguments, checks
/// that the service consumed some but never more than was published, and returns
/// the report.
fn smoke_run(extra: &[&str]) -> serde_json::Value {
    let loadgen = Path::new(env!("CARGO_BIN_EXE_loadgen"));
    let labflight = loadgen.with_file_name("labflight");
    assert!(
        labflight.exists(),
        "{} is missing: build it first (`cargo build -p labflight`; the workspace test run does)",
        labflight.display()
    );
    let started = Instant::now();
    let out = Command::new(loadgen)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args(["--labflight", labflight.to_str().unwrap()])
        .args([
            "--drones",
            "40",
            "--publishers",
            "2",
            "--seconds",
            "3",
            "--rate",
            "200",
        ])
        .args(extra)
        .output()
        .expect("loadgen runs");
    assert!(
        out.status.success(),
        "loadgen failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(120), "bounded run");
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("loadgen prints a JSON report");
    let published = report["published_total"].as_u64().unwrap_or(0);
    let consumed = report["service_consumed_total_after_drain"]
        .as_u64()
        .unwrap_or(0);
    assert!(published > 0, "{report}");
    assert!(
        consumed > 0 && consumed <= published,
        "the service consumed {consumed} of {published}: {report}"
    );
    report
}
