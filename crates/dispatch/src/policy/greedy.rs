//! The `greedy` baseline: boxes in the order they were sealed, each on its own
//! flight, with the nearest free drone that has the battery for it, to the
//! centre's group lab (or the nearest lab that runs the tests). No batching, no
//! deadlines, no vans: what dispatching without planning looks like.

use super::base::{Policy, recover_stranded, stranded_boxes};
use crate::ctx::Ctx;
use crate::planner::evaluate_drone;
use crate::state::BoxStatus;
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Alternative, Explanation, Severity};

#[derive(Debug)]
pub struct Greedy;

impl Policy for Greedy {
    fn name(&self) -> &'static str {
        "greedy"
    }

    /// First come, first served: every box flies alone.
    fn rides_along(&self) -> bool {
        false
    }

    fn plan(&mut self, ctx: &mut Ctx<'_>) {
        recover_stranded(ctx, &stranded_boxes(ctx.state));
        if ctx.state.fleet_grounded() {
            return;
        }
        let mut queue: Vec<_> = ctx
            .state
            .boxes
            .values()
            .filter(|b| b.status == BoxStatus::Waiting)
            .map(|b| (b.sealed_at, b.id.clone()))
            .collect();
        queue.sort();
        for (_, box_id) in queue {
            let b = ctx.state.boxes[&box_id].clone();
            let station = &ctx.world.stations[&b.station];
            let group_lab = ctx.world.group_labs.get(station.group.as_str()).cloned();
            let now = ctx.state.now;
            let only_box = std::slice::from_ref(&box_id);
            let (mut lab, _) = ctx.choose_lab(
                station.position,
                only_box,
                b.payload_kg,
                now,
                group_lab.as_ref(),
            );
            if lab.is_none() {
                lab = ctx
                    .choose_lab(station.position, only_box, b.payload_kg, now, None)
                    .0;
            }
            let Some(lab) = lab else {
                warn_once(ctx, &box_id, Reason::NoLabRunsEveryTest);
                continue;
            };
            let candidates = ctx.nearest_available(station.position, 4);
            if candidates.is_empty() {
                return; // no free drone: everything else waits its turn
            }
            let mut assigned = false;
            for id in candidates {
                let drone = ctx.state.drones[&id].clone();
                if let Ok(option) = evaluate_drone(
                    ctx.world,
                    ctx.state,
                    ctx.cache,
                    &drone,
                    station.position,
                    b.payload_kg,
                    &lab.leg,
                ) {
                    let why = Explanation::new(
                        Reason::FirstComeFirstServed { drone: id.clone() },
                        vec![Alternative::new(
                            Some(id.clone()),
                            Some(lab.lab.clone()),
                            0.0,
                            Reason::Chosen,
                            ctx.world.offset,
                        )],
                        ctx.world.offset,
                    );
                    let station_id = b.station.clone();
                    ctx.assign_drone(
                        &id,
                        &station_id,
                        vec![box_id.clone()],
                        &lab,
                        &option,
                        Vec::new(),
                        b.payload_kg,
                        why,
                    );
                    assigned = true;
                    break;
                }
            }
            if !assigned {
                warn_once(ctx, &box_id, Reason::NoDroneInRange);
            }
        }
    }
}

fn warn_once(ctx: &mut Ctx<'_>, box_id: &labflight_core::BoxId, why: Reason) {
    if let Some(b) = ctx.state.boxes.get_mut(box_id)
        && !std::mem::replace(&mut b.at_risk_alerted, true)
    {
        ctx.alert(
            AlertKind::NoFeasibleDrone,
            Severity::Warning,
            box_id.as_str(),
            why,
        );
    }
}
