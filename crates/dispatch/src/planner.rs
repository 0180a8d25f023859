//! The arithmetic behind every decision: routes (cached), flight legs under the
//! current wind, lab predictions (queue, run and verification times), tube
//! deadlines, and the evaluation of one drone for one pickup. Policies call these;
//! none of them changes state.

use crate::state::{Drone, LabState, SpecimenBox, State};
use crate::world::World;
use chrono::Duration;
use labflight_core::command::{Alternative, Leg};
use labflight_core::scenario::minutes;
use labflight_core::{Instant, Lab, LabId, LatLon, TestFamily};
use labflight_geo::{LegEstimate, Route};

/// How many of the nearest labs are weighed for a pickup.
pub const LABS_WEIGHED: usize = 5;
use rustc_hash::FxHashMap;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Routes between positions, cached: drones mostly fly between the same pads.
/// Keyed by the bits of exact positions and figures, hashed with FxHash: these
/// lookups run thousands of times per re-plan, and SipHash's flood resistance
/// buys nothing for keys the dispatcher makes itself.
#[derive(Debug, Default)]
pub struct RouteCache {
    /// Shared, not copied: a route's waypoints are read by every leg planned on it.
    routes: FxHashMap<[u64; 4], Option<Arc<Route>>>,
    /// Whether a fully charged drone could fly a pickup, by the exact inputs of
    /// the answer (start, centre, lab, payload, wind): a far centre's boxes are
    /// asked about on every pass.
    reach: FxHashMap<[u64; 9], bool>,
    /// A leg's time and energy by its route, payload and wind: the same legs are
    /// weighed for every waiting centre on every pass.
    legs: FxHashMap<[u64; 7], LegEstimate>,
    /// The legs from a position to its `LABS_WEIGHED` nearest labs, nearest first,
    /// by position, payload and wind: one lookup per centre per pass.
    legs_to_labs: FxHashMap<[u64; 5], LegsToLabs>,
}

/// Exact positions: the cache only saves work and never changes an answer, so a
/// dispatcher restored from a snapshot (with an empty cache) decides the same.
fn key(a: LatLon, b: LatLon) -> [u64; 4] {
    [
        a.lat.to_bits(),
        a.lon.to_bits(),
        b.lat.to_bits(),
        b.lon.to_bits(),
    ]
}

impl RouteCache {
    /// The remembered answer to `key`, or `answer()` remembered.
    pub fn reach(&mut self, key: [u64; 9], answer: impl FnOnce(&mut Self) -> bool) -> bool {
        if let Some(&known) = self.reach.get(&key) {
            return known;
        }
        let known = answer(self);
        self.reach.insert(key, known);
        known
    }

    /// The route from `a` to `b` around the no-fly zones (`None`: there is none), planned once.
    pub fn route(&mut self, world: &World, a: LatLon, b: LatLon) -> Option<Arc<Route>> {
        self.routes
            .entry(key(a, b))
            .or_insert_with(|| world.airspace.route(a, b).ok().map(Arc::new))
            .clone()
    }

    /// The estimate of flying `route` (from `a` to `b`) with `payload_kg` in `wind`.
    fn leg(
        &mut self,
        world: &World,
        (a, b): (LatLon, LatLon),
        route: &Route,
        payload_kg: f64,
        wind: nalgebra::Vector2<f64>,
    ) -> LegEstimate {
        let [a0, a1, b0, b1] = key(a, b);
        let leg_key = [
            a0,
            a1,
            b0,
            b1,
            payload_kg.to_bits(),
            wind.x.to_bits(),
            wind.y.to_bits(),
        ];
        *self.legs.entry(leg_key).or_insert_with(|| {
            world
                .flight
                .leg_route(&world.frame, route, payload_kg, wind)
        })
    }

    /// The legs with `payload_kg` from `from` to its `LABS_WEIGHED` nearest labs,
    /// nearest first (`None` where no route exists).
    fn legs_to_labs(
        &mut self,
        world: &World,
        state: &State,
        from: LatLon,
        payload_kg: f64,
    ) -> LegsToLabs {
        let wind = state.weather.wind();
        let key = [
            from.lat.to_bits(),
            from.lon.to_bits(),
            payload_kg.to_bits(),
            wind.x.to_bits(),
            wind.y.to_bits(),
        ];
        if let Some(known) = self.legs_to_labs.get(&key) {
            return Arc::clone(known);
        }
        let legs: LegsToLabs = world
            .nearest_labs(from, LABS_WEIGHED)
            .map(|lab| {
                let leg = plan_leg(world, state, self, from, lab.position, payload_kg);
                (lab.id.clone(), leg)
            })
            .collect();
        self.legs_to_labs.insert(key, Arc::clone(&legs));
        legs
    }
}

/// Labs and the legs to them, nearest first.
type LegsToLabs = Arc<[(LabId, Option<PlannedLeg>)]>;

/// A planned leg with its estimate.
#[derive(Clone, Debug)]
pub struct PlannedLeg {
    /// The route flown.
    pub route: Arc<Route>,
    /// Its time and energy under the current wind and payload.
    pub estimate: LegEstimate,
}

impl PlannedLeg {
    /// The flying time, take-off and landing included.
    pub fn duration(&self) -> Duration {
        minutes(self.estimate.duration_s / 60.0)
    }

    /// The leg as a mission names it: from, to, waypoints, departure and arrival.
    pub fn to_leg(&self, from: &str, to: &str, depart: Instant) -> Leg {
        Leg {
            from: from.to_owned(),
            to: to.to_owned(),
            waypoints: self.route.waypoints.clone(),
            distance_m: self.estimate.distance_m,
            depart,
            arrive: depart + self.duration(),
            energy_wh: self.estimate.energy_wh,
        }
    }
}

/// Plans one flight leg under the current wind; `None` when no route exists.
pub fn plan_leg(
    world: &World,
    state: &State,
    cache: &mut RouteCache,
    from: LatLon,
    to: LatLon,
    payload_kg: f64,
) -> Option<PlannedLeg> {
    let route = cache.route(world, from, to)?;
    let estimate = if route.length_m < 1.0 {
        LegEstimate {
            distance_m: 0.0,
            duration_s: 0.0,
            energy_wh: 0.0,
            feasible: true,
        }
    } else {
        cache.leg(world, (from, to), &route, payload_kg, state.weather.wind())
    };
    Some(PlannedLeg { route, estimate })
}

/// Energy a drone may still spend before touching its reserve.
pub fn spendable_wh(world: &World, drone: &Drone) -> f64 {
    let spec = &world.drone_spec;
    spec.battery_wh * (drone.battery_pct / 100.0 - spec.reserve_fraction)
}

/// Why a lab cannot take these families at `arrive`, or its predicted result time
/// at the centre (verified and reported), behind everything it has queued or inbound.
pub fn predicted_result(
    world: &World,
    state: &State,
    lab: &Lab,
    families: &BTreeSet<TestFamily>,
    arrive: Instant,
) -> Result<Instant, String> {
    LabTimes::default().result_at(world, state, lab, families, arrive)
}

/// When results for `families` reach the centre, for tubes at the lab from `start`
/// with `ahead(family, tubes_per_hour)` tubes before them in each queue; or why the
/// lab cannot do it. A tube not yet `received` still needs the lab open and
/// available when it arrives, and its reception.
pub fn result_time(
    world: &World,
    state: &State,
    lab: &Lab,
    families: &BTreeSet<TestFamily>,
    start: Instant,
    received: bool,
    ahead: &dyn Fn(TestFamily, f64) -> f64,
) -> Result<Instant, String> {
    let ls = state.labs.get(&lab.id);
    if !received {
        lab_takes_at(world, ls, lab, start)?;
    }
    result_after(world, start, families.iter().copied(), |family| {
        family_time(ls, lab, family, received, ahead)
    })
}

/// The result at the centre for tubes at the lab from `start`: the last of the
/// families' times (`time_of`) and the report; or the first family's reason why not.
fn result_after(
    world: &World,
    start: Instant,
    families: impl IntoIterator<Item = TestFamily>,
    mut time_of: impl FnMut(TestFamily) -> Result<Duration, String>,
) -> Result<Instant, String> {
    let mut latest = start;
    for family in families {
        latest = latest.max(start + time_of(family)?);
    }
    Ok(latest + world.service.report)
}

/// Why a lab cannot take tubes arriving at `arrive`: unavailable or closed.
fn lab_takes_at(
    world: &World,
    ls: Option<&LabState>,
    lab: &Lab,
    arrive: Instant,
) -> Result<(), String> {
    if ls.is_some_and(|l| l.unavailable) {
        return Err("marked unavailable by a coordinator".into());
    }
    if ls.is_some_and(|l| l.closed) || !world.lab_open_at(lab, arrive) {
        return Err("closed at arrival".into());
    }
    Ok(())
}

/// From a tube's arrival (or reception, when `received`) to its verified result in
/// one family, behind `ahead(family, tubes_per_hour)` tubes; or why the lab cannot.
fn family_time(
    ls: Option<&LabState>,
    lab: &Lab,
    family: TestFamily,
    received: bool,
    ahead: &dyn Fn(TestFamily, f64) -> f64,
) -> Result<Duration, String> {
    let (per_hour, run_min) = family_up(ls, lab, family)?;
    let reception = if received { 0.0 } else { lab.reception_minutes };
    let wait_min = ahead(family, per_hour) / per_hour * 60.0;
    Ok(minutes(
        reception + wait_min + run_min + lab.verification_minutes,
    ))
}

/// One family's analyzers at a lab as a tube arriving now would find them: when
/// they are free to start it, behind what was received and what is on its way.
/// In nanoseconds since the epoch: a re-plan asks this of every lab for every
/// centre, and whole numbers add faster than calendar times.
#[derive(Clone, Copy, Debug, PartialEq)]
struct FamilyLine {
    free_at_ns: i64,
    reception_ns: i64,
    run_and_verification_ns: i64,
}

impl FamilyLine {
    fn new(state: &State, lab: &Lab, family: TestFamily) -> Result<FamilyLine, String> {
        let ls = state.labs.get(&lab.id);
        let (per_hour, run_min) = family_up(ls, lab, family)?;
        let inbound = ls
            .and_then(|l| l.inbound.get(&family))
            .copied()
            .unwrap_or(0) as f64;
        let received_started = ls
            .and_then(|l| l.lines_free_at.get(&family))
            .copied()
            .unwrap_or(state.now);
        Ok(FamilyLine {
            free_at_ns: nanos(received_started + minutes(inbound / per_hour * 60.0)),
            reception_ns: duration_ns(minutes(lab.reception_minutes)),
            run_and_verification_ns: duration_ns(minutes(run_min + lab.verification_minutes)),
        })
    }

    /// From arrival at the lab to the verified result.
    fn time_from(&self, arrive_ns: i64) -> i64 {
        let ready = arrive_ns + self.reception_ns;
        ready.max(self.free_at_ns) - arrive_ns + self.run_and_verification_ns
    }
}

/// An instant in nanoseconds since the epoch (representable until 2262).
fn nanos(t: Instant) -> i64 {
    t.timestamp_nanos_opt().expect("an instant before 2262")
}

fn duration_ns(d: Duration) -> i64 {
    d.num_nanoseconds().expect("a duration of under 292 years")
}

/// The summed throughput (tubes an hour) and the longest run (minutes) of the
/// analyzers of `family` at `lab` still up, or why there are none.
fn family_up(ls: Option<&LabState>, lab: &Lab, family: TestFamily) -> Result<(f64, f64), String> {
    let up = || {
        lab.analyzers
            .iter()
            .filter(|a| a.family == family)
            .filter(|a| !ls.is_some_and(|l| l.analyzers_down.contains(&a.id)))
    };
    if up().next().is_none() {
        return Err(if lab.runs(family) {
            format!("{} analyzers down", family.as_str())
        } else {
            format!("does not run {}", family.as_str())
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
    by_lab_family: FxHashMap<(usize, TestFamily), Result<FamilyLine, String>>,
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
    ) -> Result<Instant, String> {
        lab_takes_at(world, state.labs.get(&lab.id), lab, arrive)?;
        let arrive_ns = nanos(arrive);
        let mut latest_ns = arrive_ns;
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
            let line = line.as_ref().map_err(Clone::clone)?;
            latest_ns = latest_ns.max(arrive_ns + line.time_from(arrive_ns));
        }
        Ok(Instant::from_timestamp_nanos(latest_ns) + world.service.report)
    }
}

/// The families the tubes of `boxes` need, in order, each once: a set of at most
/// five, gathered without a tree per centre.
pub fn families_of<'b>(boxes: impl IntoIterator<Item = &'b SpecimenBox>) -> Vec<TestFamily> {
    let mask = boxes
        .into_iter()
        .flat_map(|b| b.families.iter())
        .fold(0u8, |m, f| m | 1 << *f as u8);
    TestFamily::ALL
        .into_iter()
        .filter(|f| mask & 1 << *f as u8 != 0)
        .collect()
}

/// When the first tube of `boxes` passes its stability limit (`None`: no boxes).
pub fn earliest_stability<'b>(boxes: impl IntoIterator<Item = &'b SpecimenBox>) -> Option<Instant> {
    boxes.into_iter().map(|b| b.stability_deadline).min()
}

/// The latest lab arrival that keeps every tube of boxes whose earliest stability
/// limit is `stability_deadline` within it and gets their result to the centre by
/// the cutoff, at this lab, each with its safety margin (`None` with no boxes:
/// `result_at`). The strictest box sets it, so the boxes of a pickup are weighed
/// once per lab.
pub fn arrival_deadline(
    world: &World,
    stability_deadline: Option<Instant>,
    result_at: Instant,
    arrive: Instant,
) -> Instant {
    let Some(stability_deadline) = stability_deadline else {
        return result_at;
    };
    let processing = result_at - arrive;
    let margin = minutes(world.params.deadline_margin_minutes);
    let stability_margin = minutes(world.params.stability_margin_minutes);
    (stability_deadline - stability_margin).min(world.service.cutoff - processing - margin)
}

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
                    id,
                    f64::INFINITY,
                    "no route around the no-fly zones",
                ));
                continue;
            };
            let arrive = depart + leg.duration();
            match self.result_at(world, state, lab, &families, arrive) {
                Err(why) => weighed.push(lab_alt(id, f64::INFINITY, why)),
                Ok(result_at) => {
                    let deadline = arrival_deadline(world, stability, result_at, arrive);
                    let score = (result_at - depart).num_seconds() as f64 / 60.0;
                    weighed.push(lab_alt(id, score, "predicted result later"));
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
                alt.verdict = "chosen".into();
            }
        }
        (best, weighed)
    }
}

fn lab_alt(
    lab: &LabId,
    score: f64,
    verdict: impl Into<std::borrow::Cow<'static, str>>,
) -> Alternative {
    Alternative {
        drone: None,
        lab: Some(lab.clone()),
        score: if score.is_finite() {
            (score * 10.0).round() / 10.0
        } else {
            -1.0
        },
        verdict: verdict.into(),
    }
}

/// A further centre on a drone's round (as the mission will name it) and the leg
/// flown to it from the previous centre.
#[derive(Clone, Debug)]
pub struct PlannedStop {
    /// The call as the mission names it: centre, boxes, pickup time.
    pub stop: labflight_core::command::Stop,
    /// The leg flown to it from the previous centre.
    pub leg_in: PlannedLeg,
}

/// One drone weighed for one pickup.
#[derive(Clone, Debug)]
pub struct DroneOption {
    /// The empty leg from where the drone stands to the centre.
    pub to_station: PlannedLeg,
    /// When it would pick up.
    pub pickup_at: Instant,
    /// The energy of the whole flight, watt-hours.
    pub energy_wh: f64,
}

/// Whether `drone` can fly to `station_pos` empty, then carry `payload_kg` along
/// `to_lab`, within its spendable energy; the pickup time if so, the reason if not.
pub fn evaluate_drone(
    world: &World,
    state: &State,
    cache: &mut RouteCache,
    drone: &Drone,
    station_pos: LatLon,
    payload_kg: f64,
    to_lab: &PlannedLeg,
) -> Result<DroneOption, String> {
    if payload_kg > world.drone_spec.max_payload_kg + 1e-9 {
        return Err(format!(
            "payload {payload_kg:.2} kg over the {:.2} kg limit",
            world.drone_spec.max_payload_kg
        ));
    }
    let Some(to_station) = plan_leg(world, state, cache, drone.position, station_pos, 0.0) else {
        return Err("no route to the centre".into());
    };
    if !to_station.estimate.feasible || !to_lab.estimate.feasible {
        return Err("wind stronger than the drone can make headway against".into());
    }
    let energy_wh = to_station.estimate.energy_wh + to_lab.estimate.energy_wh;
    let spendable = spendable_wh(world, drone);
    if energy_wh > spendable {
        // Whole watt-hours, formatted as integers: this runs for every drone weighed.
        return Err(format!(
            "battery: needs {} Wh, has {} Wh above reserve",
            energy_wh.round() as i64,
            spendable.max(0.0).round() as i64
        ));
    }
    let pickup_at = state.now + to_station.duration();
    Ok(DroneOption {
        to_station,
        pickup_at,
        energy_wh,
    })
}
