//! The `drone` policy's view of the waiting boxes: one pickup per centre, with the
//! lab of the earliest result and whether it is due; more made due while drones
//! are to spare; and the at-risk warning when a pickup would be late.

use super::basis::PickupBases;
use crate::ctx::Ctx;
use crate::planner::LabChoice;
use crate::policy::base::alert_untestable;
use crate::policy::weighing::approach_from_nearest;
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Alternative, Severity};
use labflight_core::forecast::Risk;
use labflight_core::scenario::minutes;
use labflight_core::{BoxId, Instant, LabId, StationId};

/// A centre with boxes waiting, and what a flight for them would look like.
#[derive(Clone)]
pub(super) struct Pickup {
    pub(super) station: StationId,
    pub(super) boxes: Vec<BoxId>,
    pub(super) payload_kg: f64,
    pub(super) lab: LabChoice,
    pub(super) lab_alternatives: Vec<Alternative>,
    pub(super) deadline: Instant,
    /// When the first of its tubes passes its stability limit: between pickups
    /// due at the same time (at the last draw, all those already late for the
    /// cutoff), the one that would otherwise be redrawn goes first.
    pub(super) stability_deadline: Instant,
    /// When the pass treats it as due: its deadline, a little sooner the more
    /// tubes it holds (`tubes_head_start`); from the last draw on, sooner when a
    /// tube would reach the lab within `stability_priority_minutes` of its
    /// stability limit then (a redraw weighs more than a late result).
    pub(super) urgent_at: Instant,
    /// When the boxes would reach the lab on a flight of their own by the nearest
    /// free drone: past `deadline` means they are late whatever flies them.
    pub(super) earliest_arrival: Instant,
    pub(super) ready: bool,
    /// Waits for the centre's last call (see `LAST_CALL_HOLD_MINUTES`): it stays
    /// on the ground even with drones to spare.
    pub(super) held_for_last_call: bool,
    /// On a relay pickup (`lab.relay`), when a van would deliver the boxes
    /// instead (`None`: no van could), said in the mission's why.
    pub(super) relay_beats_van: Option<Instant>,
}

impl Pickup {
    /// The labs besides the chosen one that can take the boxes, earliest predicted
    /// result first.
    pub(super) fn other_labs(&self) -> Vec<LabId> {
        crate::policy::weighing::other_labs(&self.lab_alternatives, &self.lab.lab)
    }
}

/// The share of the fleet kept free for pickups about to fall due while the rest
/// fly pickups early (see `fly_early_while_drones_spare`).
pub(super) const SPARE_FLEET_KEPT: f64 = 0.2;

/// Makes pickups still inside their batching window due, earliest deadline first,
/// while more drones stand free than due pickups need, keeping `SPARE_FLEET_KEPT`
/// of the fleet free. A drone standing idle while boxes wait is capacity lost for
/// good: after the first seals of the morning the fleet is busy until noon, and
/// boxes that fly before the peak leave drones for it (21 seeds: 99.30 % on time
/// without it, 99.46 % with it; 10 % and 30 % kept did worse).
pub(super) fn fly_early_while_drones_spare(ctx: &Ctx<'_>, all: &mut [Pickup]) {
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
pub(super) fn drones_to_spare(ctx: &Ctx<'_>, all: &[Pickup]) -> usize {
    let due = all.iter().filter(|p| p.ready).count();
    free_beyond_kept(ctx).saturating_sub(due)
}

/// How many drones stand free beyond the `SPARE_FLEET_KEPT` share of the fleet.
pub(super) fn free_beyond_kept(ctx: &Ctx<'_>) -> usize {
    let kept = (ctx.state.drones.len() as f64 * SPARE_FLEET_KEPT).ceil() as usize;
    let reserve = ctx.world.drone_spec.reserve_fraction;
    let free = ctx
        .state
        .drones
        .values()
        .filter(|d| d.available(reserve))
        .count();
    free.saturating_sub(kept)
}

/// How long before the last draw a pickup that can still make its deadline after
/// the last call waits for it, minutes.
pub(super) const LAST_CALL_HOLD_MINUTES: f64 = 30.0;

/// Every centre with waiting boxes, with its lab choice and whether it is due now;
/// what each centre weighs apart from the clock kept in `bases` between passes.
pub(super) fn pickups(ctx: &mut Ctx<'_>, bases: &mut PickupBases) -> Vec<Pickup> {
    let now = ctx.state.now;
    let margin = minutes(ctx.world.params.deadline_margin_minutes);
    let window = minutes(ctx.world.params.batching_window_minutes);
    let max_payload = ctx.world.drone_spec.max_payload_kg;
    let no_more_draws = now >= ctx.world.service.last_draw;
    let waiting = ctx.state.waiting_boxes();
    let mut out = Vec::new();
    for (station, waiting) in waiting {
        let waiting_count = waiting.len();
        let basis = bases.basis(ctx, &station, waiting);
        if !basis.untestable.is_empty() {
            alert_untestable(ctx, &basis.untestable);
        }
        if basis.boxes.is_empty() {
            continue;
        }
        let boxes = basis.boxes.clone();
        let pos = ctx.world.stations[&station].position;
        let approach = approach_from_nearest(ctx, pos);
        let payload_kg = basis.payload_kg;
        let oldest_seal = basis.oldest_seal.unwrap_or(now);
        let stability_deadline = basis.stability_deadline.unwrap_or(ctx.world.service.cutoff);
        let (lab, lab_alternatives) = basis.labs.choose(ctx.world, now + approach, now);
        let Some(lab) = lab else {
            ctx.forecast_risk(&boxes, &Risk::NoLab);
            for b in &boxes {
                let sb = ctx.state.boxes.get_mut(b).expect("waiting box exists");
                if !std::mem::replace(&mut sb.at_risk_alerted, true) {
                    let labs: Vec<_> = lab_alternatives
                        .iter()
                        .filter_map(|a| {
                            Some(Reason::LabVerdict {
                                lab: a.lab.clone()?,
                                why: Box::new(a.reason.clone()?),
                            })
                        })
                        .collect();
                    ctx.alert(
                        AlertKind::TubeAtRisk,
                        Severity::Critical,
                        b.as_str(),
                        Reason::NoLabTakesBox { labs },
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
        // What the plan expects: collected now when due, else when it falls due
        // (its batching window closes, its slack shrinks to the window, or the
        // last call).
        let due_at = if ready {
            now
        } else if waits_for_last_call {
            ctx.world.service.last_draw
        } else {
            (oldest_seal + window).min(lab.deadline - margin - window - (arrive - now))
        }
        .max(now);
        ctx.forecast_planned(
            &boxes,
            &lab.lab,
            Some(due_at + approach),
            due_at + (arrive - now),
        );
        // From the last draw on every pickup is due at once, most by the cutoff's
        // bound, and a box still in time for its limit must not wait behind them:
        // it ranks `stability_priority_minutes` before its limit (before the last
        // draw its deadline keeps `stability_margin_minutes`). A pickup of many
        // tubes ranks a little sooner (`tubes_head_start`), one ranked by its
        // stability limit the most.
        let priority = if no_more_draws {
            ctx.world.params.stability_priority_minutes
        } else {
            ctx.world.params.stability_margin_minutes
        };
        let urgent_at = (lab.deadline - tubes_head_start(basis.tubes))
            .min(stability_deadline - minutes(priority) - tubes_head_start(TUBES_COUNTED));
        out.push(Pickup {
            station,
            deadline: lab.deadline,
            stability_deadline,
            urgent_at,
            earliest_arrival: arrive,
            boxes,
            payload_kg,
            lab,
            lab_alternatives,
            ready,
            held_for_last_call: waits_for_last_call,
            relay_beats_van: None,
        });
    }
    out
}

/// Alerts once per box when its predicted lab arrival is past its deadline.
pub(super) fn warn_if_late(ctx: &mut Ctx<'_>, p: &Pickup, arrive: Option<Instant>) {
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
                Some(arrive_at) => Reason::PredictedLate {
                    lab: p.lab.lab.clone(),
                    arrive_at,
                    due_at: p.deadline,
                },
                None => Reason::NoDroneFree { due_at: p.deadline },
            };
            ctx.alert(AlertKind::TubeAtRisk, Severity::Warning, b.as_str(), msg);
        }
    }
}

/// How much sooner than its deadline a pickup of `tubes` tubes ranks:
/// `TUBE_HEAD_START_SECONDS` a tube, counting up to `TUBES_COUNTED`. With a
/// short fleet the pickups flown last are late, above all at the 11:30 wave,
/// when every centre's pickup is due at once, most by the cutoff's bound:
/// ranked by deadline alone, a box of one tube due a few minutes sooner went
/// before a centre's twenty, and the twenty were late. A pickup ranked by its
/// stability limit gets the largest head start, so none about to pass its limit
/// falls behind a pickup it went before (a redraw weighs more than a late
/// result). 24 drones, seeds 1-50: 30 -> 41 seeds at 99.5 %, 51-100: 26 -> 40,
/// 0 violations; 20 drones 153 -> 126 violations; storm 90.12 -> 90.74 %.
/// Measured and not kept: only from the last draw on (38 and 36 seeds); the
/// stability bound given only the pickup's own head start (all day: 44 and 37
/// seeds, 1 violation, 141 at 20 drones; from the last draw: 42 and 40, 201 at
/// 20 drones) or none (44 seeds, 241 violations at 20 drones). 15 to 240 s a
/// tube measured within two seeds of 60 s.
fn tubes_head_start(tubes: usize) -> chrono::Duration {
    chrono::Duration::seconds(TUBE_HEAD_START_SECONDS * tubes.min(TUBES_COUNTED) as i64)
}

/// See `tubes_head_start`.
const TUBE_HEAD_START_SECONDS: i64 = 60;

/// See `tubes_head_start`.
const TUBES_COUNTED: usize = 20;
