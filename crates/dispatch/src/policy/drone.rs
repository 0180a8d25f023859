//! The `drone` policy (told for users in docs/dispatch.md): earliest deadline
//! first, then earliest stability limit, over centres whose boxes are due,
//! batching a centre's boxes into one flight while the deadlines allow, choosing
//! the lab with the earliest predicted result and the drone with the earliest
//! pickup that has the battery for it; a pickup waits for a drone about to be
//! ready nearby (swapping, or landing at a lab it stays at) when that one would
//! pick up sooner than any idle drone. A flight calls at up to three more
//! neighbouring centres that are due too when every box still makes its deadline
//! or would be late on any flight (a round). What no drone can take now goes by
//! van if the van delivers with time to spare or at the last moment it still can;
//! otherwise a far centre no drone has the battery for gets one readied at a
//! charger. A box no drone could fly even from the nearest charger on a full
//! battery goes by van as soon as it is sealed, and a pickup too heavy for that
//! drone flies the boxes it can carry. In the half hour before the last draw, a
//! pickup that can wait for the last call waits, so one flight takes the
//! centre's last box too. A box a drone in trouble set down on a centre's pad flies
//! on with another drone when that beats a van (`stranded`). While the fleet is
//! grounded, vans take everything.

use super::{Policy, load_boxes, recover_stranded, stranded_boxes};
use crate::ctx::Ctx;
use crate::planner::{
    DroneOption, LabChoice, PlannedStop, earliest_stability, evaluate_drone, plan_leg,
};
use labflight_core::command::{AlertKind, Alternative, Explanation, Severity, Stop};
use labflight_core::scenario::minutes;
use labflight_core::{BoxId, DroneId, Instant, LabId, StationId};
use labflight_geo::index::SiteKind;
use std::collections::{BTreeSet, HashMap};

/// How many nearby idle drones are weighed per pickup.
pub(super) const CANDIDATES: usize = 8;

#[derive(Debug)]
pub struct DronePolicy;

/// A centre with boxes waiting, and what a flight for them would look like.
#[derive(Clone)]
struct Pickup {
    station: StationId,
    boxes: Vec<BoxId>,
    payload_kg: f64,
    lab: LabChoice,
    lab_alternatives: Vec<Alternative>,
    deadline: Instant,
    /// When the first of its tubes passes its stability limit: between pickups
    /// due at the same time (at the last draw, all those already late for the
    /// cutoff), the one that would otherwise be redrawn goes first.
    stability_deadline: Instant,
    /// When the boxes would reach the lab on a flight of their own by the nearest
    /// free drone: past `deadline` means they are late whatever flies them.
    earliest_arrival: Instant,
    ready: bool,
    /// Waits for the centre's last call (see `LAST_CALL_HOLD_MINUTES`): it stays
    /// on the ground even with drones to spare.
    held_for_last_call: bool,
}

impl Pickup {
    /// The labs besides the chosen one that can take the boxes, earliest predicted
    /// result first.
    fn other_labs(&self) -> Vec<LabId> {
        let mut others: Vec<_> = self
            .lab_alternatives
            .iter()
            .filter(|a| a.score >= 0.0)
            .filter_map(|a| a.lab.clone().map(|l| (a.score, l)))
            .filter(|(_, l)| *l != self.lab.lab)
            .collect();
        others.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        others.into_iter().map(|(_, l)| l).collect()
    }
}

impl Policy for DronePolicy {
    fn name(&self) -> &'static str {
        "drone"
    }

    fn plan(&mut self, ctx: &mut Ctx<'_>) {
        super::box_limits::tell_box_limits(ctx);
        let stranded = stranded_boxes(ctx.state);
        let for_vans = super::stranded::fly_stranded_on(ctx, stranded);
        recover_stranded(ctx, &for_vans);
        if ctx.state.fleet_grounded() {
            vans_while_grounded(ctx);
            return;
        }
        let mut all = pickups(ctx);
        all.sort_by(|a, b| {
            a.deadline
                .cmp(&b.deadline)
                .then_with(|| a.stability_deadline.cmp(&b.stability_deadline))
                .then_with(|| a.station.cmp(&b.station))
        });
        fly_early_while_drones_spare(ctx, &mut all);
        // Pickups no drone could fly from where it stands, even on a full battery.
        let mut beyond_where_drones_stand: Vec<Pickup> = Vec::new();
        // Centres whose boxes a mission of this round of planning already takes.
        let mut taken: BTreeSet<StationId> = BTreeSet::new();
        for p in all.iter_mut() {
            if !vans_for_beyond_reach(ctx, p) {
                taken.insert(p.station.clone());
            }
        }
        // Busy drones a pickup of this plan waits for.
        let mut awaited: BTreeSet<DroneId> = BTreeSet::new();
        // Busy drones soon ready, listed once per plan when first asked.
        let mut soon_ready: Option<Vec<SoonReady>> = None;
        let by_station: HashMap<&str, usize> = all
            .iter()
            .enumerate()
            .map(|(i, p)| (p.station.as_str(), i))
            .collect();
        for i in 0..all.len() {
            if !all[i].ready || taken.contains(&all[i].station) {
                continue;
            }
            let mut p = all[i].clone();
            let pos = ctx.world.stations[&p.station].position;
            if !keep_within_reach(ctx, pos, &mut p) {
                continue;
            }
            let candidates = ctx.nearest_available(pos, CANDIDATES);
            if candidates.is_empty() {
                if !van_last_call(ctx, &p, pos) {
                    warn_if_late(ctx, &p, None);
                }
                continue;
            }
            let (mut best, mut weighed) = weigh(ctx, &candidates, pos, p.payload_kg, &p.lab.leg);
            if best.is_none() && p.boxes.len() > 1 {
                // Too heavy for the range: take the oldest box alone.
                let single = ctx.state.boxes[&p.boxes[0]].payload_kg;
                if let Some(leg) = leg_to_lab(ctx, pos, &p, single) {
                    let (b, w) = weigh(ctx, &candidates, pos, single, &leg);
                    if b.is_some() {
                        p.boxes.truncate(1);
                        p.payload_kg = single;
                        p.lab.leg = leg;
                        best = b;
                        weighed = w;
                    }
                }
            }
            if best.is_none()
                && let Some((choice, (b, w))) = reachable_other_lab(ctx, &candidates, pos, &p)
            {
                // The lab with the earliest result is out of these drones' reach with
                // this load; a nearer one they can fly to beats a van.
                for alt in p.lab_alternatives.iter_mut() {
                    if alt.lab.as_ref() == Some(&choice.lab) {
                        alt.verdict = "chosen".into();
                    } else if alt.lab.as_ref() == Some(&p.lab.lab) {
                        alt.verdict =
                            "earliest result, but no drone can fly there with this load".into();
                    }
                }
                p.deadline = choice.deadline;
                p.lab = choice;
                best = b;
                weighed = w;
            }
            if best.is_none() && van_last_call(ctx, &p, pos) {
                continue;
            }
            if best.is_none() && charge_for(ctx, &candidates, pos, &p) {
                // A drone is being readied for it; the pickup is planned when it is.
                continue;
            }
            if best.is_none() {
                beyond_where_drones_stand.push(p.clone());
            }
            if let Some((_, option)) = &best
                && let Some(soon) = {
                    let busy = soon_ready.get_or_insert_with(|| soon_ready_drones(ctx));
                    ready_sooner(ctx, pos, &p, option.pickup_at, busy, &awaited)
                }
            {
                // A busy drone soon ready nearby picks up sooner than any idle
                // one: the pickup waits for it, the idle drone stays free.
                awaited.insert(soon);
                continue;
            }
            let Some((drone, mut option)) = best else {
                // Boxes beyond any drone's reach went by van before the loop.
                let reasons: Vec<_> = weighed.iter().map(|a| a.verdict.clone()).collect();
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
                        format!(
                            "no nearby drone can fly this pickup: {}",
                            reasons.join("; ")
                        ),
                    );
                }
                warn_if_late(ctx, &p, None);
                continue;
            };
            mark_chosen(&mut weighed, &drone);
            let arrive = option.pickup_at + p.lab.leg.duration();
            warn_if_late(ctx, &p, Some(arrive));
            let mut summary = format!(
                "{} box(es), {:.2} kg, due at the lab by {}: {drone} picks up first, {} gives the earliest result",
                p.boxes.len(),
                p.payload_kg,
                p.deadline.format("%H:%M UTC"),
                p.lab.lab
            );
            taken.insert(p.station.clone());
            let mut later_stops = Vec::new();
            let mut payload_kg = p.payload_kg;
            if let Some(round) =
                extend_into_round(ctx, &drone, &option, &p, &all, &by_station, &taken)
            {
                let calls: Vec<_> = round
                    .stops
                    .iter()
                    .map(|s| s.stop.station.as_str())
                    .collect();
                let more: usize = round.stops.iter().map(|s| s.stop.boxes.len()).sum();
                summary.push_str(&format!(
                    "; calls at {} on the way for {more} more box(es), arriving {} min later",
                    calls.join(", "),
                    round.added_minutes
                ));
                taken.extend(round.stops.iter().map(|s| s.stop.station.clone()));
                payload_kg = round.payload_kg;
                p.lab = round.lab;
                option = round.option;
                later_stops = round.stops;
            }
            weighed.extend(p.lab_alternatives.iter().cloned());
            let why = Explanation {
                summary,
                alternatives: weighed,
            };
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
        // Drones still free once every due pickup is planned fly to the charger
        // nearest a centre none of them could reach, keeping a share of the fleet
        // free; for a pickup due at the lab within the hour, even from that share.
        let mut spare = free_beyond_kept(ctx);
        let due_soon = ctx.state.now + minutes(SEND_TO_CHARGER_DUE_MINUTES);
        for p in beyond_where_drones_stand {
            if spare == 0 && p.deadline > due_soon {
                continue;
            }
            let pos = ctx.world.stations[&p.station].position;
            let candidates = ctx.nearest_available(pos, CANDIDATES);
            if send_to_charger_near(ctx, &candidates, pos, &p) == Some(true) {
                spare = spare.saturating_sub(1);
            }
        }
    }
}

/// A pickup no free drone can fly from where it stands, due at the lab within this
/// many minutes, gets a drone sent to the charger nearest it even when none is
/// spare: at the 11:30 wave the drones based near it are all out, and the box
/// otherwise waits for one to come back. 81 seeds: 99.89 % → 99.91 % on time;
/// 45 min did worse, 75 and 90 min and no limit no better.
const SEND_TO_CHARGER_DUE_MINUTES: f64 = 60.0;

/// How many centres nearest the last call of a round are weighed as its next call.
const NEIGHBOURS_WEIGHED: usize = 6;

/// The most centres one round calls at (the first included).
const MAX_ROUND_CALLS: usize = 4;

/// The most a round may delay boxes already late on their direct flight.
const LATE_DETOUR_MINUTES: i64 = 10;

/// A pickup extended into a round: the centres called at after the first on the
/// way to the lab, with the lab, the battery and the payload for the whole of it.
struct Round {
    stops: Vec<PlannedStop>,
    lab: LabChoice,
    option: DroneOption,
    payload_kg: f64,
    added_minutes: i64,
}

/// Extends the flight for `p` into a round while a neighbouring centre that is due
/// too can be called at: each time the one costing the least delay from the last
/// call, every box still within its deadline and the battery within its reserve.
/// A call on the way costs minutes; a flight of its own later costs a drone: with
/// the fleet the constraint, this is how it keeps up. `None` when no call fits.
#[allow(clippy::too_many_arguments)]
fn extend_into_round(
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

/// `round` with one more call: the ready neighbour of its last centre, not
/// `excluded`, that delays the arrival least while every box keeps its deadline
/// (boxes of the first centre already late on the direct flight may lose at most
/// `LATE_DETOUR_MINUTES` more) and the energy stays within `spendable`.
#[allow(clippy::too_many_arguments)]
fn next_call(
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
        .nearest(from, SiteKind::Station, NEIGHBOURS_WEIGHED + 1)
        .into_iter()
        .filter_map(|(site, _)| by_station.get(site.id.as_str()).map(|&i| &all[i]))
        .filter(|q| q.ready && !excluded(&q.station))
        .collect();
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
        let state: &crate::state::State = ctx.state;
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
        let refs: Vec<_> = p
            .boxes
            .iter()
            .chain(later_boxes())
            .map(|b| &state.boxes[b])
            .collect();
        let (Some(lab), _) = ctx.lab_times.get_mut().choose_lab(
            world,
            state,
            ctx.cache,
            at,
            &refs,
            payload_kg,
            pickup_at,
            Some(&round.lab.lab),
        ) else {
            continue;
        };
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
        let added_minutes = (arrive - arrival_so_far).num_minutes();
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

/// How long before a van could no longer make a pickup's deadline it is sent,
/// when no drone can take the pickup, minutes.
const VAN_LAST_CALL_MINUTES: i64 = 15;

/// How much time to spare a van must have to take a pickup no drone can take now
/// (a drone may still come for one it would deliver only just in time), minutes.
const VAN_TO_SPARE_MINUTES: i64 = 30;

/// The share of the vans that must stay free (within `VAN_FREE_WITHIN_MINUTES`)
/// for a van to go for boxes with time to spare (see `vans_to_spare`).
const VANS_KEPT_FREE: f64 = 0.5;

/// How soon a van must be free to count as free, minutes.
const VAN_FREE_WITHIN_MINUTES: i64 = 30;

/// Whether, besides `van`, at least `VANS_KEPT_FREE` of the vans are free within
/// `VAN_FREE_WITHIN_MINUTES`. Vans are the only carrier for a box no drone can
/// fly, and a round takes an hour: spent in the morning peak on boxes a drone
/// could still take, they leave a far centre's heavy box waiting past its limit
/// (21 seeds: 99.50 % on time with no vans kept, 99.57 % with half kept, worst
/// seed 99.08 % -> 99.32 %; a third, two thirds and all but one of six measured
/// 99.53 %, 99.55 % and 99.53 %).
fn vans_to_spare(ctx: &Ctx<'_>, van: &labflight_core::CourierId) -> bool {
    let kept = (ctx.state.couriers.len() as f64 * VANS_KEPT_FREE).ceil() as usize;
    let free_by = ctx.state.now + chrono::Duration::minutes(VAN_FREE_WITHIN_MINUTES);
    let free = ctx
        .state
        .couriers
        .values()
        .filter(|c| c.id != *van && c.free_at <= free_by)
        .count();
    free >= kept
}

/// Books a van for a pickup no drone can take now, when the van delivers it with
/// time to spare (and vans are to spare) or when waiting any longer would leave
/// even a van too late: at the peak every drone is flying, the vans mostly are
/// not. Whether it did.
fn van_last_call(ctx: &mut Ctx<'_>, p: &Pickup, pos: labflight_core::LatLon) -> bool {
    // A cheap bound first (a city re-plan asks this of every pickup without a
    // drone): the first van there, straight to the nearest lab, against the latest
    // any lab could take the boxes.
    let Some(nearest_lab) = ctx.world.nearest_labs(pos, 1).next() else {
        return false;
    };
    let Some(first_van) = ctx.earliest_courier(pos) else {
        return false;
    };
    let (_, earliest) = ctx.van_times(first_van.1, pos, nearest_lab);
    let latest = earliest_stability(p.boxes.iter().filter_map(|b| ctx.state.boxes.get(b)))
        .unwrap_or(ctx.world.service.cutoff)
        .min(ctx.world.service.cutoff);
    // After the cutoff every waiting box is late whatever carries it: one no drone
    // can take goes by van, late rather than never.
    let after_cutoff = ctx.state.now >= ctx.world.service.cutoff;
    if earliest > latest && !after_cutoff {
        return false;
    }
    let Some(van) = ctx.quote_van_run_with(pos, &p.boxes, first_van) else {
        return false;
    };
    let last_call = chrono::Duration::minutes(VAN_LAST_CALL_MINUTES);
    let to_spare = chrono::Duration::minutes(VAN_TO_SPARE_MINUTES);
    let in_time = van.deliver_at <= van.deadline;
    let with_room = van.deliver_at + to_spare <= van.deadline && vans_to_spare(ctx, &van.courier);
    let now_or_never = van.deliver_at + last_call > van.deadline;
    if !(in_time && (with_room || now_or_never)) && !after_cutoff {
        return false;
    }
    ctx.book_van_run(
        &p.station,
        p.boxes.clone(),
        &van,
        "no drone free in time: by van",
    );
    true
}

/// When no candidate has the battery for a pickup (a far centre), swaps the
/// battery of the nearest one standing at a charger that could fly it when full,
/// rather than leave the centre waiting for a drone that happens to be full.
/// Whether it did.
fn charge_for(
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
        if ideal_can_fly(ctx, from, pos, &p.lab.lab, p.payload_kg) {
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
fn send_to_charger_near(
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
        || !ideal_can_fly(ctx, pad_pos, pos, &p.lab.lab, p.payload_kg)
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
        crate::dispatcher::fly_empty(ctx, id, pad, reason);
        return Some(true);
    }
    None
}

/// How much sooner a busy drone soon ready must pick up than the best idle one
/// for the pickup to wait for it, minutes.
const READY_SOONER_MINUTES: f64 = 1.0;

/// A busy drone that will soon be ready with a fresh battery: when and where.
pub(super) struct SoonReady {
    ready: Instant,
    at: labflight_core::LatLon,
    drone: DroneId,
}

impl SoonReady {
    /// The soonest it could be at `pos` once ready: straight-line flying time
    /// bounds the real leg from below.
    pub(super) fn earliest_at(
        &self,
        world: &crate::world::World,
        pos: labflight_core::LatLon,
    ) -> Instant {
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

/// When and where a busy drone will be ready with a fresh battery: one swapping
/// at its pad, or one on a mission to a lab it will wait at (based near it), ready
/// once it has landed and swapped.
fn ready_where(
    ctx: &Ctx<'_>,
    d: &crate::state::Drone,
) -> Option<(Instant, labflight_core::LatLon)> {
    let world = ctx.world;
    match &d.status {
        crate::state::DroneStatus::Charging {
            ready_at: Some(ready),
            ..
        } => Some((*ready, d.position)),
        crate::state::DroneStatus::OnMission { mission } => {
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

/// Labs tried, besides the one with the earliest result, when no drone can reach it.
const OTHER_LABS_TRIED: usize = 2;

/// Another lab that can take the boxes and that one of `candidates` can reach
/// with them, the earliest predicted result first: its choice and the weighing.
fn reachable_other_lab(
    ctx: &mut Ctx<'_>,
    candidates: &[DroneId],
    pos: labflight_core::LatLon,
    p: &Pickup,
) -> Option<(LabChoice, Weighing)> {
    let now = ctx.state.now;
    for lab in p.other_labs().into_iter().take(OTHER_LABS_TRIED) {
        // A full drone standing at the centre is the best any candidate can do.
        if !ideal_can_fly(ctx, pos, pos, &lab, p.payload_kg) {
            continue;
        }
        let state: &crate::state::State = ctx.state;
        let refs: Vec<_> = p.boxes.iter().map(|b| &state.boxes[b]).collect();
        let (Some(choice), _) = ctx.lab_times.get_mut().choose_lab(
            ctx.world,
            state,
            ctx.cache,
            pos,
            &refs,
            p.payload_kg,
            now,
            Some(&lab),
        ) else {
            continue;
        };
        let weighing = weigh(ctx, candidates, pos, p.payload_kg, &choice.leg);
        if weighing.0.is_some() {
            return Some((choice, weighing));
        }
    }
    None
}

/// Whether a fully charged drone starting at `from` could pick up `payload_kg` at
/// `pos` and fly it to `lab`.
pub(super) fn ideal_can_fly(
    ctx: &mut Ctx<'_>,
    from: labflight_core::LatLon,
    pos: labflight_core::LatLon,
    lab: &labflight_core::LabId,
    payload_kg: f64,
) -> bool {
    let world = ctx.world;
    let Some(lab_pos) = world.labs.get(lab).map(|l| l.position) else {
        return false;
    };
    let state: &crate::state::State = ctx.state;
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
        let ideal = crate::state::Drone {
            id: DroneId::from("ideal"),
            position: from,
            pad: None,
            battery_pct: 100.0,
            status: crate::state::DroneStatus::Idle,
            paused: false,
            last_seen: state.now,
            home: None,
            link_lost: false,
            flights: 0,
        };
        evaluate_drone(world, state, cache, &ideal, pos, payload_kg, &leg).is_ok()
    })
}

/// Whether a drone with a full battery at the charger pad nearest the centre could
/// fly `payload_kg` from it to the chosen lab or another that can take the boxes.
fn flyable_at_best(
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

/// Books a van now for the boxes of a pickup that no drone can fly even alone
/// with a full battery from the nearest charger (a far centre at the edge of
/// range): waiting until they are due would only put them further back in the
/// vans' queue. Whether any box is left to fly.
fn vans_for_beyond_reach(ctx: &mut Ctx<'_>, p: &mut Pickup) -> bool {
    let pos = ctx.world.stations[&p.station].position;
    if flyable_at_best(ctx, pos, p, p.payload_kg) {
        // Then every box alone is too: the common case, asked once.
        return true;
    }
    let beyond: Vec<BoxId> = p
        .boxes
        .clone()
        .into_iter()
        .filter(|b| {
            let kg = ctx.state.boxes[b].payload_kg;
            !flyable_at_best(ctx, pos, p, kg)
        })
        .collect();
    if beyond.is_empty() {
        return true;
    }
    let Some(van) = ctx.quote_van_run(pos, &beyond) else {
        // Said of the centre: the boxes behind these wait on them too.
        let mut news = false;
        for b in &beyond {
            let sb = ctx.state.boxes.get_mut(b).expect("pickup boxes exist");
            news |= !std::mem::replace(&mut sb.at_risk_alerted, true);
        }
        if news {
            let names: Vec<_> = beyond.iter().map(|b| b.as_str()).collect();
            ctx.alert(
                AlertKind::NoFeasibleDrone,
                Severity::Critical,
                p.station.as_str(),
                format!(
                    "{} beyond single-flight range of every charger pad, and no van to take them",
                    names.join(", ")
                ),
            );
        }
        return true;
    };
    ctx.book_van_run(
        &p.station,
        beyond.clone(),
        &van,
        "beyond single-flight range of every charger pad: by van",
    );
    p.boxes.retain(|b| !beyond.contains(b));
    if p.boxes.is_empty() {
        return false;
    }
    p.payload_kg = p.boxes.iter().map(|b| ctx.state.boxes[b].payload_kg).sum();
    match leg_to_lab(ctx, pos, p, p.payload_kg) {
        Some(leg) => {
            p.lab.leg = leg;
            true
        }
        None => false,
    }
}

/// The loaded leg from the centre at `pos` to the pickup's lab with `payload_kg`:
/// what a narrowed pickup flies.
fn leg_to_lab(
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
fn keep_within_reach(ctx: &mut Ctx<'_>, pos: labflight_core::LatLon, p: &mut Pickup) -> bool {
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

/// Marks the drone's verdict among those `weigh` gave as the one chosen.
pub(super) fn mark_chosen(weighed: &mut [Alternative], drone: &DroneId) {
    for alt in weighed
        .iter_mut()
        .filter(|a| a.drone.as_ref() == Some(drone))
    {
        alt.verdict = "chosen".into();
    }
}

/// Weighs candidate drones for one pickup: the one with the earliest pickup, and every verdict.
pub(super) fn weigh(
    ctx: &mut Ctx<'_>,
    candidates: &[DroneId],
    pos: labflight_core::LatLon,
    payload_kg: f64,
    to_lab: &crate::planner::PlannedLeg,
) -> Weighing {
    let mut best: Option<(DroneId, DroneOption)> = None;
    let mut weighed = Vec::new();
    for id in candidates {
        let state: &crate::state::State = ctx.state;
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
                weighed.push(Alternative {
                    drone: Some(id.clone()),
                    lab: None,
                    score: (score * 10.0).round() / 10.0,
                    verdict: "later pickup".into(),
                });
                if best
                    .as_ref()
                    .is_none_or(|(_, b)| option.pickup_at < b.pickup_at)
                {
                    best = Some((id.clone(), option));
                }
            }
            Err(why) => weighed.push(Alternative {
                drone: Some(id.clone()),
                lab: None,
                score: -1.0,
                verdict: why.into(),
            }),
        }
    }
    (best, weighed)
}

/// The share of the fleet kept free for pickups about to fall due while the rest
/// fly pickups early (see `fly_early_while_drones_spare`).
const SPARE_FLEET_KEPT: f64 = 0.2;

/// Makes pickups still inside their batching window due, earliest deadline first,
/// while more drones stand free than due pickups need, keeping `SPARE_FLEET_KEPT`
/// of the fleet free. A drone standing idle while boxes wait is capacity lost for
/// good: after the first seals of the morning the fleet is busy until noon, and
/// boxes that fly before the peak leave drones for it (21 seeds: 99.30 % on time
/// without it, 99.46 % with it; 10 % and 30 % kept did worse).
fn fly_early_while_drones_spare(ctx: &Ctx<'_>, all: &mut [Pickup]) {
    let spare = drones_to_spare(ctx, all);
    for p in all
        .iter_mut()
        .filter(|p| !p.ready && !p.held_for_last_call)
        .take(spare)
    {
        p.ready = true;
    }
}

/// How many more drones stand free than the due pickups need, keeping
/// `SPARE_FLEET_KEPT` of the fleet free.
fn drones_to_spare(ctx: &Ctx<'_>, all: &[Pickup]) -> usize {
    let due = all.iter().filter(|p| p.ready).count();
    free_beyond_kept(ctx).saturating_sub(due)
}

/// How many drones stand free beyond the `SPARE_FLEET_KEPT` share of the fleet.
fn free_beyond_kept(ctx: &Ctx<'_>) -> usize {
    let kept = (ctx.state.drones.len() as f64 * SPARE_FLEET_KEPT).ceil() as usize;
    let free = ctx
        .state
        .drones
        .keys()
        .filter(|d| ctx.drone_available(d))
        .count();
    free.saturating_sub(kept)
}

/// How long before the last draw a pickup that can still make its deadline after
/// the last call waits for it, minutes.
const LAST_CALL_HOLD_MINUTES: f64 = 30.0;

/// Every centre with waiting boxes, with its lab choice and whether it is due now.
fn pickups(ctx: &mut Ctx<'_>) -> Vec<Pickup> {
    let now = ctx.state.now;
    let margin = minutes(ctx.world.params.deadline_margin_minutes);
    let window = minutes(ctx.world.params.batching_window_minutes);
    let max_payload = ctx.world.drone_spec.max_payload_kg;
    let no_more_draws = now >= ctx.world.service.last_draw;
    let waiting = ctx.state.waiting_boxes();
    let mut out = Vec::new();
    for (station, waiting) in waiting {
        let waiting_count = waiting.len();
        let boxes = load_boxes(ctx, &waiting);
        if boxes.is_empty() {
            continue;
        }
        let pos = ctx.world.stations[&station].position;
        let approach = approach_from_nearest(ctx, pos);
        // Borrow the boxes in place: cloning their manifests on every tick is the
        // dominant cost of a city-scale re-plan.
        let state: &crate::state::State = ctx.state;
        let refs: Vec<_> = boxes.iter().map(|b| &state.boxes[b]).collect();
        let payload_kg: f64 = refs.iter().map(|b| b.payload_kg).sum();
        let oldest_seal = refs.iter().map(|b| b.sealed_at).min().unwrap_or(now);
        let stability_deadline =
            earliest_stability(refs.iter().copied()).unwrap_or(ctx.world.service.cutoff);
        let (lab, lab_alternatives) = ctx.lab_times.get_mut().choose_lab(
            ctx.world,
            state,
            ctx.cache,
            pos,
            &refs,
            payload_kg,
            now + approach,
            None,
        );
        let Some(lab) = lab else {
            for b in &boxes {
                let sb = ctx.state.boxes.get_mut(b).expect("waiting box exists");
                if !std::mem::replace(&mut sb.at_risk_alerted, true) {
                    let why: Vec<_> = lab_alternatives
                        .iter()
                        .map(|a| {
                            format!(
                                "{}: {}",
                                a.lab.as_ref().map_or("", |l| l.as_str()),
                                a.verdict
                            )
                        })
                        .collect();
                    ctx.alert(
                        AlertKind::TubeAtRisk,
                        Severity::Critical,
                        b.as_str(),
                        format!("no lab can take this box now ({})", why.join("; ")),
                    );
                }
            }
            continue;
        };
        let arrive = now + approach + lab.leg.duration();
        let slack = lab.deadline - margin - arrive;
        // Shortly before the last draw, a pickup that can wait for the last call
        // does: one flight then takes the centre's last box too.
        let to_last_call = ctx.world.service.last_draw - now;
        let waits_for_last_call = !no_more_draws
            && to_last_call <= minutes(LAST_CALL_HOLD_MINUTES)
            && slack >= to_last_call
            && !ctx.state.forced_pickups.contains(&station);
        let ready = (slack <= window
            || now - oldest_seal >= window
            || ctx.state.forced_pickups.contains(&station)
            || payload_kg >= 0.6 * max_payload
            || waiting_count > boxes.len()
            || no_more_draws)
            && !waits_for_last_call;
        out.push(Pickup {
            station,
            deadline: lab.deadline,
            stability_deadline,
            earliest_arrival: arrive,
            boxes,
            payload_kg,
            lab,
            lab_alternatives,
            ready,
            held_for_last_call: waits_for_last_call,
        });
    }
    out
}

/// How long the nearest free drone would take to reach `pos` (a quarter of an
/// hour when none is free): when a pickup there would leave for the lab.
pub(super) fn approach_from_nearest(
    ctx: &mut Ctx<'_>,
    pos: labflight_core::LatLon,
) -> chrono::Duration {
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

/// Alerts once per box when its predicted lab arrival is past its deadline.
fn warn_if_late(ctx: &mut Ctx<'_>, p: &Pickup, arrive: Option<Instant>) {
    let now = ctx.state.now;
    let late = match arrive {
        Some(a) => a > p.deadline,
        None => now + p.lab.leg.duration() > p.deadline,
    };
    if !late {
        return;
    }
    for b in &p.boxes {
        let sb = ctx.state.boxes.get_mut(b).expect("pickup boxes exist");
        if !std::mem::replace(&mut sb.at_risk_alerted, true) {
            let msg = match arrive {
                Some(a) => format!(
                    "predicted at {} at {}, due by {}",
                    p.lab.lab,
                    a.format("%H:%M"),
                    p.deadline.format("%H:%M UTC")
                ),
                None => format!(
                    "no drone free; due at a lab by {}",
                    p.deadline.format("%H:%M UTC")
                ),
            };
            ctx.alert(AlertKind::TubeAtRisk, Severity::Warning, b.as_str(), msg);
        }
    }
}

/// With the fleet grounded and no van to send, the boxes wait for the weather:
/// the coordinator hears of each once, with the stability limit it is up against,
/// while there is still time to find another way to the lab.
fn warn_grounded_without_van(ctx: &mut Ctx<'_>, boxes: &[BoxId]) {
    for b in boxes {
        let sb = ctx.state.boxes.get_mut(b).expect("waiting box exists");
        if std::mem::replace(&mut sb.at_risk_alerted, true) {
            continue;
        }
        let limit = sb.stability_deadline;
        ctx.alert(
            AlertKind::TubeAtRisk,
            Severity::Warning,
            b.as_str(),
            format!(
                "fleet grounded and no van to send; its tubes' stability limit is {}",
                limit.format("%H:%M UTC")
            ),
        );
    }
}

/// With the fleet grounded, vans take the boxes whose deadlines a van can still meet.
fn vans_while_grounded(ctx: &mut Ctx<'_>) {
    let waiting = ctx.state.waiting_boxes();
    // Centres a van round of this pass already calls at.
    let mut taken: BTreeSet<StationId> = BTreeSet::new();
    for (station, boxes) in &waiting {
        if taken.contains(station) {
            continue;
        }
        let pos = ctx.world.stations[station].position;
        let Some(van) = ctx.quote_van_run(pos, boxes) else {
            warn_grounded_without_van(ctx, boxes);
            continue;
        };
        if van.deliver_at <= van.deadline {
            let round =
                super::van_round::extend_van_run(ctx, (station, boxes), &van, &waiting, &taken);
            taken.extend(round.calls.iter().map(|c| c.station.clone()));
            round.book(ctx, &van.courier, &van.lab, "fleet grounded: by van");
        } else {
            for b in boxes {
                let sb = ctx.state.boxes.get_mut(b).expect("waiting box exists");
                if !std::mem::replace(&mut sb.at_risk_alerted, true) {
                    ctx.alert(
                        AlertKind::TubeAtRisk,
                        Severity::Warning,
                        b.as_str(),
                        format!(
                            "fleet grounded and the first van reaches {} at {}, after the {} deadline",
                            van.lab,
                            van.deliver_at.format("%H:%M"),
                            van.deadline.format("%H:%M UTC")
                        ),
                    );
                }
            }
        }
    }
}
