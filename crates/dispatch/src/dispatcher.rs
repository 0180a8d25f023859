//! The sans-IO dispatcher: `handle(event at time) -> commands`. It applies each
//! event to its state (custody, drones, labs, weather), reacts to trouble that
//! every policy handles the same way (faults, lost links, grounding, lab outages),
//! then lets the policy plan. No clock, no IO, no randomness: the same events in
//! the same order give the same commands, byte for byte.

use crate::ctx::{Ctx, takes_more_at};
use crate::planner::{RouteCache, choose_lab, plan_leg};
use crate::policy::{Policy, PolicyKind};
use crate::state::{
    BoxStatus, Carrier, Courier, Drone, DroneStatus, LabState, MissionStatus, SetDown, SpecimenBox,
    State, TubeState, TubeStatus, Weather,
};
use crate::world::World;
use labflight_core::command::{AlertKind, Recovery, Severity, StationNotice};
use labflight_core::event::{CourierEventKind, DroneEventKind, LabUpdate, Override};
use labflight_core::{
    BoxId, Command, DroneId, Event, Instant, LabId, MissionId, Stamped, StationId, TempBand, Tube,
};
use std::collections::BTreeSet;
use std::sync::Arc;

/// A dispatcher at one instant, for a fast restart.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DispatcherSnapshot {
    pub policy: String,
    pub seed: u64,
    pub state: State,
    pub policy_memory: serde_json::Value,
}

#[derive(Debug)]
pub struct Dispatcher {
    world: Arc<World>,
    state: State,
    policy: Box<dyn Policy>,
    cache: RouteCache,
    seed: u64,
}

impl Dispatcher {
    /// A dispatcher for one day starting at `start`. `seed` is the only source of
    /// variation a policy may use.
    pub fn new(world: Arc<World>, policy: PolicyKind, seed: u64, start: Instant) -> Dispatcher {
        let drones = world
            .drones
            .iter()
            .map(|d| {
                let position = world.pad_position(&d.pad).unwrap_or(world.frame.origin);
                let drone = Drone {
                    id: d.id.clone(),
                    position,
                    pad: Some(d.pad.clone()),
                    battery_pct: d.battery_pct,
                    status: DroneStatus::Idle,
                    paused: false,
                    last_seen: start,
                    home: Some(d.pad.clone()),
                    link_lost: false,
                    flights: 0,
                };
                (d.id.clone(), drone)
            })
            .collect();
        let couriers = world
            .couriers
            .iter()
            .map(|c| {
                let position = world
                    .labs
                    .get(&c.base)
                    .map(|l| l.position)
                    .unwrap_or(world.frame.origin);
                let courier = Courier {
                    id: c.id.clone(),
                    position,
                    base: c.base.clone(),
                    free_at: start,
                    free_position: position,
                    trips: 0,
                };
                (c.id.clone(), courier)
            })
            .collect();
        let labs = world
            .labs
            .keys()
            .map(|id| (id.clone(), LabState::default()))
            .collect();
        let state = State {
            now: start,
            drones,
            boxes: Default::default(),
            tubes: Default::default(),
            missions: Default::default(),
            labs,
            couriers,
            weather: Weather {
                wind_east_mps: 0.0,
                wind_north_mps: 0.0,
                rain_mm_h: 0.0,
            },
            grounded_by_coordinator: false,
            grounded_by_weather: false,
            forced_pickups: Default::default(),
            next_mission: 0,
            last_call_made: false,
            box_limits: Default::default(),
            box_limits_wind: None,
        };
        let policy = policy.build(&world, seed);
        Dispatcher {
            world,
            state,
            policy,
            cache: RouteCache::default(),
            seed,
        }
    }

    /// Everything needed to carry on from here (state and the policy's memory).
    pub fn snapshot(&self) -> DispatcherSnapshot {
        DispatcherSnapshot {
            policy: self.policy.name().to_owned(),
            seed: self.seed,
            state: self.state.clone(),
            policy_memory: self.policy.save(),
        }
    }

    /// A dispatcher that decides from here on exactly as the one that took the
    /// snapshot would have.
    pub fn restore(
        world: Arc<World>,
        policy: PolicyKind,
        snapshot: DispatcherSnapshot,
    ) -> Result<Dispatcher, String> {
        if snapshot.policy != policy.name() {
            return Err(format!(
                "snapshot of policy `{}`, not `{}`",
                snapshot.policy,
                policy.name()
            ));
        }
        let mut built = policy.build(&world, snapshot.seed);
        built.load(&snapshot.policy_memory)?;
        Ok(Dispatcher {
            world,
            state: snapshot.state,
            policy: built,
            cache: RouteCache::default(),
            seed: snapshot.seed,
        })
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn world(&self) -> &World {
        &self.world
    }

    pub fn policy_name(&self) -> &'static str {
        self.policy.name()
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Applies one event and returns the commands it leads to.
    pub fn handle(&mut self, stamped: &Stamped) -> Vec<Command> {
        let mut out = Vec::new();
        // Time never runs backwards inside the core, whatever the edges deliver.
        self.state.now = self.state.now.max(stamped.at);
        let world = Arc::clone(&self.world);
        let mut ctx = Ctx::new(&world, &mut self.state, &mut self.cache, &mut out);
        ctx.ride_along = self.policy.rides_along();
        let replan = apply(&mut ctx, &stamped.event);
        if replan {
            self.policy.plan(&mut ctx);
            send_idle_home(&mut ctx);
        }
        out
    }
}

/// Applies an event to the state; returns whether the policy should plan again.
fn apply(ctx: &mut Ctx<'_>, event: &Event) -> bool {
    match event {
        Event::DroneTelemetry {
            drone,
            position,
            battery_pct,
            ..
        } => {
            let now = ctx.state.now;
            let low = ctx.world.params.low_battery_pct;
            let Some(d) = ctx.state.drones.get_mut(drone) else {
                return false;
            };
            d.position = *position;
            let was_low = d.battery_pct < low;
            d.battery_pct = battery_pct.clamp(0.0, 100.0);
            d.last_seen = now;
            let restored = std::mem::replace(&mut d.link_lost, false);
            if !was_low && d.battery_pct < low && matches!(d.status, DroneStatus::OnMission { .. })
            {
                let msg = format!("battery {:.0} % in flight", d.battery_pct);
                ctx.alert(
                    AlertKind::LowBattery,
                    Severity::Warning,
                    drone.as_str(),
                    msg,
                );
            }
            restored
        }
        Event::Drone { drone, kind } => apply_drone_event(ctx, drone, kind),
        Event::BoxSealed {
            box_id,
            station,
            tubes,
        } => box_sealed(ctx, box_id, station, tubes),
        Event::BoxTelemetry { box_id, temp_c, .. } => {
            let Some(b) = ctx.state.boxes.get_mut(box_id) else {
                return false;
            };
            b.temp_c = Some(*temp_c);
            let band = strictest_band(&b.tubes, ctx.world.box_spec.band);
            if !band.contains(*temp_c) && !b.excursion_alerted {
                b.excursion_alerted = true;
                let msg = format!(
                    "box at {temp_c:.1} °C, outside {:.0}–{:.0} °C",
                    band.min_c, band.max_c
                );
                ctx.alert(
                    AlertKind::TemperatureExcursion,
                    Severity::Warning,
                    box_id.as_str(),
                    msg,
                );
            }
            false
        }
        Event::BoxReceived { box_id, lab } => {
            box_delivered(ctx, box_id, lab);
            false
        }
        Event::Lab { lab, update } => lab_update(ctx, lab, update),
        Event::TubeResulted { barcode, lab } => {
            if let Some(t) = ctx.state.tubes.get_mut(barcode)
                && t.status < TubeStatus::Resulted
            {
                t.status = TubeStatus::Resulted;
                let families = t.families.clone();
                let ls = ctx.lab_mut(lab);
                for f in families {
                    if let Some(n) = ls.backlog.get_mut(&f) {
                        *n = n.saturating_sub(1);
                    }
                }
            }
            false
        }
        // Spinning changes nothing the dispatcher plans with; it is custody.
        Event::TubeCentrifuged { .. } => false,
        Event::TubeRejected {
            barcode,
            lab,
            reason,
        } => {
            let Some(t) = ctx.state.tubes.get_mut(barcode) else {
                return false;
            };
            if t.status >= TubeStatus::Resulted {
                return false;
            }
            t.status = TubeStatus::Rejected;
            let families = t.families.clone();
            let box_id = t.box_id.clone();
            let ls = ctx.lab_mut(lab);
            for f in families {
                if let Some(n) = ls.backlog.get_mut(&f) {
                    *n = n.saturating_sub(1);
                }
            }
            if let Some(station) = ctx.state.boxes.get(&box_id).map(|b| b.station.clone()) {
                ctx.out.push(Command::NotifyStation {
                    station,
                    notice: StationNotice::RedrawNeeded {
                        barcode: barcode.clone(),
                        reason: format!("rejected by {lab}: {reason}"),
                    },
                });
            }
            false
        }
        Event::CustodyDisputed {
            lab,
            barcode,
            claim,
        } => {
            let actual = crate::lab_claims::tube_whereabouts(ctx.state, barcode);
            ctx.alert(
                AlertKind::CustodyConflict,
                Severity::Critical,
                barcode.as_str(),
                format!("lab {lab} says tube `{barcode}` is {claim}, refused: {actual}"),
            );
            false
        }
        Event::ResultReported { barcode } => {
            if let Some(t) = ctx.state.tubes.get_mut(barcode) {
                t.status = TubeStatus::Reported;
                t.reported_at = Some(ctx.state.now);
            }
            false
        }
        Event::Weather {
            wind_east_mps,
            wind_north_mps,
            rain_mm_h,
        } => {
            ctx.state.weather = Weather {
                wind_east_mps: *wind_east_mps,
                wind_north_mps: *wind_north_mps,
                rain_mm_h: *rain_mm_h,
            };
            let spec = &ctx.world.drone_spec;
            let speed = ctx.state.weather.wind().norm();
            let too_rough = speed > spec.max_wind_mps || *rain_mm_h > spec.max_rain_mm_h;
            if too_rough != ctx.state.grounded_by_weather {
                ctx.state.grounded_by_weather = too_rough;
                if too_rough {
                    let msg = format!(
                        "wind {speed:.1} m/s, rain {rain_mm_h:.1} mm/h: above the drone's limits"
                    );
                    ground_fleet(ctx, &msg);
                } else {
                    ctx.alert(
                        AlertKind::FleetGrounded,
                        Severity::Info,
                        "fleet",
                        "weather within limits: fleet released",
                    );
                }
            }
            true
        }
        Event::Courier { courier, kind } => {
            match kind {
                CourierEventKind::PickedUp { boxes } => {
                    for b in boxes {
                        if let Some(sb) = ctx.state.boxes.get_mut(b)
                            && let BoxStatus::Assigned { mission } = sb.status.clone()
                        {
                            sb.status = BoxStatus::OnBoard {
                                mission: mission.clone(),
                            };
                            sb.set_down = None;
                            if let Some(m) = ctx.state.missions.get_mut(&mission) {
                                m.status = MissionStatus::PickedUp;
                            }
                        }
                    }
                }
                CourierEventKind::Delivered { lab, boxes } => {
                    for b in boxes {
                        box_delivered(ctx, b, lab);
                    }
                }
                CourierEventKind::Available { position } => {
                    if let Some(c) = ctx.state.couriers.get_mut(courier) {
                        c.position = *position;
                    }
                }
            }
            false
        }
        Event::Override { by, action } => apply_override(ctx, by, action),
        Event::ServiceResumed => {
            let now = ctx.state.now;
            for d in ctx.state.drones.values_mut() {
                d.last_seen = d.last_seen.max(now);
            }
            false
        }
        Event::Tick => {
            tick(ctx);
            true
        }
    }
}

/// The tightest band that suits every tube in the box (the box's own if none).
fn strictest_band(tubes: &[Tube], fallback: TempBand) -> TempBand {
    tubes
        .iter()
        .fold(None::<TempBand>, |acc, t| {
            Some(match acc {
                None => t.band,
                Some(a) => TempBand {
                    min_c: a.min_c.max(t.band.min_c),
                    max_c: a.max_c.min(t.band.max_c),
                },
            })
        })
        .filter(|b| b.min_c < b.max_c)
        .unwrap_or(fallback)
}

fn box_sealed(ctx: &mut Ctx<'_>, box_id: &BoxId, station: &StationId, tubes: &[Tube]) -> bool {
    if ctx.state.boxes.contains_key(box_id) || !ctx.world.stations.contains_key(station) {
        // A repeated seal is harmless; an unknown centre is the edge's to reject.
        return false;
    }
    let now = ctx.state.now;
    let families: BTreeSet<_> = tubes
        .iter()
        .flat_map(|t| t.families.iter().copied())
        .collect();
    let stability_deadline = tubes
        .iter()
        .map(Tube::stability_deadline)
        .min()
        .unwrap_or(ctx.world.service.cutoff);
    for t in tubes {
        ctx.state.tubes.insert(
            t.barcode.clone(),
            TubeState {
                box_id: box_id.clone(),
                status: TubeStatus::InBox,
                lab: None,
                families: t.families.clone(),
                received_at: None,
                reported_at: None,
            },
        );
        if t.stability_deadline() <= now {
            ctx.alert(
                AlertKind::StabilityExceeded,
                Severity::Critical,
                t.barcode.as_str(),
                "sealed after its stability limit",
            );
            ctx.out.push(Command::NotifyStation {
                station: station.clone(),
                notice: StationNotice::RedrawNeeded {
                    barcode: t.barcode.clone(),
                    reason: "stability limit passed before the box was sealed".into(),
                },
            });
        }
    }
    let payload_kg = ctx.world.box_spec.payload_kg(tubes.len());
    let ride_along = if ctx.ride_along {
        ride_along(ctx, station, payload_kg)
    } else {
        None
    };
    ctx.state.boxes.insert(
        box_id.clone(),
        SpecimenBox {
            id: box_id.clone(),
            station: station.clone(),
            tubes: tubes.to_vec(),
            sealed_at: now,
            status: BoxStatus::Waiting,
            families,
            payload_kg,
            stability_deadline,
            at_risk_alerted: false,
            excursion_alerted: false,
            forced: false,
            temp_c: None,
            loaded_on: None,
            set_down: None,
        },
    );
    if let Some(mission) = ride_along {
        add_to_mission(ctx, &mission, box_id, payload_kg);
    } else if ctx.ride_along
        && let Some(mission) = van_calling(ctx, station)
    {
        ctx.join_van_call(&mission, vec![box_id.clone()]);
    }
    true
}

/// How long before a van calls at a centre staff are asked to seal what they
/// have for it; a box sealed then, or already waiting, goes with it.
const VAN_SEAL_LEAD_MINUTES: i64 = 2;

/// When a van run not yet loaded calls at its centre, if that is within
/// `VAN_SEAL_LEAD_MINUTES` from `now`.
fn calls_soon(m: &crate::state::Mission, now: Instant) -> Option<Instant> {
    let at = m.van_calls_at?;
    let lead = chrono::Duration::minutes(VAN_SEAL_LEAD_MINUTES);
    (m.status == MissionStatus::Assigned && at >= now && at - now <= lead).then_some(at)
}

/// A van run about to call at `station` (`calls_soon`): the earliest such.
fn van_calling(ctx: &Ctx<'_>, station: &StationId) -> Option<MissionId> {
    let now = ctx.state.now;
    ctx.state
        .missions
        .values()
        .filter(|m| m.station == *station)
        .filter_map(|m| calls_soon(m, now).map(|at| (at, &m.id)))
        .min()
        .map(|(_, id)| id.clone())
}

/// Asks staff at each centre a van is about to call at to seal what they have
/// drawn, so it goes with the van (`box_sealed` puts it on board) rather than
/// wait for the next carrier.
fn seal_for_vans(ctx: &mut Ctx<'_>) {
    let now = ctx.state.now;
    let calling: Vec<(MissionId, StationId, Instant, String)> = ctx
        .state
        .missions
        .values()
        .filter(|m| !m.seal_asked)
        .filter_map(|m| {
            let at = calls_soon(m, now)?;
            let Carrier::Courier(van) = &m.carrier else {
                return None;
            };
            Some((m.id.clone(), m.station.clone(), at, van.to_string()))
        })
        .collect();
    for (mission, station, at, van) in calling {
        if let Some(m) = ctx.state.missions.get_mut(&mission) {
            m.seal_asked = true;
        }
        ctx.out.push(Command::NotifyStation {
            station: station.clone(),
            notice: StationNotice::SealNow {
                reason: format!("{van} calls at {} UTC for {mission}", at.format("%H:%M")),
            },
        });
        let waiting = waiting_in_time_for(ctx, &mission, &station);
        if !waiting.is_empty() {
            ctx.join_van_call(&mission, waiting);
        }
    }
}

/// The boxes waiting for a drone at `station` that the van run `mission`, about to
/// call there, gets to its lab within their stability limits. They go with it: the
/// van calls anyway, drones are what the morning runs short of, and at a far
/// centre the next one may be an hour away. (Held to the cutoff as well, fewer
/// went and more missed it: 99.47 % on time over 21 seeds against 99.50 %.)
fn waiting_in_time_for(ctx: &Ctx<'_>, mission: &MissionId, station: &StationId) -> Vec<BoxId> {
    let Some(m) = ctx.state.missions.get(mission) else {
        return Vec::new();
    };
    let deliver_at = m.planned_arrival;
    ctx.state
        .boxes
        .values()
        .filter(|b| b.station == *station && b.status == BoxStatus::Waiting)
        .filter(|b| deliver_at <= b.stability_deadline)
        .map(|b| b.id.clone())
        .collect()
}

/// A drone mission on its way to `station` that can still take `payload_kg` more:
/// not yet loaded, within the payload limit and the battery above reserve.
fn ride_along(ctx: &Ctx<'_>, station: &StationId, payload_kg: f64) -> Option<MissionId> {
    let world = ctx.world;
    ctx.state
        .missions
        .values()
        .filter(|m| matches!(m.status, MissionStatus::Assigned | MissionStatus::PickedUp))
        .filter(|m| matches!(m.carrier, Carrier::Drone(_)))
        .find(|m| {
            m.plan
                .as_ref()
                .is_some_and(|plan| takes_more_at(world, plan, station, payload_kg, ctx.state.now))
        })
        .map(|m| m.id.clone())
}

fn add_to_mission(ctx: &mut Ctx<'_>, mission: &MissionId, box_id: &BoxId, payload_kg: f64) {
    let Some(m) = ctx.state.missions.get_mut(mission) else {
        return;
    };
    let Carrier::Drone(drone) = m.carrier.clone() else {
        return;
    };
    m.boxes.push(box_id.clone());
    let lab = m.lab.clone();
    let station = ctx.state.boxes.get(box_id).map(|b| b.station.clone());
    if let Some(plan) = m.plan.as_mut() {
        plan.boxes.push(box_id.clone());
        if let Some(stop) = plan
            .later_stops
            .iter_mut()
            .find(|s| Some(&s.station) == station.as_ref())
        {
            stop.boxes.push(box_id.clone());
        }
        plan.payload_kg = ((plan.payload_kg + payload_kg) * 1000.0).round() / 1000.0;
    }
    let total = m.plan.as_ref().map_or(payload_kg, |p| p.payload_kg);
    if let Some(b) = ctx.state.boxes.get_mut(box_id) {
        b.status = BoxStatus::Assigned {
            mission: mission.clone(),
        };
    }
    ctx.book_inbound_for(std::slice::from_ref(box_id), &lab);
    ctx.out.push(Command::AddToMission {
        mission: mission.clone(),
        drone,
        boxes: vec![box_id.clone()],
        payload_kg: total,
    });
}

fn box_delivered(ctx: &mut Ctx<'_>, box_id: &BoxId, lab: &LabId) {
    let Some(b) = ctx.state.boxes.get_mut(box_id) else {
        return;
    };
    if matches!(b.status, BoxStatus::Delivered { .. }) {
        return;
    }
    let mission = match &b.status {
        BoxStatus::Assigned { mission } | BoxStatus::OnBoard { mission } => Some(mission.clone()),
        _ => None,
    };
    b.status = BoxStatus::Delivered { lab: lab.clone() };
    let barcodes: Vec<_> = b.tubes.iter().map(|t| t.barcode.clone()).collect();
    let box_ids = [box_id.clone()];
    if let Some(m) = mission.as_ref().and_then(|m| ctx.state.missions.get(m)) {
        let booked = m.lab.clone();
        ctx.unbook_inbound(&box_ids, &booked);
    }
    let mut families = Vec::new();
    for bc in barcodes {
        if let Some(t) = ctx.state.tubes.get_mut(&bc) {
            t.status = t.status.max(TubeStatus::AtLab);
            t.received_at.get_or_insert(ctx.state.now);
            t.lab = Some(lab.clone());
            families.extend(t.families.iter().copied());
        }
    }
    let (world, now) = (ctx.world, ctx.state.now);
    let ls = ctx.lab_mut(lab);
    for f in &families {
        *ls.backlog.entry(*f).or_insert(0) += 1;
    }
    if let Some(l) = world.labs.get(lab) {
        crate::planner::lines_take(ls, l, families, now);
    }
    if let Some(m) = mission.and_then(|m| ctx.state.missions.get_mut(&m)) {
        let all = m.boxes.iter().all(|b| {
            matches!(
                ctx.state.boxes.get(b).map(|x| &x.status),
                Some(BoxStatus::Delivered { .. })
            )
        });
        if all && m.status != MissionStatus::Aborted {
            m.status = MissionStatus::Delivered;
        }
    }
}

fn apply_drone_event(ctx: &mut Ctx<'_>, drone: &DroneId, kind: &DroneEventKind) -> bool {
    let now = ctx.state.now;
    let Some(d) = ctx.state.drones.get_mut(drone) else {
        return false;
    };
    d.last_seen = now;
    // A drone that reports anything but the loss of its link is heard from again.
    let heard_again =
        *kind != DroneEventKind::LinkLost && std::mem::replace(&mut d.link_lost, false);
    apply_drone_event_kind(ctx, drone, kind) || heard_again
}

fn apply_drone_event_kind(ctx: &mut Ctx<'_>, drone: &DroneId, kind: &DroneEventKind) -> bool {
    let Some(d) = ctx.state.drones.get_mut(drone) else {
        return false;
    };
    match kind {
        DroneEventKind::TookOff => {
            d.pad = None;
            false
        }
        DroneEventKind::Landed { pad, position } => {
            d.position = *position;
            d.pad = pad.clone();
            if let DroneStatus::Returning { pad: target } = &d.status
                && Some(target) == pad.as_ref()
            {
                d.status = DroneStatus::Idle;
                after_flight(ctx, drone);
                return true;
            }
            false
        }
        DroneEventKind::PayloadLoaded { box_id } => payload_loaded(ctx, drone, box_id),
        DroneEventKind::PayloadReleased { .. } => false,
        DroneEventKind::MissionComplete { mission } => {
            if d.mission() == Some(mission) {
                d.status = DroneStatus::Idle;
                d.flights += 1;
                if let Some(m) = ctx.state.missions.get(mission) {
                    let lab_pad = m.plan.as_ref().and_then(|p| p.lab_pad.clone());
                    if d.pad.is_none() {
                        d.pad = lab_pad;
                    }
                }
                after_flight(ctx, drone);
            }
            true
        }
        DroneEventKind::BatteryReady { battery_pct } => {
            d.battery_pct = battery_pct.clamp(0.0, 100.0);
            if matches!(d.status, DroneStatus::Charging { .. }) {
                d.status = DroneStatus::Idle;
                after_flight(ctx, drone);
            }
            true
        }
        DroneEventKind::Fault { reason } => {
            let mission = d.mission().cloned();
            d.status = DroneStatus::Fault {
                reason: reason.clone(),
            };
            ctx.alert(
                AlertKind::DroneFault,
                Severity::Critical,
                drone.as_str(),
                format!("fault: {reason}"),
            );
            if let Some(m) = mission {
                abort_mission(ctx, &m, &format!("drone fault: {reason}"));
            }
            true
        }
        DroneEventKind::LinkLost => {
            if !std::mem::replace(&mut d.link_lost, true) {
                ctx.alert(
                    AlertKind::DroneLost,
                    Severity::Warning,
                    drone.as_str(),
                    "link lost",
                );
            }
            false
        }
        DroneEventKind::LinkRestored => {
            d.link_lost = false;
            true
        }
    }
}

/// A drone reports a box loaded. Normally the box was assigned to the mission it
/// flies. Otherwise custody follows the box, not the plan: a drone declared lost
/// (its mission aborted, the box re-planned) may reappear with the box on board.
/// The box leaves whatever else was planned for it, and the drone's aborted
/// mission resumes to the best lab; on a drone flying another mission it rides to
/// that mission's lab; failing both it is stranded where the drone lands, for a
/// van. Whether the plan changed (a freed drone or van is free again).
fn payload_loaded(ctx: &mut Ctx<'_>, drone: &DroneId, box_id: &BoxId) -> bool {
    let flying = ctx
        .state
        .drones
        .get(drone)
        .and_then(|d| d.mission().cloned());
    let Some(b) = ctx.state.boxes.get_mut(box_id) else {
        return false;
    };
    if b.loaded_on.as_ref() == Some(drone) {
        return false;
    }
    b.loaded_on = Some(drone.clone());
    let status = b.status.clone();
    match &status {
        BoxStatus::Assigned { mission } if flying.as_ref() == Some(mission) => {
            load_on(ctx, box_id, mission);
            return false;
        }
        BoxStatus::OnBoard { mission } if flying.as_ref() == Some(mission) => return false,
        // At its centre, or on the pad a drone set it down on: custody follows the box.
        BoxStatus::Waiting | BoxStatus::Assigned { .. } | BoxStatus::Stranded { .. } => {}
        other => {
            let msg = format!(
                "{drone} reports loading {box_id}, which is {}: custody not changed, check the box",
                other.name()
            );
            ctx.alert(
                AlertKind::CustodyConflict,
                Severity::Critical,
                box_id.as_str(),
                msg,
            );
            return false;
        }
    }
    // The box is on this drone, not where the plan had it.
    if let BoxStatus::Assigned { mission } = &status {
        leave_mission(ctx, box_id, mission, drone);
    }
    if let Some(m) = flying {
        // A mission of this drone's already holding the box (a second box of a
        // resumed mission), or another one it is flying: the box rides along.
        if let Some(mm) = ctx.state.missions.get_mut(&m)
            && !mm.boxes.contains(box_id)
        {
            mm.boxes.push(box_id.clone());
        }
        let lab = ctx.state.missions[&m].lab.clone();
        ctx.book_inbound_for(std::slice::from_ref(box_id), &lab);
        load_on(ctx, box_id, &m);
        let msg = format!("{box_id} loaded on {drone}, which flies {m}: it goes to {lab}");
        ctx.alert(
            AlertKind::CustodyConflict,
            Severity::Warning,
            drone.as_str(),
            msg,
        );
        return true;
    }
    if resume_aborted_mission(ctx, drone, box_id) {
        return true;
    }
    strand_on(ctx, drone, box_id);
    true
}

/// Marks a box on board `mission`, which is then picked up.
fn load_on(ctx: &mut Ctx<'_>, box_id: &BoxId, mission: &MissionId) {
    if let Some(b) = ctx.state.boxes.get_mut(box_id) {
        b.status = BoxStatus::OnBoard {
            mission: mission.clone(),
        };
        b.set_down = None;
    }
    if let Some(m) = ctx.state.missions.get_mut(mission) {
        m.status = MissionStatus::PickedUp;
    }
}

/// Takes a box out of a mission planned for it (it left on `drone`); a mission left
/// with nothing to carry is aborted, freeing its drone or van.
fn leave_mission(ctx: &mut Ctx<'_>, box_id: &BoxId, mission: &MissionId, drone: &DroneId) {
    let Some(m) = ctx.state.missions.get_mut(mission) else {
        return;
    };
    m.boxes.retain(|b| b != box_id);
    let (lab, empty) = (m.lab.clone(), m.boxes.is_empty());
    ctx.unbook_inbound(std::slice::from_ref(box_id), &lab);
    if empty {
        abort_mission(ctx, mission, &format!("its box {box_id} left on {drone}"));
    }
}

/// Resumes the latest aborted mission of `drone` that held `box_id`, to the lab
/// with the earliest result the drone can still reach. Whether it did.
fn resume_aborted_mission(ctx: &mut Ctx<'_>, drone: &DroneId, box_id: &BoxId) -> bool {
    let carrier = Carrier::Drone(drone.clone());
    let Some(mission) = ctx
        .state
        .missions
        .values()
        .filter(|m| m.carrier == carrier && m.status == MissionStatus::Aborted)
        .filter(|m| m.boxes.contains(box_id))
        .map(|m| m.id.clone())
        .next_back()
    else {
        return false;
    };
    let Some(d) = ctx.state.drones.get(drone).cloned() else {
        return false;
    };
    let state: &State = ctx.state;
    let payload = state.boxes[box_id].payload_kg;
    let (Some(choice), _) = choose_lab(
        ctx.world,
        state,
        ctx.cache,
        d.position,
        &[&state.boxes[box_id]],
        payload,
        state.now,
        None,
    ) else {
        return false;
    };
    if choice.leg.estimate.energy_wh > crate::planner::spendable_wh(ctx.world, &d)
        || !choice.leg.estimate.feasible
    {
        return false;
    }
    let now = ctx.state.now;
    let m = ctx.state.missions.get_mut(&mission).expect("found above");
    m.boxes = vec![box_id.clone()];
    m.lab = choice.lab.clone();
    m.planned_arrival = now + choice.leg.duration();
    ctx.book_inbound_for(std::slice::from_ref(box_id), &choice.lab);
    load_on(ctx, box_id, &mission);
    if let Some(dm) = ctx.state.drones.get_mut(drone) {
        dm.status = DroneStatus::OnMission {
            mission: mission.clone(),
        };
    }
    ctx.drones_changed();
    let reason = format!(
        "{drone}, declared lost, reappeared with {box_id} on board: {mission} resumed to {}",
        choice.lab
    );
    ctx.alert(
        AlertKind::DroneLost,
        Severity::Warning,
        drone.as_str(),
        reason.clone(),
    );
    ctx.out.push(Command::Redirect {
        mission: mission.clone(),
        drone: drone.clone(),
        lab: choice.lab.clone(),
        leg: choice.leg.to_leg(drone.as_str(), choice.lab.as_str(), now),
        reason,
    });
    true
}

/// A box on a drone with no mission to carry it on: the drone lands at the nearest
/// pad and the box is stranded there for a van (`recover_stranded`).
fn strand_on(ctx: &mut Ctx<'_>, drone: &DroneId, box_id: &BoxId) {
    let world = ctx.world;
    let Some(d) = ctx.state.drones.get(drone) else {
        return;
    };
    let position = d.position;
    // Where it is already flying back to, or the nearest pad.
    let (pad, flying_back) = match &d.status {
        DroneStatus::Returning { pad } => (Some(pad.clone()), true),
        _ => (nearest_pad(world, position), false),
    };
    let at = pad
        .as_ref()
        .and_then(|p| world.pad_position(p))
        .unwrap_or(position);
    let now = ctx.state.now;
    if let Some(b) = ctx.state.boxes.get_mut(box_id) {
        b.status = BoxStatus::Stranded { at };
        b.set_down = pad.clone().map(|pad| SetDown { pad, since: now });
    }
    ask_lab_to_take_in(ctx, std::slice::from_ref(box_id));
    let msg = format!(
        "{box_id} loaded on {drone}, which has no mission to carry it: stranded where it lands, for a van"
    );
    ctx.alert(
        AlertKind::TubeAtRisk,
        Severity::Critical,
        box_id.as_str(),
        msg.clone(),
    );
    if let Some(pad) = pad
        && !flying_back
    {
        fly_empty(ctx, drone, pad, msg);
    }
}

/// Asks the lab whose pad a box was just set down on to take it in, when it can
/// (`policy::lab_to_take_in`): the box is there, a van would only drive it round.
fn ask_lab_to_take_in(ctx: &mut Ctx<'_>, boxes: &[BoxId]) {
    for box_id in boxes {
        let Some(b) = ctx.state.boxes.get(box_id) else {
            continue;
        };
        if !matches!(b.status, BoxStatus::Stranded { .. }) {
            continue;
        }
        if let Some(lab) = crate::policy::lab_to_take_in(ctx, b) {
            ctx.alert(
                AlertKind::TubeAtRisk,
                Severity::Warning,
                box_id.as_str(),
                format!("set down on {lab}'s pad by a drone in trouble: for {lab} to take in"),
            );
        }
    }
}

/// The pad nearest `position`, where a drone in trouble lands.
fn nearest_pad(world: &World, position: labflight_core::LatLon) -> Option<labflight_core::PadId> {
    world
        .index
        .nearest_pad_with_capacity(position, |_| true)
        .map(|(s, _)| labflight_core::PadId::from(s.id.as_str()))
}

/// After a flight or a battery swap. A drone based at a depot far from the lab it
/// delivered to flies home at once (charging there), so the far centres keep their
/// drones; any other drone swaps a battery below the top-up level where a charger
/// is at hand (far centres need a nearly full battery), or flies to a charger when
/// low, and otherwise waits where it is for the next plan, which may give it its
/// next mission right there (`send_idle_home` flies it home if not).
fn after_flight(ctx: &mut Ctx<'_>, drone: &DroneId) {
    let world = ctx.world;
    let Some(d) = ctx.state.drones.get(drone) else {
        return;
    };
    if d.status != DroneStatus::Idle {
        return;
    }
    let stay_m = world.params.stay_at_lab_km * 1000.0;
    if home_depot(world, d)
        .is_some_and(|home| world.frame.distance_m(home.position, d.position) > stay_m)
        && go_home(ctx, drone)
    {
        return;
    }
    let d = &ctx.state.drones[drone];
    if let Some(pad) = ctx.charger_under(drone)
        && d.battery_pct < world.params.top_up_pct
    {
        ctx.swap_battery(drone, pad);
        return;
    }
    if d.battery_pct < world.params.low_battery_pct
        && let Some(site) = world.nearest_charger(d.position)
    {
        let reason = format!("battery {:.0} %: to a charger", d.battery_pct);
        fly_empty(ctx, drone, site.id.clone(), reason);
    }
}

/// The depot a drone is based at, when it is not standing on it.
fn home_depot<'w>(world: &'w World, d: &crate::state::Drone) -> Option<&'w labflight_core::Pad> {
    let home = d.home.as_ref().filter(|h| Some(*h) != d.pad.as_ref())?;
    world
        .pads
        .get(home)
        .filter(|p| p.site == labflight_core::pad::PadSite::Depot)
}

/// Idle depot-based drones away from home that the plan did not use fly home, so
/// the fleet stays spread over the district instead of piling up at the labs.
fn send_idle_home(ctx: &mut Ctx<'_>) {
    let reserve = ctx.world.drone_spec.reserve_fraction;
    let away: Vec<DroneId> = ctx
        .state
        .drones
        .values()
        .filter(|d| d.available(reserve) && home_depot(ctx.world, d).is_some())
        .map(|d| d.id.clone())
        .collect();
    for drone in away {
        go_home(ctx, &drone);
    }
}

/// Sends a drone to its home depot if it has the battery for the flight; whether it did.
fn go_home(ctx: &mut Ctx<'_>, drone: &DroneId) -> bool {
    let world = ctx.world;
    let Some(d) = ctx.state.drones.get(drone) else {
        return false;
    };
    let Some(home) = home_depot(world, d) else {
        return false;
    };
    let metres = world.frame.distance_m(d.position, home.position);
    let secs = metres / world.drone_spec.cruise_airspeed_mps + world.drone_spec.takeoff_landing_s;
    let needed_wh = world.flight.hover_power_w(0.0) * secs / 3600.0;
    if needed_wh > crate::planner::spendable_wh(world, d) {
        return false;
    }
    let pad = home.id.clone();
    fly_empty(ctx, drone, pad, "back to its home depot".to_owned());
    true
}

/// Sends a drone flying, without a mission, to `pad`.
pub(crate) fn fly_empty(
    ctx: &mut Ctx<'_>,
    drone: &DroneId,
    pad: labflight_core::PadId,
    reason: String,
) {
    let now = ctx.state.now;
    let Some(d) = ctx.state.drones.get_mut(drone) else {
        return;
    };
    d.status = DroneStatus::Returning { pad: pad.clone() };
    d.last_seen = d.last_seen.max(now);
    ctx.out.push(Command::ReturnToPad {
        drone: drone.clone(),
        pad,
        reason,
    });
    ctx.drones_changed();
}

/// Aborts a mission: a drone that has not loaded yet returns to a pad and its
/// boxes wait again; one carrying boxes lands at the nearest pad and a courier
/// recovers them.
pub(crate) fn abort_mission(ctx: &mut Ctx<'_>, mission: &MissionId, reason: &str) {
    let Some(m) = ctx.state.missions.get_mut(mission) else {
        return;
    };
    if matches!(m.status, MissionStatus::Delivered | MissionStatus::Aborted) {
        return;
    }
    let picked_up = m.status == MissionStatus::PickedUp;
    m.status = MissionStatus::Aborted;
    let (boxes, lab, carrier) = (m.boxes.clone(), m.lab.clone(), m.carrier.clone());
    ctx.unbook_inbound(&boxes, &lab);
    let Carrier::Drone(drone) = carrier else {
        return;
    };
    let position = ctx
        .state
        .drones
        .get(&drone)
        .map(|d| d.position)
        .unwrap_or(ctx.world.frame.origin);
    let world = ctx.world;
    let Some(pad) = nearest_pad(world, position) else {
        return;
    };
    let recovery = if picked_up {
        Recovery::LandAtNearestPad { pad: pad.clone() }
    } else {
        Recovery::ReturnToPad { pad: pad.clone() }
    };
    let pad_pos = world.pad_position(&pad).unwrap_or(position);
    for b in &boxes {
        let Some(sb) = ctx.state.boxes.get_mut(b) else {
            continue;
        };
        // On a round, boxes at centres not yet called at were never loaded; a box
        // a drone was to fetch from a pad away from its centre still lies there.
        if matches!(sb.status, BoxStatus::OnBoard { .. }) {
            sb.status = BoxStatus::Stranded { at: pad_pos };
            sb.set_down = Some(SetDown {
                pad: pad.clone(),
                since: ctx.state.now,
            });
        } else if let Some(lying) = sb.set_down.as_ref() {
            let at = world.pad_position(&lying.pad).unwrap_or(pad_pos);
            sb.status = BoxStatus::Stranded { at };
        } else {
            sb.status = BoxStatus::Waiting;
        }
    }
    ask_lab_to_take_in(ctx, &boxes);
    if let Some(d) = ctx.state.drones.get_mut(&drone)
        && d.mission() == Some(mission)
    {
        d.status = DroneStatus::Returning { pad: pad.clone() };
        d.last_seen = d.last_seen.max(ctx.state.now);
    }
    ctx.out.push(Command::AbortMission {
        mission: mission.clone(),
        drone,
        recovery,
        reason: reason.to_owned(),
    });
}

/// Grounds the fleet: missions not yet loaded are aborted (boxes wait for a van
/// or the release); drones carrying boxes land at the nearest pad.
fn ground_fleet(ctx: &mut Ctx<'_>, why: &str) {
    ctx.alert(
        AlertKind::FleetGrounded,
        Severity::Critical,
        "fleet",
        format!("fleet grounded: {why}"),
    );
    let active: Vec<MissionId> = ctx
        .state
        .missions
        .values()
        .filter(|m| matches!(m.carrier, Carrier::Drone(_)))
        .filter(|m| matches!(m.status, MissionStatus::Assigned | MissionStatus::PickedUp))
        .map(|m| m.id.clone())
        .collect();
    for m in active {
        let loaded = ctx
            .state
            .missions
            .get(&m)
            .is_some_and(|x| x.status == MissionStatus::PickedUp);
        if !loaded {
            abort_mission(ctx, &m, why);
        }
    }
}

fn lab_update(ctx: &mut Ctx<'_>, lab: &LabId, update: &LabUpdate) -> bool {
    let Some(info) = ctx.world.labs.get(lab) else {
        return false;
    };
    let ls = ctx.lab_mut(lab);
    match update {
        LabUpdate::Queue { tubes } => {
            ls.reported_queue = Some(*tubes);
            let per_hour: f64 = info.analyzers.iter().map(|a| a.tubes_per_hour).sum();
            let overloaded = f64::from(*tubes) > per_hour;
            if overloaded && !ls.overload_alerted {
                ls.overload_alerted = true;
                let msg =
                    format!("{tubes} tubes queued, above one hour of capacity ({per_hour:.0}/h)");
                ctx.alert(
                    AlertKind::LabOverloaded,
                    Severity::Warning,
                    lab.as_str(),
                    msg,
                );
            } else if !overloaded {
                ls.overload_alerted = false;
            }
            false
        }
        LabUpdate::AnalyzerDown { analyzer } => {
            ls.analyzers_down.insert(analyzer.clone());
            reroute_from(ctx, lab, &format!("analyzer {analyzer} down at {lab}"));
            true
        }
        LabUpdate::AnalyzerUp { analyzer } => {
            ls.analyzers_down.remove(analyzer);
            true
        }
        LabUpdate::Closed => {
            ls.closed = true;
            reroute_from(ctx, lab, &format!("{lab} closed"));
            true
        }
        LabUpdate::Opened => {
            ls.closed = false;
            true
        }
    }
}

/// Missions bound for `lab` that it can no longer serve: flying ones are
/// redirected to the best other lab; ones not yet loaded are re-planned.
fn reroute_from(ctx: &mut Ctx<'_>, lab: &LabId, reason: &str) {
    ctx.alert(
        AlertKind::LabUnavailable,
        Severity::Warning,
        lab.as_str(),
        reason.to_owned(),
    );
    let affected: Vec<MissionId> = ctx
        .state
        .missions
        .values()
        .filter(|m| {
            m.lab == *lab && matches!(m.status, MissionStatus::Assigned | MissionStatus::PickedUp)
        })
        .map(|m| m.id.clone())
        .collect();
    for id in affected {
        let m = ctx.state.missions[&id].clone();
        let arrive = m.planned_arrival;
        let boxes: Vec<&SpecimenBox> = m
            .boxes
            .iter()
            .filter_map(|b| ctx.state.boxes.get(b))
            .collect();
        let families = crate::planner::families_of(boxes.iter().copied());
        let still_fine = ctx
            .world
            .labs
            .get(lab)
            .is_some_and(|l| ctx.predicted_result(l, &families, arrive).is_ok());
        if still_fine {
            continue;
        }
        match (&m.carrier, m.status.clone()) {
            (Carrier::Drone(drone), MissionStatus::PickedUp) => {
                // Straight to another lab: centres not yet called at wait for another drone.
                release_unloaded(ctx, &id);
                let m = ctx.state.missions[&id].clone();
                let boxes: Vec<&SpecimenBox> = m
                    .boxes
                    .iter()
                    .filter_map(|b| ctx.state.boxes.get(b))
                    .collect();
                let Some(pos) = ctx.state.drones.get(drone).map(|d| d.position) else {
                    continue;
                };
                let payload: f64 = boxes.iter().map(|b| b.payload_kg).sum();
                let now = ctx.state.now;
                let boxes: Vec<SpecimenBox> = boxes.into_iter().cloned().collect();
                let refs: Vec<&SpecimenBox> = boxes.iter().collect();
                let (choice, _) = choose_lab(
                    ctx.world, ctx.state, ctx.cache, pos, &refs, payload, now, None,
                );
                let Some(choice) = choice.filter(|c| c.lab != *lab) else {
                    continue;
                };
                let Some(leg) = plan_leg(
                    ctx.world,
                    ctx.state,
                    ctx.cache,
                    pos,
                    ctx.world.labs[&choice.lab].position,
                    payload,
                ) else {
                    continue;
                };
                ctx.unbook_inbound(&m.boxes, lab);
                let m_mut = ctx.state.missions.get_mut(&id).expect("listed above");
                m_mut.lab = choice.lab.clone();
                m_mut.planned_arrival = now + leg.duration();
                let leg = leg.to_leg(drone.as_str(), choice.lab.as_str(), now);
                let boxes_ids = m.boxes.clone();
                ctx.out.push(Command::Redirect {
                    mission: id.clone(),
                    drone: drone.clone(),
                    lab: choice.lab.clone(),
                    leg,
                    reason: reason.to_owned(),
                });
                // Book the new lab's inbound load.
                let families: Vec<_> = boxes_ids
                    .iter()
                    .filter_map(|b| ctx.state.boxes.get(b))
                    .flat_map(|b| b.tubes.iter().flat_map(|t| t.families.iter().copied()))
                    .collect();
                let ls = ctx.lab_mut(&choice.lab);
                for f in families {
                    *ls.inbound.entry(f).or_insert(0) += 1;
                }
            }
            (Carrier::Drone(_), MissionStatus::Assigned) => abort_mission(ctx, &id, reason),
            // A van already on its way keeps its run; the lab holds the tubes for the next analyzer.
            _ => {}
        }
    }
}

/// Asks every centre to seal its open box at the last draw time: the dispatcher
/// only sees sealed boxes, and a box left open until staff seal it by age would
/// reach the lab too late for the last draws' results.
fn last_call(ctx: &mut Ctx<'_>) {
    ctx.state.last_call_made = true;
    let time = ctx.world.service.last_draw.format("%H:%M UTC");
    for station in ctx.world.stations.keys() {
        ctx.out.push(Command::NotifyStation {
            station: station.clone(),
            notice: StationNotice::SealNow {
                reason: format!("last draw time {time}: seal what has been drawn"),
            },
        });
    }
}

/// Takes the boxes a round has not loaded yet off the mission: they wait again.
fn release_unloaded(ctx: &mut Ctx<'_>, mission: &MissionId) {
    let Some(m) = ctx.state.missions.get(mission) else {
        return;
    };
    let unloaded: Vec<BoxId> = m
        .boxes
        .iter()
        .filter(|b| {
            ctx.state
                .boxes
                .get(*b)
                .is_some_and(|b| matches!(b.status, BoxStatus::Assigned { .. }))
        })
        .cloned()
        .collect();
    if unloaded.is_empty() {
        return;
    }
    let lab = m.lab.clone();
    ctx.unbook_inbound(&unloaded, &lab);
    for b in &unloaded {
        if let Some(sb) = ctx.state.boxes.get_mut(b) {
            sb.status = BoxStatus::Waiting;
        }
    }
    let m = ctx
        .state
        .missions
        .get_mut(mission)
        .expect("looked up above");
    m.boxes.retain(|b| !unloaded.contains(b));
    if let Some(plan) = m.plan.as_mut() {
        plan.boxes.retain(|b| !unloaded.contains(b));
        for stop in plan.later_stops.iter_mut() {
            stop.boxes.retain(|b| !unloaded.contains(b));
        }
    }
}

fn apply_override(ctx: &mut Ctx<'_>, by: &str, action: &Override) -> bool {
    match action {
        Override::GroundFleet => {
            if !ctx.state.grounded_by_coordinator {
                ctx.state.grounded_by_coordinator = true;
                ground_fleet(ctx, &format!("grounded by {by}"));
            }
        }
        Override::ReleaseFleet => {
            ctx.state.grounded_by_coordinator = false;
            ctx.alert(
                AlertKind::FleetGrounded,
                Severity::Info,
                "fleet",
                format!("fleet released by {by}"),
            );
        }
        Override::PauseDrone { drone } => {
            let Some(d) = ctx.state.drones.get_mut(drone) else {
                return false;
            };
            d.paused = true;
            let mission = d.mission().cloned();
            if let Some(m) = mission
                && ctx
                    .state
                    .missions
                    .get(&m)
                    .is_some_and(|m| m.status == MissionStatus::Assigned)
            {
                abort_mission(ctx, &m, &format!("drone paused by {by}"));
            }
        }
        Override::ResumeDrone { drone } => {
            if let Some(d) = ctx.state.drones.get_mut(drone) {
                d.paused = false;
            }
        }
        Override::LabUnavailable { lab } => {
            ctx.lab_mut(lab).unavailable = true;
            reroute_from(ctx, lab, &format!("{lab} marked unavailable by {by}"));
        }
        Override::LabAvailable { lab } => {
            ctx.lab_mut(lab).unavailable = false;
        }
        Override::ForcePickup { station } => {
            if ctx.world.stations.contains_key(station) {
                ctx.state.forced_pickups.insert(station.clone());
            }
        }
        Override::ReassignMission { mission, drone } => {
            let Some(m) = ctx.state.missions.get(mission) else {
                return false;
            };
            if m.status != MissionStatus::Assigned || !matches!(m.carrier, Carrier::Drone(_)) {
                return false;
            }
            let station = m.station.clone();
            abort_mission(ctx, mission, &format!("reassigned to {drone} by {by}"));
            ctx.drones_changed();
            // The boxes are waiting again; plan them with only the chosen drone.
            crate::policy::assign_station_to(ctx, &station, drone, &format!("reassigned by {by}"));
        }
    }
    true
}

/// Periodic checks: drones silent past the link timeout are reported lost; at the
/// last draw time every centre is asked to seal what it has drawn.
fn tick(ctx: &mut Ctx<'_>) {
    let now = ctx.state.now;
    if now >= ctx.world.service.last_draw && !ctx.state.last_call_made {
        last_call(ctx);
    }
    if ctx.ride_along {
        seal_for_vans(ctx);
    }
    let timeout = labflight_core::scenario::minutes(ctx.world.params.link_timeout_minutes);
    let mut lost = Vec::new();
    for d in ctx.state.drones.values_mut() {
        let flying = matches!(
            d.status,
            DroneStatus::OnMission { .. } | DroneStatus::Returning { .. }
        );
        if flying && !d.link_lost && now - d.last_seen > timeout {
            d.link_lost = true;
            lost.push((d.id.clone(), d.mission().cloned(), d.position));
        }
    }
    for (drone, mission, pos) in lost {
        let msg = format!(
            "no telemetry for over {} min; last seen at {:.5}, {:.5}",
            ctx.world.params.link_timeout_minutes, pos.lat, pos.lon
        );
        ctx.alert(
            AlertKind::DroneLost,
            Severity::Critical,
            drone.as_str(),
            msg,
        );
        if let Some(m) = mission
            && ctx
                .state
                .missions
                .get(&m)
                .is_some_and(|m| m.status == MissionStatus::Assigned)
        {
            abort_mission(ctx, &m, "drone lost before pickup");
        }
    }
}
