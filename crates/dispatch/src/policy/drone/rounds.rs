//! A flight extended into a round: neighbouring centres that are due too, or
//! whose boxes wait inside their batching window just off the way, are called at
//! on the way to the lab while every box keeps its deadline and the battery its
//! reserve.

use super::pickups::Pickup;
use crate::ctx::Ctx;
use crate::planner::{DroneOption, LabChoice, PlannedStop, earliest_stability, plan_leg};
use labflight_core::command::Stop;
use labflight_core::scenario::minutes;
use labflight_core::{BoxId, DroneId, Instant, StationId};
use labflight_geo::SiteKind;
use std::collections::{BTreeSet, HashMap};

/// How many centres nearest the last call of a round are weighed as its next call.
/// Ten (2026-12-06) helped a small fleet (nominal day, seeds 1-50, 24 drones:
/// 99.15 % → 99.31 % on time, 6 → 14 seeds at 99.5 %) but cost the storm day
/// (seeds 1-20: 90.02 % → 89.92 %, 13,180 → 13,507 violations): kept at six.
pub(super) const NEIGHBOURS_WEIGHED: usize = 6;

/// How many are weighed from the last draw on, when every centre is due at once
/// (the 11:30 wave) and the six nearest are often taken by other rounds. Nominal
/// day, seeds 1-50, 24 drones: 99.15 % → 99.19 % on time, 6 → 9 seeds at 99.5 %,
/// 65 → 59 violations; 32 drones unchanged (50/50, 0 violations); storm day,
/// seeds 1-20, 90.02 % → 90.04 % (13,180 → 13,181 violations). Ten all day
/// did better with 24 drones (14 seeds) and worse on the storm day (89.92 %).
pub(super) const NEIGHBOURS_WEIGHED_AT_THE_WAVE: usize = 10;

/// How many centres nearest a round's last call are weighed as its next, now.
fn neighbours_weighed(ctx: &Ctx<'_>) -> usize {
    if ctx.state.now >= ctx.world.service.last_draw {
        NEIGHBOURS_WEIGHED_AT_THE_WAVE
    } else {
        NEIGHBOURS_WEIGHED
    }
}

/// The most centres one round calls at (the first included).
pub(super) const MAX_ROUND_CALLS: usize = 4;

/// The most a round may delay boxes already late on their direct flight.
pub(super) const LATE_DETOUR_MINUTES: i64 = 10;

/// The most a call at a centre whose boxes are not due yet (sealed inside their
/// batching window, not held for the last call) may delay the round's arrival at
/// the lab, minutes. Collected on the way, they need no flight of their own
/// later, when the fleet is short. Nominal day, 24 drones, seeds 1-50: 99.29 %
/// -> 99.39 % on time, 13 -> 20 seeds at 99.5 %, 0 violations either way; seeds
/// 51-100: 99.26 % -> 99.41 %, 11 -> 25 seeds, 4 -> 3 violations (2 min: 19 and
/// 18 seeds, 1 to 6 min all 15-20 seeds: the day is chaotic to within a few
/// seeds; none at all: the 13).
pub(super) const EARLY_CALL_DETOUR_MINUTES: f64 = 3.0;

/// A pickup extended into a round: the centres called at after the first on the
/// way to the lab, with the lab, the battery and the payload for the whole of it.
pub(super) struct Round {
    pub(super) stops: Vec<PlannedStop>,
    pub(super) lab: LabChoice,
    pub(super) option: DroneOption,
    pub(super) payload_kg: f64,
    pub(super) added_minutes: i64,
}

/// Extends the flight for `p` into a round while a neighbouring centre that is due
/// too, or not due yet but costs at most `EARLY_CALL_DETOUR_MINUTES`, can be
/// called at: each time the one costing the least delay from the last call, every
/// box still within its deadline and the battery within its reserve.
/// A call on the way costs minutes; a flight of its own later costs a drone: with
/// the fleet the constraint, this is how it keeps up. `None` when no call fits.
#[allow(clippy::too_many_arguments)]
pub(super) fn extend_into_round(
    ctx: &mut Ctx<'_>,
    drone: &DroneId,
    option: &DroneOption,
    p: &Pickup,
    all: &[Pickup],
    by_station: &HashMap<&str, usize>,
    taken: &BTreeSet<StationId>,
) -> Option<Round> {
    let direct_arrival = option.pickup_at + p.lab.leg.duration();
    let spendable = crate::planner::spendable_wh(ctx.world, &ctx.state.drones[drone]);
    let mut round = Round {
        stops: Vec::new(),
        lab: p.lab.clone(),
        option: option.clone(),
        payload_kg: p.payload_kg,
        added_minutes: 0,
    };
    let mut in_round: BTreeSet<StationId> = BTreeSet::from([p.station.clone()]);
    while round.stops.len() + 1 < MAX_ROUND_CALLS {
        let Some(next) = next_call(
            ctx,
            &round,
            p,
            direct_arrival,
            spendable,
            all,
            by_station,
            |s| taken.contains(s) || in_round.contains(s),
        ) else {
            break;
        };
        in_round.insert(
            next.stops
                .last()
                .expect("a call was added")
                .stop
                .station
                .clone(),
        );
        round = next;
    }
    (!round.stops.is_empty()).then_some(round)
}

/// `round` with one more call: the neighbour of its last centre, not `excluded`,
/// due, or not due yet (nor held for the last call) and at most
/// `EARLY_CALL_DETOUR_MINUTES` later at the lab, that delays the arrival least
/// while every box keeps its deadline
/// (boxes of the first centre already late on the direct flight may lose at most
/// `LATE_DETOUR_MINUTES` more) and the energy stays within `spendable`.
#[allow(clippy::too_many_arguments)]
pub(super) fn next_call(
    ctx: &mut Ctx<'_>,
    round: &Round,
    p: &Pickup,
    direct_arrival: Instant,
    spendable: f64,
    all: &[Pickup],
    by_station: &HashMap<&str, usize>,
    excluded: impl Fn(&StationId) -> bool,
) -> Option<Round> {
    let world = ctx.world;
    let max_payload = world.drone_spec.max_payload_kg;
    let (last_station, last_pickup) = round
        .stops
        .last()
        .map_or((&p.station, round.option.pickup_at), |s| {
            (&s.stop.station, s.stop.pickup_at)
        });
    let from = world.stations[last_station].position;
    let arrival_so_far = last_pickup + round.lab.leg.duration();
    let energy_so_far = round.option.energy_wh - round.lab.leg.estimate.energy_wh;
    let neighbours: Vec<&Pickup> = world
        .index
        .nearest(from, SiteKind::Station, neighbours_weighed(ctx) + 1)
        .into_iter()
        .filter_map(|(site, _)| by_station.get(site.id.as_str()).map(|&i| &all[i]))
        .filter(|q| (q.ready || !q.held_for_last_call) && !excluded(&q.station))
        .collect();
    let early_detour = minutes(EARLY_CALL_DETOUR_MINUTES);
    let mut best: Option<Round> = None;
    for q in neighbours {
        let payload_kg = round.payload_kg + q.payload_kg;
        if payload_kg > max_payload + 1e-9 {
            continue;
        }
        let at = world.stations[&q.station].position;
        let Some(hop) = plan_leg(world, ctx.state, ctx.cache, from, at, round.payload_kg) else {
            continue;
        };
        if !hop.estimate.feasible {
            continue;
        }
        let pickup_at = last_pickup + hop.duration();
        let later_boxes = || {
            round
                .stops
                .iter()
                .flat_map(|s| s.stop.boxes.iter())
                .chain(&q.boxes)
        };
        // Centres of the round whose boxes are late on any flight: a call on the
        // way is their earliest pickup, not a delay.
        let late_anyway = |station: &StationId| {
            by_station
                .get(station.as_str())
                .is_some_and(|&i| all[i].earliest_arrival > all[i].deadline)
        };
        let bound_boxes = || {
            round
                .stops
                .iter()
                .map(|s| &s.stop)
                .filter(|s| !late_anyway(&s.station))
                .flat_map(|s| s.boxes.iter())
                .chain(q.boxes.iter().filter(|_| !late_anyway(&q.station)))
        };
        let round_boxes: Vec<BoxId> = p.boxes.iter().chain(later_boxes()).cloned().collect();
        let only = Some(&round.lab.lab);
        let (Some(lab), _) = ctx.choose_lab(at, &round_boxes, payload_kg, pickup_at, only) else {
            continue;
        };
        let state: &crate::state::State = ctx.state;
        let arrive = pickup_at + lab.leg.duration();
        let deadline_of = |boxes: &mut dyn Iterator<Item = &BoxId>| {
            let stability = earliest_stability(boxes.map(|b| &state.boxes[b]));
            crate::planner::arrival_deadline(world, stability, lab.result_at, arrive)
        };
        let later_fine = arrive <= deadline_of(&mut bound_boxes());
        let first_fine = if direct_arrival > p.deadline {
            arrive - direct_arrival <= chrono::Duration::minutes(LATE_DETOUR_MINUTES)
        } else {
            arrive <= deadline_of(&mut p.boxes.iter())
        };
        let energy_wh = energy_so_far + hop.estimate.energy_wh + lab.leg.estimate.energy_wh;
        if !lab.leg.estimate.feasible || !later_fine || !first_fine || energy_wh > spendable {
            continue;
        }
        let added = arrive - arrival_so_far;
        if !q.ready && added > early_detour {
            continue;
        }
        let added_minutes = added.num_minutes();
        if best
            .as_ref()
            .is_some_and(|b| b.added_minutes - round.added_minutes <= added_minutes)
        {
            continue;
        }
        let mut stops = round.stops.clone();
        stops.push(PlannedStop {
            stop: Stop {
                station: q.station.clone(),
                boxes: q.boxes.clone(),
                pickup_at,
            },
            leg_in: hop,
        });
        best = Some(Round {
            stops,
            option: DroneOption {
                to_station: round.option.to_station.clone(),
                pickup_at: round.option.pickup_at,
                energy_wh,
            },
            lab,
            payload_kg,
            added_minutes: round.added_minutes + added_minutes,
        });
    }
    best
}
