//! Van runs, as every policy books them through `Ctx`: which van reaches a centre
//! first, a quote to the lab with the earliest result by road, and the booking of
//! the van, the boxes and the lab (a run of its own, a further call on a trip, or
//! boxes joining a call the van already makes).

use super::Ctx;
use crate::state::{BoxStatus, Carrier, Mission, MissionStatus};
use labflight_core::command::{CourierRequest, StationNotice};
use labflight_core::scenario::minutes;
use labflight_core::{BoxId, Command, Instant, LabId, LatLon, StationId};

/// A van run to book: one call at a centre and the delivery to a lab.
#[derive(Debug)]
pub struct CourierRun<'r> {
    pub courier: &'r labflight_core::CourierId,
    pub station: &'r StationId,
    /// The pad away from any centre the boxes lie on (a stranded box's), if so:
    /// the van calls there, not at `station`.
    pub pad: Option<&'r labflight_core::PadId>,
    pub boxes: Vec<BoxId>,
    pub lab: &'r LabId,
    pub pickup_at: Instant,
    pub deliver_at: Instant,
    /// The latest delivery that keeps the boxes within their limits.
    pub deadline: Instant,
    pub reason: &'r str,
}

/// A van run quoted for some boxes: which van, to which lab, and when.
#[derive(Clone, Debug)]
pub struct VanQuote {
    pub courier: labflight_core::CourierId,
    pub lab: LabId,
    pub pickup_at: Instant,
    pub deliver_at: Instant,
    pub result_at: Instant,
    /// The latest delivery that keeps every tube within its limits, at that lab.
    pub deadline: Instant,
}

impl Ctx<'_> {
    /// The courier that can reach `from` first, with its pickup time.
    pub fn earliest_courier(&self, from: LatLon) -> Option<(labflight_core::CourierId, Instant)> {
        // In whole milliseconds, as the clock keeps them: a city re-plan asks this
        // of every van for every pickup without a drone.
        // A van free only after the best arrival so far cannot beat it: its road
        // time is not worked out.
        let now = self.state.now.timestamp_millis();
        let mut best: Option<(&labflight_core::CourierId, i64)> = None;
        for c in self.state.couriers.values() {
            let start = c.free_at.timestamp_millis().max(now);
            if best.is_some_and(|(_, at)| start > at) {
                continue;
            }
            let at = start
                + self
                    .world
                    .road_time(c.free_position, from)
                    .num_milliseconds();
            if best.is_none_or(|(id, best_at)| (at, &c.id) < (best_at, id)) {
                best = Some((&c.id, at));
            }
        }
        best.and_then(|(id, at)| Some((id.clone(), Instant::from_timestamp_millis(at)?)))
    }

    /// Pickup and delivery of a van at `from` at `arrive` taking boxes to `lab`.
    pub fn van_times(
        &self,
        arrive: Instant,
        from: LatLon,
        lab: &labflight_core::Lab,
    ) -> (Instant, Instant) {
        let stop = minutes(self.world.courier_spec.stop_minutes);
        let pickup_at = arrive + stop;
        (
            pickup_at,
            pickup_at + self.world.road_time(from, lab.position) + stop,
        )
    }

    /// The van run that gets `boxes` from `from` to the lab with the earliest
    /// predicted result, by road: a van's best lab is not always a drone's. When no
    /// lab can take them in time, the nearest one (late beats never).
    pub fn quote_van_run(&self, from: LatLon, boxes: &[BoxId]) -> Option<VanQuote> {
        self.quote_van_run_with(from, boxes, self.earliest_courier(from)?)
    }

    /// `quote_van_run` with the first van at `from` already found (`earliest_courier`).
    pub fn quote_van_run_with(
        &self,
        from: LatLon,
        boxes: &[BoxId],
        (courier, arrive): (labflight_core::CourierId, Instant),
    ) -> Option<VanQuote> {
        let refs: Vec<_> = boxes
            .iter()
            .filter_map(|b| self.state.boxes.get(b))
            .collect();
        let families = crate::planner::families_of(refs.iter().copied());
        let stability = crate::planner::earliest_stability(refs.iter().copied());
        let mut best: Option<VanQuote> = None;
        let mut best_own: Option<VanQuote> = None;
        let mut fallback: Option<VanQuote> = None;
        // The first van at the centre is the same whichever lab it then drives to.
        for lab in self.world.nearest_labs(from, crate::planner::LABS_WEIGHED) {
            let courier = courier.clone();
            let (pickup_at, deliver_at) = self.van_times(arrive, from, lab);
            let Ok(result_at) = self.predicted_result(lab, &families, deliver_at) else {
                // No lab may be able to take them in time (a van that can only come
                // late in the day): the nearest that runs their tests still beats a
                // box left at the centre.
                if fallback.is_none() && lab.lacks(&families).is_none() {
                    fallback = Some(VanQuote {
                        courier,
                        lab: lab.id.clone(),
                        pickup_at,
                        deliver_at,
                        result_at: deliver_at,
                        deadline: stability.map_or(deliver_at, |s| s.min(deliver_at)),
                    });
                }
                continue;
            };
            let own = self.world.is_own_lab(&lab.id);
            let better = |b: &Option<VanQuote>| b.as_ref().is_none_or(|b| result_at < b.result_at);
            let better_own = own && better(&best_own);
            if !better(&best) && !better_own {
                continue;
            }
            let deadline =
                crate::planner::arrival_deadline(self.world, stability, result_at, deliver_at);
            let quote = VanQuote {
                courier,
                lab: lab.id.clone(),
                pickup_at,
                deliver_at,
                result_at,
                deadline,
            };
            if better_own {
                best_own = Some(quote.clone());
            }
            if better(&best) {
                best = Some(quote);
            }
        }
        // Another group's lab only when none of the group's own keeps the promise.
        let keeps_promise = |q: &VanQuote| {
            crate::planner::keeps_promise(self.world, stability, q.result_at, q.deliver_at)
        };
        match best_own {
            Some(own) if keeps_promise(&own) => Some(own),
            _ => best.or(fallback),
        }
    }

    /// Books a quoted van run.
    pub fn book_van_run(
        &mut self,
        station: &StationId,
        boxes: Vec<BoxId>,
        q: &VanQuote,
        why: &str,
    ) {
        self.book_van_run_at(station, None, boxes, q, why);
    }

    /// Books a quoted van run for boxes of `station`'s, collected from `pad` when
    /// they lie on one away from any centre (see `CourierRun::pad`).
    pub fn book_van_run_at(
        &mut self,
        station: &StationId,
        pad: Option<&labflight_core::PadId>,
        boxes: Vec<BoxId>,
        q: &VanQuote,
        why: &str,
    ) {
        self.book_courier_run(CourierRun {
            courier: &q.courier,
            station,
            pad,
            boxes,
            lab: &q.lab,
            pickup_at: q.pickup_at,
            deliver_at: q.deliver_at,
            deadline: q.deadline,
            reason: why,
        });
    }

    /// Books a courier run planned by the caller (the courier baseline's rounds).
    pub fn book_courier_run(&mut self, run: CourierRun<'_>) {
        self.issue_courier_run(run, true);
    }

    /// Books a further call on a trip the van already makes (a van round's), with
    /// the trip's delivery: not a new trip.
    pub fn book_further_call(&mut self, run: CourierRun<'_>) {
        self.issue_courier_run(run, false);
    }

    /// Puts boxes waiting at a centre as a van calls there onto that van (those its
    /// lab can test): a run of their own (the van's first is already out) at the same call and delivery,
    /// on the same trip.
    pub fn join_van_call(&mut self, mission: &labflight_core::MissionId, boxes: Vec<BoxId>) {
        let Some(m) = self.state.missions.get(mission) else {
            return;
        };
        let (Carrier::Courier(courier), Some(pickup_at)) = (m.carrier.clone(), m.van_calls_at)
        else {
            return;
        };
        let (station, lab, deliver_at) = (m.station.clone(), m.lab.clone(), m.planned_arrival);
        // Only what the van's lab can test goes with it.
        let boxes: Vec<BoxId> = boxes
            .into_iter()
            .filter(|b| {
                self.state
                    .boxes
                    .get(b)
                    .is_some_and(|sb| self.world.lab_runs_all(&lab, &sb.families))
            })
            .collect();
        if boxes.is_empty() {
            return;
        }
        let deadline = crate::planner::earliest_stability(
            boxes.iter().filter_map(|b| self.state.boxes.get(b)),
        )
        .unwrap_or(deliver_at);
        let reason = format!("waiting as {courier} calls for {mission}: goes with it");
        let run = CourierRun {
            courier: &courier,
            station: &station,
            pad: None,
            boxes,
            lab: &lab,
            pickup_at,
            deliver_at,
            deadline,
            reason: &reason,
        };
        let joined = self.issue_courier_run(run, false);
        if let Some(j) = self.state.missions.get_mut(&joined) {
            j.seal_asked = true;
        }
    }

    /// Issues a courier run and books the van, the boxes and the lab; `new_trip`
    /// is false for boxes joining a call the van already makes.
    fn issue_courier_run(
        &mut self,
        run: CourierRun<'_>,
        new_trip: bool,
    ) -> labflight_core::MissionId {
        let mission = self.state.new_mission_id();
        self.take_van(run.courier, run.lab, run.deliver_at, new_trip);
        for b in &run.boxes {
            if let Some(sb) = self.state.boxes.get_mut(b) {
                sb.status = BoxStatus::Assigned {
                    mission: mission.clone(),
                };
            }
        }
        self.state.forced_pickups.remove(run.station);
        self.forecast_planned(&run.boxes, run.lab, Some(run.pickup_at), run.deliver_at);
        self.book_inbound(&run.boxes, run.lab, 1);
        self.send_van(run, mission.clone());
        mission
    }

    /// Books the van of a hub leg (`LabChoice::hub`) as its drone mission is
    /// issued: the van meets the drone at the hub's pad and takes the boxes on.
    /// The boxes stay the drone's, and the lab's inbound load is the mission's,
    /// until the drone sets them down there (`dispatcher::drones`).
    pub fn book_hub_van(
        &mut self,
        hub: &labflight_core::command::Hub,
        station: &StationId,
        boxes: &[BoxId],
        (lab, van): (&LabId, &crate::planner::HubHandOff),
        why: &str,
    ) {
        self.take_van(&van.courier, lab, van.deliver_at, true);
        let run = CourierRun {
            courier: &van.courier,
            station,
            pad: Some(&hub.pad),
            boxes: boxes.to_vec(),
            lab,
            pickup_at: van.pickup_at,
            deliver_at: van.deliver_at,
            deadline: van.deadline,
            reason: why,
        };
        self.send_van(run, hub.van_run.clone());
    }

    /// A van is busy until `deliver_at`, then at `lab`; `new_trip` counts a trip.
    fn take_van(
        &mut self,
        courier: &labflight_core::CourierId,
        lab: &LabId,
        deliver_at: Instant,
        new_trip: bool,
    ) {
        let lab_pos = self.world.labs.get(lab).map(|l| l.position);
        if let Some(c) = self.state.couriers.get_mut(courier) {
            c.free_at = c.free_at.max(deliver_at);
            if let Some(p) = lab_pos {
                c.free_position = p;
            }
            if new_trip {
                c.trips += 1;
            }
        }
    }

    /// Issues the `request_courier` of a booked run `mission`, tells the centre
    /// when the van calls there (not when it collects from a pad), and records the
    /// run.
    fn send_van(&mut self, run: CourierRun<'_>, mission: labflight_core::MissionId) {
        let CourierRun {
            courier,
            station,
            pad,
            boxes,
            lab,
            pickup_at,
            deliver_at,
            deadline,
            reason,
        } = run;
        self.out.push(Command::RequestCourier(CourierRequest {
            mission: mission.clone(),
            courier: Some(courier.clone()),
            station: station.clone(),
            boxes: boxes.clone(),
            lab: lab.clone(),
            pad: pad.cloned(),
            pickup_at,
            deliver_at,
            deadline,
            reason: reason.to_owned(),
        }));
        // A van collecting from a pad away from the centre does not call there.
        let calls_at_the_centre = pad.is_none();
        if calls_at_the_centre {
            self.out.push(Command::NotifyStation {
                station: station.clone(),
                notice: StationNotice::PickupEta {
                    mission: mission.clone(),
                    boxes: boxes.clone(),
                    eta: pickup_at,
                    by: courier.to_string(),
                },
            });
        }
        self.state.missions.insert(
            mission.clone(),
            Mission {
                id: mission.clone(),
                carrier: Carrier::Courier(courier.clone()),
                station: station.clone(),
                boxes,
                lab: lab.clone(),
                status: MissionStatus::Assigned,
                planned_arrival: deliver_at,
                plan: None,
                van_calls_at: calls_at_the_centre.then_some(pickup_at),
                seal_asked: false,
                redirected_from: Vec::new(),
                abort_pad: None,
            },
        );
    }
}
