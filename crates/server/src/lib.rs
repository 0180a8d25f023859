//! labflight's HTTP edge (axum): health, Prometheus metrics, the read API over
//! the live state and the store, the labs' API and the coordinators' dashboard.
//! Handlers extract, call one function, and map errors once; the service hands
//! this crate a snapshot and the metrics it counts.
//!
//! Layout, from the top down (a module uses only modules below it):
//!
//! - [`router`] (`routes.rs`) merges every handler module's routes and adds the
//!   security headers and, while the process is a standby, the refusal of
//!   writes (`standby.rs`); `openapi.rs` describes every handler. Nothing in the crate
//!   uses either.
//! - The handlers, one module per route group: `health.rs` (`/healthz`,
//!   `/metrics`), `reads.rs` (status, drones, missions, boxes, a tube's custody),
//!   `lab/` (labs' results and tubes, hook subscriptions and deliveries, in
//!   FHIR), [`dashboard`] (live view, feed, controls, alerts, audit log),
//!   [`replay`], `day_views.rs` (a day's service level per centre, its curves
//!   and the daily report's CSV), `assets.rs` (the embedded web app), and
//!   [`auth`] (sign-in, sessions, roles, the audit log's writer, and the caller
//!   checks the other handlers use).
//! - What the handlers share: [`AppState`] and the types it holds (`state.rs`),
//!   [`ApiError`] (`error.rs`) and the labs' OperationOutcome (`outcome.rs`),
//!   the two wire shapes of a refusal, each with its body and field checks,
//!   the sign-in guard (`guard.rs`), secrets (`secret.rs`), the replay
//!   catalogue (`replay_catalog.rs`), and the document-only JSON shapes of other
//!   crates' records (`shapes.rs`).
//! - Leaves: [`day_report`] (a day's numbers from a state), [`day_series`] (its
//!   curves, sampled a minute at a time), [`control`] (requests to the service core), `lab_backlog.rs` (a
//!   lab's lines: queue, throughput, time to clear, trend), `lab_scope.rs` (what a
//!   lab user may see), [`view`] (the
//!   dashboard's view of a state), [`metrics`], [`tasks`], `limits.rs`.

#![deny(missing_docs)]

mod assets;
pub mod auth;
pub mod control;
pub mod dashboard;
pub mod day_report;
pub mod day_series;
mod day_views;
mod error;
mod guard;
pub mod health;
mod lab;
mod lab_backlog;
mod lab_scope;
mod limits;
pub mod metrics;
mod openapi;
mod outcome;
mod reads;
pub mod replay;
mod replay_catalog;
mod routes;
mod secret;
mod shapes;
mod standby;
mod state;
pub mod tasks;
pub mod view;

pub use control::{Accepted, Control, Refusal, TubeAtLab};
pub use error::ApiError;
pub use metrics::Metrics;
pub use routes::router;
pub use state::{AppState, DashboardContext, FeedFrame, Following, HookUrlCheck, Snapshot};
pub use tasks::Supervisor;
