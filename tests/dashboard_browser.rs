//! The dashboard in a real browser (Debian's Chromium driven by playwright-core,
//! tests/dashboard/check.mjs) against `labflight demo`: sign-in and roles, the
//! Leaflet map, live updates, language switch, details and custody, grounding
//! the fleet (after a confirmation) and releasing it, alert triage (groups,
//! filters, bulk acknowledgement, the true count, the opt-in beep), replay
//! before and after a run is opened, tablets with a details drawer open, and the
//! whole mission board at 1440×900. The screenshots stay under the target
//! directory (`<target>/dashboard-screens/`, `support::screenshot_dir`) as test
//! artifacts.
//! Then tests/dashboard/search.mjs on the same demo: the fleet table, drone ids
//! on the map, search, deadline order and grouping, and no English left in
//! Chinese mode — alerts' texts and a mission's why included — (nor Chinese in
//! English, where the dispatcher's reasons read as the server's English).

mod support;

use std::process::Command;
use std::time::Duration;
use support::*;

/// The screenshots the two scripts write, checked and kept.
const SHOTS: [&str; 13] = [
    "desktop.png",
    "confirm-ground.png",
    "alerts.png",
    "replay-empty.png",
    "replay.png",
    "replay-group.png",
    "tablet.png",
    "board-1440.png",
    "fleet.png",
    "search.png",
    "zh.png",
    "zh-why.png",
    "en.png",
];

#[test]
fn a_coordinator_and_a_viewer_use_the_dashboard_in_chromium() {
    let check_dir = browser_check_dir();
    let (mut demo, url) = dashboard_demo(120);
    let coordinator = demo.wait_line("login:", Duration::from_secs(10));
    let viewer = demo.wait_line("viewer login:", Duration::from_secs(10));
    let (c_user, c_pw) = coordinator.split_once(' ').unwrap();
    let (v_user, v_pw) = viewer.split_once(' ').unwrap();
    let shots = screenshot_dir();
    // Only this test's own screenshots go: others (dashboard_backlog.rs) keep theirs here too.
    for shot in SHOTS {
        let _ = std::fs::remove_file(shots.join(shot));
    }
    let out = Command::new("timeout")
        .arg("300")
        .arg("node")
        .arg(check_dir.join("check.mjs"))
        .args([url.trim_end_matches('/'), c_user, c_pw, v_user, v_pw])
        .arg(&shots)
        .current_dir(repo())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("dashboard check passed"),
        "the browser check failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    let out = Command::new("timeout")
        .arg("240")
        .arg("node")
        .arg(check_dir.join("search.mjs"))
        .args([url.trim_end_matches('/'), c_user, c_pw])
        .arg(&shots)
        .arg(v_user)
        .current_dir(repo())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("search check passed"),
        "the search and language check failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for shot in SHOTS {
        let file = shots.join(shot);
        let len = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        assert!(len > 10_000, "{shot} was not written ({len} bytes)");
        println!("screenshot: {}", file.display());
    }
}
