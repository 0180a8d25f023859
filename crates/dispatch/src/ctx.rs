//! What a policy works with during one planning pass: the world, the state, the
//! route cache and the command list, plus the shared actions every policy uses to
//! issue a drone mission or a courier run (so the bookkeeping lives in one place).
//! Van quotes and bookings are in `ctx/vans.rs`.

use crate::planner::{DroneOption, LabChoice, LabTimes, PlannedStop, RouteCache};
use crate::state::{BoxStatus, Carrier, DroneStatus, LabState, Mission, MissionStatus, State};
use crate::world::World;
use labflight_core::command::{
    Alert, AlertKind, Alternative, Explanation, MissionPlan, Severity, StationNotice,
};
use labflight_core::scenario::minutes;
use labflight_core::{BoxId, Command, DroneId, Instant, LabId, LatLon, PadId, Reason, StationId};
use rstar::RTree;
use rstar::primitives::GeomWithData;

/// Van runs: quotes and bookings (`Ctx::quote_van_run`, `Ctx::book_van_run`).
pub(crate) mod vans;

/// The forecast left on each box a pass decides about (`Ctx::forecast_planned`).
mod forecasts;

type DronePoint = GeomWithData<[f64; 2], DroneId>;

pub struct Ctx<'a> {
    pub world: &'a World,
    pub state: &'a mut State,
    pub cache: &'a mut RouteCache,
    pub out: &'a mut Vec<Command>,
    /// Whether boxes sealed while a drone is on its way join its flight (policy choice).
    pub ride_along: bool,
    idle: Option<RTree<DronePoint>>,
    /// The labs' lines as this pass finds them, remembered until a lab's state
    /// changes (`lab_mut`): a re-plan asks of the same labs for every centre.
    lab_times: std::cell::RefCell<LabTimes>,
}

impl std::fmt::Debug for Ctx<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ctx")
            .field("now", &self.state.now)
            .finish_non_exhaustive()
    }
}

impl<'a> Ctx<'a> {
    pub fn new(
        world: &'a World,
        state: &'a mut State,
        cache: &'a mut RouteCache,
        out: &'a mut Vec<Command>,
    ) -> Self {
        Ctx {
            world,
            state,
            cache,
            out,
            ride_along: true,
            idle: None,
            lab_times: Default::default(),
        }
    }

    /// A lab's state, to change: what was remembered of the labs' lines is
    /// forgotten.
    pub fn lab_mut(&mut self, lab: &LabId) -> &mut LabState {
        self.state.labs.get_mut(lab, self.lab_times.get_mut())
    }

    /// `planner::predicted_result`, with the labs' lines remembered for the pass:
    /// what every decision inside a pass asks.
    pub fn predicted_result<'f>(
        &self,
        lab: &labflight_core::Lab,
        families: impl IntoIterator<Item = &'f labflight_core::TestFamily>,
        arrive: Instant,
    ) -> Result<Instant, Reason> {
        self.lab_times
            .borrow_mut()
            .result_at(self.world, self.state, lab, families, arrive)
    }

    /// The lab with the earliest predicted result for `boxes` flown from `from`
    /// with `payload_kg`, departing at `depart` (only `only`, if given), and every
    /// lab weighed, with the labs' lines remembered for the pass.
    pub fn choose_lab(
        &mut self,
        from: LatLon,
        boxes: &[BoxId],
        payload_kg: f64,
        depart: Instant,
        only: Option<&LabId>,
    ) -> (Option<LabChoice>, Vec<Alternative>) {
        let state: &State = self.state;
        let refs: Vec<_> = boxes.iter().filter_map(|b| state.boxes.get(b)).collect();
        self.lab_times.get_mut().weigh_labs(
            self.world, state, self.cache, from, &refs, payload_kg, depart, only,
        )
    }

    /// The labs a pickup of `boxes` from `from` with `payload_kg` could fly to,
    /// with their legs and forms, apart from the departure (`LabOptions::choose`
    /// gives what `choose_lab` would at any departure while they hold).
    pub fn lab_options(
        &mut self,
        from: LatLon,
        boxes: &[BoxId],
        payload_kg: f64,
    ) -> crate::planner::LabOptions {
        let state: &State = self.state;
        let refs: Vec<_> = boxes.iter().filter_map(|b| state.boxes.get(b)).collect();
        self.lab_times
            .get_mut()
            .lab_options(self.world, state, self.cache, from, &refs, payload_kg, None)
    }

    /// What `lab` would do with tubes of `families` by their arrival, from its
    /// lines as this pass finds them (`LabForm`).
    pub fn lab_form(
        &self,
        lab: &LabId,
        families: &[labflight_core::TestFamily],
    ) -> crate::planner::LabForm {
        self.lab_times
            .borrow_mut()
            .form(self.state, &self.world.labs[lab], families)
    }

    /// Whether a drone may be given a mission now.
    pub fn drone_available(&self, id: &DroneId) -> bool {
        self.state
            .drones
            .get(id)
            .is_some_and(|d| d.available(self.world.drone_spec.reserve_fraction))
    }

    /// Available drones nearest to `p`, at most `k` of them, nearest first
    /// (candidates from an R-tree of idle drones, rebuilt once per pass).
    pub fn nearest_available(&mut self, p: LatLon, k: usize) -> Vec<DroneId> {
        if self.idle.is_none() {
            let points = self
                .state
                .drones
                .values()
                .filter(|d| d.available(self.world.drone_spec.reserve_fraction))
                .map(|d| {
                    let v = self.world.frame.to_local(d.position);
                    GeomWithData::new([v.x, v.y], d.id.clone())
                })
                .collect();
            self.idle = Some(RTree::bulk_load(points));
        }
        let tree = self.idle.as_ref().expect("built above");
        let v = self.world.frame.to_local(p);
        let mut found: Vec<(f64, DroneId)> = tree
            .nearest_neighbor_iter_with_distance_2(&[v.x, v.y])
            .take(k)
            .map(|(pt, d2)| (d2, pt.data.clone()))
            .collect();
        found.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
        found.into_iter().map(|(_, id)| id).collect()
    }

    fn take_drone(&mut self, id: &DroneId) {
        if let Some(tree) = self.idle.as_mut()
            && let Some(d) = self.state.drones.get(id)
        {
            let v = self.world.frame.to_local(d.position);
            tree.remove(&GeomWithData::new([v.x, v.y], id.clone()));
        }
    }

    /// Swaps the battery of a drone standing at a charger pad: it is charging
    /// until it reports the new battery ready.
    pub fn swap_battery(&mut self, id: &DroneId, pad: labflight_core::PadId) {
        self.take_drone(id);
        if let Some(d) = self.state.drones.get_mut(id) {
            d.status = DroneStatus::Charging {
                pad: pad.clone(),
                ready_at: Some(
                    self.state.now + minutes(self.world.drone_spec.battery_swap_minutes),
                ),
            };
        }
        self.out.push(Command::SwapBattery {
            drone: id.clone(),
            pad,
        });
    }

    /// The charger pad a drone stands on, if any.
    pub fn charger_under(&self, id: &DroneId) -> Option<labflight_core::PadId> {
        self.state
            .drones
            .get(id)?
            .pad
            .clone()
            .filter(|p| self.world.pads.get(p).is_some_and(|p| p.charger))
    }

    /// Sends a drone flying, without a mission, to `pad` (home, a charger, or the
    /// pad nearest a drone in trouble).
    pub fn fly_empty(&mut self, drone: &DroneId, pad: PadId, reason: String) {
        let now = self.state.now;
        let Some(d) = self.state.drones.get_mut(drone) else {
            return;
        };
        d.status = DroneStatus::Returning { pad: pad.clone() };
        d.last_seen = d.last_seen.max(now);
        self.out.push(Command::ReturnToPad {
            drone: drone.clone(),
            pad,
            reason,
        });
        self.drones_changed();
    }

    /// Forgets the idle-drone tree (a drone became free during the pass).
    pub fn drones_changed(&mut self) {
        self.idle = None;
    }

    /// Alerts the coordinators: the reason as a code and values, and in English.
    pub fn alert(
        &mut self,
        kind: AlertKind,
        severity: Severity,
        subject: impl Into<String>,
        reason: Reason,
    ) {
        self.out.push(Command::Alert(Alert {
            kind,
            severity,
            subject: subject.into(),
            message: reason.english(self.world.offset).into_owned(),
            reason: Some(reason),
        }));
    }

    /// `reason` in English on the scenario's clock (for the commands whose
    /// reason is still only a sentence).
    pub fn english(&self, reason: &Reason) -> String {
        reason.english(self.world.offset).into_owned()
    }

    fn book_inbound(&mut self, boxes: &[BoxId], lab: &LabId, sign: i64) {
        let families: Vec<_> = boxes
            .iter()
            .filter_map(|b| self.state.boxes.get(b))
            .flat_map(|b| b.tubes.iter().flat_map(|t| t.families.iter().copied()))
            .collect();
        let ls = self.lab_mut(lab);
        for f in families {
            let n = ls.inbound.entry(f).or_insert(0);
            *n = (*n as i64 + sign).max(0) as u32;
        }
    }

    /// Issues a drone mission and books the drone, the boxes and the lab's inbound load.
    /// `boxes` are loaded at `station`; each of `later_stops` adds its own; `lab.leg`
    /// starts at the last centre and `option.energy_wh` covers the whole round.
    #[allow(clippy::too_many_arguments)]
    pub fn assign_drone(
        &mut self,
        drone: &DroneId,
        station: &StationId,
        boxes: Vec<BoxId>,
        lab: &LabChoice,
        option: &DroneOption,
        later_stops: Vec<PlannedStop>,
        payload_kg: f64,
        why: Explanation,
    ) {
        let first_call = (station, None);
        self.assign_drone_at(
            drone,
            first_call,
            boxes,
            lab,
            option,
            later_stops,
            payload_kg,
            why,
        );
    }

    /// `assign_drone`, with the first boxes loaded at `pickup_pad` when they lie on a
    /// pad away from any centre (a depot's): the drone does not call at `station`,
    /// where they came from, and it is not told to expect it (`MissionPlan::pickup_pad`).
    #[allow(clippy::too_many_arguments)]
    pub fn assign_drone_at(
        &mut self,
        drone: &DroneId,
        (station, pickup_pad): (&StationId, Option<&PadId>),
        boxes: Vec<BoxId>,
        lab: &LabChoice,
        option: &DroneOption,
        later_stops: Vec<PlannedStop>,
        payload_kg: f64,
        why: Explanation,
    ) {
        let mission = self.state.new_mission_id();
        let now = self.state.now;
        let first_boxes = boxes.len();
        let boxes: Vec<BoxId> = boxes
            .into_iter()
            .chain(
                later_stops
                    .iter()
                    .flat_map(|s| s.stop.boxes.iter().cloned()),
            )
            .collect();
        let lab_pad = self.world.lab_pad(&lab.lab).cloned();
        let first_call = pickup_pad.map_or(station.as_str(), PadId::as_str);
        let leg1 = option.to_station.to_leg(drone.as_str(), first_call, now);
        let mut legs = vec![leg1];
        let mut at = (first_call, option.pickup_at);
        for s in &later_stops {
            legs.push(s.leg_in.to_leg(at.0, s.stop.station.as_str(), at.1));
            at = (s.stop.station.as_str(), s.stop.pickup_at);
        }
        let battery_wh = self.world.drone_spec.battery_wh;
        let mut battery_after = self
            .state
            .drones
            .get(drone)
            .map(|d| d.battery_pct - 100.0 * option.energy_wh / battery_wh)
            .unwrap_or(0.0);
        let relay = match &lab.relay {
            // A hub leg ends at the hub, where the van takes the boxes on.
            None if lab.hub.is_some() => {
                let hub = lab.hub.as_ref().expect("matched");
                legs.push(lab.leg.to_leg(at.0, hub.pad.as_str(), at.1));
                None
            }
            None => {
                legs.push(lab.leg.to_leg(at.0, lab.lab.as_str(), at.1));
                None
            }
            Some(r) => {
                // The battery is swapped on the pad: full again for the hop on.
                let hop_in = r.hop_in.to_leg(at.0, r.pad.as_str(), at.1);
                let land_at = hop_in.arrive;
                let depart_at = land_at + minutes(r.swap_s / 60.0);
                legs.push(hop_in);
                legs.push(
                    r.hop_out
                        .to_leg(r.pad.as_str(), lab.lab.as_str(), depart_at),
                );
                battery_after = 100.0 - 100.0 * r.hop_out.estimate.energy_wh / battery_wh;
                Some(labflight_core::command::Relay {
                    pad: r.pad.clone(),
                    land_at,
                    depart_at,
                })
            }
        };
        let lands = legs.last().expect("a leg to the lab or the hub").arrive;
        let hub = lab.hub.as_ref().map(|h| {
            Box::new(labflight_core::command::Hub {
                pad: h.pad.clone(),
                land_at: lands,
                van_run: self.state.new_mission_id(),
                courier: h.courier.clone(),
            })
        });
        let (lab_pad, arrive) = match &lab.hub {
            Some(h) => (None, h.deliver_at),
            None => (lab_pad, lands),
        };
        let plan = MissionPlan {
            mission: mission.clone(),
            drone: drone.clone(),
            station: station.clone(),
            pickup_pad: pickup_pad.cloned(),
            boxes: boxes.clone(),
            lab: lab.lab.clone(),
            lab_pad,
            payload_kg: (payload_kg * 1000.0).round() / 1000.0,
            legs,
            pickup_at: option.pickup_at,
            later_stops: later_stops.iter().map(|s| s.stop.clone()).collect(),
            relay,
            hub: hub.clone(),
            arrive_lab_at: arrive,
            deadline: lab.deadline,
            battery_after_pct: (battery_after * 10.0).round() / 10.0,
            why,
        };
        self.take_drone(drone);
        if let Some(d) = self.state.drones.get_mut(drone) {
            d.status = DroneStatus::OnMission {
                mission: mission.clone(),
            };
            // Silence is measured from the moment it was sent flying.
            d.last_seen = d.last_seen.max(now);
        }
        for b in &boxes {
            if let Some(sb) = self.state.boxes.get_mut(b) {
                sb.status = BoxStatus::Assigned {
                    mission: mission.clone(),
                };
            }
        }
        self.forecast_planned(
            &boxes[..first_boxes],
            &lab.lab,
            Some(option.pickup_at),
            arrive,
        );
        for s in &later_stops {
            self.forecast_planned(&s.stop.boxes, &lab.lab, Some(s.stop.pickup_at), arrive);
        }
        self.book_inbound(&boxes, &lab.lab, 1);
        self.out.push(Command::AssignMission(plan.clone()));
        // Nobody at a depot's pad to tell; the centre the boxes came from is not
        // where the drone lands.
        let first = std::iter::once((station, &boxes[..first_boxes], option.pickup_at))
            .filter(|_| pickup_pad.is_none());
        let calls = later_stops
            .iter()
            .map(|s| (&s.stop.station, &s.stop.boxes[..], s.stop.pickup_at));
        for (at, its_boxes, eta) in first.chain(calls) {
            self.state.forced_pickups.remove(at);
            // Staff seal what they have drawn since, so it rides along (see
            // `box_sealed`); unless even a box of one tube could not, when the box
            // they seal would only wait for a flight of its own.
            let one_tube = self.world.box_spec.payload_kg(1);
            if takes_more_at(self.world, &plan, at, one_tube, now) {
                self.out.push(Command::NotifyStation {
                    station: at.clone(),
                    notice: StationNotice::SealNow {
                        reason: format!("{drone} lands at {} for {mission}", self.world.clock(eta)),
                    },
                });
            }
            self.out.push(Command::NotifyStation {
                station: at.clone(),
                notice: StationNotice::PickupEta {
                    mission: mission.clone(),
                    boxes: its_boxes.to_vec(),
                    eta,
                    by: drone.to_string(),
                },
            });
        }
        if let (Some(h), Some(handoff)) = (&hub, &lab.hub) {
            let why = format!("takes {mission}'s boxes on from the hub {}", h.pad);
            self.book_hub_van(h, station, &boxes, (&lab.lab, handoff), &why);
        }
        self.state.missions.insert(
            mission.clone(),
            Mission {
                id: mission,
                carrier: Carrier::Drone(drone.clone()),
                station: station.clone(),
                boxes,
                lab: lab.lab.clone(),
                status: MissionStatus::Assigned,
                planned_arrival: arrive,
                plan: Some(plan),
                van_calls_at: None,
                seal_asked: false,
                redirected_from: Vec::new(),
                abort_pad: None,
            },
        );
    }

    /// Books boxes added to a mission into the lab's inbound load.
    pub fn book_inbound_for(&mut self, boxes: &[BoxId], lab: &LabId) {
        self.book_inbound(boxes, lab, 1);
    }

    /// Releases a mission's lab booking (abort or reroute).
    pub fn unbook_inbound(&mut self, boxes: &[BoxId], lab: &LabId) {
        self.book_inbound(boxes, lab, -1);
    }
}

/// Whether the drone flying `plan` can still take a box of `payload_kg` sealed now
/// at `station`, a call of its plan not yet made: within its payload limit, and
/// with its battery above reserve for the extra energy of every leg flown after
/// loading it (at the same durations: the whole-mission payload bounds each leg's).
pub(crate) fn takes_more_at(
    world: &World,
    plan: &MissionPlan,
    station: &StationId,
    payload_kg: f64,
    now: Instant,
) -> bool {
    let Some(pickup_at) = plan.pickup_at_station(station) else {
        return false;
    };
    // A hub leg's van is booked for the boxes it was planned with.
    if plan.hub.is_some() {
        return false;
    }
    let heavier = plan.payload_kg + payload_kg;
    if heavier > world.drone_spec.max_payload_kg + 1e-9 || pickup_at <= now {
        return false;
    }
    let secs: f64 = plan
        .legs
        .iter()
        .filter(|l| l.depart >= pickup_at)
        .map(|l| (l.arrive - l.depart).num_milliseconds() as f64 / 1000.0)
        .sum();
    let extra_wh =
        (world.flight.hover_power_w(heavier) - world.flight.hover_power_w(plan.payload_kg)) * secs
            / 3600.0;
    let after = plan.battery_after_pct - 100.0 * extra_wh / world.drone_spec.battery_wh;
    after >= world.drone_spec.reserve_fraction * 100.0
}
