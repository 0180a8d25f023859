//! A lab's backlog as a coordinator weighs a diversion: per test family, the queue,
//! what is on its way, the analyzers' throughput (those up), the time to clear the
//! queue at that rate, and the last hour's trend (tubes received minus tubes
//! reported), all read from the dispatcher's state.

use chrono::Duration;
use labflight_core::{LabId, TestFamily};
use labflight_dispatch::planner::family_up;
use labflight_dispatch::state::State;
use labflight_dispatch::world::World;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One test family's line at a lab.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LabLine {
    /// The test family.
    pub family: String,
    /// Tubes received and not yet resulted.
    pub queue: u32,
    /// Tubes on their way.
    pub inbound: u32,
    /// Tubes an hour the family's analyzers still up can run (0: none up).
    pub per_hour: f64,
    /// Minutes to clear the queue at that rate (none: no analyzer up).
    pub clear_min: Option<f64>,
    /// Tubes received in the last hour.
    pub received_last_hour: u32,
    /// Tubes reported in the last hour.
    pub reported_last_hour: u32,
    /// Received minus reported in the last hour: above zero, the queue grows.
    pub trend_last_hour: i64,
}

/// Every lab's lines, for the families it runs or has tubes of.
pub fn lab_lines(world: &World, state: &State) -> BTreeMap<LabId, Vec<LabLine>> {
    let hour_ago = state.now - Duration::hours(1);
    let mut received: BTreeMap<(&LabId, TestFamily), u32> = BTreeMap::new();
    let mut reported: BTreeMap<(&LabId, TestFamily), u32> = BTreeMap::new();
    for t in state.tubes.values() {
        let Some(lab) = &t.lab else {
            continue;
        };
        for f in &t.families {
            if t.received_at.is_some_and(|at| at > hour_ago) {
                *received.entry((lab, *f)).or_default() += 1;
            }
            if t.reported_at.is_some_and(|at| at > hour_ago) {
                *reported.entry((lab, *f)).or_default() += 1;
            }
        }
    }
    world
        .labs
        .values()
        .map(|lab| {
            let ls = state.labs.get(&lab.id);
            let lines = TestFamily::ALL
                .into_iter()
                .filter_map(|family| {
                    let queue = ls
                        .and_then(|l| l.backlog.get(&family))
                        .copied()
                        .unwrap_or(0);
                    let inbound = ls
                        .and_then(|l| l.inbound.get(&family))
                        .copied()
                        .unwrap_or(0);
                    if !lab.runs(family) && queue == 0 && inbound == 0 {
                        return None;
                    }
                    let per_hour = family_up(ls, lab, family).map_or(0.0, |(per_hour, _)| per_hour);
                    let got = received.get(&(&lab.id, family)).copied().unwrap_or(0);
                    let gone = reported.get(&(&lab.id, family)).copied().unwrap_or(0);
                    Some(LabLine {
                        family: family.as_str().to_owned(),
                        queue,
                        inbound,
                        per_hour,
                        clear_min: (per_hour > 0.0)
                            .then(|| (f64::from(queue) / per_hour * 600.0).round() / 10.0),
                        received_last_hour: got,
                        reported_last_hour: gone,
                        trend_last_hour: i64::from(got) - i64::from(gone),
                    })
                })
                .collect();
            (lab.id.clone(), lines)
        })
        .collect()
}
