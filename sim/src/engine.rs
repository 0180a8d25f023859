//! The discrete-event engine: a virtual clock and a queue of happenings (draws,
//! seals, flights, lab runs, weather). Whatever the dispatcher should hear is
//! delivered to it as a stamped event — exactly as the live service will — and
//! journaled; every command it gives is acted out by the simulated world.

mod acting;

use crate::demand::{Draw, morning_draws};
use crate::flight::SimDrone;
use crate::labs::LabFloor;
use crate::ledger::Ledger;
use crate::thermal;
use chrono::Duration;
use labflight_core::command::MissionPlan;
use labflight_core::event::{CourierEventKind, DroneEventKind, DroneState, LabUpdate};
use labflight_core::scenario::minutes;
use labflight_core::{
    BoxId, Command, CustodyStep, DroneId, Event, Instant, LatLon, MissionId, Scenario, Stamped,
    StationId, Tube,
};
use labflight_dispatch::{Dispatcher, PolicyKind, World, custody_steps};
use labflight_geo::wind_from;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::sync::Arc;

/// Something that happens in the simulated world at an instant.
#[derive(Clone, Debug)]
enum Happening {
    Draw(usize),
    SealCheck(StationId),
    /// Staff seal the open box because the dispatcher asked (a drone is coming).
    SealNow(StationId),
    /// Tell the dispatcher; skipped if `guard` names a mission whose plan changed since.
    Tell {
        event: Event,
        guard: Option<(MissionId, u32)>,
    },
    Minute,
}

/// A box as it physically is.
#[derive(Clone, Debug)]
struct PhysBox {
    station: StationId,
    sealed_at: Instant,
    /// Taken by a drone or van from where it lies (its centre, or the pad a drone
    /// set it down on): a box is picked up once from each place.
    loaded: bool,
    /// The drone it is aboard, until the drone sets it down on a pad.
    aboard: Option<DroneId>,
    /// The van it is in, until the van hands it to its lab.
    in_van: Option<labflight_core::CourierId>,
    received: bool,
    tubes: Vec<Tube>,
}

/// What one simulated (or replayed) day produced.
#[derive(Debug, Default)]
pub struct DayRun {
    /// Every event the dispatcher received, in order.
    pub journal: Vec<Stamped>,
    /// Each command with the index of the journal event that produced it.
    pub commands: Vec<(usize, Command)>,
    /// Each custody step the ledger reads (`Ledger::reads`), with the index of the
    /// journal event it follows from (`labflight_dispatch::custody_steps`, the
    /// derivation the live service stores): the ledger's custody timestamps come
    /// from these.
    pub custody: Vec<(usize, CustodyStep)>,
}

impl DayRun {
    /// Hands `stamped` to `dispatcher` and journals it with the custody steps it
    /// means (read against the state just before it, as the live service does).
    /// Returns the event's journal index and the commands it led to, for the
    /// caller to act out and record in `commands`.
    pub fn decide(
        &mut self,
        dispatcher: &mut Dispatcher,
        stamped: Stamped,
    ) -> (usize, Vec<Command>) {
        let index = self.journal.len();
        let steps = custody_steps(dispatcher.state(), &stamped);
        let read = steps.into_iter().filter(|s| Ledger::reads(s.step));
        self.custody.extend(read.map(|s| (index, s)));
        let commands = dispatcher.handle(&stamped);
        self.journal.push(stamped);
        (index, commands)
    }
}

/// The simulated world of one day: draws, boxes, drones, vans, labs and weather on a virtual clock, acting out the dispatcher's commands.
pub struct Engine<'a> {
    scenario: &'a Scenario,
    world: Arc<World>,
    /// The dispatcher in the same process (`sim`), or none when it listens over
    /// MQTT (`devices`): then events wait in `outbox` and commands come back
    /// through `command`.
    dispatcher: Option<Dispatcher>,
    outbox: Vec<Stamped>,
    /// Missions as the drones were told them.
    plans: BTreeMap<MissionId, MissionPlan>,
    rng: ChaCha8Rng,
    now: Instant,
    queue: BinaryHeap<Reverse<(Instant, u64)>>,
    happenings: BTreeMap<u64, Happening>,
    seq: u64,
    /// The morning's draws, each taken when it happens.
    draws: Vec<Option<Draw>>,
    open_boxes: BTreeMap<StationId, (Instant, Vec<Tube>)>,
    /// The most tubes a box may hold at a centre the dispatcher gave a limit.
    box_limits: BTreeMap<StationId, usize>,
    box_count: BTreeMap<StationId, u32>,
    boxes: BTreeMap<BoxId, PhysBox>,
    drones: BTreeMap<DroneId, SimDrone>,
    generations: BTreeMap<MissionId, u32>,
    /// Missions their drone reported complete: an abort or redirect that crossed
    /// the report on the link finds the mission over, and the drone ignores it.
    completed: BTreeSet<MissionId>,
    labs: LabFloor,
    out: DayRun,
    end: Instant,
    tubes_left: usize,
    /// What this partition sends other partitions (`crate::partitions`): boxes
    /// delivered to their labs, and what its labs made of their tubes.
    cross_out: Vec<CrossMessage>,
}

/// What one partition tells another: never shared state, each side journals it.
#[derive(Clone, Debug)]
pub enum CrossMessage {
    /// Tubes this partition's carrier delivered to another partition's lab (that
    /// lab checks them in when it is handed them, at the end of the step).
    Referral {
        /// The lab.
        lab: labflight_core::LabId,
        /// The tubes.
        tubes: Vec<Tube>,
    },
    /// What a lab made of a referred tube, for the partition that sent it.
    Verdict {
        /// The partition that sent the tube.
        to: labflight_core::GroupId,
        /// The tube.
        barcode: labflight_core::TubeBarcode,
        /// The lab.
        lab: labflight_core::LabId,
        /// When.
        at: Instant,
        /// What.
        outcome: LabOutcome,
    },
}

/// What a lab made of a tube (`CrossMessage::Verdict`).
#[derive(Clone, Debug)]
pub enum LabOutcome {
    /// Spun at reception.
    Centrifuged,
    /// Resulted and verified.
    Resulted,
    /// Refused, with the lab's words.
    Rejected(String),
}

impl std::fmt::Debug for Engine<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("now", &self.now)
            .finish_non_exhaustive()
    }
}

impl<'a> Engine<'a> {
    /// The day of `scenario` with its dispatcher in the same process, planning with `policy`; `seed` decides the draws and the faults.
    pub fn new(scenario: &'a Scenario, world: Arc<World>, policy: PolicyKind, seed: u64) -> Self {
        let stations: Vec<_> = world.stations.values().cloned().collect();
        let draws = morning_draws(scenario, &stations, seed);
        Engine::with_draws(scenario, world, policy, seed, draws)
    }

    /// The day of `scenario` with these `draws` (a partition's share of the
    /// city's morning, drawn once for the whole map).
    pub(crate) fn with_draws(
        scenario: &'a Scenario,
        world: Arc<World>,
        policy: PolicyKind,
        seed: u64,
        draws: Vec<Draw>,
    ) -> Self {
        let start = scenario.at(scenario.service.first_draw) - Duration::minutes(30);
        // Run until every tube is resolved or the day is over (midnight local): a late
        // van still delivers, and only what is unresolved at midnight counts as lost.
        let end = scenario.at(chrono::NaiveTime::MIN) + Duration::days(1);
        let drones = world
            .drones
            .iter()
            .map(|d| {
                let position = world.pad_position(&d.pad).unwrap_or(world.frame.origin);
                let sim = SimDrone {
                    position,
                    battery_pct: d.battery_pct,
                    flight: None,
                    link_down_until: None,
                };
                (d.id.clone(), sim)
            })
            .collect();
        let labs = LabFloor::new(scenario, &world);
        let mut engine = Engine {
            scenario,
            dispatcher: Some(Dispatcher::new(Arc::clone(&world), policy, seed, start)),
            outbox: Vec::new(),
            plans: BTreeMap::new(),
            world,
            rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5EED_F1EE7),
            now: start,
            queue: BinaryHeap::new(),
            happenings: BTreeMap::new(),
            seq: 0,
            tubes_left: draws.len(),
            draws: draws.into_iter().map(Some).collect(),
            open_boxes: BTreeMap::new(),
            box_limits: BTreeMap::new(),
            box_count: BTreeMap::new(),
            boxes: BTreeMap::new(),
            drones,
            generations: BTreeMap::new(),
            completed: BTreeSet::new(),
            labs,
            out: DayRun::default(),
            end,
            cross_out: Vec::new(),
        };
        engine.schedule_day(start);
        engine
    }

    fn push(&mut self, at: Instant, h: Happening) {
        self.seq += 1;
        self.queue.push(Reverse((at, self.seq)));
        self.happenings.insert(self.seq, h);
    }

    fn tell(&mut self, at: Instant, event: Event) {
        self.push(at, Happening::Tell { event, guard: None });
    }

    fn tell_guarded(&mut self, at: Instant, mission: &MissionId, event: Event) {
        let generation = self.generations.get(mission).copied().unwrap_or(0);
        self.push(
            at,
            Happening::Tell {
                event,
                guard: Some((mission.clone(), generation)),
            },
        );
    }

    fn schedule_day(&mut self, start: Instant) {
        let s = self.scenario;
        let calm = wind_from(s.ambient.wind_mps, s.ambient.wind_from_deg);
        self.tell(
            start,
            Event::Weather {
                wind_east_mps: calm.x,
                wind_north_mps: calm.y,
                rain_mm_h: 0.0,
            },
        );
        for w in &s.weather {
            let v = wind_from(w.wind_mps, w.wind_from_deg);
            self.tell(
                s.at(w.from),
                Event::Weather {
                    wind_east_mps: v.x,
                    wind_north_mps: v.y,
                    rain_mm_h: w.rain_mm_h,
                },
            );
            self.tell(
                s.at(w.to),
                Event::Weather {
                    wind_east_mps: calm.x,
                    wind_north_mps: calm.y,
                    rain_mm_h: 0.0,
                },
            );
        }
        for f in &s.forecast {
            let forecast = s.weather_forecast(f);
            self.tell(
                forecast.issued_at.max(start),
                Event::WeatherForecast { forecast },
            );
        }
        for o in &s.outages {
            let lab = o.lab.clone();
            self.tell(
                s.at(o.from),
                Event::Lab {
                    lab: lab.clone(),
                    update: LabUpdate::AnalyzerDown {
                        analyzer: o.analyzer.clone(),
                    },
                },
            );
            self.tell(
                s.at(o.to),
                Event::Lab {
                    lab,
                    update: LabUpdate::AnalyzerUp {
                        analyzer: o.analyzer.clone(),
                    },
                },
            );
        }
        let at: Vec<Instant> = self
            .draws
            .iter()
            .flatten()
            .map(|d| d.tube.drawn_at)
            .collect();
        for (i, at) in at.into_iter().enumerate() {
            self.push(at, Happening::Draw(i));
        }
        self.push(start, Happening::Minute);
    }

    /// A world whose dispatcher is elsewhere (the live service over MQTT).
    pub fn detached(scenario: &'a Scenario, world: Arc<World>, seed: u64) -> Self {
        let mut engine = Engine::new(scenario, world, PolicyKind::Drone, seed);
        engine.dispatcher = None;
        engine
    }

    /// The virtual instant the day starts.
    pub fn now(&self) -> Instant {
        self.now
    }

    /// When the next happening is due, if any is left before the day's end.
    pub fn next_at(&self) -> Option<Instant> {
        self.queue
            .peek()
            .map(|Reverse((at, _))| *at)
            .filter(|at| *at <= self.end)
    }

    /// Lets everything due up to `until` happen (a live driver's step).
    pub fn advance_to(&mut self, until: Instant) {
        while let Some(at) = self.next_at().filter(|at| *at <= until) {
            let Some(Reverse((at2, seq))) = self.queue.pop() else {
                break;
            };
            debug_assert_eq!(at, at2);
            self.now = self.now.max(at);
            if let Some(h) = self.happenings.remove(&seq) {
                self.happen(h);
            }
        }
        self.now = self.now.max(until);
    }

    /// Events the world produced for a remote dispatcher since the last call.
    pub fn take_outbox(&mut self) -> Vec<Stamped> {
        std::mem::take(&mut self.outbox)
    }

    /// A command from a remote dispatcher, acted out at `at`.
    pub fn command(&mut self, at: Instant, command: &Command) {
        self.now = self.now.max(at);
        self.act(command);
    }

    /// Every drone's position, battery and whether it is flying, at the current
    /// instant (a live device's heartbeat while it stands on a pad).
    pub fn drone_positions(&self) -> Vec<(DroneId, LatLon, f64, bool)> {
        self.drones
            .iter()
            .map(|(id, d)| {
                let (p, battery) = d.at(self.now);
                (id.clone(), p, battery, d.flight.is_some())
            })
            .collect()
    }

    /// Tubes drawn today that have not yet been reported or rejected.
    pub fn tubes_left(&self) -> usize {
        self.tubes_left
    }

    /// Runs the day to its end; `progress` gets the share of virtual time done.
    pub fn run(mut self, progress: &mut dyn FnMut(f64)) -> DayRun {
        let start = self.now;
        let span = (self.end - start).num_seconds().max(1) as f64;
        let mut last_report = start;
        while let Some(Reverse((at, seq))) = self.queue.pop() {
            if at > self.end {
                break;
            }
            self.now = at;
            let h = self
                .happenings
                .remove(&seq)
                .expect("every queued happening is stored");
            self.happen(h);
            if at - last_report >= Duration::minutes(10) {
                last_report = at;
                progress((at - start).num_seconds() as f64 / span);
            }
        }
        progress(1.0);
        self.out
    }

    fn happen(&mut self, h: Happening) {
        match h {
            Happening::Draw(i) => self.draw(i),
            Happening::SealCheck(station) => {
                let max_age = minutes(self.scenario.demand.seal_max_age_minutes);
                if self
                    .open_boxes
                    .get(&station)
                    .is_some_and(|(opened, _)| self.now - *opened >= max_age)
                {
                    self.seal(&station);
                }
            }
            Happening::SealNow(station) => self.seal(&station),
            Happening::Tell { event, guard } => {
                if let Some((mission, generation)) = guard
                    && self.generations.get(&mission).copied().unwrap_or(0) != generation
                {
                    return;
                }
                // A box is where it physically is: a second carrier sent for a box
                // already taken finds nothing to load.
                if let Event::Drone {
                    drone,
                    kind: DroneEventKind::PayloadLoaded { box_id },
                } = &event
                    && let Some(b) = self.boxes.get_mut(box_id)
                {
                    if std::mem::replace(&mut b.loaded, true) {
                        return;
                    }
                    b.aboard = Some(drone.clone());
                }
                // A box is received once, where it physically is: a late
                // redirect's second delivery finds it already taken in.
                if let Event::BoxReceived { box_id, .. } = &event
                    && self.boxes.get(box_id).is_some_and(|b| b.received)
                {
                    return;
                }
                self.set_down_at_hub(&event);
                let Some(event) = self.van_finds(event) else {
                    return;
                };
                self.deliver(event);
            }
            Happening::Minute => self.minute(),
        }
    }

    /// A hub leg's drone completing its mission has landed at the hub: what it
    /// carries is set down on the pad, for the van booked with it.
    fn set_down_at_hub(&mut self, event: &Event) {
        let Event::Drone {
            drone,
            kind: DroneEventKind::MissionComplete { mission },
        } = event
        else {
            return;
        };
        if self.plans.get(mission).is_none_or(|p| p.hub.is_none()) {
            return;
        }
        for b in self.boxes.values_mut() {
            if !b.received && b.aboard.as_ref() == Some(drone) {
                b.aboard = None;
                b.loaded = false;
            }
        }
    }

    /// A van collects only the boxes that lie where it calls (not taken by a
    /// drone meanwhile) and hands over only those it carries; it reports nothing
    /// when it finds nothing. Every other event passes unchanged.
    fn van_finds(&mut self, event: Event) -> Option<Event> {
        let Event::Courier { courier, kind } = event else {
            return Some(event);
        };
        let kind = match kind {
            CourierEventKind::PickedUp { boxes } => CourierEventKind::PickedUp {
                boxes: self.boxes_moved(boxes, |b| {
                    let there = !b.loaded && !b.received;
                    if there {
                        b.loaded = true;
                        b.in_van = Some(courier.clone());
                    }
                    there
                })?,
            },
            CourierEventKind::Delivered { lab, boxes } => CourierEventKind::Delivered {
                lab,
                boxes: self.boxes_moved(boxes, |b| {
                    let carried = b.in_van.as_ref() == Some(&courier);
                    if carried {
                        b.in_van = None;
                    }
                    carried
                })?,
            },
            other => other,
        };
        Some(Event::Courier { courier, kind })
    }

    /// The boxes of `ids` that `moved` moves (it updates each box it moves);
    /// `None` when it moves none.
    fn boxes_moved(
        &mut self,
        ids: Vec<BoxId>,
        mut moved: impl FnMut(&mut PhysBox) -> bool,
    ) -> Option<Vec<BoxId>> {
        let ids: Vec<BoxId> = ids
            .into_iter()
            .filter(|id| self.boxes.get_mut(id).is_some_and(&mut moved))
            .collect();
        (!ids.is_empty()).then_some(ids)
    }

    fn draw(&mut self, i: usize) {
        let Some(d) = self.draws[i].take() else {
            return;
        };
        let entry = self
            .open_boxes
            .entry(d.station.clone())
            .or_insert_with(|| (d.tube.drawn_at, Vec::new()));
        entry.1.push(d.tube);
        let (opened, count) = (entry.0, entry.1.len());
        if count == 1 {
            let at = opened + minutes(self.scenario.demand.seal_max_age_minutes);
            self.push(at, Happening::SealCheck(d.station.clone()));
        }
        if count >= self.box_limit(&d.station) {
            self.seal(&d.station);
        }
    }

    /// Staff seal a box at this many tubes: the scenario's rule, or the
    /// dispatcher's lower limit for the centre.
    fn box_limit(&self, station: &StationId) -> usize {
        let rule = self.scenario.demand.seal_max_tubes as usize;
        self.box_limits.get(station).map_or(rule, |n| rule.min(*n))
    }

    fn seal(&mut self, station: &StationId) {
        let Some((_, tubes)) = self.open_boxes.remove(station) else {
            return;
        };
        let n = self.box_count.entry(station.clone()).or_insert(0);
        *n += 1;
        let box_id = BoxId::new(format!("BX-{station}-{n:02}"));
        self.boxes.insert(
            box_id.clone(),
            PhysBox {
                station: station.clone(),
                sealed_at: self.now,
                loaded: false,
                aboard: None,
                in_van: None,
                received: false,
                tubes: tubes.clone(),
            },
        );
        self.deliver(Event::BoxSealed {
            box_id,
            station: station.clone(),
            tubes,
        });
    }

    /// Every minute: drone telemetry, box temperatures (every 10 min), the
    /// dispatcher's tick, and a load sample every 15 min.
    fn minute(&mut self) {
        let now = self.now;
        let ids: Vec<DroneId> = self.drones.keys().cloned().collect();
        for id in ids {
            let d = &self.drones[&id];
            if d.flight.is_none() || d.link_down_until.is_some_and(|u| now < u) {
                continue;
            }
            let (position, battery_pct) = d.at(now);
            self.deliver(Event::DroneTelemetry {
                drone: id,
                position,
                alt_m: self.world.drone_spec.cruise_alt_m,
                battery_pct: (battery_pct * 10.0).round() / 10.0,
                state: DroneState::Flying,
            });
        }
        let minute_of_day = (self.scenario.local_time(now) - chrono::NaiveTime::MIN).num_minutes();
        if minute_of_day % 10 == 0 {
            let ambient = thermal::ambient_c(self.scenario, now);
            let readings: Vec<(BoxId, f64)> = self
                .boxes
                .iter()
                .filter(|(_, b)| !b.received)
                .map(|(id, b)| {
                    (
                        id.clone(),
                        thermal::box_temp_c(&self.world.box_spec, ambient, now - b.sealed_at),
                    )
                })
                .collect();
            for (box_id, temp_c) in readings {
                self.deliver(Event::BoxTelemetry {
                    box_id,
                    temp_c: (temp_c * 10.0).round() / 10.0,
                    lid_open: false,
                });
            }
        }
        if minute_of_day % 15 == 0 {
            for (lab, tubes) in self.labs.queues(now) {
                self.deliver(Event::Lab {
                    lab: lab.as_str().into(),
                    update: LabUpdate::Queue { tubes },
                });
            }
        }
        if self.dispatcher.is_some() {
            // A live service keeps its own clock and ticks itself.
            self.deliver(Event::Tick);
        }
        let done = self.tubes_left == 0 && now >= self.scenario.at(self.scenario.service.cutoff);
        if !done {
            self.push(
                now + minutes(self.scenario.dispatch.tick_minutes),
                Happening::Minute,
            );
        }
    }

    /// Hands an event to the dispatcher, journals it, and acts out the commands.
    fn deliver(&mut self, event: Event) {
        self.observe(&event);
        let stamped = Stamped {
            at: self.now,
            event,
        };
        let Some(dispatcher) = self.dispatcher.as_mut() else {
            self.outbox.push(stamped);
            return;
        };
        let (index, commands) = self.out.decide(dispatcher, stamped);
        for c in commands {
            self.act(&c);
            self.out.commands.push((index, c));
        }
    }

    /// The world's own reaction to an event: labs start work on received boxes.
    fn observe(&mut self, event: &Event) {
        match event {
            Event::BoxReceived { box_id, lab } => self.received(box_id, lab),
            Event::Courier {
                kind: CourierEventKind::Delivered { lab, boxes },
                ..
            } => {
                for b in boxes.clone() {
                    self.received(&b, lab);
                }
            }
            Event::ResultReported { .. } => self.tubes_left = self.tubes_left.saturating_sub(1),
            Event::Drone {
                kind: DroneEventKind::MissionComplete { mission },
                ..
            } => {
                self.completed.insert(mission.clone());
            }
            Event::Drone {
                drone,
                kind: DroneEventKind::Landed { position, .. },
            } => {
                // On the ground: the flight is over, its battery use is settled.
                let now = self.now;
                if let Some(d) = self.drones.get_mut(drone) {
                    d.battery_pct = d.at(now).1;
                    d.position = *position;
                    d.flight = None;
                }
            }
            _ => {}
        }
    }

    fn received(&mut self, box_id: &BoxId, lab: &labflight_core::LabId) {
        let Some(b) = self.boxes.get_mut(box_id) else {
            return;
        };
        if std::mem::replace(&mut b.received, true) {
            return;
        }
        // Received once: the floor has the tubes from here on.
        let tubes = std::mem::take(&mut b.tubes);
        if !self.world.is_own_lab(lab) {
            // Another partition's lab: its floor works on them, and says what came of each.
            self.cross_out.push(CrossMessage::Referral {
                lab: lab.clone(),
                tubes,
            });
            return;
        }
        for t in tubes {
            for (at, outcome) in self.lab_takes(lab, &t) {
                self.lab_says(lab, &t.barcode, at, outcome);
            }
        }
    }

    /// What `lab`'s floor makes of a tube received now, and when: refused at
    /// reception (its stability limit passed, a test the lab does not run), or spun
    /// if it must be and resulted once its lines reach it.
    fn lab_takes(&mut self, lab: &labflight_core::LabId, t: &Tube) -> Vec<(Instant, LabOutcome)> {
        if self.now > t.stability_deadline() {
            // Rejected at reception: the lab says so and the centre is told to
            // redraw; no result.
            let why = "stability limit exceeded at reception".to_owned();
            return vec![(self.now, LabOutcome::Rejected(why))];
        }
        // A test the lab does not run: no result here, it says so at reception.
        if let Some(family) = self.labs.lacks(lab, t) {
            let why = format!("does not run {}", family.as_str());
            return vec![(self.now, LabOutcome::Rejected(why))];
        }
        let mut outcomes = Vec::new();
        // Serum and plasma tubes not spun at the centre are spun at reception.
        let needs_spin = t.families.iter().any(|f| {
            matches!(
                f,
                labflight_core::TestFamily::Chemistry
                    | labflight_core::TestFamily::Immunoassay
                    | labflight_core::TestFamily::Coagulation
            )
        });
        if needs_spin && !t.spun {
            outcomes.push((self.now + self.labs.reception(lab), LabOutcome::Centrifuged));
        }
        let resulted = self.labs.process(lab, t, self.now, &mut self.rng);
        outcomes.push((resulted, LabOutcome::Resulted));
        outcomes
    }

    /// Tells the dispatcher, at `at`, what a lab made of one of this partition's
    /// tubes (its own lab's work, or another partition's verdict); a result
    /// reaches the centre `report_minutes` later.
    pub(crate) fn lab_says(
        &mut self,
        lab: &labflight_core::LabId,
        barcode: &labflight_core::TubeBarcode,
        at: Instant,
        outcome: LabOutcome,
    ) {
        let (lab, barcode, at) = (lab.clone(), barcode.clone(), at.max(self.now));
        match outcome {
            LabOutcome::Rejected(reason) => {
                self.tubes_left = self.tubes_left.saturating_sub(1);
                self.tell(
                    at,
                    Event::TubeRejected {
                        barcode,
                        lab,
                        reason,
                    },
                );
            }
            LabOutcome::Centrifuged => self.tell(at, Event::TubeCentrifuged { barcode, lab }),
            LabOutcome::Resulted => {
                let report = minutes(self.scenario.service.report_minutes);
                let event = Event::TubeResulted {
                    barcode: barcode.clone(),
                    lab,
                };
                self.tell(at, event);
                self.tell(at + report, Event::ResultReported { barcode });
            }
        }
    }

    /// Tubes another partition (`from`) delivered to one of this partition's labs
    /// at `at`: the dispatcher hears of those the lab takes (its lines are busier),
    /// the floor works on them, and each verdict goes back to `from`.
    pub(crate) fn referral_in(
        &mut self,
        from: &labflight_core::GroupId,
        lab: &labflight_core::LabId,
        tubes: &[Tube],
    ) {
        let mut taken = Vec::new();
        let mut verdicts = Vec::new();
        for t in tubes {
            for (at, outcome) in self.lab_takes(lab, t) {
                match outcome {
                    LabOutcome::Resulted => {
                        taken.push(labflight_core::event::ReferredTube {
                            barcode: t.barcode.clone(),
                            families: t.families.clone(),
                        });
                        let event = Event::TubeResulted {
                            barcode: t.barcode.clone(),
                            lab: lab.clone(),
                        };
                        self.tell(at, event);
                    }
                    LabOutcome::Centrifuged | LabOutcome::Rejected(_) => {}
                }
                verdicts.push(CrossMessage::Verdict {
                    to: from.clone(),
                    barcode: t.barcode.clone(),
                    lab: lab.clone(),
                    at,
                    outcome,
                });
            }
        }
        if !taken.is_empty() {
            self.deliver(Event::Referral {
                lab: lab.clone(),
                from: from.to_string(),
                tubes: taken,
            });
        }
        self.cross_out.extend(verdicts);
    }

    /// Where this partition is short of a drone and which it can spare
    /// (`labflight_dispatch::shortfall`, `spare_drones`), read between steps.
    pub(crate) fn drone_needs(&self, near_m: f64) -> (Option<LatLon>, Vec<(DroneId, LatLon)>) {
        let Some(d) = self.dispatcher.as_ref() else {
            return (None, Vec::new());
        };
        (
            labflight_dispatch::shortfall(d.world(), d.state(), near_m),
            labflight_dispatch::spare_drones(d.world(), d.state()),
        )
    }

    /// Lends `drone` to the group `to`: it leaves this world (journaled as
    /// `drone_lent`). Where it stands and its battery, for the borrower; `None`
    /// when it is not here.
    pub(crate) fn lend_out(
        &mut self,
        drone: &DroneId,
        to: &labflight_core::GroupId,
    ) -> Option<(LatLon, f64)> {
        let (position, battery) = self.drones.get(drone)?.at(self.now);
        self.drones.remove(drone);
        self.deliver(Event::DroneLent {
            drone: drone.clone(),
            to: to.to_string(),
        });
        Some((position, battery))
    }

    /// Takes in `drone`, lent by the group `from`, standing at `position` with
    /// `battery_pct` (journaled as `drone_borrowed`).
    pub(crate) fn borrow_in(
        &mut self,
        drone: &DroneId,
        from: &labflight_core::GroupId,
        (position, battery_pct): (LatLon, f64),
    ) {
        self.drones.insert(
            drone.clone(),
            SimDrone {
                position,
                battery_pct,
                flight: None,
                link_down_until: None,
            },
        );
        self.deliver(Event::DroneBorrowed {
            drone: drone.clone(),
            from: from.to_string(),
            position,
            battery_pct,
        });
    }

    /// What this partition has to tell others since the last call.
    pub(crate) fn take_cross(&mut self) -> Vec<CrossMessage> {
        std::mem::take(&mut self.cross_out)
    }

    /// The day's journal and commands so far (a partition's, at the day's end).
    pub(crate) fn into_run(self) -> DayRun {
        self.out
    }
}
