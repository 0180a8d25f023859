//! When the `drone` policy sends a van: boxes no drone could fly even from the
//! nearest charger (unless a relay delivers them sooner, `relay`), a pickup no drone can take in time (the van's last call), and
//! everything while the fleet is grounded.

use super::pickups::Pickup;
use super::reach::{flyable_at_best, leg_to_lab};
use crate::ctx::Ctx;
use crate::planner::earliest_stability;
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Severity};
use labflight_core::forecast::Risk;
use labflight_core::{BoxId, StationId};
use std::collections::{BTreeMap, BTreeSet};

/// How long before a van could no longer make a pickup's deadline it is sent,
/// when no drone can take the pickup, minutes.
pub(super) const VAN_LAST_CALL_MINUTES: i64 = 15;

/// How much time to spare a van must have to take a pickup no drone can take now
/// (a drone may still come for one it would deliver only just in time), minutes.
pub(super) const VAN_TO_SPARE_MINUTES: i64 = 30;

/// The share of the vans that must stay free (within `VAN_FREE_WITHIN_MINUTES`)
/// for a van to go for boxes with time to spare (see `vans_to_spare`).
pub(super) const VANS_KEPT_FREE: f64 = 0.5;

/// How soon a van must be free to count as free, minutes.
pub(super) const VAN_FREE_WITHIN_MINUTES: i64 = 30;

/// Whether, besides `van`, at least `VANS_KEPT_FREE` of the vans are free within
/// `VAN_FREE_WITHIN_MINUTES`. Vans are the only carrier for a box no drone can
/// fly, and a round takes an hour: spent in the morning peak on boxes a drone
/// could still take, they leave a far centre's heavy box waiting past its limit
/// (21 seeds: 99.50 % on time with no vans kept, 99.57 % with half kept, worst
/// seed 99.08 % -> 99.32 %; a third, two thirds and all but one of six measured
/// 99.53 %, 99.55 % and 99.53 %).
pub(super) fn vans_to_spare(ctx: &Ctx<'_>, van: &labflight_core::CourierId) -> bool {
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
pub(super) fn van_last_call(ctx: &mut Ctx<'_>, p: &Pickup, pos: labflight_core::LatLon) -> bool {
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

/// Books a van now for the boxes of a pickup that no drone can fly even alone
/// with a full battery from the nearest charger (a far centre at the edge of
/// range): waiting until they are due would only put them further back in the
/// vans' queue. Whether any box is left to fly.
pub(super) fn vans_for_beyond_reach(ctx: &mut Ctx<'_>, p: &mut Pickup) -> bool {
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
    let van = ctx.quote_van_run(pos, &beyond);
    let van_at = van.as_ref().map(|v| v.deliver_at);
    if super::relay::relay_instead(ctx, p, &beyond, van_at) {
        return true;
    }
    if super::hub::hub_instead(ctx, p, &beyond, van_at) {
        return rest_within_reach(ctx, p, &beyond);
    }
    let Some(van) = van else {
        ctx.forecast_risk(&beyond, &Risk::BeyondRangeNoVan);
        // Said of the centre: the boxes behind these wait on them too.
        let mut news = false;
        for b in &beyond {
            let sb = ctx.state.boxes.get_mut(b).expect("pickup boxes exist");
            news |= !std::mem::replace(&mut sb.at_risk_alerted, true);
        }
        if news {
            let boxes = beyond.clone();
            ctx.alert(
                AlertKind::NoFeasibleDrone,
                Severity::Critical,
                p.station.as_str(),
                Reason::BeyondRangeNoVan { boxes },
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
    rest_within_reach(ctx, p, &beyond)
}

/// Takes the `beyond` boxes, gone by van or hub leg, out of `p`: whether any box
/// is left to fly, with its leg to the lab.
fn rest_within_reach(ctx: &mut Ctx<'_>, p: &mut Pickup, beyond: &[BoxId]) -> bool {
    let pos = ctx.world.stations[&p.station].position;
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

/// With the fleet grounded and no van to send, the boxes wait for the weather:
/// the coordinator hears of each once, with the stability limit it is up against,
/// while there is still time to find another way to the lab.
pub(super) fn warn_grounded_without_van(ctx: &mut Ctx<'_>, boxes: &[BoxId]) {
    for b in boxes {
        if let Some(limit) = ctx.state.boxes.get(b).map(|sb| sb.stability_deadline) {
            ctx.forecast_risk(std::slice::from_ref(b), &Risk::GroundedNoVan { limit });
        }
        let sb = ctx.state.boxes.get_mut(b).expect("waiting box exists");
        if std::mem::replace(&mut sb.at_risk_alerted, true) {
            continue;
        }
        let limit = sb.stability_deadline;
        ctx.alert(
            AlertKind::TubeAtRisk,
            Severity::Warning,
            b.as_str(),
            Reason::GroundedNoVan { limit_at: limit },
        );
    }
}

/// With the fleet grounded (and no storm forecast saying when it clears: then
/// `storm::vans_until_clear`), vans take the boxes whose deadlines a van can
/// still meet.
pub(super) fn vans_while_grounded(ctx: &mut Ctx<'_>, waiting: &BTreeMap<StationId, Vec<BoxId>>) {
    // Centres a van round of this pass already calls at.
    let mut taken: BTreeSet<StationId> = BTreeSet::new();
    for (station, boxes) in waiting {
        if taken.contains(station) {
            continue;
        }
        let pos = ctx.world.stations[station].position;
        let Some(van) = ctx.quote_van_run(pos, boxes) else {
            warn_grounded_without_van(ctx, boxes);
            continue;
        };
        if van.deliver_at <= van.deadline {
            let round = crate::policy::van_round::extend_van_run(
                ctx,
                (station, boxes),
                &van,
                waiting,
                &taken,
            );
            taken.extend(round.calls.iter().map(|c| c.station.clone()));
            round.book(ctx, &van.courier, &van.lab, "fleet grounded: by van");
        } else {
            let risk = Risk::GroundedVanLate {
                lab: van.lab.clone(),
                arrival: van.deliver_at,
                deadline: van.deadline,
            };
            ctx.forecast_risk(boxes, &risk);
            for b in boxes {
                let sb = ctx.state.boxes.get_mut(b).expect("waiting box exists");
                if !std::mem::replace(&mut sb.at_risk_alerted, true) {
                    ctx.alert(
                        AlertKind::TubeAtRisk,
                        Severity::Warning,
                        b.as_str(),
                        Reason::GroundedVanLate {
                            lab: van.lab.clone(),
                            deliver_at: van.deliver_at,
                            due_at: van.deadline,
                        },
                    );
                }
            }
        }
    }
}
