//! The dashboard's replay: a recorded journal re-run through a fresh dispatcher
//! (the same way `labflight replay` does), cut into one dashboard view per minute
//! of service time. Frames are rendered as asked: forward from where the last
//! one stopped, or from the start of the day when the slider goes back. The
//! day views of a run (`with_day`) re-run it once more, sampling every minute.
//! A day dispatched by partitions opens whole: each partition's journal re-run
//! by its own dispatcher, their views put together into one per minute
//! (`merge`), each centre, drone and lab tagged with its partition.

use crate::sim_cmd::{journal_world, parse_policy};
use chrono::Duration;
use labflight_core::{Command, Instant, LabId, Stamped};
use labflight_dispatch::{Dispatcher, PolicyKind, World};
use labflight_server::day_report;
use labflight_server::day_series::DayData;
use labflight_server::replay::ReplayRun;
use labflight_server::view::{self, AlertView, Frame, HooksView, View};
use labflight_sim as output;
use std::path::Path;
use std::sync::Arc;

/// Service time between frames.
const STEP_S: i64 = 60;
/// At most this many frames (a longer journal gets a longer step).
const MAX_FRAMES: i64 = 1500;
/// Alerts carried in each frame.
const ALERTS_SHOWN: usize = 50;

/// A dispatcher part-way through a journal.
struct Cursor {
    world: Arc<World>,
    scenario: String,
    policy: PolicyKind,
    seed: u64,
    events: Vec<Stamped>,
    dispatcher: Dispatcher,
    next_event: usize,
    alerts: Vec<AlertView>,
}

impl Cursor {
    fn rewind(&mut self) {
        let start = self.events[0].at;
        self.dispatcher = Dispatcher::new(Arc::clone(&self.world), self.policy, self.seed, start);
        self.next_event = 0;
        self.alerts.clear();
    }

    /// The view with every event up to and including `at` handled.
    fn view_at(&mut self, at: Instant) -> View {
        let handled_past = self
            .next_event
            .checked_sub(1)
            .is_some_and(|i| self.events[i].at > at);
        if handled_past {
            self.rewind();
        }
        while let Some(e) = self.events.get(self.next_event).filter(|e| e.at <= at) {
            let i = self.next_event;
            for (idx, c) in self.dispatcher.handle(e).into_iter().enumerate() {
                if let Command::Alert(a) = c {
                    let at =
                        e.at.with_timezone(&self.world.offset)
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    self.alerts
                        .push(view::alert_row(format!("{i}-{idx}"), at, &a, None, None));
                }
            }
            self.next_event += 1;
        }
        view::build(
            &self.world,
            self.dispatcher.state(),
            Frame {
                mode: "replay",
                now: at,
                scenario: &self.scenario,
                policy: self.policy.name(),
                speed: 0.0,
                alerts: self
                    .alerts
                    .iter()
                    .rev()
                    .take(ALERTS_SHOWN)
                    .cloned()
                    .collect(),
                hooks: HooksView::default(),
            },
        )
    }
}

/// A dispatcher at the start of the journal at `journal`.
fn cursor(journal: &Path) -> Result<Cursor, String> {
    let (header, events) = output::read_journal(journal)?;
    let policy = parse_policy(&header.policy).map_err(|e| e.to_string())?;
    let (scenario, world, seed) = journal_world(&header, journal).map_err(|e| format!("{e:#}"))?;
    let Some(first) = events.first() else {
        return Err(format!("{}: no events", journal.display()));
    };
    Ok(Cursor {
        dispatcher: Dispatcher::new(Arc::clone(&world), policy, seed, first.at),
        world,
        scenario: scenario.name,
        policy,
        seed,
        events,
        next_event: 0,
        alerts: Vec::new(),
    })
}

/// A run of one frame per step over `[start, end]` (times on the world's clock),
/// each the view `view_at` gives for its instant.
fn frames_over(
    world: &World,
    (start, end): (Instant, Instant),
    mut view_at: impl FnMut(Instant) -> Result<View, String> + Send + 'static,
) -> ReplayRun {
    let step = Duration::seconds(STEP_S.max((end - start).num_seconds() / MAX_FRAMES + 1));
    let frames = ((end - start).num_seconds() / step.num_seconds() + 1) as usize;
    let local = |t: Instant| {
        t.with_timezone(&world.offset)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    ReplayRun::new(
        local(start),
        local(end),
        step.num_seconds(),
        frames,
        Box::new(move |i| {
            let v = view_at((start + step * i as i32).min(end))?;
            serde_json::to_string(&v).map_err(|e| e.to_string())
        }),
    )
}

/// Opens a recorded run for the dashboard: one journal, or a folder of
/// partitions' journals (a day dispatched by partitions, opened whole).
pub fn load(path: &Path) -> Result<ReplayRun, String> {
    if path.is_dir() {
        return load_partitions(path);
    }
    let mut cursor = cursor(path)?;
    let (start, end) = (
        cursor.events[0].at,
        cursor.events[cursor.events.len() - 1].at,
    );
    let day = {
        let (world, events) = (Arc::clone(&cursor.world), cursor.events.clone());
        let (policy, seed) = (cursor.policy, cursor.seed);
        move || Ok(day_data(world.clone(), policy, seed, &events))
    };
    let world = Arc::clone(&cursor.world);
    Ok(frames_over(&world, (start, end), move |at| Ok(cursor.view_at(at))).with_day(Box::new(day)))
}

/// Opens every partition's journal under `dir` (`<group>/journal.jsonl`) as one
/// run: each frame the partitions' views at that instant, put together.
fn load_partitions(dir: &Path) -> Result<ReplayRun, String> {
    let mut journals: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path().join(labflight_server::replay::JOURNAL_FILE))
        .filter(|p| p.is_file())
        .collect();
    journals.sort();
    let mut cursors = journals
        .iter()
        .map(|j| cursor(j))
        .collect::<Result<Vec<_>, _>>()?;
    let (Some(start), Some(end)) = (
        cursors.iter().map(|c| c.events[0].at).min(),
        cursors
            .iter()
            .map(|c| c.events[c.events.len() - 1].at)
            .max(),
    ) else {
        return Err(format!("{}: no partition's journal", dir.display()));
    };
    let world = Arc::clone(&cursors[0].world);
    Ok(frames_over(&world, (start, end), move |at| {
        let views: Vec<View> = cursors.iter_mut().map(|c| c.view_at(at)).collect();
        let worlds: Vec<&World> = cursors.iter().map(|c| c.world.as_ref()).collect();
        merge(&worlds, views).ok_or_else(|| "no partition".to_owned())
    }))
}

/// The partitions' views at one instant as one: their centres, drones, boxes,
/// missions, tubes at risk and alerts together; each lab as its own partition
/// sees it; the headline numbers summed (the on-track share weighted by tubes,
/// the turnaround percentiles left out: they do not add up); each centre, drone
/// and lab tagged with its partition (`View::partition_of`).
fn merge(worlds: &[&World], views: Vec<View>) -> Option<View> {
    let mut views = worlds.iter().zip(views);
    let (first_world, mut out) = views.next()?;
    let tag = |out: &mut View, world: &World| {
        let group = world.home().map(|g| g.to_string()).unwrap_or_default();
        let own_labs = out
            .labs
            .iter()
            .filter(|l| world.is_own_lab(&LabId::new(&l.id)));
        let ids = (out.stations.iter().map(|s| s.id.clone()))
            .chain(out.drones.iter().map(|d| d.id.clone()))
            .chain(own_labs.map(|l| l.id.clone()));
        let tagged: Vec<_> = ids.map(|id| (id, group.clone())).collect();
        for a in &mut out.alerts {
            a.id = format!("{group}:{}", a.id);
        }
        out.partition_of.extend(tagged);
    };
    tag(&mut out, first_world);
    let mut on_track = out.kpis.on_track_pct * out.kpis.tubes as f64;
    for (world, mut v) in views {
        tag(&mut v, world);
        let (k, o) = (&v.kpis, &mut out.kpis);
        on_track += k.on_track_pct * k.tubes as f64;
        o.tubes += k.tubes;
        o.flights += k.flights;
        o.drones_available += k.drones_available;
        o.drones_total += k.drones_total;
        o.at_risk += k.at_risk;
        o.reported += k.reported;
        o.fleet_grounded |= k.fleet_grounded;
        o.grounded_by_weather |= k.grounded_by_weather;
        out.stations.extend(v.stations);
        out.labs.extend(v.labs);
        out.drones.extend(v.drones);
        out.boxes.extend(v.boxes);
        out.missions.extend(v.missions);
        out.at_risk.extend(v.at_risk);
        out.alerts.extend(v.alerts);
        out.alerts_unacked += v.alerts_unacked;
        out.partition_of.extend(v.partition_of);
    }
    out.kpis.on_track_pct = if out.kpis.tubes == 0 {
        100.0
    } else {
        on_track / out.kpis.tubes as f64
    };
    (out.kpis.tat_p50_min, out.kpis.tat_p90_min) = (None, None);
    // Every partition sees every lab; each is shown as its own partition sees it.
    let partition_of = &out.partition_of;
    let mut seen = std::collections::BTreeSet::new();
    out.labs
        .retain(|l| partition_of.contains_key(&l.id) && seen.insert(l.id.clone()));
    out.stations.sort_by(|a, b| a.id.cmp(&b.id));
    out.labs.sort_by(|a, b| a.id.cmp(&b.id));
    out.drones.sort_by(|a, b| a.id.cmp(&b.id));
    out.alerts
        .sort_by(|a, b| b.at.cmp(&a.at).then_with(|| a.id.cmp(&b.id)));
    out.alerts.truncate(ALERTS_SHOWN);
    Some(out)
}

/// The run's day views' data: the journal re-run through a fresh dispatcher,
/// sampled at every minute of service time from the first event to the last.
fn day_data(world: Arc<World>, policy: PolicyKind, seed: u64, events: &[Stamped]) -> DayData {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        let now = world.service.first_draw;
        let state = Dispatcher::new(Arc::clone(&world), policy, seed, now)
            .state()
            .clone();
        return DayData {
            world,
            state,
            now,
            samples: Vec::new(),
        };
    };
    let mut dispatcher = Dispatcher::new(Arc::clone(&world), policy, seed, first.at);
    let minute = Duration::seconds(STEP_S);
    let mut at = first.at;
    let mut next = 0;
    let mut samples = Vec::new();
    while at <= last.at {
        while let Some(e) = events.get(next).filter(|e| e.at <= at) {
            dispatcher.handle(e);
            next += 1;
        }
        samples.push(day_report::sample(&world, dispatcher.state(), at));
        at += minute;
    }
    for e in &events[next..] {
        dispatcher.handle(e);
    }
    DayData {
        state: dispatcher.state().clone(),
        now: last.at,
        samples,
        world,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn a_day_by_partitions_replays_whole_with_each_thing_tagged_by_its_partition() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let scenario_file = root.join("maps/longhua/longhua-short.toml");
        let dir = std::env::temp_dir().join(format!("lf-replay-city-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let by_group = [("dispatch.partition_by".to_owned(), "group".to_owned())];
        crate::sim_cmd::record(&scenario_file, &by_group, 7, "drone", &dir).unwrap();
        let run = load(&dir.join(output::PARTITIONS)).unwrap();
        let frame: serde_json::Value =
            serde_json::from_str(&run.frame(run.frames / 2).unwrap()).unwrap();
        let scenario = labflight_core::Scenario::load(&scenario_file).unwrap();
        let map = labflight_geo::MapData::load(&scenario.map_dir(&scenario_file)).unwrap();
        let partition_of = frame["partition_of"].as_object().unwrap();
        let groups: BTreeSet<&str> = partition_of.values().filter_map(|v| v.as_str()).collect();
        let map_groups = labflight_dispatch::partitions_of(&map);
        let want: BTreeSet<&str> = map_groups.iter().map(|g| g.as_str()).collect();
        assert!(want.len() >= 2, "Longhua has two medical groups: {want:?}");
        assert_eq!(groups, want);
        // Every centre once, tagged with its own group.
        let stations = frame["stations"].as_array().unwrap();
        assert_eq!(stations.len(), map.stations.len());
        for s in &map.stations {
            assert_eq!(partition_of[s.id.as_str()], s.group.as_str(), "{}", s.id);
        }
        // Every lab once, though each partition sees them all.
        let labs: Vec<&str> = frame["labs"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|l| l["id"].as_str())
            .collect();
        assert_eq!(labs.len(), map.labs.len());
        assert_eq!(labs.iter().collect::<BTreeSet<_>>().len(), labs.len());
        // The whole fleet, each drone in one partition.
        let drones = frame["drones"].as_array().unwrap();
        assert_eq!(drones.len(), scenario.fleet.drones as usize);
        assert_eq!(
            frame["kpis"]["drones_total"].as_u64(),
            Some(u64::from(scenario.fleet.drones))
        );
        assert!(
            drones
                .iter()
                .all(|d| partition_of.contains_key(d["id"].as_str().unwrap()))
        );
        // Missions of both partitions on the board, alerts named by partition.
        let missions: BTreeSet<&str> = frame["missions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["id"].as_str())
            .filter_map(|id| {
                want.iter()
                    .copied()
                    .find(|g| id.starts_with(&format!("M-{g}-")))
            })
            .collect();
        assert_eq!(missions, want, "every partition's missions on the board");
        for a in frame["alerts"].as_array().unwrap() {
            let id = a["id"].as_str().unwrap();
            assert!(
                want.iter().any(|g| id.starts_with(&format!("{g}:"))),
                "{id}"
            );
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
