//! Acting out the dispatcher's commands in the simulated world: missions flown
//! (with the scenario's fault and link-loss odds), aborts and returns to a pad,
//! redirects, vans, and what the drones set down where they land.

use super::{Engine, Happening};
use crate::flight::{Flight, Swap, timed};
use chrono::Duration;
use labflight_core::command::{MissionPlan, Recovery};
use labflight_core::event::{CourierEventKind, DroneEventKind};
use labflight_core::scenario::minutes;
use labflight_core::{BoxId, Command, DroneId, Event, Instant, PadId};
use rand::Rng;

impl Engine<'_> {
    /// Acts out one of the dispatcher's commands in the simulated world.
    pub(super) fn act(&mut self, c: &Command) {
        let now = self.now;
        if let Command::AbortMission { mission, .. } | Command::Redirect { mission, .. } = c
            && self.completed.contains(mission)
        {
            return;
        }
        match c {
            Command::AssignMission(p) => {
                self.plans.insert(p.mission.clone(), p.clone());
                self.fly(p)
            }
            Command::AbortMission {
                mission,
                drone,
                recovery,
                ..
            } => {
                *self.generations.entry(mission.clone()).or_insert(0) += 1;
                let pad = match recovery {
                    Recovery::ReturnToPad { pad } | Recovery::LandAtNearestPad { pad } => {
                        pad.clone()
                    }
                };
                self.fly_to_pad(drone, &pad);
            }
            Command::ReturnToPad { drone, pad, .. } => self.fly_to_pad(drone, pad),
            Command::Redirect {
                mission,
                drone,
                lab,
                leg,
                ..
            } => {
                // Only what is on board this drone: a round's later centres are not
                // called at, and a box of the plan another carrier took stays with it.
                let boxes: Vec<BoxId> = self
                    .plans
                    .get(mission)
                    .map(|m| m.boxes.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|b| {
                        self.boxes
                            .get(b)
                            .is_some_and(|b| !b.received && b.aboard.as_ref() == Some(drone))
                    })
                    .collect();
                // Too late: the drone already handed everything to its first lab
                // (a live redirect can reach a drone after it landed there); its
                // mission ends as planned.
                if boxes.is_empty() {
                    return;
                }
                *self.generations.entry(mission.clone()).or_insert(0) += 1;
                // Straight to the lab now, not to a hub leg's hub.
                if let Some(p) = self.plans.get_mut(mission) {
                    p.hub = None;
                }
                let lab_pad = self.world.lab_pad(lab).cloned();
                let position = self.world.labs[lab].position;
                if let Some(d) = self.drones.get_mut(drone) {
                    let (here, battery) = d.at(now);
                    let used = 100.0 * leg.energy_wh / self.world.drone_spec.battery_wh;
                    let mut path = vec![(now, here)];
                    path.extend(timed(&leg.waypoints[1..], now, leg.arrive));
                    d.flight = Some(Flight {
                        path,
                        battery_start: battery,
                        battery_end: battery - used,
                        swap: None,
                    });
                }
                self.tell_guarded(
                    leg.arrive,
                    mission,
                    Event::Drone {
                        drone: drone.clone(),
                        kind: DroneEventKind::Landed {
                            pad: lab_pad,
                            position,
                        },
                    },
                );
                for b in boxes {
                    self.tell_guarded(
                        leg.arrive,
                        mission,
                        Event::BoxReceived {
                            box_id: b,
                            lab: lab.clone(),
                        },
                    );
                }
                self.tell_guarded(
                    leg.arrive,
                    mission,
                    Event::Drone {
                        drone: drone.clone(),
                        kind: DroneEventKind::MissionComplete {
                            mission: mission.clone(),
                        },
                    },
                );
            }
            Command::SwapBattery { drone, .. } => {
                let at = now + minutes(self.world.drone_spec.battery_swap_minutes);
                if let Some(d) = self.drones.get_mut(drone) {
                    d.position = d.at(now).0;
                    d.flight = None;
                    d.battery_pct = 100.0;
                }
                self.tell(
                    at,
                    Event::Drone {
                        drone: drone.clone(),
                        kind: DroneEventKind::BatteryReady { battery_pct: 100.0 },
                    },
                );
            }
            Command::RequestCourier(r) => {
                let Some(courier) = r.courier.clone() else {
                    return;
                };
                self.tell_guarded(
                    r.pickup_at.max(now),
                    &r.mission,
                    Event::Courier {
                        courier: courier.clone(),
                        kind: CourierEventKind::PickedUp {
                            boxes: r.boxes.clone(),
                        },
                    },
                );
                // Unguarded: a van hands over whatever it collected (`van_finds`).
                self.tell(
                    r.deliver_at.max(now),
                    Event::Courier {
                        courier,
                        kind: CourierEventKind::Delivered {
                            lab: r.lab.clone(),
                            boxes: r.boxes.clone(),
                        },
                    },
                );
            }
            // The van does not call; what it already collected it still delivers.
            Command::CancelCourier { mission, .. } => {
                *self.generations.entry(mission.clone()).or_insert(0) += 1;
            }
            Command::NotifyStation {
                station,
                notice: labflight_core::command::StationNotice::SealNow { .. },
            } => {
                // After this event's commands are all out: never re-enter the dispatcher here.
                self.push(now, Happening::SealNow(station.clone()));
            }
            Command::NotifyStation {
                station,
                notice: labflight_core::command::StationNotice::BoxLimit { max_tubes, .. },
            } => {
                self.box_limits
                    .insert(station.clone(), (*max_tubes as usize).max(1));
                if self
                    .open_boxes
                    .get(station)
                    .is_some_and(|(_, tubes)| tubes.len() >= self.box_limit(station))
                {
                    self.push(now, Happening::SealNow(station.clone()));
                }
            }
            Command::AddToMission {
                mission,
                drone,
                boxes,
                ..
            } => {
                let plan = self.plans.get_mut(mission).map(|p| {
                    p.boxes.extend(boxes.iter().cloned());
                    p.clone()
                });
                if let Some(p) = plan {
                    for b in boxes {
                        let loaded = DroneEventKind::PayloadLoaded { box_id: b.clone() };
                        self.tell_guarded(
                            self.pickup_time(&p, b).max(now),
                            mission,
                            Event::Drone {
                                drone: drone.clone(),
                                kind: loaded,
                            },
                        );
                        let received = Event::BoxReceived {
                            box_id: b.clone(),
                            lab: p.lab.clone(),
                        };
                        self.tell_guarded(p.arrive_lab_at.max(now), mission, received);
                    }
                }
            }
            _ => {}
        }
    }

    /// Acts out a mission as planned, with the scenario's fault and link-loss odds.
    fn fly(&mut self, p: &MissionPlan) {
        let now = self.now;
        let spec = &self.world.drone_spec;
        let energy: f64 = p.legs.iter().map(|l| l.energy_wh).sum();
        let Some(d) = self.drones.get_mut(&p.drone) else {
            return;
        };
        let battery = d.at(now).1;
        let mut path = Vec::new();
        for leg in &p.legs {
            path.extend(timed(&leg.waypoints, leg.depart, leg.arrive));
        }
        if path.is_empty() {
            path.push((now, d.position));
        }
        let percent = |wh: f64| 100.0 * wh / spec.battery_wh;
        d.flight = Some(match &p.relay {
            None => Flight {
                path,
                battery_start: battery,
                battery_end: battery - percent(energy),
                swap: None,
            },
            Some(relay) => {
                // Swapped on the relay pad: the legs after it fly on a full battery.
                let before: f64 = p
                    .legs
                    .iter()
                    .filter(|l| l.arrive <= relay.land_at)
                    .map(|l| l.energy_wh)
                    .sum();
                Flight {
                    path,
                    battery_start: battery,
                    battery_end: 100.0 - percent(energy - before),
                    swap: Some(Swap {
                        landed: relay.land_at,
                        battery_on_landing: battery - percent(before),
                        ready: relay.depart_at,
                    }),
                }
            }
        });
        let drone = p.drone.clone();
        let mission = p.mission.clone();
        // Where the flight ends: the lab's pad, or a hub leg's hub (where the van
        // booked with it collects what the drone sets down, `Engine::happen`).
        let (lands_at, lands_on, lands_pos) = match &p.hub {
            Some(hub) => (
                hub.land_at,
                Some(hub.pad.clone()),
                self.world
                    .pad_position(&hub.pad)
                    .unwrap_or(self.world.labs[&p.lab].position),
            ),
            None => (
                p.arrive_lab_at,
                p.lab_pad.clone(),
                self.world.labs[&p.lab].position,
            ),
        };
        self.tell_guarded(
            now,
            &mission,
            Event::Drone {
                drone: drone.clone(),
                kind: DroneEventKind::TookOff,
            },
        );
        for b in &p.boxes {
            let pickup_at = self.pickup_time(p, b);
            self.tell_guarded(
                pickup_at,
                &mission,
                Event::Drone {
                    drone: drone.clone(),
                    kind: DroneEventKind::PayloadLoaded { box_id: b.clone() },
                },
            );
        }
        self.tell_guarded(
            lands_at,
            &mission,
            Event::Drone {
                drone: drone.clone(),
                kind: DroneEventKind::Landed {
                    pad: lands_on,
                    position: lands_pos,
                },
            },
        );
        for b in p.boxes.iter().filter(|_| p.hub.is_none()) {
            self.tell_guarded(
                p.arrive_lab_at,
                &mission,
                Event::BoxReceived {
                    box_id: b.clone(),
                    lab: p.lab.clone(),
                },
            );
        }
        self.tell_guarded(
            lands_at,
            &mission,
            Event::Drone {
                drone: drone.clone(),
                kind: DroneEventKind::MissionComplete {
                    mission: mission.clone(),
                },
            },
        );
        let span = (lands_at - now).num_seconds().max(1);
        let faults = self.scenario.faults.clone();
        if self.rng.random_bool(faults.drone_failure_per_flight) {
            let at = now + Duration::seconds(self.rng.random_range(0..span));
            self.tell_guarded(
                at,
                &mission,
                Event::Drone {
                    drone: drone.clone(),
                    kind: DroneEventKind::Fault {
                        reason: "simulated motor failure".into(),
                    },
                },
            );
        }
        if self.rng.random_bool(faults.link_loss_per_flight) {
            let at = now + Duration::seconds(self.rng.random_range(0..span));
            let back = at + Duration::minutes(3);
            if let Some(d) = self.drones.get_mut(&drone) {
                d.link_down_until = Some(back);
            }
            self.tell(
                at,
                Event::Drone {
                    drone: drone.clone(),
                    kind: DroneEventKind::LinkLost,
                },
            );
            self.tell(
                back,
                Event::Drone {
                    drone,
                    kind: DroneEventKind::LinkRestored,
                },
            );
        }
    }

    /// When the drone lands at the centre holding box `b` (on a round, not always the first).
    fn pickup_time(&self, p: &MissionPlan, b: &BoxId) -> Instant {
        self.boxes
            .get(b)
            .and_then(|pb| p.pickup_at_station(&pb.station))
            .unwrap_or(p.pickup_at)
    }

    /// The boxes aboard a drone sent to land at a pad stay there when it lands at
    /// `arrive`, for the next carrier to load; on a lab's pad, the lab takes in
    /// those it can test (every tube's every family) and keeps the others on the
    /// pad for their carrier to a lab that can.
    fn set_down(&mut self, drone: &DroneId, pad: &PadId, arrive: Instant) {
        let lab = self.world.pads.get(pad).and_then(|p| match &p.site {
            labflight_core::pad::PadSite::Lab(lab) => Some(lab.clone()),
            _ => None,
        });
        let mut taken_in = Vec::new();
        for (id, b) in self.boxes.iter_mut() {
            if b.received || b.aboard.as_ref() != Some(drone) {
                continue;
            }
            b.aboard = None;
            let tests_all = |lab: &labflight_core::LabId| {
                b.tubes.iter().all(|t| self.labs.lacks(lab, t).is_none())
            };
            match &lab {
                Some(lab) if tests_all(lab) => taken_in.push(id.clone()),
                _ => b.loaded = false,
            }
        }
        if let Some(lab) = lab {
            for box_id in taken_in {
                let lab = lab.clone();
                self.tell(arrive, Event::BoxReceived { box_id, lab });
            }
        }
    }

    /// Flies a drone to a pad, setting down what it carries there.
    fn fly_to_pad(&mut self, drone: &DroneId, pad: &PadId) {
        let now = self.now;
        let Some(target) = self.world.pad_position(pad) else {
            return;
        };
        let Some(d) = self.drones.get_mut(drone) else {
            return;
        };
        let (here, battery) = d.at(now);
        let metres = self.world.frame.distance_m(here, target);
        let secs = metres / self.world.drone_spec.cruise_airspeed_mps
            + self.world.drone_spec.takeoff_landing_s;
        let arrive = now + Duration::milliseconds((secs * 1000.0) as i64);
        let used = 100.0 * self.world.flight.hover_power_w(0.0) * secs
            / 3600.0
            / self.world.drone_spec.battery_wh;
        d.flight = Some(Flight {
            path: vec![(now, here), (arrive, target)],
            battery_start: battery,
            battery_end: battery - used,
            swap: None,
        });
        d.position = target;
        self.tell(
            arrive,
            Event::Drone {
                drone: drone.clone(),
                kind: DroneEventKind::Landed {
                    pad: Some(pad.clone()),
                    position: target,
                },
            },
        );
        self.set_down(drone, pad, arrive);
    }
}
