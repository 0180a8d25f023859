//! The scenario file: one TOML document describing a day (map, fleet, demand, tube
//! and test tables, weather, outages, faults). Every figure the simulator and the
//! dispatcher use comes from here. `load` parses and validates; every error names
//! the file, the field and the value.
//!
//! Layout: `format` is what the file holds (`Scenario` and its sections); `load`
//! reads a file, applying `overrides` (`--set`) before `validate` checks it;
//! `time` maps the day's local times to instants and minutes to durations.
//! Everything public is re-exported here.

#[cfg(test)]
mod fixtures;

mod format;
mod load;
mod overrides;
mod time;
mod validate;

pub use format::{
    Ambient, Basing, CourierSpec, Demand, DispatchParams, Faults, Fleet, ForecastSpec, Outage,
    PartitionBy, Scenario, ServiceLevel, TestSpec, TubeTypeSpec, WeatherPeriod,
};
pub use time::minutes;
