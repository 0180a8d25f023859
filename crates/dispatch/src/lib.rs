//! The labflight dispatcher: a sans-IO state machine, like `quinn-proto`. Feed it
//! timestamped events (`Dispatcher::handle`), get commands back. The live
//! service, the simulator and replays all drive this same core; only the clock
//! and the edges differ.
//!
//! Layout, from the bottom up (modules depend one way; `scripts/use-loops.py`
//! checks it): `world` is what a day does not change and `state` what it does;
//! `planner` is the arithmetic (routes, legs, energy, lab predictions,
//! deadlines); `ctx` is one planning pass's view with the shared bookkeeping
//! (assigning a drone, booking a van, a lab's state changed only through
//! `Ctx::lab_mut`); `policy` holds the strategies (`drone`, `vans`, `courier`, `greedy`)
//! over a shared base; `dispatcher` applies each event group in its own module
//! (`dispatcher/`) and lets the policy plan. `custody` derives the chain of
//! custody an event means, for the live service and the simulator's ledger;
//! `lab_claims` says which lab may claim which tube, for the live service's edges,
//! and `divert` whether a coordinator may divert one lab's boxes to another;
//! `forecast` reads the plan's forecast for every tube (what the policies wrote
//! on each box), for the dashboard's at-risk list; `storm` reads the weather
//! forecast (a storm ahead, a flight it would catch, when flying resumes).

#![deny(missing_docs)]

mod ctx;
mod custody;
mod dispatcher;
mod divert;
mod forecast;
mod from_map;
mod lab_claims;
mod partition;
/// Lab predictions, flight legs and deadlines (public: a test of the policies
/// checks a prediction against `planner::predicted_result`).
pub mod planner;
mod policy;
/// What the dispatcher believes now (public: the live service and the dashboard
/// read it by this path).
pub mod state;
/// Whether a storm is forecast, and what it means for a flight (public: the
/// simulator's ledger explains a miss by the window the dispatcher planned around).
pub mod storm;
/// What a day does not change (public: the dashboard names `world::World`).
pub mod world;

pub use custody::custody_steps;
pub use dispatcher::loans::{shortfall, spare_drones};
pub use dispatcher::{Dispatcher, DispatcherSnapshot};
pub use divert::{DivertRefused, check_divert};
pub use forecast::{TubeOutlook, tube_outlooks};
pub use lab_claims::{ClaimRefused, LabClaim, check_lab_claim, tube_whereabouts};
pub use partition::{lab_partition, partition_seed, partitions_of};
pub use policy::{PolicyKind, courier_vans_needed};
pub use state::State;
pub use world::{CourierStart, DroneStart, REFERRAL_LABS, World, WorldParts};
