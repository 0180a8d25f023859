//! The running system: `serve` (the service), `devices` (the simulated fleet and
//! boxes as MQTT clients) and `demo` (both, with an embedded broker and SQLite).

pub mod clock;
pub mod delivery;
pub mod devices;
pub mod directory;
pub mod puback;
pub mod service;
pub mod sink;
