//! The `drone` policy under a storm forecast (`crate::storm`): ahead of the
//! window every waiting box is due, so what can land before it flies now; a
//! flight that would still be in the air when it begins is not launched, and its
//! boxes go by van when they cannot wait for the window's end; while grounded
//! under it, the vans take first the boxes that would pass their stability limit
//! before the drones fly again, most urgent first, then, while a van is free,
//! the others; the drones resume earliest deadline first (the policy's order).
//! In the last quarter hour before the window, a drone the pass leaves idle has
//! centres seal what they have drawn for it (`seal_for_last_flights`), and every
//! centre a drone calls at ahead of it seals for that call (`crate::storm::
//! seal_as_drones_call`, from the tick). With no storm forecast none of this runs.
//!
//! Tried and left out (20 seeds of the storm day, then with flights held from 5
//! min before the window): asking every centre to seal 30 min before the window
//! (86.43 % on time against 86.74 % without: the boxes
//! it made were too many for the drones left, and waited the storm out smaller);
//! rounds of up to 8 van calls (no change); vans to the biggest centres first
//! (no change).

use super::pickups::Pickup;
use crate::ctx::Ctx;
use crate::policy::van_round::extend_van_run;
use crate::storm::{caught_out, expected_clear, storm_ahead};
use labflight_core::command::{AlertKind, Severity};
use labflight_core::forecast::Risk;
use labflight_core::scenario::minutes;
use labflight_core::{BoxId, Instant, Reason, StationId};
use std::collections::{BTreeMap, BTreeSet};

/// From this long before a storm window every waiting box is due (flies as soon
/// as a drone is free), minutes. 20 seeds of the storm day: 88.37 % on time
/// without it, 89.12 % with it.
pub(super) const FLY_EARLY_MINUTES: f64 = 120.0;

/// While grounded under a storm, a van goes for boxes that could wait for the
/// drones only when it is free within this many minutes: busy, but not booked so
/// far ahead that it is not free for the next urgent box. 20 seeds of the storm
/// day: 10 min 89.12 % on time, 30 min 89.28 %.
pub(super) const VAN_FREE_SOON_MINUTES: f64 = 30.0;

/// After a storm window the drones take this long to reach the boxes waiting,
/// minutes: a box whose stability limit (less its margin) comes before the
/// window's end plus this goes by van.
pub(super) const RESUME_MINUTES: f64 = 20.0;

/// Ahead of a storm window (within `FLY_EARLY_MINUTES`), every pickup is due and
/// none waits for the last call: a box that waits into the window waits it out.
pub(super) fn fly_early(ctx: &Ctx<'_>, all: &mut [Pickup]) {
    let Some(storm) = storm_ahead(ctx.world, ctx.state) else {
        return;
    };
    if ctx.state.now < storm.from - minutes(FLY_EARLY_MINUTES) {
        return;
    }
    for p in all.iter_mut() {
        p.ready = true;
        p.held_for_last_call = false;
    }
}

/// Whether a flight of `p` landing at `arrive` would be caught by the storm
/// ahead: then it is not launched, the boxes are forecast held for the storm and
/// the coordinator hears why once; `held` gathers them for `vans_for_held`.
pub(super) fn held_for_storm(
    ctx: &mut Ctx<'_>,
    p: &Pickup,
    arrive: Instant,
    held: &mut BTreeMap<StationId, Vec<BoxId>>,
) -> bool {
    let Some(storm) = caught_out(ctx.world, ctx.state, arrive) else {
        return false;
    };
    let risk = Risk::HeldForStorm {
        resume: storm.to,
        limit: p.stability_deadline,
    };
    ctx.forecast_risk(&p.boxes, &risk);
    let mut news = false;
    for b in &p.boxes {
        let sb = ctx.state.boxes.get_mut(b).expect("pickup boxes exist");
        news |= !std::mem::replace(&mut sb.at_risk_alerted, true);
    }
    if news {
        ctx.alert(
            AlertKind::TubeAtRisk,
            Severity::Warning,
            p.station.as_str(),
            Reason::CaughtByStorm {
                arrive_at: arrive,
                from_at: storm.from,
                to_at: storm.to,
            },
        );
    }
    held.insert(p.station.clone(), p.boxes.clone());
    true
}

/// Boxes no drone may fly before the storm: those that cannot wait for the
/// drones after it go by van, most urgent first.
pub(super) fn vans_for_held(ctx: &mut Ctx<'_>, held: &BTreeMap<StationId, Vec<BoxId>>) {
    if held.is_empty() {
        return;
    }
    if let Some(clear) = expected_clear(ctx.world, ctx.state) {
        vans_until_clear(ctx, held, clear);
    }
}

/// With the drones not flying until `clear`, books vans for the waiting boxes
/// whose stability limit (less its margin) comes before the drones can reach them
/// after it, the most urgent centre first, each van round calling at the urgent
/// centres near it; the rest wait for the drones, forecast held for the storm.
pub(super) fn vans_until_clear(
    ctx: &mut Ctx<'_>,
    waiting: &BTreeMap<StationId, Vec<BoxId>>,
    clear: Instant,
) {
    let margin = minutes(ctx.world.params.stability_margin_minutes);
    let resume = clear + minutes(RESUME_MINUTES);
    let mut urgent: BTreeMap<StationId, Vec<BoxId>> = BTreeMap::new();
    for (station, boxes) in waiting {
        let (now, later): (Vec<BoxId>, Vec<BoxId>) = boxes.iter().cloned().partition(|b| {
            ctx.state
                .boxes
                .get(b)
                .is_some_and(|sb| sb.stability_deadline - margin < resume)
        });
        for b in &later {
            let limit = ctx.state.boxes[b].stability_deadline;
            let risk = Risk::HeldForStorm {
                resume: clear,
                limit,
            };
            ctx.forecast_risk(std::slice::from_ref(b), &risk);
        }
        if !now.is_empty() {
            urgent.insert(station.clone(), now);
        }
    }
    // Every centre, the most urgent first; vans take the urgent ones whenever
    // they can save them, and the rest while a van is free now (a van idle in
    // the storm is capacity lost for good; one booked far ahead is not free for
    // the next urgent box).
    let all = waiting;
    let mut order: Vec<(bool, Instant, StationId)> = all
        .iter()
        .map(|(s, boxes)| {
            let limit = boxes
                .iter()
                .filter_map(|b| ctx.state.boxes.get(b))
                .map(|b| b.stability_deadline)
                .min()
                .unwrap_or(clear);
            (!urgent.contains_key(s), limit, s.clone())
        })
        .collect();
    order.sort();
    let free_soon = ctx.state.now + minutes(VAN_FREE_SOON_MINUTES);
    let mut taken: BTreeSet<StationId> = BTreeSet::new();
    for (later, limit, station) in order {
        if taken.contains(&station) {
            continue;
        }
        let boxes = &all[&station];
        let pos = ctx.world.stations[&station].position;
        let Some(van) = ctx.quote_van_run(pos, boxes) else {
            if ctx.state.fleet_grounded() {
                super::vans::warn_grounded_without_van(ctx, boxes);
            }
            // Ahead of the window the boxes stay held for the storm (said once
            // by `held_for_storm`).
            continue;
        };
        if later
            && ctx
                .state
                .couriers
                .get(&van.courier)
                .is_some_and(|c| c.free_at > free_soon)
        {
            continue;
        }
        // In time with the margins kept, or at least within the stability limit
        // itself: the drones after the storm would be later still.
        let saves = van.deliver_at <= van.deadline || van.deliver_at <= limit;
        if !saves {
            // No van reaches the lab in time: the drones after the storm are as
            // good a chance, and the van stays for a box it can save.
            let risk = Risk::GroundedVanLate {
                lab: van.lab.clone(),
                arrival: van.deliver_at,
                deadline: van.deadline,
            };
            ctx.forecast_risk(boxes, &risk);
            continue;
        }
        let round = extend_van_run(ctx, (&station, boxes), &van, all, &taken);
        taken.extend(round.calls.iter().map(|c| c.station.clone()));
        round.book(ctx, &van.courier, &van.lab, "storm forecast: by van");
    }
}

/// From this long before a storm window, drones the pass left idle are sent for
/// boxes staff seal on call (`seal_for_last_flights`), minutes.
pub(super) const SEAL_AHEAD_MINUTES: f64 = 15.0;

/// Centres asked to seal on call for each idle drone: a drone calls at two on
/// one round when their boxes are light.
pub(super) const SEALS_PER_IDLE_DRONE: usize = 2;

/// A centre is asked to seal on call ahead of a storm at most this often: what
/// it draws in less would make a box mostly of box, minutes.
pub(super) const SEAL_AGAIN_MINUTES: f64 = 20.0;

/// Ahead of a storm, drones the pass left idle are work lost for good: every
/// serum tube a centre holds unsealed when the window opens waits it out, past
/// its two hours. So each idle drone that could still land before the window
/// has a centre seal what it has drawn now, the centre sealed longest ago first
/// (centres that spin their serum last); the boxes sealed are flown early like
/// every other.
pub(super) fn seal_for_last_flights(ctx: &mut Ctx<'_>, taken: &BTreeSet<StationId>) {
    let Some(storm) = storm_ahead(ctx.world, ctx.state) else {
        return;
    };
    let now = ctx.state.now;
    if now < storm.from - minutes(SEAL_AHEAD_MINUTES) {
        return;
    }
    let reserve = ctx.world.drone_spec.reserve_fraction;
    let idle: Vec<labflight_core::LatLon> = ctx
        .state
        .drones
        .values()
        .filter(|d| d.available(reserve))
        .map(|d| d.position)
        .collect();
    if idle.is_empty() {
        return;
    }
    let mut last_sealed: BTreeMap<&StationId, Instant> = BTreeMap::new();
    for b in ctx.state.boxes.values() {
        let at = last_sealed.entry(&b.station).or_insert(b.sealed_at);
        *at = (*at).max(b.sealed_at);
    }
    for (s, at) in &ctx.state.storm_seal_asked {
        let last = last_sealed.entry(s).or_insert(*at);
        *last = (*last).max(*at);
    }
    let waiting = ctx.state.waiting_boxes();
    let first_draw = ctx.world.service.first_draw;
    let again = minutes(SEAL_AGAIN_MINUTES);
    let mut order: Vec<(bool, Instant, StationId)> = ctx
        .world
        .stations
        .values()
        .filter(|s| !taken.contains(&s.id) && !waiting.contains_key(&s.id))
        .map(|s| {
            let last = last_sealed.get(&s.id).copied().unwrap_or(first_draw);
            (s.centrifuge, last, s.id.clone())
        })
        .filter(|(_, last, _)| now - *last >= again)
        .collect();
    order.sort();
    let spec = &ctx.world.drone_spec;
    let mut asked = 0;
    for (_, _, station) in order {
        if asked >= idle.len() * SEALS_PER_IDLE_DRONE {
            break;
        }
        let pos = ctx.world.stations[&station].position;
        let Some(lab) = ctx.world.nearest_labs(pos, 1).next() else {
            continue;
        };
        let frame = &ctx.world.frame;
        let to_centre = idle
            .iter()
            .map(|d| frame.distance_m(*d, pos))
            .fold(f64::INFINITY, f64::min);
        let metres = to_centre + frame.distance_m(pos, lab.position);
        let secs = metres / spec.cruise_airspeed_mps + 4.0 * spec.takeoff_landing_s;
        if now + minutes(secs / 60.0) > storm.from {
            continue;
        }
        crate::storm::ask_to_seal(ctx, station, &storm, "a drone takes");
        asked += 1;
    }
}
