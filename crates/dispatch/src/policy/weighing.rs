//! Weighing drones for a pickup, shared by the `drone` policy's steps and the
//! stranded-box recovery: which free drone picks up first, which busy drone will
//! soon be ready and where, and whether a fully charged drone could fly a load at
//! all. Asks, never books.

use crate::ctx::Ctx;
use crate::planner::{DroneOption, LabChoice, PlannedLeg, evaluate_drone, judge_lab, plan_leg};
use crate::state::{Drone, DroneStatus, State};
use crate::world::World;
use labflight_core::command::Alternative;
use labflight_core::scenario::minutes;
use labflight_core::{BoxId, DroneId, Instant, LabId, LatLon, Reason};

/// How many nearby idle drones are weighed per pickup.
pub(super) const CANDIDATES: usize = 8;

/// Labs tried, besides the one with the earliest result, when no drone can reach it.
const OTHER_LABS_TRIED: usize = 2;

/// The labs weighed in `alternatives` that can take the boxes, besides `chosen`,
/// earliest predicted result first: where to fly when no drone reaches `chosen`.
pub(super) fn other_labs(alternatives: &[Alternative], chosen: &LabId) -> Vec<LabId> {
    let mut others: Vec<_> = alternatives
        .iter()
        .filter(|a| a.score >= 0.0)
        .filter_map(|a| a.lab.clone().map(|l| (a.score, l)))
        .filter(|(_, l)| l != chosen)
        .collect();
    others.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
    others.into_iter().map(|(_, l)| l).collect()
}

/// When none of `candidates` can fly the boxes from `pos` to `earliest`, the lab
/// with the earliest result: another lab in `alternatives` that one of them can
/// reach with them, departing at `depart`, the next by predicted result first (up
/// to `OTHER_LABS_TRIED`). Its choice and the weighing; in `alternatives` it is
/// marked chosen and `earliest` out of the drones' reach.
pub(super) fn reachable_other_lab(
    ctx: &mut Ctx<'_>,
    candidates: &[DroneId],
    pos: LatLon,
    (boxes, payload_kg): (&[BoxId], f64),
    depart: Instant,
    earliest: &LabId,
    alternatives: &mut [Alternative],
) -> Option<(LabChoice, Weighing)> {
    for lab in other_labs(alternatives, earliest)
        .into_iter()
        .take(OTHER_LABS_TRIED)
    {
        // A full drone standing at the centre is the best any candidate can do.
        if !ideal_can_fly(ctx, pos, pos, &lab, payload_kg) {
            continue;
        }
        let (Some(choice), _) = ctx.choose_lab(pos, boxes, payload_kg, depart, Some(&lab)) else {
            continue;
        };
        let weighing = weigh(ctx, candidates, pos, payload_kg, &choice.leg);
        if weighing.0.is_some() {
            judge_lab(ctx.world, alternatives, &choice.lab, Reason::Chosen);
            judge_lab(
                ctx.world,
                alternatives,
                earliest,
                Reason::EarliestButNoDrone,
            );
            return Some((choice, weighing));
        }
    }
    None
}

/// Marks the drone's verdict among those `weigh` gave as the one chosen.
pub(super) fn mark_chosen(world: &World, weighed: &mut [Alternative], drone: &DroneId) {
    for alt in weighed
        .iter_mut()
        .filter(|a| a.drone.as_ref() == Some(drone))
    {
        alt.judge(Reason::Chosen, world.offset);
    }
}

/// Weighs candidate drones for one pickup: the one with the earliest pickup, and every verdict.
pub(super) fn weigh(
    ctx: &mut Ctx<'_>,
    candidates: &[DroneId],
    pos: LatLon,
    payload_kg: f64,
    to_lab: &PlannedLeg,
) -> Weighing {
    let mut best: Option<(DroneId, DroneOption)> = None;
    let mut weighed = Vec::new();
    for id in candidates {
        let state: &State = ctx.state;
        match evaluate_drone(
            ctx.world,
            state,
            ctx.cache,
            &state.drones[id],
            pos,
            payload_kg,
            to_lab,
        ) {
            Ok(option) => {
                let score = (option.pickup_at - ctx.state.now).num_seconds() as f64 / 60.0;
                weighed.push(Alternative::new(
                    Some(id.clone()),
                    None,
                    (score * 10.0).round() / 10.0,
                    Reason::LaterPickup,
                    ctx.world.offset,
                ));
                if best
                    .as_ref()
                    .is_none_or(|(_, b)| option.pickup_at < b.pickup_at)
                {
                    best = Some((id.clone(), option));
                }
            }
            Err(why) => weighed.push(Alternative::new(
                Some(id.clone()),
                None,
                -1.0,
                why,
                ctx.world.offset,
            )),
        }
    }
    (best, weighed)
}

/// How long the nearest free drone would take to reach `pos` (a quarter of an
/// hour when none is free): when a pickup there would leave for the lab.
pub(super) fn approach_from_nearest(ctx: &mut Ctx<'_>, pos: LatLon) -> chrono::Duration {
    ctx.nearest_available(pos, 1)
        .first()
        .map(|d| {
            ctx.world
                .frame
                .distance_m(ctx.state.drones[d].position, pos)
        })
        .map(|m| minutes(m / ctx.world.drone_spec.cruise_airspeed_mps / 60.0 + 1.0))
        .unwrap_or(minutes(15.0))
}

/// A busy drone that will soon be ready with a fresh battery: when and where.
pub(super) struct SoonReady {
    pub(super) ready: Instant,
    pub(super) at: LatLon,
    pub(super) drone: DroneId,
}

impl SoonReady {
    /// The soonest it could be at `pos` once ready: straight-line flying time
    /// bounds the real leg from below.
    pub(super) fn earliest_at(&self, world: &World, pos: LatLon) -> Instant {
        let secs = world.frame.distance_m(self.at, pos) / world.drone_spec.cruise_airspeed_mps;
        self.ready + chrono::Duration::milliseconds((secs * 1000.0) as i64)
    }
}

/// Every drone not paused that `ready_where` knows will soon be ready.
pub(super) fn soon_ready_drones(ctx: &Ctx<'_>) -> Vec<SoonReady> {
    ctx.state
        .drones
        .values()
        .filter(|d| !d.paused)
        .filter_map(|d| {
            let (ready, at) = ready_where(ctx, d)?;
            Some(SoonReady {
                ready: ready.max(ctx.state.now),
                at,
                drone: d.id.clone(),
            })
        })
        .collect()
}

/// When and where a busy drone will be ready with a fresh battery: one swapping
/// at its pad, or one on a mission to a lab it will wait at (based near it), ready
/// once it has landed and swapped.
fn ready_where(ctx: &Ctx<'_>, d: &Drone) -> Option<(Instant, LatLon)> {
    let world = ctx.world;
    match &d.status {
        DroneStatus::Charging {
            ready_at: Some(ready),
            ..
        } => Some((*ready, d.position)),
        DroneStatus::OnMission { mission } => {
            let m = ctx.state.missions.get(mission)?;
            let lab = world.labs.get(&m.lab)?.position;
            let home = d.home.as_ref().and_then(|h| world.pads.get(h))?;
            let stays =
                world.frame.distance_m(home.position, lab) <= world.params.stay_at_lab_km * 1000.0;
            stays.then(|| {
                let swap = minutes(world.drone_spec.battery_swap_minutes);
                (m.planned_arrival + swap, lab)
            })
        }
        _ => None,
    }
}

/// The drone chosen for a pickup (if any could fly it) and every drone weighed.
pub(super) type Weighing = (Option<(DroneId, DroneOption)>, Vec<Alternative>);

/// A fully charged drone standing at `from`, idle: the best any drone there can do.
fn ideal_drone(from: LatLon, now: Instant) -> Drone {
    Drone {
        id: DroneId::from("ideal"),
        position: from,
        pad: None,
        battery_pct: 100.0,
        status: DroneStatus::Idle,
        paused: false,
        last_seen: now,
        home: None,
        link_lost: false,
        flights: 0,
    }
}

/// Whether a fully charged drone starting at `from` could pick up `payload_kg` at
/// `pos` and fly it along `leg` (a relay's, `planner::Relay::as_leg`).
pub(super) fn ideal_can_fly_along(
    ctx: &mut Ctx<'_>,
    from: LatLon,
    pos: LatLon,
    leg: &PlannedLeg,
    payload_kg: f64,
) -> bool {
    let state: &State = ctx.state;
    let ideal = ideal_drone(from, state.now);
    evaluate_drone(ctx.world, state, ctx.cache, &ideal, pos, payload_kg, leg).is_ok()
}

/// Whether a fully charged drone starting at `from` could pick up `payload_kg` at
/// `pos` and fly it to `lab`.
pub(super) fn ideal_can_fly(
    ctx: &mut Ctx<'_>,
    from: LatLon,
    pos: LatLon,
    lab: &LabId,
    payload_kg: f64,
) -> bool {
    let world = ctx.world;
    let Some(lab_pos) = world.labs.get(lab).map(|l| l.position) else {
        return false;
    };
    let state: &State = ctx.state;
    let key = [
        from.lat.to_bits(),
        from.lon.to_bits(),
        pos.lat.to_bits(),
        pos.lon.to_bits(),
        lab_pos.lat.to_bits(),
        lab_pos.lon.to_bits(),
        payload_kg.to_bits(),
        state.weather.wind_east_mps.to_bits(),
        state.weather.wind_north_mps.to_bits(),
    ];
    ctx.cache.reach(key, |cache| {
        let Some(leg) = plan_leg(world, state, cache, pos, lab_pos, payload_kg) else {
            return false;
        };
        let ideal = ideal_drone(from, state.now);
        evaluate_drone(world, state, cache, &ideal, pos, payload_kg, &leg).is_ok()
    })
}
