//! `report.html` as an analyst reads it: the scenario's own (local) date, the
//! zone said once, charts whose axes say what they count and in which unit,
//! tables that scroll in their own box on a tablet, and a sentence on how each
//! compared policy planned.

use labflight_core::Scenario;
use labflight_dispatch::{PolicyKind, World};
use labflight_geo::MapData;
use std::path::Path;
use std::sync::Arc;

/// The report of a short Longhua morning under `drone`, with the `vans`,
/// `courier` and `greedy` days beside it.
fn report() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/longhua/longhua-short.toml");
    let scenario = Scenario::load(&path).unwrap();
    let map = MapData::load(&scenario.map_dir(&path)).unwrap();
    let world = Arc::new(World::from_map(&scenario, &map));
    let day =
        |policy| labflight_sim::simulate(&scenario, Arc::clone(&world), policy, 5, &mut |_| {});
    let drone = day(PolicyKind::Drone);
    let others: Vec<_> = [PolicyKind::Vans, PolicyKind::Courier, PolicyKind::Greedy]
        .into_iter()
        .map(|p| (format!("baseline: {}", p.name()), day(p).kpis))
        .collect();
    // A folder per call: the tests run in parallel.
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("report-{}-{call}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    labflight_sim::write_outcome(&dir, &scenario, &world, &drone.ledger, &drone.kpis, &others)
        .unwrap();
    let html = std::fs::read_to_string(dir.join(labflight_sim::REPORT)).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    html
}

#[test]
fn the_report_reads_right_on_the_scenarios_local_day() {
    let html = report();
    // 07:30 in Shenzhen is 23:30 UTC the day before: the date is the local one.
    assert!(
        html.contains("Simulated day 2026-06-15 (Monday)"),
        "{}",
        &html[..html.len().min(1500)]
    );
    assert!(!html.contains("2026-06-14"), "no UTC date anywhere");
    assert_eq!(
        html.matches("UTC+08:00").count(),
        1,
        "the zone is said once"
    );
    assert!(!html.contains(" UTC "), "no time is given in UTC");

    // Every chart axis says what it counts, with its unit.
    for axis in [
        "turnaround (minutes, in 15-minute bins)",
        "tubes (count)",
        "longitude (° E)",
        "latitude (° N)",
        "drones in the air (count)",
        "tubes awaiting a result (count)",
        "time of day (local)",
        "on time (% of tubes drawn by 08:00 resulted at the centre by 14:00)",
    ] {
        assert!(
            html.split("<svg").skip(1).any(|svg| svg.contains(axis)),
            "no axis `{axis}` in the charts"
        );
    }
    // The day's axis reads in local clock times, from the first draw.
    assert!(html.contains("\n09:00\n</text>"), "local clock ticks");
    // Charts shrink to the page rather than overflow it.
    assert_eq!(html.matches("<svg").count(), 4);
    assert!(html.contains("figure svg{display:block;max-width:100%;height:auto}"));
    assert!(html.contains("viewBox"));

    // Every table scrolls inside its own box; the page is laid out for the device.
    assert!(html.contains("<meta name=viewport"));
    assert_eq!(
        html.matches("<table").count(),
        html.matches("<div class=table-scroll><table").count()
    );
    assert!(html.contains(".table-scroll{max-width:100%;overflow-x:auto"));

    // One sentence per policy compared.
    for policy in ["drone", "vans", "courier", "greedy"] {
        assert_eq!(
            html.matches(&format!("<li><b>{policy}</b> — ")).count(),
            1,
            "{policy} explained once"
        );
    }
    assert!(
        html.contains("leaving at 09:30, each calling"),
        "the courier rounds' times: one round interval (120 min) after the first draw, \
         every interval until one after the last (08:00)"
    );
    assert!(
        html.contains("<b>courier</b> — how it used to be: "),
        "the fixed rounds are described as the old way"
    );
}

/// The drones-and-vans table: a row per run with the vehicles each used, their
/// km and energy, and the van energy figure it was worked out with.
#[test]
fn the_report_compares_drones_and_vans_on_vehicles_km_and_energy() {
    let html = report();
    let at = html
        .find("<h2>Drones and vans</h2>")
        .expect("the comparison table");
    let table = &html[at..at + html[at..].find("</table>").unwrap()];
    assert!(table.contains("0.25 kWh per km"), "{table}");
    let rows: Vec<&str> = table.split("<tr><td>").skip(1).collect();
    assert_eq!(rows.len(), 4, "this run and three baselines: {table}");
    // The cells: run, on time, drones used, vans used, drone km, van km, vehicle
    // km, drone kWh, van kWh, energy kWh.
    let cells = |row: &str| -> Vec<String> {
        row.split("</td><td>")
            .map(|c| c.replace("</td></tr>", "").replace(" %", ""))
            .collect()
    };
    let num = |c: &str| {
        c.parse::<f64>()
            .unwrap_or_else(|_| panic!("not a number: {c}"))
    };
    for row in &rows {
        let c = cells(row);
        assert_eq!(c.len(), 10, "{row}");
        assert!(
            (num(&c[6]) - num(&c[4]) - num(&c[5])).abs() < 0.11,
            "km add up: {row}"
        );
        assert!(
            (num(&c[9]) - num(&c[7]) - num(&c[8])).abs() < 0.11,
            "kWh add up: {row}"
        );
    }
    let vans = cells(
        rows.iter()
            .find(|r| r.starts_with("baseline: vans"))
            .unwrap(),
    );
    assert_eq!(num(&vans[2]), 0.0, "no drone flies under `vans`");
    assert!(num(&vans[3]) > 0.0 && num(&vans[5]) > 0.0, "{vans:?}");
    assert!(
        (num(&vans[8]) - 0.25 * num(&vans[5])).abs() < 0.11,
        "{vans:?}"
    );
    let drone = cells(rows[0]);
    assert!(num(&drone[2]) > 0.0 && num(&drone[7]) > 0.0, "{drone:?}");
}
