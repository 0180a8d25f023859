//! Relays in the `drone` policy: boxes beyond one flight's reach of every lab
//! that can take them fly with a battery swap on the way (`planner::relay`)
//! when that delivers them sooner than a van, or when no van can take them. The
//! pickup then waits for a drone like any other, and a van still takes it at
//! its last call (`van_last_call`) if no drone comes in time.

use super::pickups::Pickup;
use crate::ctx::Ctx;
use crate::planner::choose_relay;
use crate::policy::weighing::approach_from_nearest;
use labflight_core::{BoxId, Instant};

/// Turns `p` into a relay pickup when a relay from the nearest drone would
/// deliver sooner than `van_at`: of all its boxes if one relay carries them,
/// else of the `beyond` ones (the others fly on their own later). Due at once,
/// as a van would have been booked at once. Whether it did.
pub(super) fn relay_instead(
    ctx: &mut Ctx<'_>,
    p: &mut Pickup,
    beyond: &[BoxId],
    van_at: Option<Instant>,
) -> bool {
    let pos = ctx.world.stations[&p.station].position;
    let depart = ctx.state.now + approach_from_nearest(ctx, pos);
    let max_kg = ctx.world.drone_spec.max_payload_kg;
    // All the boxes, then (when some are within reach) only those beyond it.
    let mut loads = vec![p.boxes.clone()];
    if beyond.len() < p.boxes.len() {
        loads.push(beyond.to_vec());
    }
    for boxes in loads {
        let kg: f64 = boxes.iter().map(|b| ctx.state.boxes[b].payload_kg).sum();
        if kg > max_kg + 1e-9 {
            continue;
        }
        let options = ctx.lab_options(pos, &boxes, kg);
        let state: &crate::state::State = ctx.state;
        let (choice, weighed) =
            choose_relay(ctx.world, state, ctx.cache, pos, &options, kg, depart);
        let Some(choice) = choice else {
            continue;
        };
        let arrive = depart + choice.leg.duration();
        if van_at.is_some_and(|v| v <= arrive) {
            return false;
        }
        p.boxes = boxes;
        p.payload_kg = kg;
        p.deadline = choice.deadline;
        p.lab = choice;
        p.lab_alternatives = weighed;
        p.ready = true;
        p.relay_beats_van = van_at;
        return true;
    }
    false
}
