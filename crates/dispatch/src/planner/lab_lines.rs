//! What a lab will do with tubes: each test family's line of analyzers (booked as
//! tubes are received, `lines_take`), when tubes arriving at a moment would be
//! resulted and reported (`predicted_result`, remembered per pass in `LabTimes`,
//! as a function of the arrival in `LabForm`), and why a lab cannot take them.

use crate::state::{LabState, State};
use crate::world::World;
use chrono::Duration;
use labflight_core::scenario::minutes;
use labflight_core::{Instant, Lab, Reason, TestFamily};
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};

/// Why a lab cannot take these families at `arrive`, or its predicted result time
/// at the centre (verified and reported), behind everything it has queued or inbound.
pub fn predicted_result(
    world: &World,
    state: &State,
    lab: &Lab,
    families: &BTreeSet<TestFamily>,
    arrive: Instant,
) -> Result<Instant, Reason> {
    LabTimes::default().result_at(world, state, lab, families, arrive)
}

/// One family's analyzers at a lab as a tube arriving now would find them: when
/// they are free to start it, behind what was received and what is on its way.
/// In nanoseconds since the epoch: a re-plan asks this of every lab for every
/// centre, and whole numbers add faster than calendar times.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct FamilyLine {
    free_at_ns: i64,
    /// Nothing received is booked on the line: it is free from now, behind what
    /// is on its way (`free_at_ns` moves with the clock).
    free_from_now: bool,
    reception_ns: i64,
    run_and_verification_ns: i64,
}

impl FamilyLine {
    fn new(state: &State, lab: &Lab, family: TestFamily) -> Result<FamilyLine, Reason> {
        let ls = state.labs.get(&lab.id);
        let (per_hour, run_min) = family_up(ls, lab, family)?;
        let inbound = ls
            .and_then(|l| l.inbound.get(&family))
            .copied()
            .unwrap_or(0) as f64;
        let booked = ls.and_then(|l| l.lines_free_at.get(&family)).copied();
        let received_started = booked.unwrap_or(state.now);
        Ok(FamilyLine {
            free_at_ns: nanos(received_started + minutes(inbound / per_hour * 60.0)),
            free_from_now: booked.is_none(),
            reception_ns: duration_ns(minutes(lab.reception_minutes)),
            run_and_verification_ns: duration_ns(minutes(run_min + lab.verification_minutes)),
        })
    }
}

/// An instant in nanoseconds since the epoch (representable until 2262).
pub(super) fn nanos(t: Instant) -> i64 {
    t.timestamp_nanos_opt().expect("an instant before 2262")
}

pub(super) fn duration_ns(d: Duration) -> i64 {
    d.num_nanoseconds().expect("a duration of under 292 years")
}

/// The summed throughput (tubes an hour) and the longest run (minutes) of the
/// analyzers of `family` at `lab` still up, or why there are none.
pub fn family_up(
    ls: Option<&LabState>,
    lab: &Lab,
    family: TestFamily,
) -> Result<(f64, f64), Reason> {
    let up = || {
        lab.analyzers
            .iter()
            .filter(|a| a.family == family)
            .filter(|a| !ls.is_some_and(|l| l.analyzers_down.contains(&a.id)))
    };
    if up().next().is_none() {
        return Err(if lab.runs(family) {
            Reason::AnalyzersDown { family }
        } else {
            Reason::DoesNotRun { family }
        });
    }
    let per_hour: f64 = up().map(|a| a.tubes_per_hour).sum();
    let run_min = up().map(|a| a.run_minutes).fold(0.0, f64::max);
    Ok((per_hour, run_min))
}

/// Books tubes received at `lab` now on its lines: each family's analyzers start
/// them after reception, once free, one after another at their throughput; each
/// then runs for its run time without holding the next one up. `FamilyLine`
/// predicts from this.
pub fn lines_take(
    ls: &mut LabState,
    lab: &Lab,
    families: impl IntoIterator<Item = TestFamily>,
    now: Instant,
) {
    let mut tubes: BTreeMap<TestFamily, u32> = BTreeMap::new();
    for f in families {
        *tubes.entry(f).or_insert(0) += 1;
    }
    let ready = now + minutes(lab.reception_minutes);
    for (family, n) in tubes {
        let Ok((per_hour, _)) = family_up(Some(ls), lab, family) else {
            continue;
        };
        let free = ls.lines_free_at.entry(family).or_insert(ready);
        *free = (*free).max(ready) + minutes(f64::from(n) / per_hour * 60.0);
    }
}

/// When results for `families` of tubes just booked on `lab`'s lines
/// (`lines_take`) reach the centre: the last of them started on each family's
/// line, run, verified and reported. `None` when a family has no line booked.
pub fn booked_result(
    world: &World,
    ls: &LabState,
    lab: &Lab,
    families: impl IntoIterator<Item = TestFamily>,
) -> Option<Instant> {
    let mut latest: Option<Instant> = None;
    for family in families {
        let (per_hour, run_min) = family_up(Some(ls), lab, family).ok()?;
        let free = *ls.lines_free_at.get(&family)?;
        let last_started = free - minutes(60.0 / per_hour);
        let done = last_started + minutes(run_min + lab.verification_minutes);
        latest = Some(latest.map_or(done, |l| l.max(done)));
    }
    latest.map(|t| t + world.service.report)
}

/// Each lab's lines per family (`FamilyLine`), remembered while no lab's state
/// changes: the same dozen labs are asked about for every centre. A lab's state
/// can only be changed through `state::Labs::get_mut`, which takes this memo and
/// forgets it (`Ctx::lab_mut`); debug builds still check every answer against a
/// fresh one.
#[derive(Debug, Default)]
pub struct LabTimes {
    /// By the lab's address in the (immutable) world and the family.
    by_lab_family: FxHashMap<(usize, TestFamily), Result<FamilyLine, Reason>>,
}

impl crate::state::RememberedOfLabs for LabTimes {
    /// Forgets every line: a lab's state is about to change.
    fn forget(&mut self) {
        self.by_lab_family.clear();
    }
}

impl LabTimes {
    /// `predicted_result`, with the lines remembered (reached through
    /// `Ctx::predicted_result`).
    pub(crate) fn result_at<'f>(
        &mut self,
        world: &World,
        state: &State,
        lab: &Lab,
        families: impl IntoIterator<Item = &'f TestFamily>,
        arrive: Instant,
    ) -> Result<Instant, Reason> {
        self.form(state, lab, families)
            .result_at(world, lab, arrive, state.now)
    }

    /// What `lab` would do with tubes of `families` as a function of their
    /// arrival (`LabForm`), from its lines as they stand.
    pub(crate) fn form<'f>(
        &mut self,
        state: &State,
        lab: &Lab,
        families: impl IntoIterator<Item = &'f TestFamily>,
    ) -> LabForm {
        let ls = state.labs.get(&lab.id);
        let blocked = if ls.is_some_and(|l| l.unavailable) {
            Some(Reason::LabMarkedUnavailable)
        } else if ls.is_some_and(|l| l.closed) {
            Some(Reason::LabClosedAtArrival)
        } else {
            None
        };
        let now_ns = nanos(state.now);
        let mut lines = LinesForm {
            after_arrival_ns: 0,
            behind_booked_ns: i64::MIN,
            behind_now_ns: i64::MIN,
        };
        for &family in families {
            let line = self
                .by_lab_family
                .entry((std::ptr::from_ref(lab) as usize, family))
                .or_insert_with(|| FamilyLine::new(state, lab, family));
            debug_assert_eq!(
                *line,
                FamilyLine::new(state, lab, family),
                "{} {family:?}: a remembered line outlived the state it came from",
                lab.id
            );
            let line = match line {
                Ok(line) => line,
                Err(why) => {
                    return LabForm {
                        blocked,
                        lines: Err(why.clone()),
                    };
                }
            };
            let run = line.run_and_verification_ns;
            lines.after_arrival_ns = lines.after_arrival_ns.max(line.reception_ns + run);
            if line.free_from_now {
                lines.behind_now_ns = lines.behind_now_ns.max(line.free_at_ns - now_ns + run);
            } else {
                lines.behind_booked_ns = lines.behind_booked_ns.max(line.free_at_ns + run);
            }
        }
        LabForm {
            blocked,
            lines: Ok(lines),
        }
    }
}

/// What a lab would do with tubes of a set of families, as a function of when
/// they arrive and of the clock: its state read once (`LabTimes::form`), then each
/// arrival is arithmetic (`result_at`). A centre's pickup keeps its labs' forms
/// between passes while no lab's state changes.
#[derive(Clone, Debug, PartialEq)]
pub struct LabForm {
    /// Why the lab takes nothing whenever they arrive (unavailable, closed).
    blocked: Option<Reason>,
    /// The lines, or why the first family without one has none.
    lines: Result<LinesForm, Reason>,
}

/// A lab's lines for a set of families, reduced to three numbers: a tube arriving
/// at `a` is resulted at `max(a + after_arrival, behind_booked, now + behind_now)`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct LinesForm {
    /// Reception, then the longest run and verification, on free lines (≥ 0).
    after_arrival_ns: i64,
    /// The latest result behind the lines with tubes received and booked (an
    /// instant in nanoseconds; `i64::MIN` when none).
    behind_booked_ns: i64,
    /// The latest result behind the lines with nothing booked, from now: they
    /// start what is on its way now (`i64::MIN` when none).
    behind_now_ns: i64,
}

impl LabForm {
    /// Why the lab cannot take the tubes arriving at `arrive`, or when their
    /// results reach the centre, verified and reported, the clock at `now`.
    pub fn result_at(
        &self,
        world: &World,
        lab: &Lab,
        arrive: Instant,
        now: Instant,
    ) -> Result<Instant, Reason> {
        self.result_ns(world, lab, arrive, nanos(now))
            .map(Instant::from_timestamp_nanos)
    }

    /// `result_at` in nanoseconds since the epoch, the clock at `now_ns`: a pass
    /// asks it of every lab for every waiting centre.
    pub(super) fn result_ns(
        &self,
        world: &World,
        lab: &Lab,
        arrive: Instant,
        now_ns: i64,
    ) -> Result<i64, Reason> {
        if let Some(why) = &self.blocked {
            return Err(why.clone());
        }
        if !world.lab_open_at(lab, arrive) {
            return Err(Reason::LabClosedAtArrival);
        }
        let lines = self.lines.as_ref().map_err(Clone::clone)?;
        let latest_ns = (nanos(arrive) + lines.after_arrival_ns)
            .max(lines.behind_booked_ns)
            .max(now_ns.saturating_add(lines.behind_now_ns));
        Ok(latest_ns + duration_ns(world.service.report))
    }
}
