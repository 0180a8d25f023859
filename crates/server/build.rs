//! Embeds the dashboard: every file of `web/` (the app's own modules), and
//! Leaflet's, Leaflet.markercluster's and uPlot's `dist` files from npm. `npm ci` runs here when one is missing,
//! from the registry, so the README's commands stay all a new user needs; nothing
//! is fetched at run time.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Files of npm packages served at `/assets/vendor/<name>`: (package's `dist`
/// folder under `node_modules`, file name).
const VENDOR: &[(&str, &str)] = &[
    ("leaflet/dist", "leaflet.js"),
    ("leaflet/dist", "leaflet.css"),
    ("leaflet.markercluster/dist", "leaflet.markercluster.js"),
    ("leaflet.markercluster/dist", "MarkerCluster.css"),
    ("leaflet.markercluster/dist", "MarkerCluster.Default.css"),
    ("uplot/dist", "uPlot.esm.js"),
    ("uplot/dist", "uPlot.min.css"),
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let web = manifest.join("web");
    let modules = web.join("node_modules");
    println!("cargo:rerun-if-changed=web/package-lock.json");
    println!("cargo:rerun-if-changed=web/package.json");
    if VENDOR
        .iter()
        .any(|(dist, name)| !modules.join(dist).join(name).exists())
    {
        install_npm_packages(&web);
    }
    let mut table = String::from("&[\n");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&web)
        .unwrap_or_else(|e| panic!("{}: {e}", web.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            !name.starts_with("package") && !name.starts_with('.')
        })
        .collect();
    files.sort();
    println!("cargo:rerun-if-changed=web");
    for path in &files {
        println!("cargo:rerun-if-changed={}", path.display());
        let name = path.file_name().unwrap().to_str().unwrap();
        writeln!(
            table,
            "    ({name:?}, include_bytes!({:?}).as_slice()),",
            path.display()
        )
        .unwrap();
    }
    for (dist, name) in VENDOR {
        let path = modules.join(dist).join(name);
        assert!(path.exists(), "{} is missing after npm ci", path.display());
        writeln!(
            table,
            "    (\"vendor/{name}\", include_bytes!({:?}).as_slice()),",
            path.display()
        )
        .unwrap();
    }
    table.push_str("]\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("assets_table.rs");
    std::fs::write(out, table).unwrap();
}

fn install_npm_packages(web: &Path) {
    let lock = web.join("package-lock.json").exists();
    let args: &[&str] = if lock {
        &["ci", "--no-audit", "--no-fund"]
    } else {
        &["install", "--no-audit", "--no-fund"]
    };
    let status = Command::new("npm").args(args).current_dir(web).status();
    match status {
        Ok(s) if s.success() => {}
        Ok(s) => panic!(
            "`npm {}` in {} failed ({s}): the dashboard needs Leaflet and uPlot from the npm registry",
            args.join(" "),
            web.display()
        ),
        Err(e) => panic!(
            "cannot run npm ({e}): install Node.js and npm; the dashboard needs Leaflet and uPlot from the npm registry"
        ),
    }
}
