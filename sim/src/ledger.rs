//! The chain of custody of every tube, rebuilt from the events the dispatcher
//! received, the custody steps they meant and the commands it gave — nothing
//! else. The custody timestamps (loaded, received, resulted, reported) come from
//! the steps `labflight_dispatch::custody_steps` derives, the same the live
//! service stores: custody is derived in one place. The simulator and `replay`
//! both compute their KPIs from it, so a replay of a journal reports exactly what
//! the run reported.

use labflight_core::command::MissionPlan;
use labflight_core::{
    BoxId, Command, CustodyStep, CustodyStepKind as Step, Event, Instant, LabId, Stamped,
    StationId, Tube, TubeBarcode,
};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One tube's custody timestamps and end state.
#[derive(Clone, Debug, Serialize)]
pub struct Custody {
    /// The tube's barcode.
    pub barcode: TubeBarcode,
    /// The centre that drew it.
    pub station: StationId,
    /// Its tube type.
    pub tube_type: String,
    /// Its tests (LOINC codes, space-separated).
    pub tests: String,
    /// Whether it was centrifuged at the centre.
    pub spun: bool,
    /// The box it travelled in.
    pub box_id: BoxId,
    /// When it was drawn.
    pub drawn_at: Instant,
    /// The latest lab reception its stability allows.
    pub stability_deadline: Instant,
    /// When its box was sealed.
    pub sealed_at: Instant,
    /// When a carrier first took the box from where it was sealed.
    pub loaded_at: Option<Instant>,
    /// Every carrier that loaded the box, in order, `;`-separated: a box a failed
    /// drone set down and another fetched names both.
    pub carrier: Option<String>,
    /// The last mission or van run booked for it.
    pub mission: Option<String>,
    /// When a lab first received it.
    pub received_at: Option<Instant>,
    /// That lab.
    pub lab: Option<LabId>,
    /// When its result was verified.
    pub resulted_at: Option<Instant>,
    /// When its result reached the centre.
    pub reported_at: Option<Instant>,
    /// Whether its box left its temperature band before reception.
    pub temperature_excursion: bool,
}

impl Custody {
    /// Whether it reached the lab after its stability limit.
    pub fn stability_violated(&self) -> bool {
        self.received_at
            .is_some_and(|r| r > self.stability_deadline)
    }
}

/// One drone mission, as `flights.csv` lists it; its times are instants, and
/// the file writes them on the scenario's clock (`FlightRecord::on_clock`).
#[derive(Clone, Debug, Serialize)]
pub struct FlightRecord<T = Instant> {
    /// The mission id.
    pub mission: String,
    /// The drone.
    pub drone: String,
    /// The first centre called at.
    pub station: String,
    /// The lab.
    pub lab: String,
    /// Boxes carried.
    pub boxes: usize,
    /// Tubes carried.
    pub tubes: usize,
    /// Payload, kg.
    pub payload_kg: f64,
    /// Planned take-off.
    pub depart: T,
    /// Planned pickup at the first centre.
    pub pickup: T,
    /// Planned arrival at the lab.
    pub arrive: T,
    /// Planned distance, km.
    pub distance_km: f64,
    /// Planned energy, Wh.
    pub energy_wh: f64,
    /// Whether it was aborted.
    pub aborted: bool,
    /// The centres called at after `station` on a round, `;`-separated (empty on a direct flight).
    pub later_stops: String,
}

impl FlightRecord {
    /// The same record with its times at `offset` (the scenario's local time).
    pub fn on_clock(
        &self,
        offset: chrono::FixedOffset,
    ) -> FlightRecord<chrono::DateTime<chrono::FixedOffset>> {
        let local = |t: Instant| t.with_timezone(&offset);
        FlightRecord {
            mission: self.mission.clone(),
            drone: self.drone.clone(),
            station: self.station.clone(),
            lab: self.lab.clone(),
            boxes: self.boxes,
            tubes: self.tubes,
            payload_kg: self.payload_kg,
            depart: local(self.depart),
            pickup: local(self.pickup),
            arrive: local(self.arrive),
            distance_km: self.distance_km,
            energy_wh: self.energy_wh,
            aborted: self.aborted,
            later_stops: self.later_stops.clone(),
        }
    }
}

/// Custody of every tube, flights, and the day's weather and lab outages as seen
/// by the dispatcher.
#[derive(Debug, Default)]
pub struct Ledger {
    /// Every tube's custody, by barcode.
    pub tubes: BTreeMap<TubeBarcode, Custody>,
    boxes: BTreeMap<BoxId, Vec<TubeBarcode>>,
    /// Every drone mission, in the order issued.
    pub flights: Vec<FlightRecord>,
    flight_index: BTreeMap<String, usize>,
    /// Van trips (a van's call at one centre at one time counts once).
    pub courier_trips: u32,
    /// The van calls counted in `courier_trips` (van, centre, time): boxes sealed
    /// as a van calls join its trip in a run of their own.
    van_calls: BTreeSet<(String, String, Instant)>,
    /// Every van run booked, in order (`vehicles::van_km` drives them).
    pub(crate) van_runs: Vec<crate::vehicles::VanRun>,
    /// Road km each van drove (`Ledger::measure_vans`).
    pub van_km: BTreeMap<String, f64>,
    /// Intervals when wind or rain exceeded the drone's limits (start, end).
    pub grounded: Vec<(Instant, Option<Instant>)>,
    /// Analyzer outages per lab (start, end).
    pub outages: BTreeMap<LabId, Vec<(Instant, Option<Instant>)>>,
    /// Storm windows the dispatcher planned around (its `storm_forecast` alerts:
    /// flights that would be caught were not launched), start and end.
    pub storm_forecasts: Vec<(Instant, Instant)>,
    /// Alerts given, by kind.
    pub alerts: BTreeMap<String, u32>,
    /// Every tube a lab refused, with its words (for a stability limit passed, a
    /// test it does not run).
    pub lab_rejections: BTreeMap<TubeBarcode, String>,
}

impl Ledger {
    /// Records what an event means for the tubes' records (seals create them), temperature excursions and lab outages.
    pub fn apply_event(&mut self, stamped: &Stamped, box_band: labflight_core::TempBand) {
        let at = stamped.at;
        match &stamped.event {
            Event::BoxSealed {
                box_id,
                station,
                tubes,
            } => {
                if self.boxes.contains_key(box_id) {
                    return;
                }
                self.boxes.insert(
                    box_id.clone(),
                    tubes.iter().map(|t| t.barcode.clone()).collect(),
                );
                for t in tubes {
                    self.tubes
                        .insert(t.barcode.clone(), custody(t, station, box_id, at));
                }
            }
            Event::BoxTelemetry { box_id, temp_c, .. } => {
                let band = box_band;
                if !band.contains(*temp_c) {
                    for bc in self.boxes.get(box_id).into_iter().flatten() {
                        if let Some(c) = self.tubes.get_mut(bc)
                            && c.received_at.is_none()
                        {
                            c.temperature_excursion = true;
                        }
                    }
                }
            }
            Event::TubeRejected {
                barcode,
                lab,
                reason,
            } => {
                self.lab_rejections
                    .insert(barcode.clone(), format!("rejected by {lab}: {reason}"));
            }
            Event::Lab { lab, update } => {
                use labflight_core::event::LabUpdate;
                let spans = self.outages.entry(lab.clone()).or_default();
                match update {
                    LabUpdate::AnalyzerDown { .. } | LabUpdate::Closed => spans.push((at, None)),
                    LabUpdate::AnalyzerUp { .. } | LabUpdate::Opened => {
                        if let Some(open) = spans.iter_mut().rev().find(|s| s.1.is_none()) {
                            open.1 = Some(at);
                        }
                    }
                    LabUpdate::Queue { .. } => {}
                }
            }
            _ => {}
        }
    }

    /// Whether `apply_custody` reads steps of this kind (the others need not be
    /// kept for the ledger).
    pub fn reads(kind: Step) -> bool {
        matches!(
            kind,
            Step::Loaded | Step::ReceivedAtLab | Step::Resulted | Step::Reported
        )
    }

    /// Records a custody step (`labflight_dispatch::custody_steps`): the first
    /// load, every carrier in turn, the first reception at a lab, the result and
    /// its report.
    pub fn apply_custody(&mut self, step: &CustodyStep) {
        let Some(c) = self.tubes.get_mut(&step.barcode) else {
            return;
        };
        match step.step {
            Step::Loaded => {
                c.loaded_at.get_or_insert(step.at);
                if let Some(carrier) = step.by.as_deref() {
                    match &mut c.carrier {
                        None => c.carrier = Some(carrier.to_owned()),
                        Some(chain) if chain.rsplit(';').next() != Some(carrier) => {
                            chain.push(';');
                            chain.push_str(carrier);
                        }
                        Some(_) => {}
                    }
                }
            }
            Step::ReceivedAtLab if c.received_at.is_none() => {
                c.received_at = Some(step.at);
                c.lab = step.place.as_deref().map(LabId::from);
            }
            Step::Resulted => {
                c.resulted_at.get_or_insert(step.at);
            }
            Step::Reported => {
                c.reported_at.get_or_insert(step.at);
            }
            _ => {}
        }
    }

    /// Records what a command means for custody and flights; `max_wind`/`max_rain`
    /// are not needed here: grounding is read from the dispatcher's own alerts.
    pub fn apply_command(&mut self, at: Instant, command: &Command) {
        match command {
            Command::AssignMission(p) => self.flight(p),
            Command::AddToMission {
                mission,
                boxes,
                payload_kg,
                ..
            } => {
                let added: usize = boxes
                    .iter()
                    .map(|b| self.boxes.get(b).map_or(0, Vec::len))
                    .sum();
                for bc in boxes
                    .iter()
                    .flat_map(|b| self.boxes.get(b).into_iter().flatten())
                {
                    if let Some(c) = self.tubes.get_mut(bc) {
                        c.mission = Some(mission.to_string());
                    }
                }
                if let Some(i) = self.flight_index.get(mission.as_str()) {
                    let f = &mut self.flights[*i];
                    f.boxes += boxes.len();
                    f.tubes += added;
                    f.payload_kg = *payload_kg;
                }
            }
            Command::AbortMission { mission, .. } => {
                if let Some(i) = self.flight_index.get(mission.as_str()) {
                    self.flights[*i].aborted = true;
                }
            }
            Command::RequestCourier(r) => {
                let van = r.courier.as_ref().map_or(String::new(), |c| c.to_string());
                if self
                    .van_calls
                    .insert((van, r.station.to_string(), r.pickup_at))
                {
                    self.courier_trips += 1;
                }
                self.van_runs.push(crate::vehicles::VanRun {
                    van: r.courier.as_ref().map_or(String::new(), |c| c.to_string()),
                    station: r.station.clone(),
                    pad: r.pad.clone(),
                    lab: r.lab.clone(),
                    pickup_at: r.pickup_at,
                    deliver_at: r.deliver_at,
                });
                for b in &r.boxes {
                    for bc in self.boxes.get(b).into_iter().flatten() {
                        if let Some(c) = self.tubes.get_mut(bc) {
                            c.mission = Some(r.mission.to_string());
                        }
                    }
                }
            }
            Command::Alert(a) => {
                *self.alerts.entry(format!("{:?}", a.kind)).or_insert(0) += 1;
                if let Some(labflight_core::Reason::StormForecast { from_at, to_at, .. }) =
                    &a.reason
                {
                    self.storm_forecasts.push((*from_at, *to_at));
                }
                if a.kind == labflight_core::command::AlertKind::FleetGrounded {
                    if a.message.starts_with("fleet grounded") {
                        self.grounded.push((at, None));
                    } else if let Some(open) =
                        self.grounded.iter_mut().rev().find(|g| g.1.is_none())
                    {
                        open.1 = Some(at);
                    }
                }
            }
            _ => {}
        }
    }

    /// The partitions' ledgers as one, for a city day's figures: each partition
    /// holds its own centres' tubes, flights and vans (mission ids carry their
    /// partition, so none collide); the weather, forecasts and outages every
    /// partition heard are taken once (from the first that has them).
    pub fn merge(parts: impl IntoIterator<Item = Ledger>) -> Ledger {
        let mut all = Ledger::default();
        for (i, part) in parts.into_iter().enumerate() {
            all.tubes.extend(part.tubes);
            all.boxes.extend(part.boxes);
            all.flights.extend(part.flights);
            all.courier_trips += part.courier_trips;
            all.van_calls.extend(part.van_calls);
            all.van_runs.extend(part.van_runs);
            all.van_km.extend(part.van_km);
            if i == 0 {
                all.grounded = part.grounded;
                all.storm_forecasts = part.storm_forecasts;
            }
            for (lab, spans) in part.outages {
                all.outages.entry(lab).or_insert(spans);
            }
            for (kind, n) in part.alerts {
                *all.alerts.entry(kind).or_insert(0) += n;
            }
            all.lab_rejections.extend(part.lab_rejections);
        }
        // The city's flights in the order issued (a partition's order within an instant).
        all.flights.sort_by(|a, b| {
            a.depart
                .cmp(&b.depart)
                .then_with(|| a.mission.cmp(&b.mission))
        });
        all.flight_index = (all.flights.iter().enumerate())
            .map(|(i, f)| (f.mission.clone(), i))
            .collect();
        all
    }

    /// Works out the road km each van drove for the runs booked
    /// (`vehicles::van_km`), once every command is applied.
    pub fn measure_vans(&mut self, world: &labflight_dispatch::World) {
        self.van_km = crate::vehicles::van_km(world, &self.van_runs);
    }

    fn flight(&mut self, p: &MissionPlan) {
        let tubes: usize = p
            .boxes
            .iter()
            .map(|b| self.boxes.get(b).map_or(0, Vec::len))
            .sum();
        for b in &p.boxes {
            for bc in self.boxes.get(b).into_iter().flatten() {
                if let Some(c) = self.tubes.get_mut(bc) {
                    c.mission = Some(p.mission.to_string());
                }
            }
        }
        self.flight_index
            .insert(p.mission.to_string(), self.flights.len());
        self.flights.push(FlightRecord {
            mission: p.mission.to_string(),
            drone: p.drone.to_string(),
            station: p.station.to_string(),
            lab: p.lab.to_string(),
            boxes: p.boxes.len(),
            tubes,
            payload_kg: p.payload_kg,
            depart: p.legs.first().map_or(p.pickup_at, |l| l.depart),
            pickup: p.pickup_at,
            // A hub leg's flight ends at the hub, where a van takes the boxes on.
            arrive: p.hub.as_ref().map_or(p.arrive_lab_at, |h| h.land_at),
            distance_km: p.legs.iter().map(|l| l.distance_m).sum::<f64>() / 1000.0,
            later_stops: p
                .later_stops
                .iter()
                .map(|s| s.station.as_str())
                .collect::<Vec<_>>()
                .join(";"),
            energy_wh: p.legs.iter().map(|l| l.energy_wh).sum(),
            aborted: false,
        });
    }

    /// Why a tube drawn by the last draw missed the cutoff, or `None` if it did not.
    pub fn miss_reason(&self, c: &Custody, cutoff: Instant) -> Option<String> {
        if c.reported_at.is_some_and(|r| r <= cutoff) {
            return None;
        }
        let overlaps = |spans: &[(Instant, Option<Instant>)], from: Instant, to: Instant| {
            spans
                .iter()
                .any(|(a, b)| *a < to && b.is_none_or(|b| b > from))
        };
        let wait_end = c.loaded_at.or(c.received_at).unwrap_or(cutoff);
        let grounded = overlaps(&self.grounded, c.sealed_at, wait_end);
        // A storm forecast holds flights from before its window begins: the box
        // waited for it when it was sealed before the window's end and loaded
        // after the dispatcher heard of it.
        let held_for_storm = self
            .storm_forecasts
            .iter()
            .any(|(from, to)| c.sealed_at < *to && wait_end > *from - chrono::Duration::hours(1));
        Some(if c.stability_violated() {
            let why = if grounded {
                " (fleet grounded by weather while the box waited)"
            } else if held_for_storm {
                " (held for a storm forecast while the box waited)"
            } else {
                ""
            };
            format!("rejected: stability limit exceeded before lab reception{why}")
        } else if let Some(refused) = self.lab_rejections.get(&c.barcode) {
            refused.clone()
        } else if c.received_at.is_none() {
            "never reached a lab".into()
        } else if grounded {
            "fleet grounded by weather while the box waited".into()
        } else if held_for_storm {
            "held for a storm forecast while the box waited".into()
        } else if c
            .lab
            .as_ref()
            .and_then(|l| self.outages.get(l))
            .is_some_and(|s| overlaps(s, c.received_at.unwrap_or(cutoff), cutoff))
        {
            "lab analyzer outage delayed the result".into()
        } else if c.reported_at.is_none() {
            "result not reported by the end of the simulated day".into()
        } else {
            format!(
                "late: waited {} min for pickup",
                (wait_end - c.sealed_at).num_minutes()
            )
        })
    }
}

fn custody(t: &Tube, station: &StationId, box_id: &BoxId, sealed_at: Instant) -> Custody {
    Custody {
        barcode: t.barcode.clone(),
        station: station.clone(),
        tube_type: t.tube_type.0.clone(),
        tests: t
            .tests
            .iter()
            .map(|l| l.0.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        spun: t.spun,
        box_id: box_id.clone(),
        drawn_at: t.drawn_at,
        stability_deadline: t.stability_deadline(),
        sealed_at,
        loaded_at: None,
        carrier: None,
        mission: None,
        received_at: None,
        lab: None,
        resulted_at: None,
        reported_at: None,
        temperature_excursion: false,
    }
}
