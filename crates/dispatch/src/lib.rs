//! The labflight dispatcher: a sans-IO state machine, like `quinn-proto`. Feed it
//! timestamped events (`Dispatcher::handle`), get commands back. The live
//! service, the simulator and replays all drive this same core; only the clock
//! and the edges differ.

mod ctx;
pub mod custody;
mod dispatcher;
mod from_map;
mod lab_claims;
pub mod planner;
pub mod policy;
pub mod state;
pub mod world;

pub use custody::custody_steps;
pub use dispatcher::{Dispatcher, DispatcherSnapshot};
pub use lab_claims::{ClaimRefused, LabClaim, check_lab_claim, tube_whereabouts};
pub use policy::PolicyKind;
pub use world::{CourierStart, DroneStart, World, WorldParts};
