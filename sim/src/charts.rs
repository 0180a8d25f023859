//! The charts of `report.html`, as SVG drawn with plotters: big enough to read,
//! every axis labelled with what it counts and its unit, times of day on the
//! scenario's local clock. Each chart is a string of SVG or the reason it failed.

use crate::kpi::Kpis;
use crate::ledger::Ledger;
use chrono::{Duration, NaiveTime, Timelike};
use labflight_core::Scenario;
use labflight_dispatch::World;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::collections::BTreeMap;

/// A chart as SVG, or why it could not be drawn.
pub type Chart = Result<String, String>;

/// Tick labels.
const LABEL_FONT: (&str, u32) = ("sans-serif", 17);
/// Axis descriptions.
const AXIS_FONT: (&str, u32) = ("sans-serif", 18);
/// Chart titles.
const TITLE_FONT: (&str, u32) = ("sans-serif", 22);

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

/// A local time of day as hours after midnight.
fn hours_of(t: NaiveTime) -> f64 {
    f64::from(t.num_seconds_from_midnight()) / 3600.0
}

/// Hours after midnight as a clock time, `09:30`.
fn clock(hours: f64) -> String {
    let minutes = (hours * 60.0).round() as i64;
    format!(
        "{:02}:{:02}",
        minutes.div_euclid(60) % 24,
        minutes.rem_euclid(60)
    )
}

/// How long tubes took from draw to result at their centre, in 15-minute bins.
pub fn tat_histogram(ledger: &Ledger) -> Chart {
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
    svg(900, 460, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("Turnaround: draw to result at the centre", TITLE_FONT)
            .margin(14)
            .margin_right(30)
            .x_label_area_size(55)
            .y_label_area_size(75)
            .build_cartesian_2d(0u32..max.max(15), 0u32..top + top / 10 + 1)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("turnaround (minutes, in 15-minute bins)")
            .y_desc("tubes (count)")
            .label_style(LABEL_FONT)
            .axis_desc_style(AXIS_FONT)
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

/// Each centre on the map, coloured by the share of its tubes resulted on time.
pub fn on_time_map(ledger: &Ledger, world: &World, scenario: &Scenario) -> Chart {
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
    svg(720, 780, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(
                "On-time share by centre (green 100 %, amber 95–100 %, red below; ▲ labs)",
                ("sans-serif", 19),
            )
            .margin(14)
            .x_label_area_size(55)
            .y_label_area_size(80)
            .build_cartesian_2d(lon0 - 0.005..lon1 + 0.005, lat0 - 0.005..lat1 + 0.005)
            .map_err(e)?;
        chart
            .configure_mesh()
            .x_desc("longitude (° E)")
            .y_desc("latitude (° N)")
            .x_label_formatter(&|v| format!("{v:.2}"))
            .y_label_formatter(&|v| format!("{v:.2}"))
            .label_style(LABEL_FONT)
            .axis_desc_style(AXIS_FONT)
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
                Circle::new((s.position.lon, s.position.lat), 5, colour)
            }))
            .map_err(e)?;
        chart
            .draw_series(
                world.labs.values().map(|l| {
                    TriangleMarker::new((l.position.lon, l.position.lat), 11, BLUE.filled())
                }),
            )
            .map_err(e)?;
        Ok(())
    })
}

/// Drones in the air and tubes waiting in each lab, every 15 minutes from the
/// first draw to an hour after the cutoff, on the local clock.
pub fn over_the_day(ledger: &Ledger, scenario: &Scenario, drones: u32) -> Chart {
    let start = scenario.at(scenario.service.first_draw);
    let end = scenario.at(scenario.service.cutoff) + Duration::hours(1);
    let first_hour = hours_of(scenario.service.first_draw);
    let mut steps = Vec::new();
    let mut t = start;
    while t <= end {
        steps.push(t);
        t += Duration::minutes(15);
    }
    let hour_of_step = |i: usize| first_hour + i as f64 / 4.0;
    let flying: Vec<(f64, f64)> = steps
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let n = ledger
                .flights
                .iter()
                .filter(|f| !f.aborted && f.depart <= *t && f.arrive > *t)
                .count();
            (hour_of_step(i), n as f64)
        })
        .collect();
    // Every lab that received tubes, from the first step (0 before its first):
    // each tube counted at the steps it waited there, in one pass over the tubes.
    let mut waiting: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
    for c in ledger.tubes.values() {
        let Some(lab) = &c.lab else { continue };
        let counts = waiting
            .entry(lab.as_str())
            .or_insert_with(|| vec![0; steps.len()]);
        let Some(received) = c.received_at else {
            continue;
        };
        let from = steps.partition_point(|t| *t < received);
        let to = c
            .resulted_at
            .map_or(steps.len(), |r| steps.partition_point(|t| *t < r));
        for n in counts.iter_mut().take(to).skip(from) {
            *n += 1;
        }
    }
    let labs: BTreeMap<&str, Vec<(f64, f64)>> = waiting
        .into_iter()
        .map(|(lab, counts)| {
            let points = counts
                .into_iter()
                .enumerate()
                .map(|(i, n)| (hour_of_step(i), f64::from(n)))
                .collect();
            (lab, points)
        })
        .collect();
    let hours = first_hour..hour_of_step(steps.len().saturating_sub(1)).max(first_hour + 1.0);
    let top_q = labs.values().flatten().map(|p| p.1).fold(10.0, f64::max);
    let x_desc = "time of day (local)";
    svg(900, 760, |root| {
        let (upper, lower) = root.split_vertically(360);
        let mut a = ChartBuilder::on(&upper)
            .caption(format!("Drones in the air (fleet of {drones})"), TITLE_FONT)
            .margin(14)
            .margin_right(36)
            .x_label_area_size(55)
            .y_label_area_size(75)
            .build_cartesian_2d(hours.clone(), 0.0..f64::from(drones.max(1)))
            .map_err(e)?;
        a.configure_mesh()
            .x_desc(x_desc)
            .y_desc("drones in the air (count)")
            .x_label_formatter(&|h| clock(*h))
            .y_label_formatter(&|n| format!("{n:.0}"))
            .label_style(LABEL_FONT)
            .axis_desc_style(AXIS_FONT)
            .draw()
            .map_err(e)?;
        a.draw_series(LineSeries::new(flying.clone(), BLUE.stroke_width(2)))
            .map_err(e)?;
        let mut b = ChartBuilder::on(&lower)
            .caption("Tubes in each lab awaiting a result", TITLE_FONT)
            .margin(14)
            .margin_right(36)
            .x_label_area_size(55)
            .y_label_area_size(75)
            .build_cartesian_2d(hours.clone(), 0.0..top_q * 1.1)
            .map_err(e)?;
        b.configure_mesh()
            .x_desc(x_desc)
            .y_desc("tubes awaiting a result (count)")
            .x_label_formatter(&|h| clock(*h))
            .y_label_formatter(&|n| format!("{n:.0}"))
            .label_style(LABEL_FONT)
            .axis_desc_style(AXIS_FONT)
            .draw()
            .map_err(e)?;
        for (i, (lab, series)) in labs.iter().enumerate() {
            let colour = Palette99::pick(i).to_rgba();
            b.draw_series(LineSeries::new(series.clone(), colour.stroke_width(2)))
                .map_err(e)?
                .label(*lab)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 15, y)], colour));
        }
        b.configure_series_labels()
            .label_font(LABEL_FONT)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(e)?;
        Ok(())
    })
}

/// The on-time share of each run compared, as bars with their figure.
pub fn comparison(rows: &[(String, Kpis)], scenario: &Scenario) -> Chart {
    let x_desc = format!(
        "on time (% of tubes drawn by {} resulted at the centre by {})",
        scenario.service.last_draw.format("%H:%M"),
        scenario.service.cutoff.format("%H:%M")
    );
    let last = rows.len().saturating_sub(1);
    let longest = rows.iter().map(|r| r.0.chars().count()).max().unwrap_or(4) as u32;
    svg(900, 150 + 48 * rows.len() as u32, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption("On-time share by run", TITLE_FONT)
            .margin(14)
            .margin_right(40)
            .x_label_area_size(55)
            .y_label_area_size(60 + 8 * longest)
            .build_cartesian_2d(0.0..100.0, (0..last).into_segmented())
            .map_err(e)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                    rows.get(*i).map(|r| r.0.clone()).unwrap_or_default()
                }
                SegmentValue::Last => String::new(),
            })
            .x_label_formatter(&|v| format!("{v:.0}"))
            .x_desc(x_desc.as_str())
            .y_desc("run")
            .label_style(LABEL_FONT)
            .axis_desc_style(AXIS_FONT)
            .draw()
            .map_err(e)?;
        // One series per bar: plotters' histogram sums its data in a hash map, so
        // several bars in one series come out in a different order on every run,
        // and a report must be byte-identical for the same day.
        for (i, (_, k)) in rows.iter().enumerate() {
            chart
                .draw_series(
                    Histogram::horizontal(&chart)
                        .style(GREEN.mix(0.6).filled())
                        .margin(10)
                        .data(std::iter::once((i, k.on_time_rate * 100.0))),
                )
                .map_err(e)?;
        }
        chart
            .draw_series(rows.iter().enumerate().map(|(i, (_, k))| {
                let share = k.on_time_rate * 100.0;
                let at = (share.clamp(8.0, 100.0) - 1.0, SegmentValue::CenterOf(i));
                Text::new(
                    format!("{share:.2} %"),
                    at,
                    LABEL_FONT
                        .into_text_style(root)
                        .pos(Pos::new(HPos::Right, VPos::Center)),
                )
            }))
            .map_err(e)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::clock;

    #[test]
    fn hours_read_as_clock_times() {
        assert_eq!(clock(7.5), "07:30");
        assert_eq!(clock(14.0), "14:00");
        assert_eq!(clock(9.25), "09:15");
    }
}
