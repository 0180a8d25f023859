//! The spatial layer of labflight: loading the map (district, subdistricts,
//! centres, labs, pads, no-fly zones), finding what is near (an `rstar` R-tree),
//! planning flight paths around no-fly zones, and the wind- and payload-aware
//! flight time and energy model. Pure computation: no clock, no network.

pub mod airspace;
pub mod check;
pub mod datum;
pub mod flight;
pub mod frame;
pub mod import;
pub mod index;
pub mod map;
pub mod mapgen;

pub use airspace::{Airspace, NoFlyZone, Route};
pub use flight::{FlightModel, LegEstimate};
pub use frame::LocalFrame;
pub use index::SpatialIndex;
pub use map::MapData;
