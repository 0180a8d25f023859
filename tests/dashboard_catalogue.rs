//! No untranslated key reaches either language of the dashboard: runs
//! tests/dashboard/catalogue.mjs (plain node, no browser), which checks every key
//! the web code uses and every code the server sends (risk codes, alert kinds,
//! severities, families, statuses, custody steps) against i18n.js's table.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn every_key_and_server_code_has_chinese_and_english() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out = Command::new("node")
        .arg(repo.join("tests/dashboard/catalogue.mjs"))
        .arg(&repo)
        .output()
        .expect("node runs (scripts/test.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("catalogue check passed"),
        "the string table misses entries ({}):\n{stdout}\n{stderr}",
        out.status
    );
}
