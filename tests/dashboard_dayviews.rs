//! The day views in a real browser (Debian's Chromium driven by playwright-core,
//! tests/dashboard/dayviews.mjs) against `labflight demo`: the per-centre
//! service-level page with its uPlot charts and sorting, the CSV download, the
//! printable report (also printed to PDF), a replayed run's day, and a lab
//! account refused. The screenshots, the CSV and the PDF stay under the target
//! directory as test artifacts, in `<target>/dashboard-screens-day/` (beside
//! tests/dashboard_browser.rs's `dashboard-screens/`, which that test empties
//! when it starts).

mod support;

use std::process::Command;
use std::time::Duration;
use support::*;

#[test]
fn the_day_views_render_download_and_print_in_chromium() {
    let check_dir = browser_check_dir();
    let (mut demo, url) = dashboard_demo(120);
    let coordinator = demo.wait_line("login:", Duration::from_secs(10));
    let lab = demo.wait_line("lab login", Duration::from_secs(10));
    let (c_user, c_pw) = coordinator.split_once(' ').unwrap();
    // `lab login (LAB-X): lab <password>`: the account after the colon.
    let lab = lab.split_once(':').map(|(_, a)| a.trim()).unwrap_or(&lab);
    let (l_user, l_pw) = lab.split_once(' ').unwrap();
    let shots = screenshot_dir();
    std::fs::create_dir_all(&shots).unwrap();
    let out = Command::new("timeout")
        .arg("300")
        .arg("node")
        .arg(check_dir.join("dayviews.mjs"))
        .args([url.trim_end_matches('/'), c_user, c_pw, l_user, l_pw])
        .arg(&shots)
        .current_dir(repo())
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("day views check passed"),
        "the day views check failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for (file, least) in [
        ("day-views.png", 10_000),
        ("day-report-print.png", 10_000),
        ("day-replay.png", 10_000),
        ("day-report.pdf", 20_000),
        ("day-report.csv", 100),
    ] {
        let path = shots.join(file);
        let len = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        assert!(len > least, "{file} was not written ({len} bytes)");
        println!("artifact: {}", path.display());
    }
}

/// `<target>/dashboard-screens-day`: kept after the test, beside the test binary's
/// own target directory (`<target>/debug/deps/<binary>`).
fn screenshot_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|exe| exe.ancestors().nth(3).map(|p| p.to_path_buf()))
        })
        .unwrap_or_else(|| repo().join("target"));
    target.join("dashboard-screens-day")
}
