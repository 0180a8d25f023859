//! The arithmetic behind every decision: routes (cached) and flight legs under the
//! current wind (`routes`), lab predictions from each family's line of analyzers
//! (`lab_lines`), tube deadlines (`deadlines`), the choice of a lab for a pickup
//! (`lab_choice`) and the evaluation of one drone for one pickup
//! (`drone_option`), and relays with a battery swap for a centre beyond one
//! flight (`relay`). Policies call these; none of them changes state.

mod deadlines;
mod drone_option;
mod lab_choice;
mod lab_lines;
mod relay;
mod routes;

pub use deadlines::{arrival_deadline, earliest_stability, families_of, keeps_promise};
pub use drone_option::{DroneOption, PlannedStop, evaluate_drone, spendable_wh};
pub use lab_choice::{HubHandOff, LabChoice, LabOption, LabOptions, choose_relay, judge_lab};
pub use lab_lines::{LabForm, LabTimes, booked_result, family_up, lines_take, predicted_result};
pub use relay::{RELAY_PADS_WEIGHED, Relay, best_relay};
pub use routes::{LABS_WEIGHED, PlannedLeg, RouteCache, plan_leg};
