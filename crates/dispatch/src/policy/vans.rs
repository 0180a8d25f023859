//! The `vans` baseline, the honest one: the `drone` policy's planning with vans
//! only, so analysts can ask how many vans would do what the drones do. Centres
//! with waiting boxes are taken earliest deadline first (the latest delivery that
//! keeps every tube within its stability limit and its result within the cutoff),
//! each by the idle van that reaches it first, to the lab with the earliest
//! predicted result that runs every test its boxes need; the van calls on the way
//! at neighbouring centres with boxes waiting, each inserted where it delays the
//! delivery least, while every box of the round still makes its deadline (a
//! round). A centre goes when it is due (its oldest box has waited the batching
//! window, its deadline is that close, a coordinator asked, or the draws are
//! over); while more vans stand idle than a kept share, the next centres go
//! early. A box no van can bring in time is alerted once (`VanLate`); with no van
//! at all, `NoVan`. Boxes stranded by a drone go by van as under every policy.

use super::base::{Policy, alert_untestable, load_boxes_up_to, recover_stranded, stranded_boxes};
use super::van_round::{MAX_VAN_CALLS, NEIGHBOURS_WEIGHED, VanCall, VanRound, in_time};
use crate::ctx::Ctx;
use crate::ctx::vans::VanQuote;
use labflight_core::command::{AlertKind, Severity};
use labflight_core::forecast::Risk;
use labflight_core::scenario::minutes;
use labflight_core::{BoxId, CourierId, Instant, LatLon, Reason, StationId};
use labflight_geo::SiteKind;
use std::collections::{BTreeMap, BTreeSet};

/// The share of the vans kept idle while the others go for centres not yet due:
/// a van is gone for most of an hour, and the morning peak needs them.
pub(crate) const VANS_KEPT_IDLE: f64 = 0.2;

#[derive(Debug)]
pub struct VanPlanner;

/// A centre with boxes waiting, as one van would take them: the boxes one lab
/// can test together, oldest first, and the quote of the first van there.
struct Pickup {
    station: StationId,
    position: LatLon,
    boxes: Vec<BoxId>,
    oldest_seal: Instant,
    quote: VanQuote,
}

impl Policy for VanPlanner {
    fn name(&self) -> &'static str {
        "vans"
    }

    fn plan(&mut self, ctx: &mut Ctx<'_>) {
        recover_stranded(ctx, &stranded_boxes(ctx.state));
        let waiting = ctx.state.waiting_boxes();
        let mut pickups = pickups(ctx, &waiting);
        pickups.sort_by(|a, b| {
            a.quote
                .deadline
                .cmp(&b.quote.deadline)
                .then_with(|| a.oldest_seal.cmp(&b.oldest_seal))
                .then_with(|| a.station.cmp(&b.station))
        });
        let mut taken: BTreeSet<StationId> = BTreeSet::new();
        // The due centres first, then, while vans are to spare, the next ones.
        for early in [false, true] {
            for p in &pickups {
                if taken.contains(&p.station) || is_due(ctx, p) == early {
                    continue;
                }
                if early && !vans_to_spare(ctx) {
                    return;
                }
                send(ctx, p, &waiting, &mut taken);
            }
        }
    }
}

/// Every centre with boxes waiting that some lab can test, with the first van's
/// quote; alerts, once each, boxes no lab can test, boxes no van can bring in
/// time and boxes with no van at all.
fn pickups(ctx: &mut Ctx<'_>, waiting: &BTreeMap<StationId, Vec<BoxId>>) -> Vec<Pickup> {
    let mut out = Vec::new();
    for (station, all) in waiting {
        alert_untestable(ctx, all);
        // Those one lab can test together; the others wait for another van.
        let boxes = load_boxes_up_to(ctx, all, f64::INFINITY);
        if boxes.is_empty() {
            continue;
        }
        let position = ctx.world.stations[station].position;
        let oldest_seal = boxes
            .iter()
            .filter_map(|b| ctx.state.boxes.get(b))
            .map(|b| b.sealed_at)
            .min()
            .unwrap_or(ctx.state.now);
        let Some(quote) = ctx.quote_van_run(position, &boxes) else {
            // No van at all, or none of the nearest labs runs their tests.
            let why = if ctx.state.couriers.is_empty() {
                Reason::NoVan
            } else {
                Reason::NoLabRunsEveryTest
            };
            // Said of every box waiting there: those left out of this load wait
            // on it too.
            warn_once(ctx, all, |_| (None, why.clone()));
            continue;
        };
        if quote.deliver_at > quote.deadline {
            let q = &quote;
            warn_once(ctx, &boxes, |b| {
                let risk = if q.deliver_at > b.stability_deadline {
                    Risk::StabilityBeforeArrival {
                        lab: q.lab.clone(),
                        arrival: q.deliver_at,
                        limit: b.stability_deadline,
                    }
                } else {
                    Risk::ResultAfterCutoff {
                        lab: q.lab.clone(),
                        result: q.result_at,
                    }
                };
                let why = Reason::VanLate {
                    lab: q.lab.clone(),
                    deliver_at: q.deliver_at,
                    due_at: q.deadline,
                };
                (Some(risk), why)
            });
        } else {
            ctx.forecast_planned(&boxes, &quote.lab, Some(quote.pickup_at), quote.deliver_at);
        }
        out.push(Pickup {
            station: station.clone(),
            position,
            boxes,
            oldest_seal,
            quote,
        });
    }
    out
}

/// Alerts each of `boxes` not yet alerted with what `what` says of it (and its
/// risk in the forecast, if any).
fn warn_once(
    ctx: &mut Ctx<'_>,
    boxes: &[BoxId],
    what: impl Fn(&crate::state::SpecimenBox) -> (Option<Risk>, Reason),
) {
    for id in boxes {
        let Some(b) = ctx.state.boxes.get_mut(id) else {
            continue;
        };
        if std::mem::replace(&mut b.at_risk_alerted, true) {
            continue;
        }
        let (risk, why) = what(b);
        if let Some(risk) = risk {
            ctx.forecast_risk(std::slice::from_ref(id), &risk);
        }
        ctx.alert(AlertKind::TubeAtRisk, Severity::Warning, id.as_str(), why);
    }
}

/// Whether a centre's van should leave now: its oldest box has waited the
/// batching window, its deadline is within the window of the van's delivery, a
/// coordinator asked for a pickup there, or the day's draws are over.
fn is_due(ctx: &Ctx<'_>, p: &Pickup) -> bool {
    let now = ctx.state.now;
    let window = minutes(ctx.world.params.batching_window_minutes);
    now - p.oldest_seal >= window
        || p.quote.deadline - p.quote.deliver_at <= window
        || ctx.state.forced_pickups.contains(&p.station)
        || now >= ctx.world.service.last_draw
}

/// Whether more vans stand idle than `VANS_KEPT_IDLE` of the fleet.
fn vans_to_spare(ctx: &Ctx<'_>) -> bool {
    let kept = (ctx.state.couriers.len() as f64 * VANS_KEPT_IDLE).ceil() as usize;
    idle_vans(ctx).count() > kept
}

/// The vans free now.
fn idle_vans<'c>(ctx: &'c Ctx<'_>) -> impl Iterator<Item = &'c crate::state::Courier> {
    let now = ctx.state.now;
    ctx.state
        .couriers
        .values()
        .filter(move |c| c.free_at <= now)
}

/// The idle van that reaches `at` first, with when (ties by id).
fn first_idle_van(ctx: &Ctx<'_>, at: LatLon) -> Option<(CourierId, Instant)> {
    let now = ctx.state.now;
    idle_vans(ctx)
        .map(|c| (now + ctx.world.road_time(c.free_position, at), &c.id))
        .min()
        .map(|(t, id)| (id.clone(), t))
}

/// Sends the first idle van for `p` (none idle: it waits for one), on a round
/// through the neighbouring centres that fit (`round_by_insertion`).
fn send(
    ctx: &mut Ctx<'_>,
    p: &Pickup,
    waiting: &BTreeMap<StationId, Vec<BoxId>>,
    taken: &mut BTreeSet<StationId>,
) {
    let Some(van) = first_idle_van(ctx, p.position) else {
        return;
    };
    let Some(quote) = ctx.quote_van_run_with(p.position, &p.boxes, van) else {
        return;
    };
    let round = round_by_insertion(ctx, (&p.station, &p.boxes), &quote, waiting, taken);
    taken.extend(round.calls.iter().map(|c| c.station.clone()));
    let why = if round.calls.len() > 1 {
        "van round: earliest deadline first, neighbours on the way"
    } else {
        "by van: earliest deadline first"
    };
    round.book(ctx, &quote.courier, &quote.lab, why);
}

/// The round that starts with the quoted call for `boxes` at `station` and
/// inserts, while it can (up to `MAX_VAN_CALLS` calls), the waiting centre near
/// one of its calls (not `taken`) whose boxes the quoted lab tests, at the place
/// in the round that delays the delivery least, with every box of every call
/// still within its deadline.
fn round_by_insertion(
    ctx: &Ctx<'_>,
    (station, boxes): (&StationId, &[BoxId]),
    quote: &VanQuote,
    waiting: &BTreeMap<StationId, Vec<BoxId>>,
    taken: &BTreeSet<StationId>,
) -> VanRound {
    let first = VanCall {
        station: station.clone(),
        boxes: boxes.to_vec(),
        pickup_at: quote.pickup_at,
    };
    let mut round = VanRound {
        deadlines: vec![quote.deadline],
        calls: vec![first],
        deliver_at: quote.deliver_at,
    };
    let world = ctx.world;
    let Some(lab) = world.labs.get(&quote.lab) else {
        return round;
    };
    if quote.deliver_at > quote.deadline {
        // Already late: no call may make it later.
        return round;
    }
    while round.calls.len() < MAX_VAN_CALLS {
        let mut near: BTreeSet<StationId> = BTreeSet::new();
        for call in &round.calls {
            let from = world.stations[&call.station].position;
            for (site, _) in world
                .index
                .nearest(from, SiteKind::Station, NEIGHBOURS_WEIGHED + 1)
            {
                near.insert(StationId::new(&site.id));
            }
        }
        let mut best: Option<VanRound> = None;
        for id in near {
            if taken.contains(&id) || round.calls.iter().any(|c| c.station == id) {
                continue;
            }
            let Some(more) = waiting.get(&id) else {
                continue;
            };
            // Only what the round's lab tests goes with it.
            let more: Vec<BoxId> = more
                .iter()
                .filter(|b| {
                    ctx.state
                        .boxes
                        .get(*b)
                        .is_some_and(|sb| world.lab_runs_all(&lab.id, &sb.families))
                })
                .cloned()
                .collect();
            if more.is_empty() {
                continue;
            }
            for at in 1..=round.calls.len() {
                let mut calls = round.calls.clone();
                calls.insert(
                    at,
                    VanCall {
                        station: id.clone(),
                        boxes: more.clone(),
                        pickup_at: quote.pickup_at,
                    },
                );
                let deliver_at = retime(ctx, &mut calls, lab.position);
                if best.as_ref().is_some_and(|b| b.deliver_at <= deliver_at) {
                    continue;
                }
                if let Some(deadlines) = in_time(ctx, &calls, lab, deliver_at) {
                    best = Some(VanRound {
                        calls,
                        deadlines,
                        deliver_at,
                    });
                }
            }
        }
        let Some(longer) = best else {
            break;
        };
        round = longer;
    }
    round
}

/// Times the calls of a round after the first (whose pickup is the quote's) along
/// the roads, and returns its delivery at the lab at `lab`.
fn retime(ctx: &Ctx<'_>, calls: &mut [VanCall], lab: LatLon) -> Instant {
    let world = ctx.world;
    let stop = minutes(world.courier_spec.stop_minutes);
    for i in 1..calls.len() {
        let from = world.stations[&calls[i - 1].station].position;
        let to = world.stations[&calls[i].station].position;
        calls[i].pickup_at = calls[i - 1].pickup_at + world.road_time(from, to) + stop;
    }
    let last = calls.last().expect("a round has a first call");
    let from = world.stations[&last.station].position;
    last.pickup_at + world.road_time(from, lab) + stop
}
