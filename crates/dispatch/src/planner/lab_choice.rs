//! Choosing a lab for a pickup: every nearby lab weighed by its predicted result
//! under its lines, the earliest kept, or a nearer one whose result comes little
//! later (`NEARER_LAB_WITHIN_MINUTES`); the labs' legs and
//! forms (`LabOptions`) apart from the departure, so a pickup can keep them; and
//! the same over relays (`choose_relay`) for a centre beyond one flight.

use super::deadlines::*;
use super::lab_lines::*;
use super::relay::{RELAY_PADS_WEIGHED, Relay, best_relay};
use super::routes::*;
use crate::state::{SpecimenBox, State};
use crate::world::World;
use labflight_core::command::Alternative;
use labflight_core::{Instant, LabId, LatLon, Reason};

/// A nearer lab is taken over the one with the earliest predicted result when its
/// own result comes at most this many minutes later and still keeps every tube
/// within its limits and the cutoff, each with its margin (`arrival_deadline`):
/// a shorter flight gives the drone back sooner, and from the peak on the fleet,
/// not the labs, is what runs short. Nominal day, seeds 1-50, beside the earliest
/// result alone in one run: 24 drones 99.39 % -> 99.45 % on time, 20 -> 24 seeds
/// at 99.5 %, worst 98.58 % -> 98.89 %, 0 violations either way; 28 drones 50/50
/// seeds either way, 0 violations; seeds 51-100: 24 drones 99.40 % -> 99.42 %,
/// 25 -> 24 seeds; 28 drones 49 -> 50 seeds, worst 99.29 % -> 99.68 %. 10 and 20
/// minutes measured about the same, 30 worse (violations at 24 and 28 drones).
pub const NEARER_LAB_WITHIN_MINUTES: i64 = 15;

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
    /// The relay flown, when the lab is beyond one flight (`leg` is then the
    /// relay's `as_leg`).
    pub relay: Option<Box<Relay>>,
    /// The hub the drone flies to, when a van takes the boxes on from there
    /// (`leg` is then the hop to the hub).
    pub hub: Option<Box<HubHandOff>>,
}

/// A hub leg's hand-over: the pad the drone sets the boxes down on and the van
/// run quoted from there to `LabChoice::lab`.
#[derive(Clone, Debug)]
pub struct HubHandOff {
    /// The hub pad.
    pub pad: labflight_core::PadId,
    /// The van that takes the boxes on.
    pub courier: labflight_core::CourierId,
    /// Its call at the hub.
    pub pickup_at: Instant,
    /// Its delivery at the lab.
    pub deliver_at: Instant,
    /// The latest delivery that keeps every tube within its limits.
    pub deadline: Instant,
}

/// A lab a pickup could fly to: the loaded leg there and what the lab would do
/// with its tubes (`None`: no route around the no-fly zones).
#[derive(Clone, Debug, PartialEq)]
pub struct LabOption {
    /// The lab.
    pub lab: LabId,
    /// The leg and the lab's form, unless no route reaches it.
    pub way: Option<(PlannedLeg, LabForm)>,
}

/// Every lab weighed for a pickup, as functions of the departure: what a pickup's
/// lab choice depends on besides the clock. Kept between passes while the boxes,
/// the labs' state and the wind hold (`policy::drone` keeps one per centre).
#[derive(Clone, Debug, PartialEq)]
pub struct LabOptions {
    /// The earliest stability limit of the boxes.
    pub stability: Option<Instant>,
    /// The labs, nearest first.
    pub labs: Vec<LabOption>,
}

impl LabTimes {
    /// The lab with the earliest predicted result for the boxes from `from`, or a
    /// nearer one little later (`LabOptions::choose`), departing at `depart` (only
    /// `only`, if given), and every lab weighed; each
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
        self.lab_options(world, state, cache, from, boxes, payload_kg, only)
            .choose(world, depart, state.now)
    }

    /// The labs a pickup of `boxes` from `from` could fly to (only `only`, if
    /// given), with their legs and forms as the state stands.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn lab_options(
        &mut self,
        world: &World,
        state: &State,
        cache: &mut RouteCache,
        from: LatLon,
        boxes: &[&SpecimenBox],
        payload_kg: f64,
        only: Option<&LabId>,
    ) -> LabOptions {
        let families = families_of(boxes.iter().copied());
        let stability = earliest_stability(boxes.iter().copied());
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
        let labs = legs
            .iter()
            .map(|(id, leg)| LabOption {
                lab: id.clone(),
                way: leg
                    .as_ref()
                    .map(|leg| (leg.clone(), self.form(state, &world.labs[id], &families))),
            })
            .collect();
        LabOptions { stability, labs }
    }
}

impl LabOptions {
    /// The same labs and legs with each lab's form worked out again (`form`):
    /// what a change of the labs' state moves.
    pub fn reformed(&self, mut form: impl FnMut(&LabId) -> LabForm) -> LabOptions {
        let labs = self
            .labs
            .iter()
            .map(|o| LabOption {
                lab: o.lab.clone(),
                way: o.way.as_ref().map(|(leg, _)| (leg.clone(), form(&o.lab))),
            })
            .collect();
        LabOptions {
            stability: self.stability,
            labs,
        }
    }

    /// The lab with the earliest predicted result departing at `depart`, the clock
    /// at `now`, or a nearer one whose result comes little later
    /// (`NEARER_LAB_WITHIN_MINUTES`), and every lab weighed.
    pub fn choose(
        &self,
        world: &World,
        depart: Instant,
        now: Instant,
    ) -> (Option<LabChoice>, Vec<Alternative>) {
        let depart_ns = nanos(depart);
        let now_ns = nanos(now);
        // The earliest result so far (nanoseconds), which lab and when it arrives;
        // and the same among the world's own labs (a partition's group's).
        let mut earliest: Option<(i64, usize, Instant)> = None;
        let mut earliest_own: Option<(i64, usize, Instant)> = None;
        let mut weighed = Vec::with_capacity(self.labs.len());
        // Every lab with a result: (result, index, arrival, the flight's length).
        let mut with_result: Vec<(i64, usize, Instant, chrono::Duration)> = Vec::new();
        for (i, LabOption { lab: id, way }) in self.labs.iter().enumerate() {
            let Some((leg, form)) = way else {
                weighed.push(lab_alt(
                    world,
                    id,
                    f64::INFINITY,
                    Reason::NoRouteAroundNoFly,
                ));
                continue;
            };
            let arrive = depart + leg.duration();
            match form.result_ns(world, &world.labs[id], arrive, now_ns) {
                Err(why) => weighed.push(lab_alt(world, id, f64::INFINITY, why)),
                Ok(result_ns) => {
                    let to_result = chrono::Duration::nanoseconds(result_ns - depart_ns);
                    let score = to_result.num_seconds() as f64 / 60.0;
                    weighed.push(lab_alt(world, id, score, Reason::PredictedResultLater));
                    with_result.push((result_ns, i, arrive, leg.duration()));
                    if earliest.is_none_or(|(e, _, _)| result_ns < e) {
                        earliest = Some((result_ns, i, arrive));
                    }
                    if world.is_own_lab(id) && earliest_own.is_none_or(|(e, _, _)| result_ns < e) {
                        earliest_own = Some((result_ns, i, arrive));
                    }
                }
            }
        }
        // Another group's lab only when none of the group's own keeps the promise.
        let earliest = match earliest_own {
            Some(own @ (result_ns, _, arrive))
                if keeps_promise(
                    world,
                    self.stability,
                    Instant::from_timestamp_nanos(result_ns),
                    arrive,
                ) =>
            {
                Some(own)
            }
            _ => earliest,
        };
        let chosen = earliest.map(|e| self.nearer_in_time(world, &with_result, e));
        let best = chosen.map(|(result_ns, i, arrive)| {
            let option = &self.labs[i];
            let (leg, _) = option.way.as_ref().expect("a lab with a result has a way");
            let result_at = Instant::from_timestamp_nanos(result_ns);
            LabChoice {
                lab: option.lab.clone(),
                leg: leg.clone(),
                result_at,
                deadline: arrival_deadline(world, self.stability, result_at, arrive),
                relay: None,
                hub: None,
            }
        });
        if let Some(b) = &best {
            judge_lab(world, &mut weighed, &b.lab, Reason::Chosen);
        }
        if let (Some((_, sooner, _)), Some((_, taken, _))) = (earliest, chosen)
            && sooner != taken
        {
            let id = &self.labs[sooner].lab;
            judge_lab(world, &mut weighed, id, Reason::SoonerButFarther);
        }
        (best, weighed)
    }

    /// Of `with_result`, the lab with the shortest flight whose result comes at
    /// most `NEARER_LAB_WITHIN_MINUTES` after `earliest`'s and that keeps every
    /// tube within its limits and the cutoff with their margins; `earliest` when
    /// none is nearer. Another group's lab only when `earliest` is one.
    fn nearer_in_time(
        &self,
        world: &World,
        with_result: &[(i64, usize, Instant, chrono::Duration)],
        earliest: (i64, usize, Instant),
    ) -> (i64, usize, Instant) {
        let (first_ns, first, _) = earliest;
        let own_only = world.is_own_lab(&self.labs[first].lab);
        let within_ns = NEARER_LAB_WITHIN_MINUTES * 60 * 1_000_000_000;
        let flight_of = |i: usize| with_result.iter().find(|c| c.1 == i).map(|c| c.3);
        let mut best = (earliest, flight_of(first));
        for &(result_ns, i, arrive, flight) in with_result {
            let result_at = Instant::from_timestamp_nanos(result_ns);
            let in_time = result_ns <= first_ns + within_ns
                && arrive <= arrival_deadline(world, self.stability, result_at, arrive);
            let eligible = !own_only || world.is_own_lab(&self.labs[i].lab);
            if in_time && eligible && best.1.is_none_or(|f| flight < f) {
                best = ((result_ns, i, arrive), Some(flight));
            }
        }
        best.0
    }
}

/// Gives `lab`'s entry among the labs weighed its final verdict (chosen, or why
/// it was passed over after all).
pub fn judge_lab(world: &World, weighed: &mut [Alternative], lab: &LabId, verdict: Reason) {
    for alt in weighed.iter_mut().filter(|a| a.lab.as_ref() == Some(lab)) {
        alt.judge(verdict.clone(), world.offset);
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

/// The lab with the earliest predicted result among `options`' labs reached by
/// relay from `from` (each lab's form kept, its leg the relay's), departing at
/// `depart`, with its relay; and every lab weighed.
#[allow(clippy::too_many_arguments)]
pub fn choose_relay(
    world: &World,
    state: &State,
    cache: &mut RouteCache,
    from: LatLon,
    options: &LabOptions,
    payload_kg: f64,
    depart: Instant,
) -> (Option<LabChoice>, Vec<Alternative>) {
    let pads = world.chargers_near(from, RELAY_PADS_WEIGHED);
    let mut relays = Vec::new();
    let labs = options
        .labs
        .iter()
        .map(|o| {
            let way = o.way.as_ref().and_then(|(_, form)| {
                let to = world.labs[&o.lab].position;
                let relay = best_relay(world, state, cache, &pads, (from, to), payload_kg)?;
                let leg = relay.as_leg();
                relays.push((o.lab.clone(), relay));
                Some((leg, form.clone()))
            });
            LabOption {
                lab: o.lab.clone(),
                way,
            }
        })
        .collect();
    let by_relay = LabOptions {
        stability: options.stability,
        labs,
    };
    let (choice, weighed) = by_relay.choose(world, depart, state.now);
    let choice = choice.map(|mut c| {
        c.relay = relays
            .into_iter()
            .find(|(lab, _)| *lab == c.lab)
            .map(|(_, r)| Box::new(r));
        c
    });
    (choice, weighed)
}
