//! Hub legs in the `drone` policy: boxes beyond one flight's reach of every lab
//! that can take them, and beyond a relay's (`relay`), fly to a hub (a depot's
//! pad within the drone's reach) where a van meets the drone and takes
//! them on, when that delivers them sooner than a van from the centre. The drone
//! and the van are booked together (`Ctx::book_hub_van`).

use super::pickups::Pickup;
use crate::ctx::Ctx;
use crate::planner::{HubHandOff, LabChoice, plan_leg};
use crate::policy::weighing::{CANDIDATES, mark_chosen, weigh};
use labflight_core::command::Explanation;
use labflight_core::{BoxId, Instant, Reason};

/// Hub pads weighed for one pickup: the nearest to the centre.
pub(super) const HUBS_WEIGHED: usize = 8;

/// A pad nearer the centre than this is the centre's own surroundings, no hub, m.
const NOT_A_HUB_WITHIN_M: f64 = 50.0;

/// Flies `boxes` of `p` to the hub from which a van delivers them soonest, when
/// that beats `van_at` (a van from the centre; none when no van could take them
/// from there): the drone that picks them up first within reach of the hub, and
/// the van that reaches the hub first, waiting for the drone if it is early.
/// Whether it did.
pub(super) fn hub_instead(
    ctx: &mut Ctx<'_>,
    p: &Pickup,
    boxes: &[BoxId],
    van_at: Option<Instant>,
) -> bool {
    let world = ctx.world;
    let pos = world.stations[&p.station].position;
    let kg: f64 = boxes.iter().map(|b| ctx.state.boxes[b].payload_kg).sum();
    if kg > world.drone_spec.max_payload_kg + 1e-9 {
        return false;
    }
    let candidates = ctx.nearest_available(pos, CANDIDATES);
    if candidates.is_empty() {
        return false;
    }
    // The best so far: its lab choice (the hop, the van), the drone, and what was weighed.
    let mut best: Option<(
        LabChoice,
        crate::planner::DroneOption,
        labflight_core::DroneId,
    )> = None;
    let mut weighed_best = Vec::new();
    for pad in world.hubs_near(pos, HUBS_WEIGHED) {
        if world.frame.distance_m(pad.position, pos) < NOT_A_HUB_WITHIN_M {
            continue;
        }
        let state: &crate::state::State = ctx.state;
        let Some(hop) = plan_leg(world, state, ctx.cache, pos, pad.position, kg) else {
            continue;
        };
        if !hop.estimate.feasible {
            continue;
        }
        let (Some((drone, option)), weighed) = weigh(ctx, &candidates, pos, kg, &hop) else {
            continue;
        };
        let lands = option.pickup_at + hop.duration();
        // Not into a storm the forecast has coming.
        if crate::storm::caught_out(world, ctx.state, lands).is_some() {
            continue;
        }
        let Some((courier, van_there)) = ctx.earliest_courier(pad.position) else {
            continue;
        };
        let Some(van) =
            ctx.quote_van_run_with(pad.position, boxes, (courier, van_there.max(lands)))
        else {
            continue;
        };
        if best
            .as_ref()
            .is_some_and(|(b, _, _)| b.hub.as_ref().expect("a hub").deliver_at <= van.deliver_at)
        {
            continue;
        }
        let choice = LabChoice {
            lab: van.lab.clone(),
            leg: hop,
            result_at: van.result_at,
            deadline: van.deadline,
            relay: None,
            hub: Some(Box::new(HubHandOff {
                pad: pad.id.clone(),
                courier: van.courier,
                pickup_at: van.pickup_at,
                deliver_at: van.deliver_at,
                deadline: van.deadline,
            })),
        };
        best = Some((choice, option, drone));
        weighed_best = weighed;
    }
    let Some((choice, option, drone)) = best else {
        return false;
    };
    let hub = choice.hub.as_ref().expect("a hub leg");
    if van_at.is_some_and(|v| v <= hub.deliver_at) {
        return false;
    }
    mark_chosen(world, &mut weighed_best, &drone);
    let reason = Reason::DroneHubLeg {
        boxes: boxes.len(),
        payload_kg: kg,
        due_at: hub.deadline,
        drone: drone.clone(),
        hub: hub.pad.clone(),
        deliver_at: hub.deliver_at,
        van_at,
    };
    let why = Explanation::new(reason, weighed_best, world.offset);
    ctx.assign_drone_at(
        &drone,
        (&p.station, None),
        boxes.to_vec(),
        &choice,
        &option,
        Vec::new(),
        kg,
        why,
    );
    true
}
