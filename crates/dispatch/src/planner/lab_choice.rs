//! Choosing a lab for a pickup: every nearby lab weighed by its predicted result
//! under its lines, the earliest kept (`LabTimes::weigh_labs`).

use super::deadlines::*;
use super::lab_lines::*;
use super::routes::*;
use crate::state::{SpecimenBox, State};
use crate::world::World;
use labflight_core::command::Alternative;
use labflight_core::{Instant, LabId, LatLon, Reason};

/// A lab weighed for a pickup.
#[derive(Clone, Debug)]
pub struct LabChoice {
    /// The lab.
    pub lab: LabId,
    /// The loaded leg to it.
    pub leg: PlannedLeg,
    /// When the results would reach the centre, verified and reported.
    pub result_at: Instant,
    /// The latest arrival at this lab that keeps every tube within its limits and the cutoff (`arrival_deadline`).
    pub deadline: Instant,
}

impl LabTimes {
    /// The lab with the earliest predicted result for the boxes from `from`,
    /// departing at `depart` (only `only`, if given), and every lab weighed; each
    /// lab's lines remembered for the rest of the pass. Reached through
    /// `Ctx::choose_lab`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn weigh_labs(
        &mut self,
        world: &World,
        state: &State,
        cache: &mut RouteCache,
        from: LatLon,
        boxes: &[&SpecimenBox],
        payload_kg: f64,
        depart: Instant,
        only: Option<&LabId>,
    ) -> (Option<LabChoice>, Vec<Alternative>) {
        let families = families_of(boxes.iter().copied());
        let stability = earliest_stability(boxes.iter().copied());
        let mut best: Option<LabChoice> = None;
        let mut weighed = Vec::new();
        // The labs nearest to the pickup are the only ones that can give the earliest
        // result in practice; weighing a handful keeps a city-scale re-plan fast.
        let legs: LegsToLabs = match only {
            Some(id) => world
                .labs
                .get(id)
                .map(|lab| {
                    let leg = plan_leg(world, state, cache, from, lab.position, payload_kg);
                    (id.clone(), leg)
                })
                .into_iter()
                .collect(),
            None => cache.legs_to_labs(world, state, from, payload_kg),
        };
        for (id, leg) in legs.iter() {
            let lab = &world.labs[id];
            let Some(leg) = leg else {
                weighed.push(lab_alt(
                    world,
                    id,
                    f64::INFINITY,
                    Reason::NoRouteAroundNoFly,
                ));
                continue;
            };
            let arrive = depart + leg.duration();
            match self.result_at(world, state, lab, &families, arrive) {
                Err(why) => weighed.push(lab_alt(world, id, f64::INFINITY, why)),
                Ok(result_at) => {
                    let deadline = arrival_deadline(world, stability, result_at, arrive);
                    let score = (result_at - depart).num_seconds() as f64 / 60.0;
                    weighed.push(lab_alt(world, id, score, Reason::PredictedResultLater));
                    if best.as_ref().is_none_or(|b| result_at < b.result_at) {
                        best = Some(LabChoice {
                            lab: id.clone(),
                            leg: leg.clone(),
                            result_at,
                            deadline,
                        });
                    }
                }
            }
        }
        if let Some(b) = &best {
            for alt in weighed
                .iter_mut()
                .filter(|a| a.lab.as_ref() == Some(&b.lab))
            {
                alt.judge(Reason::Chosen, world.offset);
            }
        }
        (best, weighed)
    }
}

pub(super) fn lab_alt(world: &World, lab: &LabId, score: f64, verdict: Reason) -> Alternative {
    Alternative::new(
        None,
        Some(lab.clone()),
        if score.is_finite() {
            (score * 10.0).round() / 10.0
        } else {
            -1.0
        },
        verdict,
        world.offset,
    )
}
