//! `report.html`: the day at a glance for analysts — KPI table, how each compared
//! policy planned (one sentence each), why tubes missed, and the charts of
//! `charts` (TAT distribution, on-time share by centre on the map, fleet
//! utilisation and lab queues over the day, the policy or fleet comparison when
//! several runs were made). Dates and times are the scenario's local ones; tables
//! scroll inside their own box on a narrow screen. The page needs nothing from
//! the network.

use crate::charts;
use crate::kpi::Kpis;
use crate::ledger::Ledger;
use labflight_core::Scenario;
use labflight_dispatch::World;
use std::collections::BTreeMap;

fn kpi_table(rows: &[(String, Kpis)]) -> String {
    let mut s = String::from(
        "<table><tr><th>run</th><th>tubes</th><th>on time</th><th>TAT p50 (min)</th><th>p90 (min)</th><th>p99 (min)</th><th>max (min)</th>\
         <th>stability</th><th>excursions</th><th>lost</th><th>never collected</th><th>flights</th><th>drone km</th><th>utilisation</th><th>van trips</th><th>drones</th><th>vans</th></tr>",
    );
    for (name, k) in rows {
        s += &format!(
            "<tr><td>{}</td><td>{}</td><td>{:.2} %</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1} %</td><td>{}</td><td>{}</td><td>{}</td></tr>",
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
            k.drones,
            k.couriers
        );
    }
    s + "</table>"
}

/// Drones and vans side by side: what each run used and drove to do what it did.
fn vehicle_table(rows: &[(String, Kpis)], scenario: &Scenario) -> String {
    let mut s = format!(
        "<h2>Drones and vans</h2><p>Vehicles that carried at least one box, the \
         kilometres of their missions and runs (vans by road: the straight line × {road}), \
         and the energy drawn: drones by the flight model, vans at {kwh} kWh per km \
         (an electric van, <code>courier.kwh_per_km</code>; docs/scenario.md). Repositioning \
         and empty flights are not counted.</p>\
         <div class=table-scroll><table><tr><th>run</th><th>on time</th><th>drones used</th><th>vans used</th>\
         <th>drone km</th><th>van km</th><th>vehicle km</th><th>drone kWh</th><th>van kWh</th>\
         <th>energy kWh</th></tr>",
        road = scenario.courier.road_factor,
        kwh = scenario.courier.kwh_per_km,
    );
    for (name, k) in rows {
        s += &format!(
            "<tr><td>{}</td><td>{:.2} %</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td>\
             <td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td></tr>",
            html_escape(name),
            k.on_time_rate * 100.0,
            k.drones_used,
            k.vans_used,
            k.drone_km,
            k.van_km,
            k.drone_km + k.van_km,
            k.drone_kwh,
            k.van_kwh,
            k.drone_kwh + k.van_kwh
        );
    }
    s + "</table></div>"
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
         <div class=table-scroll><table><tr><th>drawn</th><th>tubes</th><th>missed</th><th>share</th><th>over their stability limit</th></tr>",
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
    s + "</table></div>"
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
         <div class=table-scroll><table><tr><th>reason</th><th>tubes</th><th>median wait for pickup</th></tr>"
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
    s + "</table></div>"
}

/// The service level of each group (partition) and district, where the map has
/// more than one.
fn area_tables(kpis: &Kpis) -> String {
    let mut s = String::new();
    for (title, areas) in [
        ("By medical group (partition)", &kpis.by_group),
        ("By district", &kpis.by_district),
    ] {
        if areas.is_empty() {
            continue;
        }
        s += &format!(
            "<h2>{title}</h2><div class=table-scroll><table><tr><th>id</th><th>centres</th>\
             <th>tubes</th><th>on time</th><th>stability violations</th><th>lost</th></tr>"
        );
        for a in areas {
            s += &format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.2} %</td><td>{}</td><td>{}</td></tr>",
                html_escape(&a.id),
                a.centres,
                a.specimens,
                a.on_time_rate * 100.0,
                a.stability_violations,
                a.lost_specimens
            );
        }
        s += "</table></div>";
    }
    s
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The local times the `courier` baseline's rounds leave the labs: one round
/// interval after the first draw, then every interval until one interval after
/// the last draw (as `labflight_dispatch`'s courier policy times them).
fn courier_round_times(scenario: &Scenario) -> Vec<String> {
    let interval = labflight_core::scenario::minutes(scenario.courier.round_interval_minutes);
    let (first, last) = (
        scenario.at(scenario.service.first_draw),
        scenario.at(scenario.service.last_draw),
    );
    let mut times = Vec::new();
    let mut depart = first + interval;
    while depart <= last + interval && interval > chrono::Duration::zero() {
        times.push(scenario.local_time(depart).format("%H:%M").to_string());
        depart += interval;
    }
    times
}

/// `a, b and c`.
fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// One sentence on how a policy planned its run, so the figures side by side
/// say what they compare. `rows` gives the fleets (the first run of each policy).
fn policy_sentence(policy: &str, rows: &[(String, Kpis)], scenario: &Scenario) -> String {
    let first = |p: &str| rows.iter().map(|(_, k)| k).find(|k| k.policy == p);
    let cutoff = scenario.service.cutoff.format("%H:%M");
    match policy {
        "drone" => format!(
            "<b>drone</b> — the dispatcher as deployed: it plans every box onto a drone \
             against its tubes' stability limits and the {cutoff} cutoff, batches boxes on \
             shared rounds, and sends one of its backup vans when no drone can make it in time."
        ),
        "courier" => {
            let vans = first("courier").map_or(0, |k| k.couriers);
            let backups = first("drone")
                .map(|k| format!(" (the drone day has {} backup vans)", k.couriers))
                .unwrap_or_default();
            format!(
                "<b>courier</b> — how it used to be: {vans} vans{backups} on fixed rounds \
                 from each group's lab, leaving at {times}, each calling in turn at the few \
                 centres it can reach and be back from within {interval:.0} min; a box waits at \
                 its centre for the next round and reaches the lab when the van is back.",
                times = listed(&courier_round_times(scenario)),
                interval = scenario.courier.round_interval_minutes,
            )
        }
        "vans" => {
            let vans = first("vans").map_or(0, |k| k.couriers);
            format!(
                "<b>vans</b> — the honest baseline: the drone policy's planning with {vans} \
                 vans and no drones. Earliest deadline first, each centre's boxes go on the \
                 first idle van to the lab with the earliest predicted result that runs all \
                 their tests, and the van calls at neighbouring centres on the way while every \
                 box still makes its deadline; what drones add is the difference from this row."
            )
        }
        "greedy" => "<b>greedy</b> — drones without planning: each box on its own flight, in \
             the order sealed, on the nearest free drone with the battery, to its centre's group \
             lab; no batching, no deadlines and no vans, so boxes the drones cannot reach are \
             never collected."
            .to_owned(),
        other => format!("<b>{}</b>", html_escape(other)),
    }
}

/// How each policy among `rows` planned, one sentence each, in the order they
/// first appear.
fn policies_explained(rows: &[(String, Kpis)], scenario: &Scenario) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for (_, k) in rows {
        if !seen.contains(&k.policy.as_str()) {
            seen.push(&k.policy);
        }
    }
    let items: String = seen
        .iter()
        .map(|p| format!("<li>{}</li>", policy_sentence(p, rows, scenario)))
        .collect();
    format!("<h2>How each run planned</h2><ul class=policies>{items}</ul>")
}

/// A table that scrolls sideways inside its own box on a narrow screen rather
/// than widen the page.
fn scrolling(table: &str) -> String {
    format!("<div class=table-scroll>{table}</div>")
}

const STYLE: &str = "body{font-family:sans-serif;margin:1.5em;max-width:1400px;line-height:1.4}\
    .table-scroll{max-width:100%;overflow-x:auto;margin:0.5em 0 1em}\
    table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}\
    th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}\
    figure{margin:1.5em 0;max-width:100%}figure svg{display:block;max-width:100%;height:auto}\
    .policies li{margin:0.3em 0}.err{color:#b00}\
    @media (max-width:800px){body{margin:0.75em}td,th{padding:3px 5px;font-size:0.9em}}";

/// The whole page for one run, with `others` (compared policies or swept values)
/// beside it. Dates and times are the scenario's local ones; the page says its
/// offset from UTC once, at the top.
pub fn render(
    scenario: &Scenario,
    world: &World,
    ledger: &Ledger,
    kpis: &Kpis,
    others: &[(String, Kpis)],
) -> String {
    let mut rows = vec![(format!("this run ({})", kpis.policy), kpis.clone())];
    rows.extend(others.iter().cloned());
    let mut charts = vec![
        charts::tat_histogram(ledger),
        charts::on_time_map(ledger, world, scenario),
        charts::over_the_day(ledger, scenario, kpis.drones),
    ];
    if rows.len() > 1 {
        charts.push(charts::comparison(&rows, scenario));
    }
    let mut body = String::new();
    for c in charts {
        match c {
            Ok(svg) => body += &format!("<figure>{svg}</figure>\n"),
            Err(err) => body += &format!("<p class=err>chart failed: {}</p>\n", html_escape(&err)),
        }
    }
    let misses = {
        let reasons = misses_by_reason(ledger, scenario);
        let mut t = miss_table(&reasons, scenario);
        if !reasons.is_empty() {
            t += &hour_table(&misses_by_hour_drawn(ledger, scenario));
        }
        t
    };
    format!(
        "<!doctype html>\n<html lang=en><head><meta charset=utf-8>\
         <meta name=viewport content=\"width=device-width, initial-scale=1\">\
         <title>labflight — {name} {date} seed {seed} ({policy})</title><style>{STYLE}</style></head><body>\
         <h1>{name}: seed {seed}, policy {policy}</h1><p>Simulated day {date} ({weekday}). \
         Times are local (UTC{offset}). Last draw {last_draw}, cutoff {cutoff}; {drones} drones, {couriers} vans. \
         Positions are illustrative.</p>{table}\n{policies}\n{vehicles}\n{areas}\n{misses}\n{body}</body></html>\n",
        name = html_escape(&scenario.name),
        seed = kpis.seed,
        policy = kpis.policy,
        date = scenario.date.format("%Y-%m-%d"),
        weekday = scenario.date.format("%A"),
        offset = scenario.offset(),
        last_draw = scenario.service.last_draw.format("%H:%M"),
        cutoff = scenario.service.cutoff.format("%H:%M"),
        drones = kpis.drones,
        couriers = kpis.couriers,
        table = scrolling(&kpi_table(&rows)),
        policies = policies_explained(&rows, scenario),
        vehicles = vehicle_table(&rows, scenario),
        areas = area_tables(kpis),
    )
}

#[cfg(test)]
mod tests {
    use super::{courier_round_times, listed};

    #[test]
    fn the_courier_rounds_leave_an_interval_after_the_first_draw_until_one_after_the_last() {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/longhua/scenario.toml");
        let scenario = labflight_core::Scenario::load(&path).unwrap();
        assert_eq!(
            listed(&courier_round_times(&scenario)),
            "09:30, 11:30 and 13:30"
        );
    }
}
