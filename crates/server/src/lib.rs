//! labflight's HTTP edge (axum): health, Prometheus metrics, the read API over
//! the live state and the store, the labs' API and the coordinators' dashboard. Handlers extract, call one function, and map
//! errors once; the service hands this crate a snapshot and the metrics it counts.

mod assets;
pub mod auth;
pub mod control;
pub mod dashboard;
pub mod health;
mod lab;
pub mod limits;
pub mod metrics;
mod openapi;
pub mod replay;
mod routes;
pub mod tasks;
pub mod view;

pub use control::{Accepted, Control, Refusal, TubeAtLab};
pub use dashboard::DashboardContext;
pub use metrics::Metrics;
pub use routes::{ApiError, AppState, Snapshot, router};
pub use tasks::Supervisor;
