//! The day views' numbers (issue 24, item 7), derived in one place from the
//! dispatcher's state for the live service and replay alike: for one local day,
//! each centre's tubes drawn, resulted on time, late, at risk now, on track and
//! redraws, with totals ([`report`]); one sample of the day's curves — the
//! on-track share, drones in flight, each lab's queue ([`sample`]); and the
//! daily report as CSV ([`csv`]). The printable report is the dashboard's page
//! (web/report.html), drawn from the same JSON.
//!
//! Every tube drawn that day stands in exactly one place:
//! - **redraw**: the lab rejected it, or it was sealed after its stability limit
//!   (the centre was asked to draw again);
//! - **on time**: its result reached the centre by that day's cutoff;
//! - **late**: its result came after the cutoff, or the cutoff came without one;
//! - **at risk**: not yet reported, before the cutoff, and the dispatcher's own
//!   forecast (`tube_outlooks`) says it misses the cutoff or its stability limit;
//! - **on track**: the rest (on its way, forecast in time).

use chrono::{Duration, FixedOffset, NaiveDate};
use labflight_core::{Instant, StationId};
use labflight_dispatch::state::{DroneStatus, State, TubeStatus};
use labflight_dispatch::world::World;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use utoipa::ToSchema;

/// Where one tube of the day stands (see the module's documentation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Standing {
    /// Reported by the cutoff.
    OnTime,
    /// Reported after the cutoff, or unreported past it.
    Late,
    /// Before the cutoff, forecast to miss it or its stability limit.
    AtRisk,
    /// Before the cutoff, forecast in time.
    OnTrack,
    /// Rejected by the lab, or sealed after its stability limit.
    Redraw,
}

/// One centre's day (or the day's totals, with the id `TOTAL`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct CentreDay {
    /// The centre's id (`TOTAL` for the totals).
    pub id: String,
    /// The centre's name.
    pub name: String,
    /// The centre's name in Chinese, when the map data has it.
    pub name_zh: Option<String>,
    /// Tubes drawn that day.
    pub drawn: usize,
    /// Results back at the centre by the cutoff.
    pub on_time: usize,
    /// Results after the cutoff, or none by it.
    pub late: usize,
    /// Before the cutoff, forecast to miss it.
    pub at_risk: usize,
    /// Before the cutoff, forecast in time.
    pub on_track: usize,
    /// Tubes the centre must draw again (rejected, or past their stability limit when sealed).
    pub redraws: usize,
    /// `on_time` as a share of `drawn`, percent to one decimal (none: nothing drawn).
    pub on_time_pct: Option<f64>,
}

impl CentreDay {
    fn count(&mut self, standing: Standing) {
        self.drawn += 1;
        match standing {
            Standing::OnTime => self.on_time += 1,
            Standing::Late => self.late += 1,
            Standing::AtRisk => self.at_risk += 1,
            Standing::OnTrack => self.on_track += 1,
            Standing::Redraw => self.redraws += 1,
        }
    }

    fn finish(mut self) -> CentreDay {
        self.on_time_pct = pct(self.on_time, self.drawn);
        self
    }
}

/// The service level of one local day, per centre and in total.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DayReport {
    /// The day, local (`YYYY-MM-DD`).
    pub date: String,
    /// The zone every time here is in, stated once (`UTC+08:00`).
    pub zone: String,
    /// That day's cutoff, local (RFC 3339).
    pub cutoff: String,
    /// The moment the numbers are as of, local (RFC 3339).
    pub as_of: String,
    /// The cutoff is reached: nothing is at risk or on track any more.
    pub complete: bool,
    /// Every day with tubes drawn, oldest first (`YYYY-MM-DD`).
    pub dates: Vec<String>,
    /// Every centre of the world, by id (centres that drew nothing show zeros).
    pub centres: Vec<CentreDay>,
    /// The day's totals (id `TOTAL`).
    pub totals: CentreDay,
}

fn pct(part: usize, whole: usize) -> Option<f64> {
    (whole > 0).then(|| (part as f64 * 1000.0 / whole as f64).round() / 10.0)
}

/// `t`'s local day.
pub fn local_date(t: Instant, offset: FixedOffset) -> NaiveDate {
    t.with_timezone(&offset).date_naive()
}

/// The cutoff on `date`: the scenario's cutoff at the same local time of day.
pub fn cutoff_on(world: &World, date: NaiveDate) -> Instant {
    let scenario_day = local_date(world.service.cutoff, world.offset);
    world
        .service
        .cutoff
        .checked_add_signed(Duration::days((date - scenario_day).num_days()))
        .unwrap_or(world.service.cutoff)
}

/// The zone as stated on the views (`UTC+08:00`).
pub fn zone(offset: FixedOffset) -> String {
    format!("UTC{offset}")
}

/// Every tube of the state: its centre, local draw day and standing as of `now`.
pub fn standings<'s>(
    world: &World,
    state: &'s State,
    now: Instant,
) -> Vec<(&'s StationId, NaiveDate, Standing)> {
    let at_risk: HashSet<&labflight_core::TubeBarcode> =
        labflight_dispatch::tube_outlooks(world, state)
            .into_iter()
            .filter(|o| o.risk.is_some())
            .map(|o| o.barcode)
            .collect();
    let mut out = Vec::new();
    for b in state.boxes.values() {
        for tube in &b.tubes {
            let Some(ts) = state.tubes.get(&tube.barcode) else {
                continue;
            };
            let date = local_date(tube.drawn_at, world.offset);
            let cutoff = cutoff_on(world, date);
            let standing = match ts.status {
                TubeStatus::Rejected => Standing::Redraw,
                TubeStatus::Reported => {
                    if ts.reported_at.is_some_and(|t| t <= cutoff) {
                        Standing::OnTime
                    } else {
                        Standing::Late
                    }
                }
                _ if tube.stability_deadline() <= b.sealed_at => Standing::Redraw,
                _ if now >= cutoff => Standing::Late,
                _ if at_risk.contains(&tube.barcode) => Standing::AtRisk,
                _ => Standing::OnTrack,
            };
            out.push((&b.station, date, standing));
        }
    }
    out
}

/// The service level of `date` (default: the latest day with tubes drawn, else
/// `now`'s day) as of `now`.
pub fn report(world: &World, state: &State, now: Instant, date: Option<NaiveDate>) -> DayReport {
    let all = standings(world, state, now);
    let dates: BTreeSet<NaiveDate> = all.iter().map(|(_, d, _)| *d).collect();
    let date = date
        .or_else(|| dates.last().copied())
        .unwrap_or_else(|| local_date(now, world.offset));
    let mut by_centre: BTreeMap<&str, CentreDay> = world
        .stations
        .values()
        .map(|s| {
            (
                s.id.as_str(),
                CentreDay {
                    id: s.id.to_string(),
                    name: s.name.clone(),
                    name_zh: s.name_zh.clone(),
                    ..CentreDay::default()
                },
            )
        })
        .collect();
    let mut totals = CentreDay {
        id: "TOTAL".into(),
        name: "TOTAL".into(),
        ..CentreDay::default()
    };
    for (station, _, standing) in all.iter().filter(|(_, d, _)| *d == date) {
        let row = by_centre
            .entry(station.as_str())
            .or_insert_with(|| CentreDay {
                id: station.to_string(),
                name: station.to_string(),
                ..CentreDay::default()
            });
        row.count(*standing);
        totals.count(*standing);
    }
    let cutoff = cutoff_on(world, date);
    let local = |t: Instant| {
        t.with_timezone(&world.offset)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    DayReport {
        date: date.to_string(),
        zone: zone(world.offset),
        cutoff: local(cutoff),
        as_of: local(now),
        complete: now >= cutoff,
        dates: dates.iter().map(NaiveDate::to_string).collect(),
        centres: by_centre.into_values().map(CentreDay::finish).collect(),
        totals: totals.finish(),
    }
}

/// The CSV's columns, in order.
pub const CSV_HEADER: &str = "date,centre_id,centre_name,centre_name_zh,drawn,on_time,late,at_risk,on_track,redraws,on_time_pct";

/// The daily report as CSV: the header, one row per centre, then the totals
/// (`TOTAL`). Counts only; the day is the report's local date.
pub fn csv(report: &DayReport) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for row in report.centres.iter().chain([&report.totals]) {
        let fields = [
            report.date.clone(),
            cell(&row.id),
            cell(&row.name),
            cell(row.name_zh.as_deref().unwrap_or("")),
            row.drawn.to_string(),
            row.on_time.to_string(),
            row.late.to_string(),
            row.at_risk.to_string(),
            row.on_track.to_string(),
            row.redraws.to_string(),
            row.on_time_pct
                .map(|p| format!("{p:.1}"))
                .unwrap_or_default(),
        ];
        out.push_str(&fields.join(","));
        out.push('\n');
    }
    out
}

/// One CSV cell: quoted when it holds a comma, quote or line break; a leading
/// `=`, `+`, `-` or `@` is kept as text (a spreadsheet would run it as a formula).
fn cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// The day's curves at one moment.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Sample {
    /// The local day.
    pub date: NaiveDate,
    /// Minutes since that day's local midnight.
    pub minute: u32,
    /// The day's tubes on time or on track, as a share of those drawn (100 with none).
    pub on_track_pct: f64,
    /// Drones flying (on a mission or returning).
    pub in_flight: u32,
    /// Each lab's queue: tube-tests received and waiting for analysis, by lab id.
    pub lab_queues: BTreeMap<String, u32>,
}

/// The day's curves as of `now`.
pub fn sample(world: &World, state: &State, now: Instant) -> Sample {
    let local = now.with_timezone(&world.offset);
    let date = local.date_naive();
    let mut day = CentreDay::default();
    for (_, d, standing) in standings(world, state, now) {
        if d == date {
            day.count(standing);
        }
    }
    let on_track_pct = pct(day.on_time + day.on_track, day.drawn).unwrap_or(100.0);
    let in_flight = state
        .drones
        .values()
        .filter(|d| {
            matches!(
                d.status,
                DroneStatus::OnMission { .. } | DroneStatus::Returning { .. }
            )
        })
        .count() as u32;
    let lab_queues = world
        .labs
        .keys()
        .map(|id| {
            let queue = state
                .labs
                .get(id)
                .map(|l| l.backlog.values().sum())
                .unwrap_or(0);
            (id.to_string(), queue)
        })
        .collect();
    use chrono::Timelike;
    Sample {
        date,
        minute: local.hour() * 60 + local.minute(),
        on_track_pct,
        in_flight,
        lab_queues,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use labflight_core::{BoxId, LabId, Scenario, TempBand, Tube, TubeBarcode, TubeType};
    use labflight_dispatch::state::{BoxStatus, SpecimenBox, TubeState};
    use labflight_dispatch::{Dispatcher, PolicyKind};
    use std::path::Path;
    use std::sync::Arc;

    fn longhua() -> Arc<World> {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../maps/longhua/scenario.toml");
        let scenario = Scenario::load(&file).expect("the Longhua scenario loads");
        let map = labflight_geo::MapData::load(&scenario.map_dir(&file)).expect("its map loads");
        Arc::new(World::from_map(&scenario, &map))
    }

    /// The scenario day's local `hh:mm` (`days` later).
    fn at(world: &World, days: i64, hh: u32, mm: u32) -> Instant {
        let day = local_date(world.service.cutoff, world.offset) + Duration::days(days);
        day.and_hms_opt(hh, mm, 0)
            .unwrap()
            .and_local_timezone(world.offset)
            .unwrap()
            .to_utc()
    }

    struct Day {
        world: Arc<World>,
        state: State,
        a: StationId,
        b: StationId,
    }

    /// A known small day: two centres, nine tubes, one of them drawn the day before.
    ///
    /// | tube | centre | drawn | what became of it | standing at 12:00 | at 15:00 |
    /// |---|---|---|---|---|---|
    /// | A-1 | A | 08:30 | reported 11:00 | on time | on time |
    /// | A-2 | A | 08:30 | reported 14:30 | late | late |
    /// | A-3 | A | 08:30 | rejected by the lab | redraw | redraw |
    /// | A-4 | A | 08:30 | at the lab | on track | late |
    /// | A-5 | A | 09:45 | box stranded | at risk | late |
    /// | A-6 | A | 06:00 | sealed 11:00, past its 120-min limit | redraw | redraw |
    /// | B-1 | B | 09:00 | reported 13:59 | on time | on time |
    /// | B-2 | B | 09:00 | resulted, report on its way | on track | late |
    /// | B-0 | B | day before 09:00 | reported that day 12:00 | (that day: on time) | |
    fn small_day() -> Day {
        let world = longhua();
        let mut state = Dispatcher::new(
            Arc::clone(&world),
            PolicyKind::Drone,
            1,
            at(&world, 0, 6, 0),
        )
        .state()
        .clone();
        let mut ids = world.stations.keys().cloned();
        let (a, b) = (ids.next().unwrap(), ids.next().unwrap());
        let lab = world.labs.keys().next().unwrap().clone();
        let tube = |code: &str, drawn: Instant, stability: f64| Tube {
            barcode: TubeBarcode::new(code),
            tube_type: TubeType("SST".into()),
            tests: Vec::new(),
            families: Vec::new(),
            drawn_at: drawn,
            stability_minutes: stability,
            band: TempBand {
                min_c: 15.0,
                max_c: 25.0,
            },
            spun: false,
        };
        let mut add_box =
            |id: &str,
             station: &StationId,
             sealed_at: Instant,
             status: BoxStatus,
             tubes: Vec<(Tube, TubeStatus, Option<Instant>)>| {
                for (t, ts, reported_at) in &tubes {
                    state.tubes.insert(
                        t.barcode.clone(),
                        TubeState {
                            box_id: BoxId::new(id),
                            status: *ts,
                            lab: Some(lab.clone()),
                            families: Vec::new(),
                            received_at: None,
                            left_queue_at: None,
                            reported_at: *reported_at,
                        },
                    );
                }
                state.boxes.insert(
                    BoxId::new(id),
                    SpecimenBox {
                        id: BoxId::new(id),
                        station: station.clone(),
                        tubes: tubes.into_iter().map(|(t, _, _)| t).collect(),
                        sealed_at,
                        status,
                        families: Default::default(),
                        payload_kg: 0.5,
                        stability_deadline: sealed_at,
                        at_risk_alerted: false,
                        excursion_alerted: false,
                        forced: false,
                        temp_c: None,
                        loaded_on: None,
                        set_down: None,
                        scanned_in_by: None,
                        forecast: None,
                    },
                );
            };
        let delivered = || BoxStatus::Delivered {
            lab: LabId::new("LAB-X"),
        };
        let drawn = at(&world, 0, 8, 30);
        add_box(
            "BX-A1",
            &a,
            at(&world, 0, 9, 0),
            delivered(),
            vec![
                (
                    tube("A-1", drawn, 240.0),
                    TubeStatus::Reported,
                    Some(at(&world, 0, 11, 0)),
                ),
                (
                    tube("A-2", drawn, 240.0),
                    TubeStatus::Reported,
                    Some(at(&world, 0, 14, 30)),
                ),
                (tube("A-3", drawn, 240.0), TubeStatus::Rejected, None),
                (tube("A-4", drawn, 240.0), TubeStatus::AtLab, None),
            ],
        );
        add_box(
            "BX-A2",
            &a,
            at(&world, 0, 10, 0),
            BoxStatus::Stranded {
                at: labflight_core::LatLon {
                    lat: 22.7,
                    lon: 114.0,
                },
            },
            vec![(
                tube("A-5", at(&world, 0, 9, 45), 240.0),
                TubeStatus::InBox,
                None,
            )],
        );
        add_box(
            "BX-A3",
            &a,
            at(&world, 0, 11, 0),
            BoxStatus::Waiting,
            vec![(
                tube("A-6", at(&world, 0, 6, 0), 120.0),
                TubeStatus::InBox,
                None,
            )],
        );
        let drawn = at(&world, 0, 9, 0);
        add_box(
            "BX-B1",
            &b,
            at(&world, 0, 9, 30),
            delivered(),
            vec![
                (
                    tube("B-1", drawn, 240.0),
                    TubeStatus::Reported,
                    Some(at(&world, 0, 13, 59)),
                ),
                (tube("B-2", drawn, 240.0), TubeStatus::Resulted, None),
            ],
        );
        add_box(
            "BX-B0",
            &b,
            at(&world, -1, 9, 30),
            delivered(),
            vec![(
                tube("B-0", at(&world, -1, 9, 0), 240.0),
                TubeStatus::Reported,
                Some(at(&world, -1, 12, 0)),
            )],
        );
        Day { world, state, a, b }
    }

    fn row<'r>(report: &'r DayReport, id: &StationId) -> &'r CentreDay {
        report
            .centres
            .iter()
            .find(|c| c.id == id.as_str())
            .unwrap_or_else(|| panic!("no row for {id}"))
    }

    fn counts(c: &CentreDay) -> [usize; 6] {
        [c.drawn, c.on_time, c.late, c.at_risk, c.on_track, c.redraws]
    }

    /// Before the cutoff each tube of the day stands in one place; the day
    /// before is its own day; every centre has a row, the silent ones zeros.
    #[test]
    fn a_small_day_before_the_cutoff_counts_each_tube_once() {
        let mut d = small_day();
        let now = at(&d.world, 0, 12, 0);
        d.state.now = now;
        let r = report(&d.world, &d.state, now, None);
        let day = local_date(d.world.service.cutoff, d.world.offset);
        assert_eq!(
            r.date,
            day.to_string(),
            "the latest day with tubes by default"
        );
        assert_eq!(
            r.dates,
            vec![(day - Duration::days(1)).to_string(), day.to_string()]
        );
        assert_eq!(r.zone, "UTC+08:00");
        assert!(r.cutoff.ends_with("T14:00:00+08:00"), "{}", r.cutoff);
        assert!(!r.complete);
        // drawn, on time, late, at risk, on track, redraws
        assert_eq!(counts(row(&r, &d.a)), [6, 1, 1, 1, 1, 2]);
        assert_eq!(row(&r, &d.a).on_time_pct, Some(16.7));
        assert_eq!(counts(row(&r, &d.b)), [2, 1, 0, 0, 1, 0]);
        assert_eq!(row(&r, &d.b).on_time_pct, Some(50.0));
        assert_eq!(counts(&r.totals), [8, 2, 1, 1, 2, 2]);
        assert_eq!(r.totals.on_time_pct, Some(25.0));
        assert_eq!(r.centres.len(), d.world.stations.len());
        let silent = r.centres.iter().filter(|c| c.drawn == 0).count();
        assert_eq!(silent, d.world.stations.len() - 2);

        let before = report(&d.world, &d.state, now, Some(day - Duration::days(1)));
        assert_eq!(counts(row(&before, &d.b)), [1, 1, 0, 0, 0, 0]);
        assert_eq!(counts(&before.totals), [1, 1, 0, 0, 0, 0]);
        assert!(before.complete, "that day's cutoff has passed");

        // The curve's point: on time or on track, of the day's tubes drawn.
        let s = sample(&d.world, &d.state, now);
        assert_eq!((s.date, s.minute), (day, 12 * 60));
        assert_eq!(s.on_track_pct, 50.0);
        assert_eq!(s.in_flight, 0);
        assert_eq!(s.lab_queues.len(), d.world.labs.len());
    }

    /// From the cutoff on nothing is at risk or on track: what has no result is late.
    #[test]
    fn past_the_cutoff_what_has_no_result_is_late() {
        let mut d = small_day();
        let now = at(&d.world, 0, 15, 0);
        d.state.now = now;
        let r = report(&d.world, &d.state, now, None);
        assert!(r.complete);
        assert_eq!(counts(row(&r, &d.a)), [6, 1, 3, 0, 0, 2]);
        assert_eq!(counts(row(&r, &d.b)), [2, 1, 1, 0, 0, 0]);
        assert_eq!(counts(&r.totals), [8, 2, 4, 0, 0, 2]);
        assert_eq!(sample(&d.world, &d.state, now).on_track_pct, 25.0);
        // At the cutoff itself the day is done: a tube without its result missed it.
        let cutoff = at(&d.world, 0, 14, 0);
        d.state.now = cutoff;
        let r = report(&d.world, &d.state, cutoff, None);
        assert!(r.complete);
        assert_eq!(counts(&r.totals), [8, 2, 4, 0, 0, 2]);
    }

    /// The CSV: the header, one row per centre in id order, then the totals.
    #[test]
    fn the_csv_has_a_row_per_centre_and_the_totals() {
        let mut d = small_day();
        let now = at(&d.world, 0, 12, 0);
        d.state.now = now;
        let r = report(&d.world, &d.state, now, None);
        let text = csv(&r);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], CSV_HEADER);
        assert_eq!(lines.len(), 1 + d.world.stations.len() + 1);
        let a = &d.world.stations[&d.a];
        let line_a = lines
            .iter()
            .find(|l| l.split(',').nth(1) == Some(d.a.as_str()))
            .expect("centre A's row");
        assert_eq!(
            *line_a,
            format!(
                "{},{},{},{},6,1,1,1,1,2,16.7",
                r.date,
                d.a,
                cell(&a.name),
                cell(a.name_zh.as_deref().unwrap_or(""))
            )
        );
        assert_eq!(
            *lines.last().unwrap(),
            format!("{},TOTAL,TOTAL,,8,2,1,1,2,2,25.0", r.date)
        );
        // A centre that drew nothing has no share.
        let silent = lines
            .iter()
            .find(|l| l.contains(",0,0,0,0,0,0,"))
            .expect("a silent centre");
        assert!(silent.ends_with(",0,0,0,0,0,0,"), "{silent}");
    }

    /// Names with commas or quotes stay one cell; a formula-looking one stays text.
    #[test]
    fn csv_cells_are_quoted_and_never_formulas() {
        assert_eq!(cell("plain"), "plain");
        assert_eq!(cell("a, b"), "\"a, b\"");
        assert_eq!(cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("-2,3"), "\"'-2,3\"");
    }
}
