//! Van rounds: a van booked for one centre's boxes calls at neighbouring centres
//! on its way to the lab while every box it carries stays within its deadline.
//! While the fleet is grounded the few vans carry everything, and a van that
//! serves one centre a trip leaves the others' tubes to pass their limits.

use crate::ctx::Ctx;
use crate::ctx::vans::{CourierRun, VanQuote};
use crate::planner::{arrival_deadline, earliest_stability, families_of};
use labflight_core::scenario::minutes;
use labflight_core::{BoxId, CourierId, Instant, LabId, LatLon, StationId};
use labflight_geo::SiteKind;
use std::collections::{BTreeMap, BTreeSet};

/// The most centres one van trip calls at (the first included).
pub const MAX_VAN_CALLS: usize = 4;

/// How many centres nearest a call of a round are weighed as another (the
/// `vans` policy's insertion weighs as many around each call).
pub(crate) const NEIGHBOURS_WEIGHED: usize = 6;

/// One call of a van round: the centre, the boxes it hands over, and when.
#[derive(Clone, Debug)]
pub struct VanCall {
    pub station: StationId,
    pub boxes: Vec<BoxId>,
    pub pickup_at: Instant,
}

/// A van trip: its calls in order (the quoted centre first) and the delivery at
/// the quoted lab, with each call's deadline there.
#[derive(Debug)]
pub struct VanRound {
    pub calls: Vec<VanCall>,
    pub deadlines: Vec<Instant>,
    pub deliver_at: Instant,
}

impl VanRound {
    /// Books the round on the quoted van: a run per call, one trip, delivered
    /// together at `lab`.
    pub fn book(self, ctx: &mut Ctx<'_>, courier: &CourierId, lab: &LabId, why: &str) {
        let Some(first) = self.calls.first() else {
            return;
        };
        let on_the_way = format!("{why}: on the way from {}", first.station);
        for (i, (call, deadline)) in self.calls.into_iter().zip(self.deadlines).enumerate() {
            let run = CourierRun {
                courier,
                station: &call.station,
                pad: None,
                boxes: call.boxes,
                lab,
                pickup_at: call.pickup_at,
                deliver_at: self.deliver_at,
                deadline,
                reason: if i == 0 { why } else { &on_the_way },
            };
            if i == 0 {
                ctx.book_courier_run(run);
            } else {
                ctx.book_further_call(run);
            }
        }
    }
}

/// The round that starts with the quoted run for `boxes` at `station` and adds,
/// while it can, the neighbour of the last call (waiting, not `taken`) whose call
/// delivers the whole load soonest with every box still within its deadline at
/// the quoted lab. With no such neighbour, the quoted run alone.
pub fn extend_van_run(
    ctx: &Ctx<'_>,
    (station, boxes): (&StationId, &[BoxId]),
    quote: &VanQuote,
    waiting: &BTreeMap<StationId, Vec<BoxId>>,
    taken: &BTreeSet<StationId>,
) -> VanRound {
    let world = ctx.world;
    let stop = minutes(world.courier_spec.stop_minutes);
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
    let Some(lab) = world.labs.get(&quote.lab) else {
        return round;
    };
    while round.calls.len() < MAX_VAN_CALLS {
        let last = round.calls.last().expect("a round has a first call");
        let from = world.stations[&last.station].position;
        let mut best: Option<(Instant, VanRound)> = None;
        for (site, _) in world
            .index
            .nearest(from, SiteKind::Station, NEIGHBOURS_WEIGHED + 1)
        {
            let id = StationId::new(&site.id);
            let in_round = round.calls.iter().any(|c| c.station == id);
            let Some(more) = waiting
                .get(&id)
                .filter(|_| !in_round && !taken.contains(&id))
            else {
                continue;
            };
            let at: LatLon = world.stations[&id].position;
            let pickup_at = last.pickup_at + world.road_time(from, at) + stop;
            let deliver_at = pickup_at + world.road_time(at, lab.position) + stop;
            if best.as_ref().is_some_and(|(d, _)| *d <= deliver_at) {
                continue;
            }
            let mut calls = round.calls.clone();
            calls.push(VanCall {
                station: id,
                boxes: more.clone(),
                pickup_at,
            });
            if let Some(deadlines) = in_time(ctx, &calls, lab, deliver_at) {
                best = Some((
                    deliver_at,
                    VanRound {
                        calls,
                        deadlines,
                        deliver_at,
                    },
                ));
            }
        }
        let Some((_, longer)) = best else {
            break;
        };
        round = longer;
    }
    round
}

/// Each call's deadline at `lab` for a delivery at `deliver_at`, when every box
/// of every call makes its own; `None` when one does not or the lab cannot take
/// them then.
pub(crate) fn in_time(
    ctx: &Ctx<'_>,
    calls: &[VanCall],
    lab: &labflight_core::Lab,
    deliver_at: Instant,
) -> Option<Vec<Instant>> {
    let boxes: Vec<Vec<_>> = calls
        .iter()
        .map(|c| {
            c.boxes
                .iter()
                .filter_map(|b| ctx.state.boxes.get(b))
                .collect()
        })
        .collect();
    let families = families_of(boxes.iter().flatten().copied());
    let result_at = ctx.predicted_result(lab, &families, deliver_at).ok()?;
    let deadlines: Vec<Instant> = boxes
        .iter()
        .map(|call| {
            let stability = earliest_stability(call.iter().copied());
            arrival_deadline(ctx.world, stability, result_at, deliver_at)
        })
        .collect();
    deadlines
        .iter()
        .all(|d| deliver_at <= *d)
        .then_some(deadlines)
}
