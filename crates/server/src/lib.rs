//! labflight's HTTP edge (axum): health, Prometheus metrics, and the read API over
//! the live state and the store. Handlers extract, call one function, and map
//! errors once; the service hands this crate a snapshot and the metrics it counts.

pub mod control;
mod lab;
pub mod metrics;
mod routes;

pub use control::{Accepted, Control, Refusal, TubeAtLab};
pub use metrics::Metrics;
pub use routes::{AppState, Snapshot, router};
