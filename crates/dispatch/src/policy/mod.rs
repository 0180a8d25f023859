//! Dispatch policies: strategies behind one trait, as openTCS splits its kernel.
//! `drone` is the real one; `vans` (the same deadline-aware planning with vans
//! only) answers how many vans would do the drones' work; `courier` (vans on
//! fixed rounds) is the old way, how it used to be; `greedy` (nearest free drone, first come first served) shows
//! what planning buys. All share the dispatcher's event handling and bookkeeping.

pub(crate) mod base;
mod box_limits;
mod courier;
mod drone;
mod greedy;
mod stranded;
mod van_round;
mod vans;
mod weighing;

use crate::world::World;
use std::str::FromStr;

pub use base::Policy;

/// How many vans the `courier` baseline's fixed rounds take for every route to
/// run every round: one per route (`docs/dispatch.md`, the baselines).
pub fn courier_vans_needed(world: &World) -> usize {
    courier::vans_needed(world)
}

/// Which policy a dispatcher plans with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyKind {
    /// The real one: deadlines, batching, rounds, vans when drones cannot (docs/dispatch.md).
    Drone,
    /// The baseline of before: vans on fixed rounds.
    Courier,
    /// The honest baseline: deadline-aware planning with vans only.
    Vans,
    /// The baseline without planning: nearest free drone, first come first served.
    Greedy,
}

impl PolicyKind {
    /// Every policy, the real one first.
    pub const ALL: [PolicyKind; 4] = [
        PolicyKind::Drone,
        PolicyKind::Courier,
        PolicyKind::Greedy,
        PolicyKind::Vans,
    ];

    /// The policy's name on the command line and in outputs.
    pub fn name(self) -> &'static str {
        match self {
            PolicyKind::Drone => "drone",
            PolicyKind::Courier => "courier",
            PolicyKind::Greedy => "greedy",
            PolicyKind::Vans => "vans",
        }
    }

    pub(crate) fn build(self, world: &World, _seed: u64) -> Box<dyn Policy> {
        match self {
            PolicyKind::Drone => Box::<drone::DronePolicy>::default(),
            PolicyKind::Courier => Box::new(courier::CourierRounds::new(world)),
            PolicyKind::Greedy => Box::new(greedy::Greedy),
            PolicyKind::Vans => Box::new(vans::VanPlanner),
        }
    }
}

impl FromStr for PolicyKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PolicyKind::ALL
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                format!("unknown policy `{s}` (expected drone, vans, courier or greedy)")
            })
    }
}
