//! What the dashboard shows, computed from the dispatcher's state in one place for
//! both the live feed and replay frames: KPI tiles, centres by pending and at-risk
//! tubes, labs with queues, drones, boxes, the mission board, tubes at risk with a
//! predicted result time and why, alerts and hook deliveries.
//!
//! Layout: the view's types and `build` here; the at-risk list in `risk.rs`, the
//! boxes and mission board in `board.rs`, alerts and deliveries in `alerts.rs`,
//! local times in `local_time.rs`. What a lab user may see of it is
//! `crate::lab_scope`.

use labflight_core::{Instant, TestFamily};
use labflight_dispatch::state::{BoxStatus, DroneStatus, State, TubeStatus};
use labflight_dispatch::world::World;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

mod alerts;
mod board;
mod local_time;
mod risk;

pub(crate) use alerts::unacked;
pub use alerts::{AlertView, HookItem, HooksView, alert_row, alert_view, hooks_view};
pub use board::{BoxView, MissionCard, Why, WhyOption};
use board::{box_view, mission_board};
use local_time::local;
use risk::risk_view;
pub use risk::{AtRiskTube, RiskView, risk_text};

/// The dashboard's whole view of one moment, live or replayed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct View {
    /// `live` or `replay`.
    pub mode: String,
    /// Service time, local.
    pub now: String,
    /// The scenario's name.
    pub scenario: String,
    /// The dispatch policy's name.
    pub policy: String,
    /// Service time per wall-clock second.
    pub speed: f64,
    /// The day's reporting cutoff, local.
    pub cutoff: String,
    /// The headline numbers.
    pub kpis: Kpis,
    /// The collection centres.
    pub stations: Vec<StationView>,
    /// The labs.
    pub labs: Vec<LabView>,
    /// The fleet.
    pub drones: Vec<DroneView>,
    /// Every sealed box.
    pub boxes: Vec<BoxView>,
    /// The mission board.
    pub missions: Vec<MissionCard>,
    /// Tubes at risk of missing the cutoff.
    pub at_risk: Vec<AtRiskTube>,
    /// Recent alerts, newest first.
    pub alerts: Vec<AlertView>,
    /// Unacknowledged alerts in all, not only the ones listed (the live view
    /// counts them in the store; otherwise those listed).
    pub alerts_unacked: usize,
    /// Result-sharing deliveries.
    pub hooks: HooksView,
    /// Live on a standby process: the owner it follows (`member (epoch N)`, or
    /// none while between owners, as `-`); the screen is read-only until this
    /// process takes the partition over. Absent on an owner and in a replay.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standby: Option<String>,
    /// On a replay of a whole day dispatched by partitions: the partition
    /// (medical group) of each centre, drone and lab, by id, for the panels'
    /// filter (absent on one dispatcher's view).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub partition_of: BTreeMap<String, String>,
}

/// The headline numbers of the day so far.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct Kpis {
    /// Tubes known today.
    pub tubes: usize,
    /// Tubes reported by the cutoff, or on their way to it, as a share of all.
    pub on_track_pct: f64,
    /// Median turnaround of reported tubes, in minutes.
    pub tat_p50_min: Option<f64>,
    /// 90th-percentile turnaround of reported tubes, in minutes.
    pub tat_p90_min: Option<f64>,
    /// Missions the whole fleet completed today.
    pub flights: u32,
    /// Drones free to fly now (idle or charging, not paused, link up, and the
    /// fleet not grounded: none is while it is).
    pub drones_available: usize,
    /// Drones in the fleet.
    pub drones_total: usize,
    /// Tubes at risk of missing the cutoff.
    pub at_risk: usize,
    /// Tubes with a result.
    pub reported: usize,
    /// The fleet is grounded (by a coordinator or the weather).
    pub fleet_grounded: bool,
    /// The weather grounds the fleet.
    pub grounded_by_weather: bool,
}

/// A collection centre on the map.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StationView {
    /// The centre's id.
    pub id: String,
    /// The centre's name.
    pub name: String,
    /// The centre's name in Chinese, when the map data has it.
    pub name_zh: Option<String>,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Tubes sealed here and not yet picked up.
    pub pending: usize,
    /// Of those, tubes at risk of missing the cutoff.
    pub at_risk: usize,
}

/// A lab on the map.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LabView {
    /// The lab's id.
    pub id: String,
    /// The lab's name.
    pub name: String,
    /// The lab's name in Chinese, when the map data has it.
    pub name_zh: Option<String>,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// A coordinator marked the lab unavailable.
    pub unavailable: bool,
    /// The lab is closed now (its hours, or it says so).
    pub closed: bool,
    /// Disciplines whose analyzers are down.
    pub analyzers_down: Vec<String>,
    /// Tubes waiting for analysis, by discipline.
    pub queue: BTreeMap<String, u32>,
    /// Tubes on their way, by discipline.
    pub inbound: BTreeMap<String, u32>,
    /// Each test family's queue, throughput, time to clear and last hour's trend.
    pub lines: Vec<crate::lab_backlog::LabLine>,
    /// Whether the boxes bound for this lab could be diverted to each other lab
    /// now, and why not (empty for a lab user, who cannot divert).
    pub divert: Vec<crate::lab_backlog::DivertOption>,
}

/// A drone on the map.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DroneView {
    /// The drone's id.
    pub id: String,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// Battery charge, percent.
    pub battery_pct: f64,
    /// What it is doing (`idle`, `charging`, `on_mission`, `returning`, `fault`, `lost`).
    pub status: String,
    /// Its mission, if it has one.
    pub mission: Option<String>,
    /// A coordinator paused it.
    pub paused: bool,
    /// Its telemetry link is lost.
    pub link_lost: bool,
    /// Missions it completed today.
    pub flights: u32,
    /// When its mission plans to reach the lab, local (none without a mission).
    pub eta: Option<String>,
}

/// What frames the state: the run it belongs to and what the store adds.
#[derive(Clone, Debug)]
pub struct Frame<'a> {
    /// `live` or `replay`.
    pub mode: &'a str,
    /// Service time.
    pub now: Instant,
    /// The scenario's name.
    pub scenario: &'a str,
    /// The dispatch policy's name.
    pub policy: &'a str,
    /// Service time per wall-clock second.
    pub speed: f64,
    /// The alerts to list.
    pub alerts: Vec<AlertView>,
    /// The result-sharing panel.
    pub hooks: HooksView,
}

/// The dashboard's view of `state` at `frame.now`.
pub fn build(world: &World, state: &State, frame: Frame<'_>) -> View {
    let offset = world.offset;
    let now = frame.now;
    let cutoff = world.service.cutoff;
    let hm = |t: Instant| t.with_timezone(&offset).format("%H:%M").to_string();

    let mut on_track = 0usize;
    let mut reported = 0usize;
    let mut tats = Vec::new();
    let mut pending_at: BTreeMap<&str, usize> = BTreeMap::new();
    let mut risk_at: BTreeMap<&str, usize> = BTreeMap::new();
    for b in state.boxes.values() {
        if matches!(b.status, BoxStatus::Waiting | BoxStatus::Assigned { .. }) {
            *pending_at.entry(b.station.as_str()).or_default() += b.tubes.len();
        }
        for tube in &b.tubes {
            let Some(ts) = state.tubes.get(&tube.barcode) else {
                continue;
            };
            if ts.status != TubeStatus::Reported {
                continue;
            }
            reported += 1;
            if let Some(at) = ts.reported_at {
                tats.push((at - tube.drawn_at).num_seconds() as f64 / 60.0);
                if at <= cutoff {
                    on_track += 1;
                }
            }
        }
    }
    // The dispatcher's own forecast, and nothing else.
    let mut at_risk = Vec::new();
    for o in labflight_dispatch::tube_outlooks(world, state) {
        let Some(risk) = &o.risk else {
            on_track += 1;
            continue;
        };
        *risk_at.entry(o.station.as_str()).or_default() += 1;
        at_risk.push(AtRiskTube {
            barcode: o.barcode.to_string(),
            station: o.station.to_string(),
            box_id: o.box_id.to_string(),
            status: o.status.name().into(),
            lab: o.lab.map(|l| l.to_string()),
            pickup_at: o.pickup_at.map(|t| local(t, offset)),
            lab_arrival: o.lab_arrival.map(|t| local(t, offset)),
            predicted_result: o.result_at.map(|t| local(t, offset)),
            cutoff: local(cutoff, offset),
            stability_limit: local(o.stability_limit, offset),
            risk: risk_view(risk, offset),
            reason: risk_text(risk, &hm),
        });
    }
    // Earliest stability limit first: the tube to act on first heads the list.
    at_risk.sort_by(|a, b| {
        a.stability_limit
            .cmp(&b.stability_limit)
            .then(a.barcode.cmp(&b.barcode))
    });
    tats.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        (!tats.is_empty()).then(|| {
            let i = ((tats.len() as f64 - 1.0) * p).round() as usize;
            (tats[i] * 10.0).round() / 10.0
        })
    };
    let tubes = state.tubes.len();
    let drones_available = state
        .drones
        .values()
        .filter(|d| {
            !state.fleet_grounded()
                && !d.paused
                && !d.link_lost
                && matches!(d.status, DroneStatus::Idle | DroneStatus::Charging { .. })
        })
        .count();
    let kpis = Kpis {
        tubes,
        on_track_pct: if tubes == 0 {
            100.0
        } else {
            (on_track as f64 * 1000.0 / tubes as f64).round() / 10.0
        },
        tat_p50_min: pct(0.5),
        tat_p90_min: pct(0.9),
        flights: state.drones.values().map(|d| d.flights).sum(),
        drones_available,
        drones_total: state.drones.len(),
        at_risk: at_risk.len(),
        reported,
        fleet_grounded: state.fleet_grounded(),
        grounded_by_weather: state.grounded_by_weather,
    };

    let stations = world
        .stations
        .values()
        .map(|s| StationView {
            id: s.id.to_string(),
            name: s.name.clone(),
            name_zh: s.name_zh.clone(),
            lat: s.position.lat,
            lon: s.position.lon,
            pending: pending_at.get(s.id.as_str()).copied().unwrap_or(0),
            at_risk: risk_at.get(s.id.as_str()).copied().unwrap_or(0),
        })
        .collect();
    let by_family = |m: &BTreeMap<TestFamily, u32>| {
        m.iter()
            .filter(|(_, n)| **n > 0)
            .map(|(f, n)| (f.as_str().to_owned(), *n))
            .collect()
    };
    let mut lines = crate::lab_backlog::lab_lines(world, state);
    let mut divert = crate::lab_backlog::divert_options(world, state);
    let labs = world
        .labs
        .values()
        .map(|l| {
            let ls = state.labs.get(&l.id);
            LabView {
                id: l.id.to_string(),
                name: l.name.clone(),
                name_zh: l.name_zh.clone(),
                lat: l.position.lat,
                lon: l.position.lon,
                unavailable: ls.is_some_and(|s| s.unavailable),
                closed: ls.is_some_and(|s| s.closed) || !world.lab_open_at(l, now),
                analyzers_down: ls
                    .map(|s| s.analyzers_down.iter().cloned().collect())
                    .unwrap_or_default(),
                queue: ls.map(|s| by_family(&s.backlog)).unwrap_or_default(),
                inbound: ls.map(|s| by_family(&s.inbound)).unwrap_or_default(),
                lines: lines.remove(&l.id).unwrap_or_default(),
                divert: divert.remove(&l.id).unwrap_or_default(),
            }
        })
        .collect();
    let drones = state
        .drones
        .values()
        .map(|d| DroneView {
            id: d.id.to_string(),
            lat: d.position.lat,
            lon: d.position.lon,
            battery_pct: (d.battery_pct * 10.0).round() / 10.0,
            status: d.status.name().into(),
            mission: d.mission().map(|m| m.to_string()),
            paused: d.paused,
            link_lost: d.link_lost,
            flights: d.flights,
            eta: d
                .mission()
                .and_then(|m| state.missions.get(m))
                .map(|m| local(m.planned_arrival, offset)),
        })
        .collect();
    let boxes = state
        .boxes
        .values()
        .filter(|b| !matches!(b.status, BoxStatus::Delivered { .. }))
        .map(|b| box_view(world, state, b, offset))
        .collect();
    let missions = mission_board(state, offset);
    View {
        mode: frame.mode.into(),
        now: local(now, offset),
        scenario: frame.scenario.into(),
        policy: frame.policy.into(),
        speed: frame.speed,
        cutoff: local(cutoff, offset),
        kpis,
        stations,
        labs,
        drones,
        boxes,
        missions,
        at_risk,
        alerts_unacked: unacked(&frame.alerts),
        alerts: frame.alerts,
        hooks: frame.hooks,
        standby: None,
        partition_of: BTreeMap::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab_scope::LabScope;
    use labflight_core::command::{Explanation, MissionPlan};
    use labflight_core::{BoxId, DroneId, MissionId, PadId, Scenario};
    use labflight_dispatch::state::{Carrier, Mission, MissionStatus};
    use labflight_dispatch::{Dispatcher, PolicyKind};
    use std::collections::BTreeSet;
    use std::path::Path;
    use std::sync::Arc;

    /// A fetch from a depot's pad names the pad on its card, with the centre the
    /// box came from; a mission loading at its centre names no pad.
    #[test]
    fn a_depot_fetch_card_names_the_pad_and_the_centre() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../maps/longhua/scenario.toml");
        let scenario = Scenario::load(&file).expect("the Longhua scenario loads");
        let map = labflight_geo::MapData::load(&scenario.map_dir(&file)).expect("its map loads");
        let world = Arc::new(World::from_map(&scenario, &map));
        let now = world.service.last_draw;
        let mut state = Dispatcher::new(Arc::clone(&world), PolicyKind::Drone, 1, now)
            .state()
            .clone();
        let station = world.stations.keys().next().expect("a centre").clone();
        let lab = world.labs.keys().next().expect("a lab").clone();
        let mission = |id: &str, pickup_pad: Option<PadId>| {
            let plan = MissionPlan {
                mission: MissionId::new(id),
                drone: DroneId::new("D-001"),
                station: station.clone(),
                pickup_pad,
                boxes: vec![BoxId::new("BX-1")],
                lab: lab.clone(),
                lab_pad: None,
                payload_kg: 1.0,
                legs: Vec::new(),
                pickup_at: now,
                later_stops: Vec::new(),
                relay: None,
                hub: None,
                arrive_lab_at: now,
                deadline: now,
                battery_after_pct: 50.0,
                why: Explanation {
                    summary: String::new(),
                    alternatives: Vec::new(),
                    reason: None,
                },
            };
            Mission {
                id: plan.mission.clone(),
                carrier: Carrier::Drone(plan.drone.clone()),
                station: station.clone(),
                boxes: plan.boxes.clone(),
                lab: lab.clone(),
                status: MissionStatus::Assigned,
                planned_arrival: now,
                plan: Some(plan),
                van_calls_at: None,
                seal_asked: false,
                redirected_from: Vec::new(),
                abort_pad: None,
            }
        };
        for m in [
            mission("M-1", Some(PadId::new("PAD-DEPOT-01"))),
            mission("M-2", None),
        ] {
            state.missions.insert(m.id.clone(), m);
        }
        let view = build(
            &world,
            &state,
            Frame {
                mode: "live",
                now,
                scenario: "longhua",
                policy: "drone",
                speed: 1.0,
                alerts: Vec::new(),
                hooks: HooksView::default(),
            },
        );
        let card = |id: &str| {
            view.missions
                .iter()
                .find(|m| m.id == id)
                .unwrap_or_else(|| panic!("no card for {id}"))
        };
        assert_eq!(card("M-1").pickup_pad.as_deref(), Some("PAD-DEPOT-01"));
        assert_eq!(card("M-1").station, station.as_str());
        assert_eq!(card("M-2").pickup_pad, None);
    }

    /// A lab's scope holds the boxes delivered to it, assigned or on board a
    /// mission to it, their missions and any tube it holds; nothing of another
    /// lab's, and no box still waiting at its centre. Its view keeps only those.
    #[test]
    fn a_lab_scope_holds_only_that_labs_boxes_missions_and_tubes() {
        use labflight_dispatch::state::{BoxStatus, SpecimenBox, TubeState, TubeStatus};
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../maps/longhua/scenario.toml");
        let scenario = Scenario::load(&file).expect("the Longhua scenario loads");
        let map = labflight_geo::MapData::load(&scenario.map_dir(&file)).expect("its map loads");
        let world = Arc::new(World::from_map(&scenario, &map));
        let now = world.service.last_draw;
        let mut state = Dispatcher::new(Arc::clone(&world), PolicyKind::Drone, 1, now)
            .state()
            .clone();
        let station = world.stations.keys().next().expect("a centre").clone();
        let mut labs = world.labs.keys().cloned();
        let (ours, theirs) = (labs.next().expect("a lab"), labs.next().expect("two labs"));
        let mission = |id: &str, lab: &labflight_core::LabId| Mission {
            id: MissionId::new(id),
            carrier: Carrier::Drone(DroneId::new("D-001")),
            station: station.clone(),
            boxes: Vec::new(),
            lab: lab.clone(),
            status: MissionStatus::Assigned,
            planned_arrival: now,
            plan: None,
            van_calls_at: None,
            seal_asked: false,
            redirected_from: Vec::new(),
            abort_pad: None,
        };
        for m in [mission("M-OURS", &ours), mission("M-THEIRS", &theirs)] {
            state.missions.insert(m.id.clone(), m);
        }
        let sealed = |id: &str, status: BoxStatus| SpecimenBox {
            id: BoxId::new(id),
            station: station.clone(),
            tubes: Vec::new(),
            sealed_at: now,
            status,
            families: Default::default(),
            payload_kg: 0.5,
            stability_deadline: now,
            at_risk_alerted: false,
            excursion_alerted: false,
            forced: false,
            temp_c: None,
            loaded_on: None,
            set_down: None,
            scanned_in_by: None,
            forecast: None,
        };
        for b in [
            sealed("BX-DELIVERED", BoxStatus::Delivered { lab: ours.clone() }),
            sealed(
                "BX-ASSIGNED",
                BoxStatus::Assigned {
                    mission: MissionId::new("M-OURS"),
                },
            ),
            sealed(
                "BX-THEIRS",
                BoxStatus::OnBoard {
                    mission: MissionId::new("M-THEIRS"),
                },
            ),
            sealed("BX-WAITING", BoxStatus::Waiting),
            sealed(
                "BX-THEIRS-DONE",
                BoxStatus::Delivered {
                    lab: theirs.clone(),
                },
            ),
        ] {
            state.boxes.insert(b.id.clone(), b);
        }
        let held = |lab: &labflight_core::LabId| TubeState {
            box_id: BoxId::new("BX-GONE"),
            status: TubeStatus::AtLab,
            lab: Some(lab.clone()),
            families: Vec::new(),
            received_at: Some(now),
            left_queue_at: None,
            reported_at: None,
        };
        state
            .tubes
            .insert(labflight_core::TubeBarcode::new("T-OURS"), held(&ours));
        state
            .tubes
            .insert(labflight_core::TubeBarcode::new("T-THEIRS"), held(&theirs));

        let scope = LabScope::new(&state, ours.as_str());
        let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(scope.boxes, set(&["BX-ASSIGNED", "BX-DELIVERED"]));
        assert_eq!(scope.missions, set(&["M-OURS"]));
        assert_eq!(scope.tubes, set(&["T-OURS"]));

        let view = build(
            &world,
            &state,
            Frame {
                mode: "live",
                now,
                scenario: "longhua",
                policy: "drone",
                speed: 1.0,
                alerts: Vec::new(),
                hooks: HooksView::default(),
            },
        );
        assert!(view.missions.iter().any(|m| m.id == "M-THEIRS"));
        assert!(view.labs.iter().all(|l| !l.divert.is_empty()));
        let scoped = scope.filter(view);
        // The divert options name other labs' boxes: a lab gets none.
        assert!(scoped.labs.iter().all(|l| l.divert.is_empty()));
        let ids = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>();
        assert_eq!(
            ids(scoped.missions.iter().map(|m| m.id.clone()).collect()),
            set(&["M-OURS"])
        );
        // Delivered boxes are off the live map for everyone; the assigned one stays.
        assert_eq!(
            ids(scoped.boxes.iter().map(|b| b.id.clone()).collect()),
            set(&["BX-ASSIGNED"])
        );
    }

    /// Queued boxes head the board soonest stability deadline first (not by id),
    /// each card carrying that deadline; a drone on a mission carries the
    /// mission's planned arrival as its ETA, an idle one none.
    #[test]
    fn queued_boxes_go_by_deadline_and_a_flying_drone_has_an_eta() {
        use labflight_dispatch::state::{BoxStatus, DroneStatus, SpecimenBox};
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../maps/longhua/scenario.toml");
        let scenario = Scenario::load(&file).expect("the Longhua scenario loads");
        let map = labflight_geo::MapData::load(&scenario.map_dir(&file)).expect("its map loads");
        let world = Arc::new(World::from_map(&scenario, &map));
        let now = world.service.last_draw;
        let mut state = Dispatcher::new(Arc::clone(&world), PolicyKind::Drone, 1, now)
            .state()
            .clone();
        let station = world.stations.keys().next().expect("a centre").clone();
        let lab = world.labs.keys().next().expect("a lab").clone();
        let waiting = |id: &str, minutes: i64| SpecimenBox {
            id: BoxId::new(id),
            station: station.clone(),
            tubes: Vec::new(),
            sealed_at: now,
            status: BoxStatus::Waiting,
            families: Default::default(),
            payload_kg: 0.5,
            stability_deadline: now + chrono::TimeDelta::minutes(minutes),
            at_risk_alerted: false,
            excursion_alerted: false,
            forced: false,
            temp_c: None,
            loaded_on: None,
            set_down: None,
            scanned_in_by: None,
            forecast: None,
        };
        for b in [
            waiting("BX-A-LATE", 120),
            waiting("BX-B-SOON", 45),
            waiting("BX-C-MID", 90),
        ] {
            state.boxes.insert(b.id.clone(), b);
        }
        let mut drones = state.drones.keys().cloned();
        let (flying, idle) = (
            drones.next().expect("a drone"),
            drones.next().expect("two drones"),
        );
        let arrival = now + chrono::TimeDelta::minutes(30);
        state.missions.insert(
            MissionId::new("M-ETA"),
            Mission {
                id: MissionId::new("M-ETA"),
                carrier: Carrier::Drone(flying.clone()),
                station: station.clone(),
                boxes: Vec::new(),
                lab,
                status: MissionStatus::PickedUp,
                planned_arrival: arrival,
                plan: None,
                van_calls_at: None,
                seal_asked: false,
                redirected_from: Vec::new(),
                abort_pad: None,
            },
        );
        state.drones.get_mut(&flying).expect("the drone").status = DroneStatus::OnMission {
            mission: MissionId::new("M-ETA"),
        };
        state.drones.get_mut(&idle).expect("the drone").status = DroneStatus::Idle;
        let view = build(
            &world,
            &state,
            Frame {
                mode: "live",
                now,
                scenario: "longhua",
                policy: "drone",
                speed: 1.0,
                alerts: Vec::new(),
                hooks: HooksView::default(),
            },
        );
        let queued: Vec<(&str, Option<&str>)> = view
            .missions
            .iter()
            .filter(|m| m.column == "queued")
            .map(|m| (m.id.as_str(), m.deadline.as_deref()))
            .collect();
        let at = |minutes: i64| local(now + chrono::TimeDelta::minutes(minutes), world.offset);
        assert_eq!(
            queued,
            vec![
                ("BX-B-SOON", Some(at(45).as_str())),
                ("BX-C-MID", Some(at(90).as_str())),
                ("BX-A-LATE", Some(at(120).as_str())),
            ]
        );
        let drone = |id: &labflight_core::DroneId| {
            view.drones
                .iter()
                .find(|d| d.id == id.as_str())
                .expect("the drone in the view")
        };
        assert_eq!(drone(&flying).eta.as_deref(), Some(at(30).as_str()));
        assert_eq!(drone(&flying).mission.as_deref(), Some("M-ETA"));
        assert_eq!(drone(&idle).eta, None);
    }

    /// An idle drone counts as available while the fleet flies, and none does
    /// while a coordinator (or the weather) grounds it.
    #[test]
    fn no_drone_is_available_while_the_fleet_is_grounded() {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../maps/longhua/scenario.toml");
        let scenario = Scenario::load(&file).expect("the Longhua scenario loads");
        let map = labflight_geo::MapData::load(&scenario.map_dir(&file)).expect("its map loads");
        let world = Arc::new(World::from_map(&scenario, &map));
        let now = world.service.last_draw;
        let mut state = Dispatcher::new(Arc::clone(&world), PolicyKind::Drone, 1, now)
            .state()
            .clone();
        let kpis = |state: &State| {
            build(
                &world,
                state,
                Frame {
                    mode: "live",
                    now,
                    scenario: "longhua",
                    policy: "drone",
                    speed: 1.0,
                    alerts: Vec::new(),
                    hooks: HooksView::default(),
                },
            )
            .kpis
        };
        let flying = kpis(&state);
        assert!(flying.drones_available > 0, "{flying:?}");
        state.grounded_by_coordinator = true;
        let grounded = kpis(&state);
        assert!(grounded.fleet_grounded);
        assert_eq!(grounded.drones_available, 0);
        assert_eq!(grounded.drones_total, flying.drones_total);
    }
}
