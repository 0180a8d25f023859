//! The `drone` policy (told for users in docs/dispatch.md): earliest deadline
//! first (a box near its stability limit counted due sooner), then earliest
//! stability limit, over centres whose boxes are due,
//! batching a centre's boxes into one flight while the deadlines allow, choosing
//! the lab with the earliest predicted result and the drone with the earliest
//! pickup that has the battery for it; a pickup waits for a drone about to be
//! ready nearby (swapping, or landing at a lab it stays at) when that one would
//! pick up sooner than any idle drone. A flight calls at up to three more
//! neighbouring centres that are due too when every box still makes its deadline
//! or would be late on any flight (a round), and at ones not due yet that are
//! within a few minutes of the way. What no drone can take now goes by
//! van if the van delivers with time to spare or at the last moment it still can;
//! otherwise a far centre no drone has the battery for gets one readied at a
//! charger. A box no drone could fly even from the nearest charger on a full
//! battery goes by van as soon as it is sealed, unless a relay (a battery swap
//! at a charger pad on the way) delivers it sooner (`relay`); and a pickup too
//! heavy for that drone flies the boxes it can carry. Under a storm forecast (`storm`) every box
//! is due ahead of the window, no flight is launched that would still be in the
//! air when it begins, and vans take first what cannot wait for its end. In the half hour before the last draw, a
//! pickup that can wait for the last call waits, so one flight takes the
//! centre's last box too. A box a drone in trouble set down on a centre's pad flies
//! on with another drone when that beats a van (`stranded`). While the fleet is
//! grounded, vans take everything.
//!
//! `DronePolicy::plan` is the pass as a sequence of named steps, here; what the
//! steps weigh lives below: `pickups` (which centres are due), `reach` (what a
//! drone can reach, chargers), `rounds` (calls on the way), `vans` (when a van
//! goes instead).

mod basis;
mod hub;
mod pickups;
mod reach;
mod relay;
mod rounds;
mod storm;
mod vans;

use super::base::{Policy, recover_stranded, stranded_boxes};
use super::weighing::{
    CANDIDATES, SoonReady, Weighing, mark_chosen, reachable_other_lab, soon_ready_drones, weigh,
};
use crate::ctx::Ctx;
use crate::planner::{DroneOption, evaluate_drone};
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Alternative, Explanation, Severity};
use labflight_core::scenario::minutes;
use labflight_core::{DroneId, Instant, StationId};
use std::collections::{BTreeMap, BTreeSet, HashMap};

use pickups::{Pickup, fly_early_while_drones_spare, free_beyond_kept, pickups, warn_if_late};
use reach::{charge_for, keep_within_reach, leg_to_lab, send_to_charger_near};
use rounds::extend_into_round;
use vans::{van_last_call, vans_for_beyond_reach, vans_while_grounded};

#[derive(Debug, Default)]
pub struct DronePolicy {
    /// What each centre's pickup weighs apart from the clock, kept between
    /// passes (`basis`).
    bases: basis::PickupBases,
}

impl Policy for DronePolicy {
    fn name(&self) -> &'static str {
        "drone"
    }

    /// The pass, in the order its rules are tried (docs/dispatch.md, "For
    /// engineers: where each rule lives").
    fn plan(&mut self, ctx: &mut Ctx<'_>) {
        super::box_limits::tell_box_limits(ctx);
        recover_stranded_boxes(ctx);
        if ctx.state.fleet_grounded() {
            let waiting = ctx.state.waiting_boxes();
            match crate::storm::expected_clear(ctx.world, ctx.state) {
                // Grounded under a storm it was told of: the vans take what
                // cannot wait for its end.
                Some(clear) => storm::vans_until_clear(ctx, &waiting, clear),
                None => vans_while_grounded(ctx, &waiting),
            }
            return;
        }
        let mut all = due_pickups(ctx, &mut self.bases);
        let mut pass = Pass {
            taken: send_beyond_reach_by_van(ctx, &mut all),
            ..Pass::default()
        };
        let by_station: HashMap<&str, usize> = all
            .iter()
            .enumerate()
            .map(|(i, p)| (p.station.as_str(), i))
            .collect();
        for i in 0..all.len() {
            plan_pickup(ctx, &mut pass, &all, &by_station, i);
        }
        storm::vans_for_held(ctx, &pass.held_for_storm);
        storm::seal_for_last_flights(ctx, &pass.taken);
        send_drones_to_far_chargers(ctx, pass.beyond_where_drones_stand);
    }
}

/// What one planning pass has decided so far, as it goes through the pickups.
#[derive(Default)]
struct Pass {
    /// Centres whose boxes a mission of this pass already takes.
    taken: BTreeSet<StationId>,
    /// Busy drones a pickup of this pass waits for.
    awaited: BTreeSet<DroneId>,
    /// Busy drones soon ready, listed once per pass when first asked.
    soon_ready: Option<Vec<SoonReady>>,
    /// Pickups no drone could fly from where it stands, even on a full battery.
    beyond_where_drones_stand: Vec<Pickup>,
    /// Boxes whose flight a storm ahead would catch, by centre (`storm`).
    held_for_storm: BTreeMap<StationId, Vec<labflight_core::BoxId>>,
}

/// Boxes a drone in trouble set down: another drone flies them on when that beats
/// a van (`stranded`); the rest go by van (`recover_stranded`).
fn recover_stranded_boxes(ctx: &mut Ctx<'_>) {
    let stranded = stranded_boxes(ctx.state);
    let for_vans = super::stranded::fly_stranded_on(ctx, stranded);
    recover_stranded(ctx, &for_vans);
}

/// Every centre with waiting boxes, earliest deadline first (`urgent_at`: a box
/// near its stability limit counts as due sooner), then earliest stability
/// limit, then centre; the due ones marked `ready`, and more while drones are to
/// spare.
fn due_pickups(ctx: &mut Ctx<'_>, bases: &mut basis::PickupBases) -> Vec<Pickup> {
    let mut all = pickups(ctx, bases);
    all.sort_by(|a, b| {
        a.urgent_at
            .cmp(&b.urgent_at)
            .then_with(|| a.deadline.cmp(&b.deadline))
            .then_with(|| a.stability_deadline.cmp(&b.stability_deadline))
            .then_with(|| a.station.cmp(&b.station))
    });
    fly_early_while_drones_spare(ctx, &mut all);
    storm::fly_early(ctx, &mut all);
    all
}

/// Books vans for the boxes of every pickup that no drone could fly even from the
/// nearest charger (`vans_for_beyond_reach`); the centres left with nothing to fly.
fn send_beyond_reach_by_van(ctx: &mut Ctx<'_>, all: &mut [Pickup]) -> BTreeSet<StationId> {
    let mut taken = BTreeSet::new();
    for p in all.iter_mut() {
        if !vans_for_beyond_reach(ctx, p) {
            taken.insert(p.station.clone());
        }
    }
    taken
}

/// Plans the pickup `all[i]` if it is due and no mission of this pass takes its
/// centre yet: narrowed to what a drone can carry, the drone with the earliest
/// pickup (or the reasons none can), unless a busy drone soon ready picks up
/// sooner; then the flight, extended into a round.
fn plan_pickup(
    ctx: &mut Ctx<'_>,
    pass: &mut Pass,
    all: &[Pickup],
    by_station: &HashMap<&str, usize>,
    i: usize,
) {
    if !all[i].ready || pass.taken.contains(&all[i].station) {
        return;
    }
    let mut p = all[i].clone();
    let pos = ctx.world.stations[&p.station].position;
    // A relay pickup (`relay`) is already what one relay carries.
    if p.lab.relay.is_none() && !keep_within_reach(ctx, pos, &mut p) {
        return;
    }
    let candidates = ctx.nearest_available(pos, CANDIDATES);
    if candidates.is_empty() {
        if !van_last_call(ctx, &p, pos) {
            warn_if_late(ctx, &p, None);
        }
        return;
    }
    let (best, weighed) = find_drone(ctx, &candidates, pos, &mut p);
    let Some((drone, option)) = best else {
        no_drone_can_fly(ctx, pass, &candidates, pos, p, &weighed);
        return;
    };
    let arrive = option.pickup_at + p.lab.leg.duration();
    if storm::held_for_storm(ctx, &p, arrive, &mut pass.held_for_storm) {
        return;
    }
    if wait_for_soon_ready(ctx, pass, pos, &p, option.pickup_at) {
        return;
    }
    fly(ctx, pass, all, by_station, p, (drone, option), weighed);
}

/// The candidate with the earliest pickup for `p`; failing that, for its oldest box
/// alone (the load too heavy for the range), then to another lab a candidate can
/// reach (the lab with the earliest result out of reach with this load). Narrows
/// `p` to what is chosen. Every verdict weighed.
fn find_drone(
    ctx: &mut Ctx<'_>,
    candidates: &[DroneId],
    pos: labflight_core::LatLon,
    p: &mut Pickup,
) -> Weighing {
    let (mut best, mut weighed) = weigh(ctx, candidates, pos, p.payload_kg, &p.lab.leg);
    if p.lab.relay.is_some() {
        // Every lab in direct reach was weighed before the relay was chosen.
        return (best, weighed);
    }
    if best.is_none() && p.boxes.len() > 1 {
        // Too heavy for the range: take the oldest box alone.
        let single = ctx.state.boxes[&p.boxes[0]].payload_kg;
        if let Some(leg) = leg_to_lab(ctx, pos, p, single) {
            let (b, w) = weigh(ctx, candidates, pos, single, &leg);
            if b.is_some() {
                p.boxes.truncate(1);
                p.payload_kg = single;
                p.lab.leg = leg;
                best = b;
                weighed = w;
            }
        }
    }
    // The lab with the earliest result is out of these drones' reach with this
    // load; a nearer one they can fly to beats a van.
    if best.is_none()
        && let Some((choice, (b, w))) = reachable_other_lab(
            ctx,
            candidates,
            pos,
            (&p.boxes, p.payload_kg),
            ctx.state.now,
            &p.lab.lab,
            &mut p.lab_alternatives,
        )
    {
        p.deadline = choice.deadline;
        p.lab = choice;
        best = b;
        weighed = w;
    }
    (best, weighed)
}

/// No candidate can fly `p`: a van if it is time (`van_last_call`), else a
/// candidate's battery swapped at a charger (`charge_for`); failing both, the
/// pickup waits for a drone sent to the charger nearest it after the pass
/// (`send_drones_to_far_chargers`), and the coordinator hears why, once.
fn no_drone_can_fly(
    ctx: &mut Ctx<'_>,
    pass: &mut Pass,
    candidates: &[DroneId],
    pos: labflight_core::LatLon,
    p: Pickup,
    weighed: &[Alternative],
) {
    if van_last_call(ctx, &p, pos) {
        return;
    }
    if charge_for(ctx, candidates, pos, &p) {
        // A drone is being readied for it; the pickup is planned when it is.
        return;
    }
    pass.beyond_where_drones_stand.push(p.clone());
    // Boxes beyond any drone's reach went by van before the loop.
    let verdicts: Vec<_> = weighed.iter().filter_map(|a| a.reason.clone()).collect();
    let first = ctx
        .state
        .boxes
        .get_mut(&p.boxes[0])
        .expect("pickup boxes exist");
    if !std::mem::replace(&mut first.at_risk_alerted, true) {
        ctx.alert(
            AlertKind::NoFeasibleDrone,
            Severity::Warning,
            p.station.as_str(),
            Reason::NoNearbyDrone { verdicts },
        );
    }
    warn_if_late(ctx, &p, None);
}

/// Whether `p` waits for a busy drone soon ready nearby that picks up sooner than
/// any idle one at `idle_pickup` (`ready_sooner`): the idle drone stays free.
fn wait_for_soon_ready(
    ctx: &mut Ctx<'_>,
    pass: &mut Pass,
    pos: labflight_core::LatLon,
    p: &Pickup,
    idle_pickup: Instant,
) -> bool {
    let busy = pass
        .soon_ready
        .get_or_insert_with(|| soon_ready_drones(ctx));
    let Some(soon) = ready_sooner(ctx, pos, p, idle_pickup, busy, &pass.awaited) else {
        return false;
    };
    pass.awaited.insert(soon);
    true
}

/// Assigns `drone` to fly `p`, extended into a round while neighbouring due
/// centres fit (`extend_into_round`), with the explanation of the choice.
fn fly(
    ctx: &mut Ctx<'_>,
    pass: &mut Pass,
    all: &[Pickup],
    by_station: &HashMap<&str, usize>,
    mut p: Pickup,
    (drone, mut option): (DroneId, DroneOption),
    mut weighed: Vec<Alternative>,
) {
    mark_chosen(ctx.world, &mut weighed, &drone);
    let arrive = option.pickup_at + p.lab.leg.duration();
    warn_if_late(ctx, &p, Some(arrive));
    let mut reason = Reason::DronePickup {
        boxes: p.boxes.len(),
        payload_kg: p.payload_kg,
        due_at: p.deadline,
        drone: drone.clone(),
        lab: p.lab.lab.clone(),
    };
    if let Some(relay) = &p.lab.relay {
        reason = Reason::DroneRelay {
            boxes: p.boxes.len(),
            payload_kg: p.payload_kg,
            due_at: p.deadline,
            drone: drone.clone(),
            lab: p.lab.lab.clone(),
            pad: relay.pad.clone(),
            van_at: p.relay_beats_van,
        };
    }
    pass.taken.insert(p.station.clone());
    let mut later_stops = Vec::new();
    let mut payload_kg = p.payload_kg;
    let round = (p.lab.relay.is_none())
        .then(|| extend_into_round(ctx, &drone, &option, &p, all, by_station, &pass.taken))
        .flatten()
        // A round that would land inside a storm window is flown direct.
        .filter(|r| {
            let landing = arrive + chrono::Duration::minutes(r.added_minutes);
            crate::storm::caught_out(ctx.world, ctx.state, landing).is_none()
        });
    if let Some(round) = round {
        let calls: Vec<_> = round.stops.iter().map(|s| s.stop.station.clone()).collect();
        let more_boxes: usize = round.stops.iter().map(|s| s.stop.boxes.len()).sum();
        reason = Reason::DroneRound {
            boxes: p.boxes.len(),
            payload_kg: p.payload_kg,
            due_at: p.deadline,
            drone: drone.clone(),
            lab: p.lab.lab.clone(),
            calls,
            more_boxes,
            added_minutes: round.added_minutes,
        };
        pass.taken
            .extend(round.stops.iter().map(|s| s.stop.station.clone()));
        payload_kg = round.payload_kg;
        p.lab = round.lab;
        option = round.option;
        later_stops = round.stops;
    }
    weighed.extend(p.lab_alternatives.iter().cloned());
    let why = Explanation::new(reason, weighed, ctx.world.offset);
    ctx.assign_drone(
        &drone,
        &p.station,
        p.boxes.clone(),
        &p.lab,
        &option,
        later_stops,
        payload_kg,
        why,
    );
}

/// Drones still free once every due pickup is planned fly to the charger nearest
/// a centre none of them could reach, keeping a share of the fleet free; for a
/// pickup due at the lab within the hour, even from that share; but not for one
/// a busy drone about to be ready could fly once ready.
fn send_drones_to_far_chargers(ctx: &mut Ctx<'_>, beyond_where_drones_stand: Vec<Pickup>) {
    if beyond_where_drones_stand.is_empty() {
        return;
    }
    let mut spare = free_beyond_kept(ctx);
    let due_soon = ctx.state.now + minutes(SEND_TO_CHARGER_DUE_MINUTES);
    let soon_ready = soon_ready_drones(ctx);
    for p in beyond_where_drones_stand {
        if spare == 0 && p.deadline > due_soon {
            continue;
        }
        let pos = ctx.world.stations[&p.station].position;
        // A busy drone about to be ready where, full, it could fly the pickup
        // takes it then: none flies across the group for it meanwhile.
        if soon_ready
            .iter()
            .any(|b| reach::full_drone_can_fly(ctx, b.at, pos, &p))
        {
            continue;
        }
        let candidates = ctx.nearest_available(pos, CANDIDATES);
        if send_to_charger_near(ctx, &candidates, pos, &p) == Some(true) {
            spare = spare.saturating_sub(1);
        }
    }
}

/// A pickup no free drone can fly from where it stands, due at the lab within this
/// many minutes, gets a drone sent to the charger nearest it even when none is
/// spare: at the 11:30 wave the drones based near it are all out, and the box
/// otherwise waits for one to come back. 81 seeds: 99.89 % → 99.91 % on time;
/// 45 min did worse, 75 and 90 min and no limit no better.
const SEND_TO_CHARGER_DUE_MINUTES: f64 = 60.0;

/// How much sooner a busy drone soon ready must pick up than the best idle one
/// for the pickup to wait for it, minutes.
const READY_SOONER_MINUTES: f64 = 1.0;

/// One of the `busy` drones (not already awaited) that, once ready, would pick
/// up at `pos` and fly the boxes to the lab, picking up at least
/// `READY_SOONER_MINUTES` before `idle_pickup`: the soonest such.
fn ready_sooner(
    ctx: &mut Ctx<'_>,
    pos: labflight_core::LatLon,
    p: &Pickup,
    idle_pickup: Instant,
    busy: &[SoonReady],
    awaited: &BTreeSet<DroneId>,
) -> Option<DroneId> {
    let world = ctx.world;
    let now = ctx.state.now;
    let margin = minutes(READY_SOONER_MINUTES);
    if idle_pickup - margin <= now {
        // An idle drone is there within the margin: nothing busy can beat it.
        return None;
    }
    let mut soon: Vec<(Instant, &SoonReady)> = busy
        .iter()
        .filter(|b| !awaited.contains(&b.drone))
        .filter_map(|b| {
            let earliest = b.earliest_at(world, pos);
            (earliest + margin <= idle_pickup).then_some((earliest, b))
        })
        .collect();
    soon.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.drone.cmp(&b.1.drone)));
    for (_, b) in soon {
        let full = crate::state::Drone {
            battery_pct: 100.0,
            position: b.at,
            ..ctx.state.drones[&b.drone].clone()
        };
        let state: &crate::state::State = ctx.state;
        let Ok(option) = evaluate_drone(
            world,
            state,
            ctx.cache,
            &full,
            pos,
            p.payload_kg,
            &p.lab.leg,
        ) else {
            continue;
        };
        if b.ready + (option.pickup_at - now) + margin <= idle_pickup {
            return Some(b.drone.clone());
        }
    }
    None
}
