//! The sans-IO dispatcher: `handle(event at time) -> commands`. It applies each
//! event to its state (custody, drones, labs, weather), reacts to trouble that
//! every policy handles the same way (faults, lost links, grounding, lab outages),
//! then lets the policy plan. No clock, no IO, no randomness: the same events in
//! the same order give the same commands, byte for byte.
//!
//! `apply` hands each event group to its module: `telemetry` (drone and box
//! telemetry, weather), `drones` (what drones report, custody of loaded boxes),
//! `boxes` (a box sealed), `lab` (what labs report), `vans` (what vans report,
//! their calls), `overrides` (a coordinator's), `loans` (drones lent between
//! medical groups) and `ticks`. They share `recovery`
//! (aborts, grounding, rerouting) and `homing` (where a drone goes after a
//! flight), which depend on none of them. docs/dispatch.md lists every rule and
//! the function that applies it.

mod boxes;
mod drones;
mod homing;
mod lab;
pub(crate) mod loans;
mod overrides;
mod recovery;
mod telemetry;
mod ticks;
mod vans;

use crate::ctx::Ctx;
use crate::planner::RouteCache;
use crate::policy::{Policy, PolicyKind};
use crate::state::{Courier, Drone, DroneStatus, LabState, State, Weather};
use crate::world::World;
use labflight_core::{Command, Event, Instant, Stamped};
use std::sync::Arc;

/// A dispatcher at one instant, for a fast restart.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct DispatcherSnapshot {
    /// The policy that took it (`PolicyKind::name`).
    pub policy: String,
    /// The seed of the day.
    pub seed: u64,
    /// Everything the dispatcher believed at that instant.
    pub state: State,
    /// What the policy remembers between events (`Policy::save`).
    pub policy_memory: serde_json::Value,
}

/// The dispatcher of one day (one partition): its world, state, policy and route cache. `handle` is the only way in.
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
            forecast: None,
            grounded_by_coordinator: false,
            grounded_by_weather: false,
            forced_pickups: Default::default(),
            next_mission: 0,
            last_call_made: false,
            box_limits: Default::default(),
            box_limits_wind: None,
            referred: Default::default(),
            mission_prefix: world.home().map(|g| format!("{g}-")).unwrap_or_default(),
            open_boxes: Default::default(),
            held_claims: Default::default(),
            released_claims: Default::default(),
            storm_seal_asked: Default::default(),
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
        let mut state = snapshot.state;
        state.reindex();
        Ok(Dispatcher {
            world,
            state,
            policy: built,
            cache: RouteCache::default(),
            seed: snapshot.seed,
        })
    }

    /// What the dispatcher believes now.
    pub fn state(&self) -> &State {
        &self.state
    }

    /// The fixed world it dispatches in.
    pub fn world(&self) -> &World {
        &self.world
    }

    /// Its policy's name.
    pub fn policy_name(&self) -> &'static str {
        self.policy.name()
    }

    /// The seed it was started with.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// The lab claims the last event released (held since they were refused, the
    /// tube's box now at that lab): the edge applies each as an event of its own,
    /// so the journal, the custody ledger and a replay all see it.
    pub fn take_released_claims(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.state.released_claims)
    }

    /// Applies one event and returns the commands it leads to.
    pub fn handle(&mut self, stamped: &Stamped) -> Vec<Command> {
        let mut out = Vec::new();
        // Time never runs backwards inside the core, whatever the edges deliver.
        self.state.now = self.state.now.max(stamped.at);
        self.state.released_claims.clear();
        let world = Arc::clone(&self.world);
        let mut ctx = Ctx::new(&world, &mut self.state, &mut self.cache, &mut out);
        ctx.ride_along = self.policy.rides_along();
        let replan = apply(&mut ctx, &stamped.event);
        if replan {
            self.policy.plan(&mut ctx);
            homing::send_idle_home(&mut ctx);
        }
        out
    }
}

/// Applies an event to the state, handing it to the module for its group; returns
/// whether the policy should plan again.
fn apply(ctx: &mut Ctx<'_>, event: &Event) -> bool {
    match event {
        Event::DroneTelemetry {
            drone,
            position,
            battery_pct,
            ..
        } => telemetry::drone_telemetry(ctx, drone, *position, *battery_pct),
        Event::BoxTelemetry { box_id, temp_c, .. } => {
            telemetry::box_telemetry(ctx, box_id, *temp_c)
        }
        Event::Weather {
            wind_east_mps,
            wind_north_mps,
            rain_mm_h,
        } => telemetry::weather(
            ctx,
            Weather {
                wind_east_mps: *wind_east_mps,
                wind_north_mps: *wind_north_mps,
                rain_mm_h: *rain_mm_h,
            },
        ),
        Event::WeatherForecast { forecast } => telemetry::forecast(ctx, forecast),
        Event::Drone { drone, kind } => drones::apply_drone_event(ctx, drone, kind),
        Event::BoxSealed {
            box_id,
            station,
            tubes,
        } => boxes::box_sealed(ctx, box_id, station, tubes),
        Event::BoxReceived { box_id, lab } => {
            lab::box_delivered(ctx, box_id, lab);
            false
        }
        Event::Lab { lab, update } => lab::lab_update(ctx, lab, update),
        Event::TubeResulted { barcode, lab } => lab::tube_resulted(ctx, barcode, lab),
        // Spinning changes nothing the dispatcher plans with; it is custody.
        Event::TubeCentrifuged { .. } => false,
        Event::TubeRejected {
            barcode,
            lab,
            reason,
        } => lab::tube_rejected(ctx, barcode, lab, reason),
        Event::ResultReported { barcode } => lab::result_reported(ctx, barcode),
        Event::CustodyDisputed {
            lab,
            barcode,
            claim,
            held,
        } => lab::custody_disputed(ctx, lab, barcode, claim, held.as_deref()),
        Event::Referral { lab, tubes, .. } => lab::referral(ctx, lab, tubes),
        Event::DroneLent { drone, to } => loans::drone_lent(ctx, drone, to),
        Event::DroneBorrowed {
            drone,
            position,
            battery_pct,
            ..
        } => {
            let now = ctx.state.now;
            loans::drone_borrowed(ctx, drone, *position, *battery_pct, now)
        }
        Event::Courier { courier, kind } => vans::courier_event(ctx, courier, kind),
        Event::Override { by, action } => overrides::apply_override(ctx, by, action),
        Event::ServiceResumed => ticks::service_resumed(ctx),
        Event::Tick => {
            ticks::tick(ctx);
            true
        }
    }
}
