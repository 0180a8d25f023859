//! A box stranded on a centre's or a depot's pad, or on the pad of a lab that
//! cannot test it or has not taken it in (the drone carrying it landed short of
//! its lab), flies on with another drone when that gets it to a lab sooner than a
//! van. A motor fault just after loading otherwise leaves its tubes an hour or more
//! on the pad, waiting for a van through the morning's traffic.

use super::base::{lab_to_take_in, load_boxes, next_call_for};
use super::weighing::{
    CANDIDATES, SoonReady, approach_from_nearest, mark_chosen, reachable_other_lab,
    soon_ready_drones, weigh,
};
use crate::ctx::Ctx;
use crate::state::BoxStatus;
use labflight_core::Reason;
use labflight_core::command::Explanation;
use labflight_core::pad::PadSite;
use labflight_core::scenario::minutes;
use labflight_core::{BoxId, Instant, LatLon, PadId, StationId};
use std::collections::{BTreeMap, BTreeSet};

/// How long a stranded box may wait on the pad for a busy drone about to be ready,
/// before a van is sent for it anyway (one that delivers it in time: a late van
/// is sent only when no drone soon ready would reach the pad before it).
const WAIT_FOR_A_DRONE_MINUTES: f64 = 20.0;

/// Assigns a drone to the `stranded` boxes on each centre's or depot's pad (as many
/// as one carries, oldest first) when it gets them to a lab before the first van
/// could; others wait for a busy drone that will reach the pad before the van
/// would. Returns the rest, in the order given, for `recover_stranded` to send
/// vans for. (A lab's pad is left to the lab while its reception would take the
/// box in: not when it cannot test it, nor after `LAB_TAKES_IN_MINUTES`.)
pub(super) fn fly_stranded_on(ctx: &mut Ctx<'_>, stranded: Vec<BoxId>) -> Vec<BoxId> {
    if ctx.state.fleet_grounded() {
        return stranded;
    }
    let world = ctx.world;
    let now = ctx.state.now;
    // Flown on, or waiting for a busy drone.
    let mut not_for_vans = BTreeSet::new();
    // By the pad they lie on: where it is, when the first was set down, the boxes.
    let mut by_pad: BTreeMap<PadId, (LatLon, Instant, Vec<BoxId>)> = BTreeMap::new();
    for b in stranded.iter().filter_map(|id| ctx.state.boxes.get(id)) {
        let (BoxStatus::Stranded { .. }, Some(set_down)) = (&b.status, &b.set_down) else {
            continue;
        };
        let Some(pad) = world.pads.get(&set_down.pad) else {
            continue;
        };
        // A lab's pad is left to the lab, for what its reception takes in.
        if matches!(pad.site, PadSite::Lab(_)) && lab_to_take_in(ctx, b).is_some() {
            continue;
        }
        let entry =
            by_pad
                .entry(pad.id.clone())
                .or_insert((pad.position, set_down.since, Vec::new()));
        entry.1 = entry.1.min(set_down.since);
        entry.2.push(b.id.clone());
    }
    // Busy drones soon ready, listed once when first asked.
    let mut soon_ready: Option<Vec<SoonReady>> = None;
    for (pos, since, mut boxes) in by_pad.into_values() {
        boxes.sort_by(|a, b| {
            let sealed = |id: &BoxId| ctx.state.boxes[id].sealed_at;
            sealed(a).cmp(&sealed(b)).then_with(|| a.cmp(b))
        });
        let boxes = load_boxes(ctx, &boxes);
        if boxes.is_empty() {
            continue;
        }
        // On a depot's pad the mission names the centre the oldest box came from.
        let call = next_call_for(world, &ctx.state.boxes[&boxes[0]]);
        let van = ctx.quote_van_run(pos, &boxes);
        if fly_on_now(ctx, &boxes, &call, pos, van.as_ref().map(|v| v.deliver_at)) {
            not_for_vans.extend(boxes);
            continue;
        }
        // A van that would deliver past the boxes' deadline does not end the wait:
        // a busy drone soon ready may still make it.
        let van_in_time = van.as_ref().is_some_and(|v| v.deliver_at <= v.deadline);
        if van_in_time && now - since >= minutes(WAIT_FOR_A_DRONE_MINUTES) {
            continue;
        }
        let busy = soon_ready.get_or_insert_with(|| soon_ready_drones(ctx));
        let soonest = busy.iter().map(|b| b.earliest_at(world, pos)).min();
        if let Some(drone_there) = soonest
            && van.as_ref().is_none_or(|v| drone_there < v.pickup_at)
        {
            not_for_vans.extend(boxes);
        }
    }
    stranded
        .into_iter()
        .filter(|b| !not_for_vans.contains(b))
        .collect()
}

/// Assigns the free drone that gets the boxes from the pad at `pos` to a lab
/// first (the lab with the earliest result, or failing a drone with the battery
/// for it, the next ones), if it gets there before `van_delivers`, calling for
/// them at `station` or `pickup_pad` (`next_call_for`). Whether it did.
fn fly_on_now(
    ctx: &mut Ctx<'_>,
    boxes: &[BoxId],
    (station, pickup_pad): &(StationId, Option<PadId>),
    pos: LatLon,
    van_delivers: Option<Instant>,
) -> bool {
    let candidates = ctx.nearest_available(pos, CANDIDATES);
    if candidates.is_empty() {
        return false;
    }
    let depart = ctx.state.now + approach_from_nearest(ctx, pos);
    let payload_kg = boxes.iter().map(|b| ctx.state.boxes[b].payload_kg).sum();
    let (Some(mut lab), mut labs_weighed) = ctx.choose_lab(pos, boxes, payload_kg, depart, None)
    else {
        return false;
    };
    let (mut best, mut weighed) = weigh(ctx, &candidates, pos, payload_kg, &lab.leg);
    // The lab with the earliest result beyond every free drone's battery with
    // this load: a nearer one they reach beats waiting.
    if best.is_none()
        && let Some((choice, (b, w))) = reachable_other_lab(
            ctx,
            &candidates,
            pos,
            (boxes, payload_kg),
            depart,
            &lab.lab,
            &mut labs_weighed,
        )
    {
        (lab, best, weighed) = (choice, b, w);
    }
    let Some((drone, option)) = best else {
        return false;
    };
    let arrive = option.pickup_at + lab.leg.duration();
    if van_delivers.is_some_and(|v| v <= arrive) {
        return false;
    }
    mark_chosen(ctx.world, &mut weighed, &drone);
    weighed.extend(labs_weighed);
    let van = van_delivers.map_or(Reason::NoVan, |deliver_at| Reason::FirstVanBy {
        deliver_at,
    });
    let place = pickup_pad.as_ref().map_or_else(
        || Reason::StationPad {
            station: station.clone(),
        },
        |pad| Reason::Pad { pad: pad.clone() },
    );
    let reason = Reason::StrandedFlownOn {
        boxes: boxes.to_vec(),
        place: Box::new(place),
        drone: drone.clone(),
        lab: lab.lab.clone(),
        arrive_at: arrive,
        van: Box::new(van),
    };
    let why = Explanation::new(reason, weighed, ctx.world.offset);
    ctx.assign_drone_at(
        &drone,
        (station, pickup_pad.as_ref()),
        boxes.to_vec(),
        &lab,
        &option,
        Vec::new(),
        payload_kg,
        why,
    );
    true
}
