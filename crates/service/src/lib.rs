//! The live service that `labflight serve`, `devices` and `demo` run: MQTT in, the
//! dispatcher core, the store, commands out, result sharing, and the HTTP edge.
//!
//! Layout: `start` brings the service up in phases: it loads the scenario and the
//! stored run, has `recovery` rebuild the dispatcher from its snapshot and
//! journal, connects the broker and spawns the MQTT tasks (`mqtt_io`, which follow
//! each command to its PUBACK with `puback`), starts result sharing (`delivery`),
//! the core actor (`actor`) and the HTTP edge. The core actor owns the dispatcher:
//! it checks each message against what the service knows (`directory`), journals
//! and handles it, and commits each batch before anything leaves (`messages` is
//! what flows in and out of it); its submodules take lab claims, lab results,
//! overrides and the results owed to the centres; `rows` makes the stored rows
//! people query. `ownership` claims and keeps the partition's lease (a standby
//! waits for it, showing its warm state on the dashboard through
//! `standby_view`) and steps down when fenced. `clock` is the service time, which
//! devices follow too. Beside
//! the service: `devices`, the simulated fleet, boxes and labs as MQTT clients, and
//! `sink`, a reference receiver for result hooks.

#![deny(missing_docs)]

mod actor;
mod clock;
mod delivery;
mod devices;
mod directory;
mod error;
mod messages;
mod mqtt_io;
mod options;
mod ownership;
mod partitions;
mod puback;
mod recovery;
mod rows;
mod sink;
mod standby_view;
mod start;

pub use delivery::is_mllp;
pub use devices::{DevicesOptions, DevicesReport, ResultsApi, run as run_devices};
pub use error::BadInput;
pub use options::{ClockStart, HookSettings, Ownership, Running, ServiceOptions, default_member};
pub use ownership::FENCED_EXIT;
pub use partitions::{Chosen, choose_partitions};
pub use sink::serve as serve_station_sink;
pub use start::start;
