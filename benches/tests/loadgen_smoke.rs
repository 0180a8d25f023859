//! The load generator still runs: a three-second smoke run against the real
//! `labflight serve` (embedded broker, SQLite) must report that the service
//! consumed what was published. Speed is not judged here (benches/README.md
//! holds the figures); only that the tool works end to end.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn loadgen_reports_a_short_run_against_the_real_service() {
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
    assert_eq!(report["broker"], "embedded rumqttd", "{report}");
}
