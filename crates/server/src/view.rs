//! What the dashboard shows, computed from the dispatcher's state in one place for
//! both the live feed and replay frames: KPI tiles, centres by pending and at-risk
//! tubes, labs with queues, drones, boxes, the mission board, tubes at risk with a
//! predicted result time and why, alerts and hook deliveries.

use chrono::FixedOffset;
use labflight_core::forecast::Risk;
use labflight_core::{Instant, LatLon, TestFamily};
use labflight_dispatch::state::{
    BoxStatus, Carrier, DroneStatus, MissionStatus, SpecimenBox, State, TubeStatus,
};
use labflight_dispatch::world::World;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

/// Delivered missions kept on the board.
const DELIVERED_ON_BOARD: usize = 30;

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
    /// Drones free to fly now (idle or charging, not paused, link up).
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

/// A sealed box of tubes.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BoxView {
    /// The box's id.
    pub id: String,
    /// The centre that sealed it.
    pub station: String,
    /// Where it is in its journey (`waiting`, `assigned`, `on_board`, `stranded`, `delivered`).
    pub status: String,
    /// How many tubes it holds.
    pub tubes: usize,
    /// Its tubes' barcodes.
    pub barcodes: Vec<String>,
    /// Its last temperature reading, °C.
    pub temp_c: Option<f64>,
    /// Latitude.
    pub lat: f64,
    /// Longitude.
    pub lon: f64,
    /// The mission carrying it, if any.
    pub mission: Option<String>,
    /// The latest lab arrival its tubes' stability allows, local.
    pub stability_deadline: String,
}

/// A mission on the board.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct MissionCard {
    /// The mission's id.
    pub id: String,
    /// `queued`, `assigned`, `in_flight`, `delivered` or `aborted`.
    pub column: String,
    /// `drone` or `van`.
    pub carrier: String,
    /// The drone or van carrying it.
    pub vehicle: String,
    /// The centre it fetches from.
    pub station: String,
    /// The pad the first boxes are fetched from when it is not `station`'s: a box
    /// a failed drone set down at a depot, which `station` sent.
    pub pickup_pad: Option<String>,
    /// The centres a drone's round calls at after `station`, in order.
    pub later_stops: Vec<String>,
    /// The lab it delivers to.
    pub lab: String,
    /// The boxes it carries.
    pub boxes: Vec<String>,
    /// When it is planned to reach the lab, local.
    pub planned_arrival: Option<String>,
    /// The earliest stability deadline of its boxes, local: queued cards are
    /// sorted by it, soonest first.
    pub deadline: Option<String>,
    /// The planned legs' waypoints, `[lat, lon]`.
    pub path: Vec<[f64; 2]>,
    /// Why the dispatcher chose it, and what else it weighed.
    pub why: Option<Why>,
}

/// Why the dispatcher made a choice.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Why {
    /// The choice, in a sentence.
    pub summary: String,
    /// The options it weighed.
    pub alternatives: Vec<WhyOption>,
}

/// One option the dispatcher weighed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WhyOption {
    /// The option, in words.
    pub option: String,
    /// Its score, when it had one.
    pub score: Option<f64>,
    /// Why it was taken or not.
    pub verdict: String,
}

/// A tube at risk of missing the cutoff.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AtRiskTube {
    /// The tube's barcode.
    pub barcode: String,
    /// The centre it was collected at.
    pub station: String,
    /// The box it is in.
    #[serde(rename = "box")]
    pub box_id: String,
    /// Where it is (`in_box`, `at_lab`, …).
    pub status: String,
    /// The lab the dispatcher's plan takes it to (or that has it).
    pub lab: Option<String>,
    /// When the plan has a carrier collect it, local.
    pub pickup_at: Option<String>,
    /// When the plan has it at the lab, local.
    pub lab_arrival: Option<String>,
    /// When its result is expected at the centre, local (none: the plan has no
    /// time for it).
    pub predicted_result: Option<String>,
    /// The cutoff it is held to, local.
    pub cutoff: String,
    /// Its stability limit (latest lab arrival), local: the list is sorted by it.
    pub stability_limit: String,
    /// Why it is at risk: a code and its values, for the dashboard to say in
    /// the reader's language.
    pub risk: RiskView,
    /// Why it is at risk, in English (the same as `risk`).
    pub reason: String,
}

/// Why a tube is at risk, as the dispatcher's forecast gives it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RiskView {
    /// The reason: `result_after_cutoff`, `stability_before_arrival`,
    /// `no_lab`, `beyond_range_no_van`,
    /// `grounded_no_van`, `grounded_van_late`, `stranded` or `rejected`.
    pub code: String,
    /// The lab concerned, if any.
    pub lab: Option<String>,
    /// The time the reason is about (a planned arrival or result), local.
    pub at: Option<String>,
    /// The limit it is held to (a deadline or stability limit), local.
    pub limit: Option<String>,
}

/// An alert as the dashboard lists it.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct AlertView {
    /// The alert's command id.
    pub id: String,
    /// When it was raised.
    pub at: String,
    /// What kind of alert.
    pub kind: String,
    /// How severe.
    pub severity: String,
    /// What it is about (a drone, box, tube, lab, …).
    pub subject: String,
    /// What happened, in words.
    pub message: String,
    /// Who acknowledged it.
    pub acked_by: Option<String>,
    /// When it was acknowledged, local.
    pub acked_at: Option<String>,
}

/// The result-sharing panel: deliveries by state, and the latest.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct HooksView {
    /// Deliveries not yet made.
    pub pending: i64,
    /// Deliveries given up on.
    pub failed: i64,
    /// Deliveries made.
    pub delivered: i64,
    /// The latest deliveries.
    pub recent: Vec<HookItem>,
}

/// One delivery of a result to a subscriber.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct HookItem {
    /// The delivery's id (sent with it).
    pub webhook_id: String,
    /// The tube the result is for.
    pub barcode: String,
    /// What was sent.
    pub kind: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// How the last attempt failed, if it did.
    pub last_error: Option<String>,
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

fn local(t: Instant, offset: FixedOffset) -> String {
    t.with_timezone(&offset)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
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
            !d.paused
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
    }
}

/// A forecast risk with its times in local time.
fn risk_view(risk: &Risk, offset: FixedOffset) -> RiskView {
    let t = |at: &Instant| Some(local(*at, offset));
    let (lab, at, limit) = match risk {
        Risk::StabilityBeforeArrival {
            lab,
            arrival,
            limit,
        } => (Some(lab), t(arrival), t(limit)),
        Risk::ResultAfterCutoff { lab, result } => (Some(lab), t(result), None),
        Risk::GroundedVanLate {
            lab,
            arrival,
            deadline,
        } => (Some(lab), t(arrival), t(deadline)),
        Risk::GroundedNoVan { limit } => (None, None, t(limit)),
        Risk::NoLab | Risk::BeyondRangeNoVan | Risk::Stranded | Risk::Rejected => {
            (None, None, None)
        }
    };
    RiskView {
        code: risk_code(risk).into(),
        lab: lab
            .filter(|l| !l.as_str().is_empty())
            .map(|l| l.to_string()),
        at,
        limit,
    }
}

/// The code a risk is known by (its `code` in JSON).
fn risk_code(risk: &Risk) -> &'static str {
    match risk {
        Risk::StabilityBeforeArrival { .. } => "stability_before_arrival",
        Risk::ResultAfterCutoff { .. } => "result_after_cutoff",
        Risk::NoLab => "no_lab",
        Risk::BeyondRangeNoVan => "beyond_range_no_van",
        Risk::GroundedNoVan { .. } => "grounded_no_van",
        Risk::GroundedVanLate { .. } => "grounded_van_late",
        Risk::Stranded => "stranded",
        Risk::Rejected => "rejected",
    }
}

/// A risk in English, times as `hm` gives them (local, no zone: the dashboard
/// states the zone once).
pub fn risk_text(risk: &Risk, hm: &dyn Fn(Instant) -> String) -> String {
    match risk {
        Risk::StabilityBeforeArrival {
            lab,
            arrival,
            limit,
        } => format!(
            "planned at {lab} at {}, after its stability limit {}",
            hm(*arrival),
            hm(*limit)
        ),
        Risk::ResultAfterCutoff { lab, result } => {
            format!(
                "{lab}: result predicted at {}, after the cutoff",
                hm(*result)
            )
        }
        Risk::NoLab => "no lab can take it now".into(),
        Risk::BeyondRangeNoVan => "beyond every drone's range and no van to take it".into(),
        Risk::GroundedNoVan { limit } => format!(
            "fleet grounded and no van to send; stability limit {}",
            hm(*limit)
        ),
        Risk::GroundedVanLate {
            lab,
            arrival,
            deadline,
        } => format!(
            "fleet grounded; the first van reaches {lab} at {}, after its deadline {}",
            hm(*arrival),
            hm(*deadline)
        ),
        Risk::Stranded => "set down away from a lab: waiting for a carrier".into(),
        Risk::Rejected => "rejected by the lab: a redraw was asked for".into(),
    }
}

fn box_view(world: &World, state: &State, b: &SpecimenBox, offset: FixedOffset) -> BoxView {
    let station = world.stations.get(&b.station).map(|s| s.position);
    let carried_at = |mission: &labflight_core::MissionId| {
        state.missions.get(mission).and_then(|m| match &m.carrier {
            Carrier::Drone(d) => state.drones.get(d).map(|d| d.position),
            Carrier::Courier(c) => state.couriers.get(c).map(|c| c.position),
        })
    };
    let position = match &b.status {
        BoxStatus::Waiting | BoxStatus::Assigned { .. } => station,
        BoxStatus::OnBoard { mission } => carried_at(mission),
        BoxStatus::Stranded { at } => Some(*at),
        BoxStatus::Delivered { lab } => world.labs.get(lab).map(|l| l.position),
    };
    let position = position
        .or(station)
        .unwrap_or(LatLon { lat: 0.0, lon: 0.0 });
    BoxView {
        id: b.id.to_string(),
        station: b.station.to_string(),
        status: b.status.name().into(),
        tubes: b.tubes.len(),
        barcodes: b.tubes.iter().map(|t| t.barcode.to_string()).collect(),
        temp_c: b.temp_c.map(|t| (t * 10.0).round() / 10.0),
        lat: position.lat,
        lon: position.lon,
        mission: b.status.mission().map(|m| m.to_string()),
        stability_deadline: local(b.stability_deadline, offset),
    }
}

fn mission_board(state: &State, offset: FixedOffset) -> Vec<MissionCard> {
    let mut cards: Vec<MissionCard> = state
        .boxes
        .values()
        .filter(|b| b.status == BoxStatus::Waiting)
        .map(|b| MissionCard {
            id: b.id.to_string(),
            column: "queued".into(),
            carrier: "drone".into(),
            vehicle: String::new(),
            station: b.station.to_string(),
            pickup_pad: None,
            later_stops: Vec::new(),
            lab: String::new(),
            boxes: vec![b.id.to_string()],
            planned_arrival: None,
            deadline: Some(local(b.stability_deadline, offset)),
            path: Vec::new(),
            why: None,
        })
        .collect();
    // Soonest stability deadline first: the box to fly first heads the column.
    // (Local RFC 3339 strings in one offset sort as their instants do.)
    cards.sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.id.cmp(&b.id)));
    let mut missions: Vec<MissionCard> = state
        .missions
        .values()
        .rev()
        .map(|m| {
            let (carrier, vehicle) = match &m.carrier {
                Carrier::Drone(d) => ("drone", d.to_string()),
                Carrier::Courier(c) => ("van", c.to_string()),
            };
            let active = matches!(m.status, MissionStatus::Assigned | MissionStatus::PickedUp);
            MissionCard {
                id: m.id.to_string(),
                column: match m.status {
                    MissionStatus::Assigned => "assigned",
                    MissionStatus::PickedUp => "in_flight",
                    MissionStatus::Delivered => "delivered",
                    MissionStatus::Aborted => "aborted",
                }
                .into(),
                carrier: carrier.into(),
                vehicle,
                station: m.station.to_string(),
                pickup_pad: m
                    .plan
                    .as_ref()
                    .and_then(|p| p.pickup_pad.as_ref())
                    .map(|p| p.to_string()),
                later_stops: m
                    .plan
                    .iter()
                    .flat_map(|p| p.later_stops.iter())
                    .map(|s| s.station.to_string())
                    .collect(),
                lab: m.lab.to_string(),
                boxes: m.boxes.iter().map(|b| b.to_string()).collect(),
                planned_arrival: Some(local(m.planned_arrival, offset)),
                deadline: m
                    .boxes
                    .iter()
                    .filter_map(|b| state.boxes.get(b))
                    .map(|b| b.stability_deadline)
                    .min()
                    .map(|t| local(t, offset)),
                path: if active {
                    m.plan
                        .iter()
                        .flat_map(|p| p.legs.iter())
                        .flat_map(|l| l.waypoints.iter())
                        .map(|p| [p.lat, p.lon])
                        .collect()
                } else {
                    Vec::new()
                },
                why: m.plan.as_ref().map(|p| Why {
                    summary: p.why.summary.clone(),
                    alternatives: p
                        .why
                        .alternatives
                        .iter()
                        .map(|a| WhyOption {
                            option: [
                                a.drone.as_ref().map(|d| d.to_string()),
                                a.lab.as_ref().map(|l| format!("→ {}", l.0)),
                            ]
                            .into_iter()
                            .flatten()
                            .collect::<Vec<_>>()
                            .join(" "),
                            score: a
                                .score
                                .is_finite()
                                .then_some((a.score * 10.0).round() / 10.0),
                            verdict: a.verdict.to_string(),
                        })
                        .collect(),
                }),
            }
        })
        .collect();
    // Keep every open mission and only the latest delivered and aborted ones.
    let mut done = 0;
    missions.retain(|c| {
        if c.column == "delivered" || c.column == "aborted" {
            done += 1;
            done <= DELIVERED_ON_BOARD
        } else {
            true
        }
    });
    cards.append(&mut missions);
    cards
}

/// What one lab may read: the boxes delivered to it, in flight to it or assigned
/// to it, their tubes (and any tube it holds), and the missions bound for it.
#[derive(Clone, Debug, Default)]
pub struct LabScope {
    /// The lab.
    pub lab: String,
    /// The boxes it may read.
    pub boxes: BTreeSet<String>,
    /// The tubes it may read.
    pub tubes: BTreeSet<String>,
    /// The missions it may read.
    pub missions: BTreeSet<String>,
}

impl LabScope {
    /// What `lab` may read in `state`.
    pub fn new(state: &State, lab: &str) -> LabScope {
        let missions: BTreeSet<String> = state
            .missions
            .values()
            .filter(|m| m.lab.as_str() == lab)
            .map(|m| m.id.to_string())
            .collect();
        let mut scope = LabScope {
            lab: lab.to_owned(),
            missions,
            ..LabScope::default()
        };
        for b in state.boxes.values() {
            let ours = match &b.status {
                BoxStatus::Delivered { lab: to } => to.as_str() == lab,
                BoxStatus::Assigned { mission } | BoxStatus::OnBoard { mission } => {
                    scope.missions.contains(mission.as_str())
                }
                BoxStatus::Waiting | BoxStatus::Stranded { .. } => false,
            };
            if ours {
                scope.boxes.insert(b.id.to_string());
                scope
                    .tubes
                    .extend(b.tubes.iter().map(|t| t.barcode.to_string()));
            }
        }
        scope.tubes.extend(
            state
                .tubes
                .iter()
                .filter(|(_, t)| t.lab.as_ref().is_some_and(|l| l.as_str() == lab))
                .map(|(b, _)| b.to_string()),
        );
        scope
    }

    /// Whether the lab may read this tube.
    pub fn has_tube(&self, barcode: &str) -> bool {
        self.tubes.contains(barcode)
    }

    /// Whether the lab may read this box.
    pub fn has_box(&self, id: &str) -> bool {
        self.boxes.contains(id)
    }

    /// Whether the lab may read this mission.
    pub fn has_mission(&self, id: &str) -> bool {
        self.missions.contains(id)
    }

    /// `view` as this lab may see it: its boxes, missions, tubes at risk, the
    /// alerts and deliveries about them; centres' counts from its own items;
    /// drones without other labs' mission ids. Labs and KPIs stay (no item in them).
    pub fn filter(&self, mut view: View) -> View {
        view.boxes.retain(|b| self.has_box(&b.id));
        view.missions
            .retain(|m| m.column != "queued" && self.has_mission(&m.id));
        view.at_risk.retain(|t| self.has_tube(&t.barcode));
        view.alerts.retain(|a| {
            a.subject == self.lab
                || self.has_tube(&a.subject)
                || self.has_box(&a.subject)
                || self.has_mission(&a.subject)
        });
        view.alerts_unacked = unacked(&view.alerts);
        view.hooks.recent.retain(|h| self.has_tube(&h.barcode));
        let count = |status: &str| {
            view.hooks
                .recent
                .iter()
                .filter(|h| h.status == status)
                .count() as i64
        };
        view.hooks.pending = count("pending");
        view.hooks.failed = count("failed");
        view.hooks.delivered = count("delivered");
        for station in &mut view.stations {
            station.pending = view
                .boxes
                .iter()
                .filter(|b| b.station == station.id && b.status == "assigned")
                .map(|b| b.tubes)
                .sum();
            station.at_risk = view
                .at_risk
                .iter()
                .filter(|t| t.station == station.id)
                .count();
        }
        for drone in &mut view.drones {
            if drone
                .mission
                .as_deref()
                .is_some_and(|m| !self.has_mission(m))
            {
                drone.mission = None;
            }
        }
        view
    }
}

/// How many of `alerts` nobody acknowledged yet.
fn unacked(alerts: &[AlertView]) -> usize {
    alerts.iter().filter(|a| a.acked_by.is_none()).count()
}

/// An alert as the dashboard lists it.
pub fn alert_row(
    id: String,
    at: String,
    alert: &labflight_core::command::Alert,
    acked_by: Option<String>,
    acked_at: Option<String>,
) -> AlertView {
    let name = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    AlertView {
        id,
        at,
        kind: name(serde_json::to_value(alert.kind)),
        severity: name(serde_json::to_value(alert.severity)),
        subject: alert.subject.clone(),
        message: alert.message.clone(),
        acked_by,
        acked_at,
    }
}

/// The dashboard's alert row from a stored `alert` command envelope.
pub fn alert_view(stored: &labflight_store::StoredAlert, offset: FixedOffset) -> Option<AlertView> {
    let v: serde_json::Value = serde_json::from_str(&stored.body).ok()?;
    let labflight_core::Command::Alert(alert) =
        serde_json::from_value(v.get("command")?.clone()).ok()?
    else {
        return None;
    };
    Some(alert_row(
        stored.command_id.clone(),
        v.get("time")?.as_str()?.to_owned(),
        &alert,
        stored.acked_by.clone(),
        stored.acked_at.map(|t| local(t, offset)),
    ))
}

/// The hook panel from the store's summary.
pub fn hooks_view(s: &labflight_store::HookSummary) -> HooksView {
    HooksView {
        pending: s.pending,
        failed: s.failed,
        delivered: s.delivered,
        recent: s
            .recent
            .iter()
            .map(|o| HookItem {
                webhook_id: o.webhook_id.clone(),
                barcode: o.barcode.clone(),
                kind: o.kind.clone(),
                status: o.status.clone(),
                attempts: o.attempts,
                last_error: o.last_error.clone(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use labflight_core::command::{Explanation, MissionPlan};
    use labflight_core::{BoxId, DroneId, MissionId, PadId, Scenario};
    use labflight_dispatch::state::{Carrier, Mission, MissionStatus};
    use labflight_dispatch::{Dispatcher, PolicyKind};
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
                arrive_lab_at: now,
                deadline: now,
                battery_after_pct: 50.0,
                why: Explanation {
                    summary: String::new(),
                    alternatives: Vec::new(),
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
        let scoped = scope.filter(view);
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
}
