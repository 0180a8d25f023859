//! labflight's HTTP edge (axum): health, Prometheus metrics, the read API over
//! the live state and the store, the labs' API and the coordinators' dashboard. Handlers extract, call one function, and map
//! errors once; the service hands this crate a snapshot and the metrics it counts.

mod assets;
pub mod auth;
pub mod control;
pub mod dashboard;
mod error;
mod guard;
pub mod health;
mod lab;
pub mod limits;
pub mod metrics;
mod openapi;
mod reads;
pub mod replay;
mod replay_catalog;
mod routes;
mod secret;
mod state;
pub mod tasks;
pub mod view;

pub use control::{Accepted, Control, Refusal, TubeAtLab};
pub use error::ApiError;
pub use metrics::Metrics;
pub use routes::router;
pub use state::{AppState, DashboardContext, FeedFrame, HookUrlCheck, Snapshot};
pub use tasks::Supervisor;
