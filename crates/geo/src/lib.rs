//! The spatial layer of labflight: loading the map (district, subdistricts,
//! centres, labs, pads, no-fly zones), finding what is near (an `rstar` R-tree),
//! planning flight paths around no-fly zones, and the wind- and payload-aware
//! flight time and energy model. Pure computation: no clock, no network.
//!
//! Layout: `map` reads and writes a map folder (`MapData`); `frame` is the local
//! east-north plane all geometry is worked in; `index` the R-trees of sites;
//! `airspace` the no-fly zones and the routes around them; `flight` the time and
//! energy of a leg. The map tools sit on top: `check` (what `maps check` reports),
//! `import` (real sites from CSV or GeoJSON, with `datum` for GCJ-02), `mapgen`
//! (the illustrative Longhua and city maps). Modules are private; what other
//! crates use is re-exported below.

#![deny(missing_docs)]

mod airspace;
mod check;
mod datum;
mod flight;
/// The local east-north plane (public for `haversine_m`, which tests use by this path).
pub mod frame;
mod import;
mod index;
mod map;
mod mapgen;

pub use airspace::{Airspace, AirspaceError, NoFlyZone, Route};
pub use check::{CheckReport, check};
pub use datum::{gcj02_to_wgs84, wgs84_to_gcj02};
pub use flight::{FlightModel, LegEstimate, wind_from};
pub use frame::{EARTH_RADIUS_M, LocalFrame, haversine_m};
pub use import::{COLUMNS, RowError, import};
pub use index::{Site, SiteKind, SpatialIndex};
pub use map::{District, MapData, MedicalGroup, Subdistrict};
pub use mapgen::{
    LONGHUA_SEED, SHENZHEN_SEED, generate_city, generate_city_with_labs, generate_longhua,
    generate_shenzhen, labs_in_proportion,
};
