//! What a drone can reach with a pickup: narrowing it to what a full drone can
//! carry, and readying a drone at a charger (a battery swap, or a flight to the
//! charger nearest a far centre). Another lab within reach is `weighing`'s, shared
//! with the stranded-box recovery.

use super::pickups::Pickup;
use crate::ctx::Ctx;
use crate::planner::plan_leg;
use crate::policy::weighing::{ideal_can_fly, ideal_can_fly_along};
use labflight_core::DroneId;

/// Whether a fully charged drone at `from` could fly `p`: to its lab, or along
/// its relay.
pub(super) fn full_drone_can_fly(
    ctx: &mut Ctx<'_>,
    from: labflight_core::LatLon,
    pos: labflight_core::LatLon,
    p: &Pickup,
) -> bool {
    match p.lab.relay {
        Some(_) => ideal_can_fly_along(ctx, from, pos, &p.lab.leg, p.payload_kg),
        None => ideal_can_fly(ctx, from, pos, &p.lab.lab, p.payload_kg),
    }
}

/// When no candidate has the battery for a pickup (a far centre), swaps the
/// battery of the nearest one standing at a charger that could fly it when full,
/// rather than leave the centre waiting for a drone that happens to be full.
/// Whether it did.
pub(super) fn charge_for(
    ctx: &mut Ctx<'_>,
    candidates: &[DroneId],
    pos: labflight_core::LatLon,
    p: &Pickup,
) -> bool {
    for id in candidates {
        let Some(pad) = ctx.charger_under(id) else {
            continue;
        };
        if ctx.state.drones[id].battery_pct >= 99.0 {
            continue;
        }
        let from = ctx.state.drones[id].position;
        if full_drone_can_fly(ctx, from, pos, p) {
            ctx.swap_battery(id, pad);
            return true;
        }
    }
    false
}

/// When no candidate could fly a pickup from where it stands, even on a full
/// battery, but a full drone at the charger nearest the centre could (a centre far
/// from every lab), sends the nearest candidate that can get there empty to that
/// charger, and the pickup waits for it; `charge_for` then tops it up there.
/// Without it such a centre waits all day for a drone that happens to be near.
/// `Some(true)` when it sent one, `Some(false)` when one is already on its way.
pub(super) fn send_to_charger_near(
    ctx: &mut Ctx<'_>,
    candidates: &[DroneId],
    pos: labflight_core::LatLon,
    p: &Pickup,
) -> Option<bool> {
    let world = ctx.world;
    let charger = world.nearest_charger(pos)?;
    let (pad, pad_pos) = (charger.id.clone(), charger.position);
    if candidates
        .iter()
        .any(|id| ctx.state.drones[id].pad.as_ref() == Some(&pad))
        || !full_drone_can_fly(ctx, pad_pos, pos, p)
    {
        return None;
    }
    let on_its_way = ctx.state.drones.values().any(
        |d| matches!(&d.status, crate::state::DroneStatus::Returning { pad: to } if *to == pad),
    );
    if on_its_way {
        return Some(false);
    }
    for id in candidates {
        let state: &crate::state::State = ctx.state;
        let d = &state.drones[id];
        let Some(leg) = plan_leg(world, state, ctx.cache, d.position, pad_pos, 0.0) else {
            continue;
        };
        if !leg.estimate.feasible || leg.estimate.energy_wh > crate::planner::spendable_wh(world, d)
        {
            continue;
        }
        let reason = format!(
            "to the charger nearest {}, which no drone can reach from where it stands",
            p.station
        );
        ctx.fly_empty(id, pad, reason);
        return Some(true);
    }
    None
}

/// Whether a drone with a full battery at the charger pad nearest the centre could
/// fly `payload_kg` from it to the chosen lab or another that can take the boxes.
pub(super) fn flyable_at_best(
    ctx: &mut Ctx<'_>,
    pos: labflight_core::LatLon,
    p: &Pickup,
    payload_kg: f64,
) -> bool {
    let Some(site) = ctx.world.nearest_charger(pos) else {
        return false;
    };
    let from = site.position;
    ideal_can_fly(ctx, from, pos, &p.lab.lab, payload_kg)
        || p.other_labs()
            .iter()
            .any(|lab| ideal_can_fly(ctx, from, pos, lab, payload_kg))
}

/// The loaded leg from the centre at `pos` to the pickup's lab with `payload_kg`:
/// what a narrowed pickup flies.
pub(super) fn leg_to_lab(
    ctx: &mut Ctx<'_>,
    pos: labflight_core::LatLon,
    p: &Pickup,
    payload_kg: f64,
) -> Option<crate::planner::PlannedLeg> {
    let lab_pos = ctx.world.labs[&p.lab.lab].position;
    plan_leg(ctx.world, ctx.state, ctx.cache, pos, lab_pos, payload_kg)
}

/// Narrows a pickup too heavy for any drone to the boxes, oldest first, that a
/// full drone from the charger nearest the centre can carry together; the others
/// fly on a later flight. Whether anything is left to fly.
pub(super) fn keep_within_reach(
    ctx: &mut Ctx<'_>,
    pos: labflight_core::LatLon,
    p: &mut Pickup,
) -> bool {
    if p.boxes.len() < 2 || flyable_at_best(ctx, pos, p, p.payload_kg) {
        return true;
    }
    let mut flying = Vec::new();
    let mut payload_kg = 0.0;
    for b in &p.boxes {
        let kg = ctx.state.boxes[b].payload_kg;
        if flyable_at_best(ctx, pos, p, payload_kg + kg) {
            flying.push(b.clone());
            payload_kg += kg;
        }
    }
    if flying.is_empty() {
        // Not even one box: the usual path books a van or says why not.
        return true;
    }
    let Some(leg) = leg_to_lab(ctx, pos, p, payload_kg) else {
        return true;
    };
    p.boxes = flying;
    p.payload_kg = payload_kg;
    p.lab.leg = leg;
    true
}
