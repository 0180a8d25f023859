//! Small hand-built worlds and a tiny executor that acts out the dispatcher's
//! commands (flies missions at their planned times), for the scenario and
//! property tests. Positions are given in km east/north of a Longhua origin.

#![allow(dead_code)]

use labflight_core::command::MissionPlan;
use labflight_core::event::DroneEventKind;
use labflight_core::hours::OpeningHours;
use labflight_core::lab::Analyzer;
use labflight_core::pad::PadSite;
use labflight_core::{
    BoxId, Command, DroneId, Event, GroupId, Instant, Lab, LabId, LatLon, Pad, PadId, Scenario,
    Stamped, Station, StationId, TempBand, TestFamily, Tier, Tube, TubeBarcode, TubeType,
};
use labflight_dispatch::{CourierStart, Dispatcher, DroneStart, PolicyKind, World, WorldParts};
use labflight_geo::{Airspace, LocalFrame, NoFlyZone};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

pub const ORIGIN: LatLon = LatLon::new(22.687, 114.030);

pub fn scenario() -> Scenario {
    Scenario::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../../maps/longhua/scenario.toml"))
        .unwrap()
}

pub fn at_km(east: f64, north: f64) -> LatLon {
    LocalFrame::new(ORIGIN).to_latlon(nalgebra::Vector2::new(east * 1000.0, north * 1000.0))
}

/// Local time on the scenario's day.
pub fn t(hhmm: &str) -> Instant {
    let s = scenario();
    s.at(labflight_core::hours::parse_hhmm(hhmm).unwrap())
}

pub fn all_families() -> Vec<Analyzer> {
    TestFamily::ALL
        .into_iter()
        .map(|f| Analyzer {
            id: format!("{}-1", f.as_str()),
            family: f,
            tubes_per_hour: 300.0,
            run_minutes: 60.0,
        })
        .collect()
}

#[derive(Debug, Default)]
pub struct Builder {
    pub stations: Vec<Station>,
    pub labs: Vec<Lab>,
    pub pads: Vec<Pad>,
    pub zones: Vec<NoFlyZone>,
    pub drones: Vec<DroneStart>,
    pub couriers: Vec<CourierStart>,
}

impl Builder {
    pub fn station(mut self, id: &str, east: f64, north: f64, group: &str) -> Self {
        self.stations.push(Station {
            id: StationId::from(id),
            name: format!("Test Centre {id}"),
            name_zh: None,
            subdistrict: "Longhua".into(),
            district: None,
            group: GroupId::from(group),
            tier: Tier::Community,
            position: at_km(east, north),
            floor_area_m2: 1260.0,
            pad: Some(PadId::new(format!("PAD-{id}"))),
            centrifuge: false,
            hours: OpeningHours::parse("08:00-12:00,14:00-17:30").unwrap(),
        });
        self.pads.push(Pad {
            id: PadId::new(format!("PAD-{id}")),
            position: at_km(east, north),
            site: PadSite::Station(StationId::from(id)),
            capacity: 1,
            charger: false,
        });
        self
    }

    pub fn lab(
        mut self,
        id: &str,
        east: f64,
        north: f64,
        group: Option<&str>,
        analyzers: Vec<Analyzer>,
    ) -> Self {
        self.labs.push(Lab {
            id: LabId::from(id),
            name: format!("Test Lab {id}"),
            name_zh: None,
            group: group.map(GroupId::from),
            member_of: None,
            district: None,
            position: at_km(east, north),
            analyzers,
            reception_minutes: 15.0,
            verification_minutes: 15.0,
            hours: OpeningHours::parse("07:00-20:00").unwrap(),
        });
        self.pads.push(Pad {
            id: PadId::new(format!("PAD-{id}")),
            position: at_km(east, north),
            site: PadSite::Lab(LabId::from(id)),
            capacity: 8,
            charger: true,
        });
        self
    }

    /// A drone parked on the pad of `site` (a lab or station id).
    pub fn drone(mut self, id: &str, site: &str, battery_pct: f64) -> Self {
        self.drones.push(DroneStart {
            id: DroneId::from(id),
            pad: PadId::new(format!("PAD-{site}")),
            battery_pct,
        });
        self
    }

    /// A depot pad with a charger, where drones can be based.
    pub fn depot(mut self, id: &str, east: f64, north: f64) -> Self {
        self.pads.push(Pad {
            id: PadId::new(format!("PAD-{id}")),
            position: at_km(east, north),
            site: PadSite::Depot,
            capacity: 6,
            charger: true,
        });
        self
    }

    /// A depot pad without a charger: a drone can land there, not swap.
    pub fn plain_pad(mut self, id: &str, east: f64, north: f64) -> Self {
        self.pads.push(Pad {
            id: PadId::new(format!("PAD-{id}")),
            position: at_km(east, north),
            site: PadSite::Depot,
            capacity: 2,
            charger: false,
        });
        self
    }

    pub fn courier(mut self, id: &str, base: &str) -> Self {
        self.couriers.push(CourierStart {
            id: labflight_core::CourierId::from(id),
            base: LabId::from(base),
        });
        self
    }

    /// A square no-fly zone `half_km` either side of a centre point.
    pub fn zone(mut self, id: &str, east: f64, north: f64, half_km: f64) -> Self {
        let ring: Vec<(f64, f64)> = [
            (-1.0, -1.0),
            (1.0, -1.0),
            (1.0, 1.0),
            (-1.0, 1.0),
            (-1.0, -1.0),
        ]
        .iter()
        .map(|(dx, dy)| {
            let p = at_km(east + dx * half_km, north + dy * half_km);
            (p.lon, p.lat)
        })
        .collect();
        self.zones.push(NoFlyZone {
            id: id.into(),
            name: format!("Zone {id}"),
            polygon: geo::Polygon::new(geo::LineString::from(ring), vec![]),
        });
        self
    }

    pub fn world(self, scenario: &Scenario) -> Arc<World> {
        let corners = [
            (-30.0, -30.0),
            (30.0, -30.0),
            (30.0, 30.0),
            (-30.0, 30.0),
            (-30.0, -30.0),
        ];
        let ring: Vec<(f64, f64)> = corners
            .iter()
            .map(|(e, n)| {
                let p = at_km(*e, *n);
                (p.lon, p.lat)
            })
            .collect();
        let district =
            geo::MultiPolygon::new(vec![geo::Polygon::new(geo::LineString::from(ring), vec![])]);
        let airspace = Airspace::new(LocalFrame::new(ORIGIN), district, self.zones, 50.0);
        Arc::new(World::new(
            scenario,
            WorldParts {
                stations: self.stations,
                labs: self.labs,
                pads: self.pads,
                airspace,
                drones: self.drones,
                couriers: self.couriers,
            },
        ))
    }
}

/// Tubes of one type drawn at `drawn`, for a box manifest.
pub fn tubes(prefix: &str, n: usize, kind: &str, drawn: Instant, scenario: &Scenario) -> Vec<Tube> {
    let spec = scenario.tube_type(kind).unwrap();
    let test = scenario.tests.iter().find(|t| t.tube_type == kind).unwrap();
    (0..n)
        .map(|i| Tube {
            barcode: TubeBarcode::new(format!("{prefix}-{i:03}")),
            tube_type: TubeType(kind.into()),
            tests: vec![labflight_core::LoincCode(test.loinc.clone())],
            families: vec![test.family],
            drawn_at: drawn,
            stability_minutes: spec.unspun_stability_minutes,
            band: spec.band_unspun,
            spun: false,
        })
        .collect()
}

pub fn sealed(at: Instant, box_id: &str, station: &str, tubes: Vec<Tube>) -> Stamped {
    Stamped {
        at,
        event: Event::BoxSealed {
            box_id: BoxId::from(box_id),
            station: StationId::from(station),
            tubes,
        },
    }
}

pub fn ev(at: Instant, event: Event) -> Stamped {
    Stamped { at, event }
}

pub fn missions(cmds: &[Command]) -> Vec<&MissionPlan> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::AssignMission(p) => Some(p),
            _ => None,
        })
        .collect()
}

/// The mission among `cmds` that flies `box_id`.
pub fn mission_for<'a>(cmds: &'a [Command], box_id: &str) -> Option<&'a MissionPlan> {
    missions(cmds)
        .into_iter()
        .find(|m| m.boxes.contains(&BoxId::from(box_id)))
}

pub fn van_runs(cmds: &[Command]) -> Vec<&labflight_core::command::CourierRequest> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::RequestCourier(r) => Some(r),
            _ => None,
        })
        .collect()
}

pub fn alerts(cmds: &[Command], kind: labflight_core::command::AlertKind) -> usize {
    cmds.iter()
        .filter(|c| matches!(c, Command::Alert(a) if a.kind == kind))
        .count()
}

pub fn band() -> TempBand {
    TempBand {
        min_c: 15.0,
        max_c: 25.0,
    }
}

/// Acts out drone missions and courier runs at their planned times, so a day can
/// run to the end: load at pickup, deliver and receive at the lab, complete,
/// swap batteries. Returns every command the dispatcher gave, in order.
pub struct Executor {
    pub dispatcher: Dispatcher,
    pub queue: BTreeMap<(Instant, u64), Event>,
    seq: u64,
    pub log: Vec<(Instant, Command)>,
}

impl Executor {
    pub fn new(world: Arc<World>, policy: PolicyKind, start: Instant) -> Self {
        Executor {
            dispatcher: Dispatcher::new(world, policy, 7, start),
            queue: BTreeMap::new(),
            seq: 0,
            log: Vec::new(),
        }
    }

    /// Queues an event built by the helpers above (`sealed`, `ev`).
    pub fn push_stamped(&mut self, e: Stamped) {
        self.push(e.at, e.event);
    }

    pub fn push(&mut self, at: Instant, event: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    /// Runs every queued event up to `until`, with a tick each minute; bounded.
    pub fn run_until(&mut self, until: Instant) {
        let mut tick = self.dispatcher.state().now;
        for _ in 0..200_000 {
            let next_event = self.queue.keys().next().map(|k| k.0);
            let (at, event) = match next_event {
                Some(at) if at <= tick && at <= until => {
                    let key = *self.queue.keys().next().unwrap();
                    (at, self.queue.remove(&key).unwrap())
                }
                _ if tick <= until => {
                    let at = tick;
                    tick += chrono::Duration::minutes(1);
                    (at, Event::Tick)
                }
                _ => return,
            };
            let cmds = self.dispatcher.handle(&Stamped { at, event });
            for c in cmds {
                self.act(at, &c);
                self.log.push((at, c));
            }
        }
        panic!("executor did not finish within its step bound");
    }

    fn act(&mut self, _now: Instant, c: &Command) {
        let world = self.dispatcher.world();
        match c {
            Command::AssignMission(p) => {
                let drone = p.drone.clone();
                // A relay's battery is swapped on the way: what it lands with is planned.
                let battery = match &p.relay {
                    Some(_) => p.battery_after_pct,
                    None => {
                        self.dispatcher.state().drones[&drone].battery_pct
                            - 100.0 * p.legs.iter().map(|l| l.energy_wh).sum::<f64>()
                                / world.drone_spec.battery_wh
                    }
                };
                // A hub leg lands at its hub, where its van collects the boxes.
                let lab_pos = match &p.hub {
                    Some(hub) => world.pad_position(&hub.pad).unwrap(),
                    None => world.labs[&p.lab].position,
                };
                let lands_at = p.hub.as_ref().map_or(p.arrive_lab_at, |h| h.land_at);
                let lands_on = p
                    .hub
                    .as_ref()
                    .map_or(p.lab_pad.clone(), |h| Some(h.pad.clone()));
                let mission = p.mission.clone();
                // A heartbeat every minute in flight, as real drones report far more often.
                let mut beat = p.legs[0].depart + chrono::Duration::minutes(1);
                while beat < lands_at {
                    self.push(
                        beat,
                        Event::DroneTelemetry {
                            drone: drone.clone(),
                            position: lab_pos,
                            alt_m: 120.0,
                            battery_pct: battery.max(0.0),
                            state: labflight_core::event::DroneState::Flying,
                        },
                    );
                    beat += chrono::Duration::minutes(1);
                }
                for b in &p.boxes {
                    // On a round, each box is loaded when the drone lands at its centre.
                    let loaded_at = p
                        .later_stops
                        .iter()
                        .find(|s| s.boxes.contains(b))
                        .map_or(p.pickup_at, |s| s.pickup_at);
                    self.push(
                        loaded_at,
                        Event::Drone {
                            drone: drone.clone(),
                            kind: DroneEventKind::PayloadLoaded { box_id: b.clone() },
                        },
                    );
                }
                self.push(
                    lands_at,
                    Event::DroneTelemetry {
                        drone: drone.clone(),
                        position: lab_pos,
                        alt_m: 0.0,
                        battery_pct: battery,
                        state: labflight_core::event::DroneState::Landed,
                    },
                );
                self.push(
                    lands_at,
                    Event::Drone {
                        drone: drone.clone(),
                        kind: DroneEventKind::Landed {
                            pad: lands_on,
                            position: lab_pos,
                        },
                    },
                );
                for b in p.boxes.iter().filter(|_| p.hub.is_none()) {
                    self.push(
                        p.arrive_lab_at,
                        Event::BoxReceived {
                            box_id: b.clone(),
                            lab: p.lab.clone(),
                        },
                    );
                }
                self.push(
                    lands_at,
                    Event::Drone {
                        drone,
                        kind: DroneEventKind::MissionComplete { mission },
                    },
                );
            }
            Command::AddToMission {
                mission,
                drone,
                boxes,
                ..
            } => {
                let plan = self.dispatcher.state().missions[mission]
                    .plan
                    .clone()
                    .unwrap();
                for b in boxes {
                    self.push(
                        plan.pickup_at,
                        Event::Drone {
                            drone: drone.clone(),
                            kind: DroneEventKind::PayloadLoaded { box_id: b.clone() },
                        },
                    );
                    self.push(
                        plan.arrive_lab_at,
                        Event::BoxReceived {
                            box_id: b.clone(),
                            lab: plan.lab.clone(),
                        },
                    );
                }
            }
            Command::SwapBattery { drone, .. } => {
                let at = self.dispatcher.state().now + chrono::Duration::minutes(3);
                self.push(
                    at,
                    Event::Drone {
                        drone: drone.clone(),
                        kind: DroneEventKind::BatteryReady { battery_pct: 100.0 },
                    },
                );
            }
            Command::ReturnToPad { drone, pad, .. } => {
                // Flown straight at cruise speed, landing at the pad.
                let world = self.dispatcher.world();
                let (Some(from), Some(to)) = (
                    self.dispatcher
                        .state()
                        .drones
                        .get(drone)
                        .map(|d| d.position),
                    world.pad_position(pad),
                ) else {
                    return;
                };
                let secs = world.frame.distance_m(from, to) / world.drone_spec.cruise_airspeed_mps
                    + world.drone_spec.takeoff_landing_s;
                let at =
                    self.dispatcher.state().now + chrono::Duration::seconds(secs.ceil() as i64);
                self.push(
                    at,
                    Event::Drone {
                        drone: drone.clone(),
                        kind: DroneEventKind::Landed {
                            pad: Some(pad.clone()),
                            position: to,
                        },
                    },
                );
            }
            Command::RequestCourier(r) => {
                let courier = r.courier.clone().unwrap();
                self.push(
                    r.pickup_at,
                    Event::Courier {
                        courier: courier.clone(),
                        kind: labflight_core::event::CourierEventKind::PickedUp {
                            boxes: r.boxes.clone(),
                        },
                    },
                );
                self.push(
                    r.deliver_at,
                    Event::Courier {
                        courier,
                        kind: labflight_core::event::CourierEventKind::Delivered {
                            lab: r.lab.clone(),
                            boxes: r.boxes.clone(),
                        },
                    },
                );
            }
            _ => {}
        }
    }

    /// Every command the dispatcher gave, in order.
    pub fn commands(&self) -> Vec<Command> {
        self.log.iter().map(|(_, c)| c.clone()).collect()
    }
}

/// Whether the dispatcher holds box `id` as delivered to a lab.
pub fn delivered(d: &Dispatcher, id: &str) -> bool {
    matches!(
        d.state().boxes[&BoxId::from(id)].status,
        labflight_dispatch::state::BoxStatus::Delivered { .. }
    )
}
