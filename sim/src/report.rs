//! `report.html`: the day at a glance for analysts — KPI table, why tubes missed,
//! TAT distribution, on-time share by centre on the map, fleet utilisation and lab
//! queues over the day, and the policy or fleet comparison when several runs were
//! made. Charts are SVG drawn with plotters; the page needs nothing from the network.

use crate::kpi::Kpis;
use crate::ledger::Ledger;
use chrono::Duration;
use labflight_core::{Instant, Scenario};
use labflight_dispatch::World;
use plotters::prelude::*;
use std::collections::BTreeMap;

type Chart = Result<String, String>;

fn svg(
    width: u32,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Result<(), String>,
) -> Chart {
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(out)
}

fn e<E: std::fmt::Display>(err: E) -> String {
    err.to_string()
}

fn tat_histogram(ledger: &Ledger) -> Chart {
    let tats: Vec<u32> = ledger
        .tubes
        .values()
        .filter_map(|c| {
            c.reported_at
                .map(|r| (r - c.drawn_at).num_minutes().max(0) as u32)
        })
        .collect();
    let max = tats.iter().copied().max().unwrap_or(60).div_ceil(15) * 15;
    let mut bins: BTreeMap<u32, u32> = BTreeMap::new();
    for t in &tats {
        *bins.entry(t / 15 * 15).or_insert(0) += 1;
    }
    let top = bins.values().copied().max().unwrap_or(1);
    svg(640, 320, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "Turnaround: draw to result at the centre",
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(35)
            .y_label_area_size(50)
            .build_cartesian_2d(0u32..max.max(15), 0u32..top + top / 10 + 1)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("minutes")
            .y_desc("tubes")
            .draw()
            .map_err(e)?;
        chart
            .draw_series(
                bins.iter()
                    .map(|(b, n)| Rectangle::new([(*b, 0), (*b + 15, *n)], BLUE.mix(0.6).filled())),
            )
            .map_err(e)?;
        Ok(())
    })
}

fn on_time_map(ledger: &Ledger, world: &World, scenario: &Scenario) -> Chart {
    let cutoff = scenario.at(scenario.service.cutoff);
    let last = scenario.at(scenario.service.last_draw);
    let mut by_station: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
    for c in ledger.tubes.values().filter(|c| c.drawn_at <= last) {
        let entry = by_station.entry(c.station.as_str()).or_insert((0, 0));
        entry.1 += 1;
        if c.reported_at.is_some_and(|r| r <= cutoff) {
            entry.0 += 1;
        }
    }
    let lats = world
        .stations
        .values()
        .map(|s| s.position.lat)
        .chain(world.labs.values().map(|l| l.position.lat));
    let lons = world
        .stations
        .values()
        .map(|s| s.position.lon)
        .chain(world.labs.values().map(|l| l.position.lon));
    let (lat0, lat1) = lats.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let (lon0, lon1) = lons.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    svg(520, 560, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "On-time share by centre (green 100 %, red below 95 %)",
                ("sans-serif", 16),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(50)
            .build_cartesian_2d(lon0 - 0.005..lon1 + 0.005, lat0 - 0.005..lat1 + 0.005)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("lon")
            .y_desc("lat")
            .draw()
            .map_err(e)?;
        for zone in world.airspace.zones() {
            let pts: Vec<(f64, f64)> = zone
                .polygon
                .exterior()
                .points()
                .map(|p| (p.x(), p.y()))
                .collect();
            chart
                .draw_series(std::iter::once(Polygon::new(pts, RED.mix(0.2).filled())))
                .map_err(e)?;
        }
        chart
            .draw_series(world.stations.values().map(|s| {
                let (ok, all) = by_station.get(s.id.as_str()).copied().unwrap_or((0, 0));
                let share = if all == 0 {
                    1.0
                } else {
                    f64::from(ok) / f64::from(all)
                };
                let colour = if share >= 0.999 {
                    GREEN.filled()
                } else if share >= 0.95 {
                    RGBColor(230, 160, 0).filled()
                } else {
                    RED.filled()
                };
                Circle::new((s.position.lon, s.position.lat), 4, colour)
            }))
            .map_err(e)?;
        chart
            .draw_series(
                world.labs.values().map(|l| {
                    TriangleMarker::new((l.position.lon, l.position.lat), 9, BLUE.filled())
                }),
            )
            .map_err(e)?;
        Ok(())
    })
}

/// Drones in the air and tubes waiting in each lab, per 15 minutes.
fn over_the_day(ledger: &Ledger, scenario: &Scenario, drones: u32) -> Chart {
    let start = scenario.at(scenario.service.first_draw);
    let end = scenario.at(scenario.service.cutoff) + Duration::hours(1);
    let mut steps = Vec::new();
    let mut t = start;
    while t <= end {
        steps.push(t);
        t += Duration::minutes(15);
    }
    let flying: Vec<(f64, f64)> = steps
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let n = ledger
                .flights
                .iter()
                .filter(|f| !f.aborted && f.depart <= *t && f.arrive > *t)
                .count();
            (i as f64 / 4.0, n as f64)
        })
        .collect();
    let mut labs: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
    for (i, t) in steps.iter().enumerate() {
        let mut counts: BTreeMap<String, u32> = BTreeMap::new();
        for c in ledger.tubes.values() {
            if let (Some(r), Some(lab)) = (c.received_at, &c.lab)
                && r <= *t
                && c.resulted_at.is_none_or(|x| x > *t)
            {
                *counts.entry(lab.to_string()).or_insert(0) += 1;
            }
        }
        for (lab, n) in counts {
            labs.entry(lab)
                .or_default()
                .push((i as f64 / 4.0, f64::from(n)));
        }
    }
    let hours = steps.len() as f64 / 4.0;
    let top_q = labs.values().flatten().map(|p| p.1).fold(10.0, f64::max);
    svg(640, 360, |root| {
        let (upper, lower) = root.split_vertically(170);
        let mut a = ChartBuilder::on(&upper)
            .caption(
                format!("Drones in the air (fleet of {drones})"),
                ("sans-serif", 16),
            )
            .margin(8)
            .x_label_area_size(20)
            .y_label_area_size(45)
            .build_cartesian_2d(0.0..hours, 0.0..f64::from(drones.max(1)))
            .map_err(e)?;
        a.configure_mesh().draw().map_err(e)?;
        a.draw_series(LineSeries::new(flying.clone(), &BLUE))
            .map_err(e)?;
        let mut b = ChartBuilder::on(&lower)
            .caption("Tubes in each lab awaiting a result", ("sans-serif", 16))
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(45)
            .build_cartesian_2d(0.0..hours, 0.0..top_q * 1.1)
            .map_err(e)?;
        b.configure_mesh()
            .x_desc(format!(
                "hours after {}",
                scenario.service.first_draw.format("%H:%M")
            ))
            .draw()
            .map_err(e)?;
        for (i, (lab, series)) in labs.iter().enumerate() {
            let colour = Palette99::pick(i).to_rgba();
            b.draw_series(LineSeries::new(series.clone(), colour))
                .map_err(e)?
                .label(lab.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], colour));
        }
        b.configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(e)?;
        Ok(())
    })
}

fn comparison(rows: &[(String, Kpis)]) -> Chart {
    svg(640, 60 + 30 * rows.len() as u32, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("On-time share by run", ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(170)
            .build_cartesian_2d(0.0..100.0, (0..rows.len()).into_segmented())
            .map_err(e)?;
        chart
            .configure_mesh()
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                    rows.get(*i).map(|r| r.0.clone()).unwrap_or_default()
                }
                SegmentValue::Last => String::new(),
            })
            .x_desc("% of tubes drawn by the last draw, resulted at the centre by the cutoff")
            .draw()
            .map_err(e)?;
        chart
            .draw_series(rows.iter().enumerate().map(|(i, (_, k))| {
                Rectangle::new(
                    [
                        (0.0, SegmentValue::Exact(i)),
                        (k.on_time_rate * 100.0, SegmentValue::Exact(i + 1)),
                    ],
                    GREEN.mix(0.6).filled(),
                )
            }))
            .map_err(e)?;
        Ok(())
    })
}

fn kpi_table(rows: &[(String, Kpis)]) -> String {
    let mut s = String::from(
        "<table><tr><th>run</th><th>tubes</th><th>on time</th><th>TAT p50</th><th>p90</th><th>p99</th><th>max</th>\
         <th>stability</th><th>excursions</th><th>lost</th><th>never collected</th><th>flights</th><th>drone km</th><th>utilisation</th><th>van trips</th><th>drones</th></tr>",
    );
    for (name, k) in rows {
        s += &format!(
            "<tr><td>{}</td><td>{}</td><td>{:.2} %</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1} %</td><td>{}</td><td>{}</td></tr>",
            html_escape(name),
            k.specimens,
            k.on_time_rate * 100.0,
            k.tat_minutes.p50,
            k.tat_minutes.p90,
            k.tat_minutes.p99,
            k.tat_minutes.max,
            k.stability_violations,
            k.temperature_excursions,
            k.lost_specimens,
            k.never_collected,
            k.flights,
            k.drone_km,
            k.drone_utilisation * 100.0,
            k.courier_trips,
            k.drones
        );
    }
    s + "</table>"
}

/// One reason tubes missed the cutoff, as `specimens.csv` gives it (a late pickup's
/// wait left out): how many tubes, and for late pickups the median wait.
#[derive(Clone, Debug, PartialEq)]
pub struct MissReason {
    /// The reason, as `specimens.csv` gives it.
    pub reason: String,
    /// How many tubes missed for it.
    pub tubes: usize,
    /// For late pickups, the median wait, minutes.
    pub median_wait_minutes: Option<i64>,
}

/// Why the tubes drawn by the last draw missed the cutoff, the most common first.
pub fn misses_by_reason(ledger: &Ledger, scenario: &Scenario) -> Vec<MissReason> {
    const LATE: &str = "late: waited ";
    let cutoff = scenario.at(scenario.service.cutoff);
    let last_draw = scenario.at(scenario.service.last_draw);
    // Per reason: the tubes, and the waits of late pickups.
    let mut by: BTreeMap<String, (usize, Vec<i64>)> = BTreeMap::new();
    for c in ledger.tubes.values().filter(|c| c.drawn_at <= last_draw) {
        let Some(reason) = ledger.miss_reason(c, cutoff) else {
            continue;
        };
        let wait = reason
            .strip_prefix(LATE)
            .and_then(|r| r.split(' ').next())
            .and_then(|m| m.parse::<i64>().ok());
        let key = match wait {
            Some(_) => "late: waited for pickup".to_owned(),
            None => reason,
        };
        let entry = by.entry(key).or_default();
        entry.0 += 1;
        entry.1.extend(wait);
    }
    let mut out: Vec<MissReason> = by
        .into_iter()
        .map(|(reason, (tubes, mut waits))| {
            waits.sort_unstable();
            MissReason {
                median_wait_minutes: waits.get(waits.len() / 2).copied(),
                reason,
                tubes,
            }
        })
        .collect();
    out.sort_by(|a, b| b.tubes.cmp(&a.tubes).then_with(|| a.reason.cmp(&b.reason)));
    out
}

/// The tubes drawn in one local hour (by the last draw), and how many of them
/// missed the cutoff and passed their stability limit.
#[derive(Clone, Debug, PartialEq)]
pub struct HourOfDraws {
    /// The local hour, 0–23.
    pub hour: u32,
    /// Tubes drawn in that hour.
    pub drawn: usize,
    /// Of those, tubes that missed the cutoff.
    pub missed: usize,
    /// Of those, tubes that passed their stability limit.
    pub over_stability_limit: usize,
}

/// When the tubes that missed were drawn, hour by hour: where the fleet fell short.
pub fn misses_by_hour_drawn(ledger: &Ledger, scenario: &Scenario) -> Vec<HourOfDraws> {
    use chrono::Timelike;
    let cutoff = scenario.at(scenario.service.cutoff);
    let last_draw = scenario.at(scenario.service.last_draw);
    let offset = scenario.offset();
    let mut by: BTreeMap<u32, HourOfDraws> = BTreeMap::new();
    for c in ledger.tubes.values().filter(|c| c.drawn_at <= last_draw) {
        let hour = c.drawn_at.with_timezone(&offset).hour();
        let h = by.entry(hour).or_insert(HourOfDraws {
            hour,
            drawn: 0,
            missed: 0,
            over_stability_limit: 0,
        });
        h.drawn += 1;
        if ledger.miss_reason(c, cutoff).is_some() {
            h.missed += 1;
            h.over_stability_limit += usize::from(c.stability_violated());
        }
    }
    by.into_values().collect()
}

fn hour_table(hours: &[HourOfDraws]) -> String {
    let mut s = String::from(
        "<h2>When the tubes that missed were drawn</h2>\
         <table><tr><th>drawn</th><th>tubes</th><th>missed</th><th>share</th><th>over their stability limit</th></tr>",
    );
    for h in hours {
        s += &format!(
            "<tr><td>{:02}:00–{:02}:59</td><td>{}</td><td>{}</td><td>{:.1} %</td><td>{}</td></tr>",
            h.hour,
            h.hour,
            h.drawn,
            h.missed,
            100.0 * h.missed as f64 / h.drawn.max(1) as f64,
            h.over_stability_limit
        );
    }
    s + "</table>"
}

fn miss_table(misses: &[MissReason], scenario: &Scenario) -> String {
    let last_draw = scenario.service.last_draw.format("%H:%M");
    let cutoff = scenario.service.cutoff.format("%H:%M");
    if misses.is_empty() {
        return format!("<p>Every tube drawn by {last_draw} was reported by {cutoff}.</p>");
    }
    let mut s = format!(
        "<h2>Why tubes missed</h2><p>Tubes drawn by {last_draw} not reported by {cutoff}, by \
         reason (each tube's is in <code>specimens.csv</code>).</p>\
         <table><tr><th>reason</th><th>tubes</th><th>median wait for pickup</th></tr>"
    );
    for m in misses {
        s += &format!(
            "<tr><td style=text-align:left>{}</td><td>{}</td><td>{}</td></tr>",
            html_escape(&m.reason),
            m.tubes,
            m.median_wait_minutes
                .map_or(String::new(), |w| format!("{w} min"))
        );
    }
    s + "</table>"
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The whole page for one run, with `others` (compared policies or swept values) beside it.
pub fn render(
    scenario: &Scenario,
    world: &World,
    ledger: &Ledger,
    kpis: &Kpis,
    others: &[(String, Kpis)],
    generated_for: Instant,
) -> String {
    let mut rows = vec![(format!("this run ({})", kpis.policy), kpis.clone())];
    rows.extend(others.iter().cloned());
    let charts = [
        tat_histogram(ledger),
        on_time_map(ledger, world, scenario),
        over_the_day(ledger, scenario, kpis.drones),
    ];
    let mut body = String::new();
    for c in charts {
        match c {
            Ok(svg) => body += &format!("<figure>{svg}</figure>\n"),
            Err(err) => body += &format!("<p class=err>chart failed: {}</p>\n", html_escape(&err)),
        }
    }
    if rows.len() > 1 {
        match comparison(&rows) {
            Ok(svg) => body += &format!("<figure>{svg}</figure>\n"),
            Err(err) => body += &format!("<p class=err>chart failed: {}</p>\n", html_escape(&err)),
        }
    }
    format!(
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>labflight — {name} seed {seed} ({policy})</title>\
         <style>body{{font-family:sans-serif;margin:2em;max-width:1400px}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}\
         figure{{display:inline-block;margin:1em}}.err{{color:#b00}}</style></head><body>\
         <h1>{name}: seed {seed}, policy {policy}</h1><p>Simulated day {date}; cutoff {cutoff} local; {drones} drones, {couriers} vans. \
         Positions are illustrative.</p>{table}\n{misses}\n{body}</body></html>\n",
        name = html_escape(&scenario.name),
        seed = kpis.seed,
        policy = kpis.policy,
        date = generated_for.format("%Y-%m-%d"),
        cutoff = scenario.service.cutoff.format("%H:%M"),
        drones = kpis.drones,
        couriers = kpis.couriers,
        table = kpi_table(&rows),
        misses = {
            let reasons = misses_by_reason(ledger, scenario);
            let mut t = miss_table(&reasons, scenario);
            if !reasons.is_empty() {
                t += &hour_table(&misses_by_hour_drawn(ledger, scenario));
            }
            t
        },
    )
}
