//! The lab backlog and the grounded fleet in a real browser (Debian's Chromium
//! driven by playwright-core, tests/dashboard/backlog.mjs) against a fresh
//! `labflight demo` of the short morning at 60×: grounding the fleet from the
//! UI makes the at-risk list grow, the on-track share fall and the drones tile
//! stop saying every drone is available; the labs tab shows each family's
//! queue, throughput, time to clear and last hour; a diversion to a lab lacking
//! a test is refused with the reason shown, a valid one is accepted and both are
//! in the audit log; a tablet keeps every tab reachable with a details drawer
//! open. A demo of its own: the script needs the morning's boxes still pending,
//! which the other browser test's demo is long past by then. Screenshots are
//! kept in `<target>/dashboard-screens/` beside the other browser test's.

mod support;

use std::process::Command;
use std::time::Duration;
use support::*;

/// The screenshots backlog.mjs writes, checked and kept.
const SHOTS: [&str; 6] = [
    "grounded-risk.png",
    "backlog.png",
    "divert-confirm.png",
    "divert-refused.png",
    "divert-accepted.png",
    "backlog-tablet.png",
];

#[test]
fn a_coordinator_weighs_lab_backlogs_diverts_and_grounds_the_fleet_in_chromium() {
    let check_dir = browser_check_dir();
    let (mut demo, url) = dashboard_demo(60);
    let coordinator = demo.wait_line("login:", Duration::from_secs(10));
    let (user, password) = coordinator.split_once(' ').unwrap();
    let shots = screenshot_dir();
    for shot in SHOTS {
        let _ = std::fs::remove_file(shots.join(shot));
    }
    let out = Command::new("timeout")
        .arg("420")
        .arg("node")
        .arg(check_dir.join("backlog.mjs"))
        .args([url.trim_end_matches('/'), user, password])
        .arg(&shots)
        .current_dir(repo())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("backlog check passed"),
        "the backlog and grounded-fleet check failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for shot in SHOTS {
        let file = shots.join(shot);
        let len = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "{shot} was not written ({len} bytes)");
        println!("screenshot: {}", file.display());
    }
}
