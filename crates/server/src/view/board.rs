//! The boxes and the mission board: each sealed box where it stands, and each
//! mission as a card (queued, assigned, in flight, delivered) with why it was made.

use super::local_time::local;
use chrono::FixedOffset;
use labflight_core::LatLon;
use labflight_dispatch::state::{BoxStatus, Carrier, MissionStatus, SpecimenBox, State};
use labflight_dispatch::world::World;
use serde::Serialize;
use utoipa::ToSchema;

/// Delivered missions kept on the board.
pub(super) const DELIVERED_ON_BOARD: usize = 30;

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
    /// The choice, in a sentence, in English.
    pub summary: String,
    /// The options it weighed.
    pub alternatives: Vec<WhyOption>,
    /// The choice as a code and values, for the dashboard to say in the
    /// reader's language (none for a plan recorded before reasons were coded).
    #[schema(value_type = Option<crate::shapes::Reason>)]
    pub reason: Option<labflight_core::Reason>,
}

/// One option the dispatcher weighed.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct WhyOption {
    /// The option, in words.
    pub option: String,
    /// Its score, when it had one.
    pub score: Option<f64>,
    /// Why it was taken or not, in English.
    pub verdict: String,
    /// The verdict as a code and values.
    #[schema(value_type = Option<crate::shapes::Reason>)]
    pub reason: Option<labflight_core::Reason>,
}

pub(super) fn box_view(
    world: &World,
    state: &State,
    b: &SpecimenBox,
    offset: FixedOffset,
) -> BoxView {
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

pub(super) fn mission_board(state: &State, offset: FixedOffset) -> Vec<MissionCard> {
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
                    reason: p.why.reason.as_deref().cloned(),
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
                            reason: a.reason.clone(),
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
