//! A lab's backlog as a coordinator weighs a diversion: per test family, the queue,
//! what is on its way, the analyzers' throughput (those up), the time to clear the
//! queue at that rate, and the last hour's trend (tubes received minus tubes
//! reported, and the queue every five minutes); and, per other lab, whether the
//! lab's pending boxes could be diverted there (the dispatcher's own rule,
//! `check_divert`, with its refusal as a code). All read from the dispatcher's
//! state, so a replayed frame shows the same as the live view did.

use chrono::Duration;
use labflight_core::{Instant, LabId, TestFamily};
use labflight_dispatch::check_divert;
use labflight_dispatch::planner::family_up;
use labflight_dispatch::state::{State, TubeStatus};
use labflight_dispatch::world::World;
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// Minutes between two points of a line's queue history.
pub const HISTORY_STEP_MIN: i64 = 5;
/// Points in a line's queue history: an hour ago to now, both included.
pub const HISTORY_POINTS: usize = 13;

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
    /// The queue every five minutes over the last hour, oldest first: 13
    /// points, from an hour ago to now (the last one is `queue`).
    pub queue_last_hour: Vec<u32>,
}

/// Whether a lab's pending boxes could be diverted to another lab now.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DivertOption {
    /// The lab to divert to.
    pub to: String,
    /// The boxes that would move (on a mission to the lab, not yet delivered);
    /// 0 when refused.
    pub boxes: u32,
    /// Why the server would refuse it; none: it would be accepted.
    pub refused: Option<DivertRefusal>,
}

/// Why a diversion would be refused, as a code and its values.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DivertRefusal {
    /// `not_taking` (the other lab is unavailable or closed), `lacks_test`,
    /// `same_lab` or `unknown_lab`.
    #[schema(example = "lacks_test")]
    pub code: String,
    /// The test family the other lab does not run (`lacks_test`).
    pub family: Option<String>,
    /// A pending box that needs it (`lacks_test`).
    pub box_id: Option<String>,
}

/// What one (lab, family) gathered from the tubes in the last hour.
#[derive(Clone, Copy, Default)]
struct LastHour {
    received: u32,
    reported: u32,
    /// The queue at each history point but the last (now).
    queue: [u32; HISTORY_POINTS - 1],
}

/// Every lab's lines, for the families it runs or has tubes of.
pub fn lab_lines(world: &World, state: &State) -> BTreeMap<LabId, Vec<LabLine>> {
    let hour_ago = state.now - Duration::hours(1);
    let step = Duration::minutes(HISTORY_STEP_MIN);
    // The first history point at or after `at` (0 ..= HISTORY_POINTS - 1).
    let point = |at: Instant| -> usize {
        if at <= hour_ago {
            return 0;
        }
        let secs = u64::try_from((at - hour_ago).num_seconds()).unwrap_or(0);
        let k = secs.div_ceil(step.num_seconds().unsigned_abs());
        usize::try_from(k).map_or(HISTORY_POINTS - 1, |k| k.min(HISTORY_POINTS - 1))
    };
    // One pass over the tubes, into a slot per (lab, family): a few labs and five
    // families, so an index beats a map on a day of ten thousand tubes.
    let lab_index: BTreeMap<&LabId, usize> = world
        .labs
        .keys()
        .enumerate()
        .map(|(i, id)| (id, i))
        .collect();
    let family_index = |f: TestFamily| TestFamily::ALL.iter().position(|x| *x == f);
    let mut acc = vec![[LastHour::default(); TestFamily::ALL.len()]; lab_index.len()];
    for t in state.tubes.values() {
        let Some(slots) = t
            .lab
            .as_ref()
            .and_then(|lab| lab_index.get(lab))
            .map(|i| &mut acc[*i])
        else {
            continue;
        };
        let got = t.received_at.is_some_and(|at| at > hour_ago);
        let gone = t.reported_at.is_some_and(|at| at > hour_ago);
        // In the queue from its receipt until resulted or rejected: history
        // points `from..to`. A tube past the lab with no such time (a snapshot
        // from before it was kept) is left out rather than queued for ever.
        let span = t.received_at.and_then(|from| match t.status {
            TubeStatus::InBox | TubeStatus::AtLab => Some((point(from), HISTORY_POINTS - 1)),
            _ => t
                .left_queue_at
                .or(t.reported_at)
                .map(|to| (point(from), point(to))),
        });
        for slot in t.families.iter().filter_map(|f| family_index(*f)) {
            let h = &mut slots[slot];
            h.received += u32::from(got);
            h.reported += u32::from(gone);
            if let Some((from, to)) = span {
                for n in h.queue.iter_mut().take(to).skip(from) {
                    *n += 1;
                }
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
                    let last = lab_index
                        .get(&lab.id)
                        .zip(family_index(family))
                        .map(|(l, f)| acc[*l][f])
                        .unwrap_or_default();
                    let (got, gone) = (last.received, last.reported);
                    let mut queue_last_hour = last.queue.to_vec();
                    queue_last_hour.push(queue);
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
                        queue_last_hour,
                    })
                })
                .collect();
            (lab.id.clone(), lines)
        })
        .collect()
}

/// For every lab, whether its pending boxes could be diverted to each other lab
/// now, by the rule the service applies when a coordinator asks.
pub fn divert_options(world: &World, state: &State) -> BTreeMap<LabId, Vec<DivertOption>> {
    world
        .labs
        .keys()
        .map(|from| {
            let options = world
                .labs
                .keys()
                .filter(|to| *to != from)
                .map(|to| match check_divert(world, state, from, to) {
                    Ok(boxes) => DivertOption {
                        to: to.to_string(),
                        boxes: u32::try_from(boxes.len()).unwrap_or(u32::MAX),
                        refused: None,
                    },
                    Err(refused) => {
                        let (family, box_id) = match &refused {
                            labflight_dispatch::DivertRefused::LacksTest {
                                family, box_id, ..
                            } => (Some(family.as_str().to_owned()), Some(box_id.to_string())),
                            _ => (None, None),
                        };
                        DivertOption {
                            to: to.to_string(),
                            boxes: 0,
                            refused: Some(DivertRefusal {
                                code: refused.code().to_owned(),
                                family,
                                box_id,
                            }),
                        }
                    }
                })
                .collect();
            (from.clone(), options)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use labflight_core::{BoxId, Scenario, TubeBarcode};
    use labflight_dispatch::state::{LabState, TubeState};
    use labflight_dispatch::{Dispatcher, PolicyKind};
    use std::path::Path;
    use std::sync::Arc;

    fn longhua() -> (Arc<World>, State) {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../maps/longhua/scenario.toml");
        let scenario = Scenario::load(&file).expect("the Longhua scenario loads");
        let map = labflight_geo::MapData::load(&scenario.map_dir(&file)).expect("its map loads");
        let world = Arc::new(World::from_map(&scenario, &map));
        let now = world.service.last_draw;
        let state = Dispatcher::new(Arc::clone(&world), PolicyKind::Drone, 1, now)
            .state()
            .clone();
        (world, state)
    }

    /// Changes one lab's state in a test (the dispatcher's own way, `get_mut`,
    /// wants what it remembers of the labs).
    fn set_lab(state: &mut State, lab: &LabId, change: impl FnOnce(&mut LabState)) {
        let mut all: BTreeMap<LabId, LabState> = state
            .labs
            .iter()
            .map(|(id, l)| (id.clone(), l.clone()))
            .collect();
        change(all.entry(lab.clone()).or_default());
        state.labs = all.into_iter().collect();
    }

    /// The history counts a tube from its receipt until it left the queue, at
    /// each five-minute point of the last hour; the last point is the queue now.
    #[test]
    fn the_queue_history_follows_receipts_and_results() {
        let (world, mut state) = longhua();
        let lab = world.labs.keys().next().expect("a lab").clone();
        let now = state.now;
        let min = |m: i64| now - Duration::minutes(m);
        let tube = |received: i64, left: Option<i64>| TubeState {
            box_id: BoxId::new("BX-1"),
            status: if left.is_some() {
                TubeStatus::Resulted
            } else {
                TubeStatus::AtLab
            },
            lab: Some(lab.clone()),
            families: vec![TestFamily::Hematology],
            received_at: Some(min(received)),
            left_queue_at: left.map(min),
            reported_at: None,
        };
        // Received 90 min ago, resulted 32 min ago: queued at points 0..=5 (60..35 min ago).
        // Received 12 min ago, still queued: points 10 and 11 (10 and 5 min ago).
        for (i, t) in [tube(90, Some(32)), tube(12, None)].into_iter().enumerate() {
            state.tubes.insert(TubeBarcode::new(format!("T-{i}")), t);
        }
        set_lab(&mut state, &lab, |l| {
            l.backlog.insert(TestFamily::Hematology, 1);
        });
        let lines = lab_lines(&world, &state);
        let line = lines[&lab]
            .iter()
            .find(|l| l.family == "hematology")
            .expect("a hematology line");
        assert_eq!(
            line.queue_last_hour,
            vec![1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1],
            "{line:?}"
        );
        assert_eq!(line.queue_last_hour.len(), HISTORY_POINTS);
        assert_eq!(line.received_last_hour, 1);
        assert_eq!(line.trend_last_hour, 1);
    }

    /// A lab lacking a family a pending box needs is refused with the family
    /// and the box; a lab running every family takes the box; an unavailable
    /// lab is refused as not taking boxes. The same rule the service applies.
    #[test]
    fn divert_options_say_which_lab_would_take_the_boxes_and_why_not() {
        use labflight_core::{DroneId, MissionId};
        use labflight_dispatch::state::{BoxStatus, Carrier, Mission, MissionStatus, SpecimenBox};
        let (world, mut state) = longhua();
        let lacking = world
            .labs
            .values()
            .find(|l| !l.runs(TestFamily::Hba1c))
            .expect("a lab without HbA1c")
            .id
            .clone();
        let mut full = world
            .labs
            .values()
            .filter(|l| TestFamily::ALL.into_iter().all(|f| l.runs(f)))
            .map(|l| l.id.clone());
        let (from, to) = (
            full.next().expect("a full lab"),
            full.next().expect("two full labs"),
        );
        let now = state.now;
        let station = world.stations.keys().next().expect("a centre").clone();
        let b = SpecimenBox {
            id: BoxId::new("BX-HBA1C"),
            station: station.clone(),
            tubes: Vec::new(),
            sealed_at: now,
            status: BoxStatus::Assigned {
                mission: MissionId::new("M-1"),
            },
            families: [TestFamily::Hba1c].into(),
            payload_kg: 0.5,
            stability_deadline: now,
            at_risk_alerted: false,
            excursion_alerted: false,
            forced: false,
            temp_c: None,
            loaded_on: None,
            set_down: None,
            scanned_in_by: None,
            forecast: None,
        };
        state.boxes.insert(b.id.clone(), b);
        state.missions.insert(
            MissionId::new("M-1"),
            Mission {
                id: MissionId::new("M-1"),
                carrier: Carrier::Drone(DroneId::new("D-001")),
                station,
                boxes: vec![BoxId::new("BX-HBA1C")],
                lab: from.clone(),
                status: MissionStatus::Assigned,
                planned_arrival: now,
                plan: None,
                van_calls_at: None,
                seal_asked: false,
                redirected_from: Vec::new(),
                abort_pad: None,
            },
        );
        let options = divert_options(&world, &state);
        let option = |to: &LabId| {
            options[&from]
                .iter()
                .find(|o| o.to == to.as_str())
                .unwrap_or_else(|| panic!("no option to {to}"))
                .clone()
        };
        let refused = option(&lacking).refused.expect("refused: it lacks HbA1c");
        assert_eq!(refused.code, "lacks_test");
        assert_eq!(refused.family.as_deref(), Some("hba1c"));
        assert_eq!(refused.box_id.as_deref(), Some("BX-HBA1C"));
        let ok = option(&to);
        assert!(ok.refused.is_none(), "{ok:?}");
        assert_eq!(ok.boxes, 1);
        assert!(options[&from].iter().all(|o| o.to != from.as_str()));
        set_lab(&mut state, &to, |l| l.unavailable = true);
        let options = divert_options(&world, &state);
        let closed = options[&from].iter().find(|o| o.to == to.as_str()).unwrap();
        assert_eq!(
            closed.refused.as_ref().map(|r| r.code.as_str()),
            Some("not_taking")
        );
    }
}
