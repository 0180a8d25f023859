//! A box's forecast as the dispatcher's plan makes it, and why a tube is forecast
//! to miss: codes with their values, never prose, so every edge (the dashboard in
//! Chinese or English, a report, a CSV) says them in its own words.

use crate::{Instant, LabId};
use serde::{Deserialize, Serialize};

/// What the dispatcher's plan expects of one box, as of its last decision about it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BoxForecast {
    /// The lab the plan takes it to.
    pub lab: Option<LabId>,
    /// When a carrier is planned to collect it (none: no carrier planned yet, or
    /// it is past collecting).
    pub pickup_at: Option<Instant>,
    /// When the plan has it at the lab (for a box at a lab, when it arrived).
    pub lab_arrival: Option<Instant>,
    /// When its results are predicted at the centre, verified and reported.
    pub result_at: Option<Instant>,
    /// Why the plan cannot bring it in time, when the policy found so itself (no
    /// lab, no drone, no van); misses the times above show are derived by
    /// `tube_outlooks`.
    pub risk: Option<Risk>,
}

/// Why a tube is forecast to miss the cutoff or its stability limit: a code and
/// the values behind it, for the dashboard to say in the coordinator's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Risk {
    /// The planned lab arrival is after the tube's stability limit.
    StabilityBeforeArrival {
        /// The lab it is planned to reach.
        lab: LabId,
        /// The planned arrival.
        arrival: Instant,
        /// The stability limit.
        limit: Instant,
    },
    /// The result is predicted after the cutoff.
    ResultAfterCutoff {
        /// The lab doing the tests.
        lab: LabId,
        /// The predicted result at the centre.
        result: Instant,
    },
    /// No lab can take it now (closed, unavailable, analyzers down or out of reach).
    NoLab,
    /// Beyond every drone's single-flight range from every charger, with no van.
    BeyondRangeNoVan,
    /// The fleet is grounded and no van can be sent.
    GroundedNoVan {
        /// The earliest stability limit of its tubes.
        limit: Instant,
    },
    /// The fleet is grounded and the first van reaches the lab too late.
    GroundedVanLate {
        /// The lab the van would reach.
        lab: LabId,
        /// When the van would deliver.
        arrival: Instant,
        /// The latest useful arrival.
        deadline: Instant,
    },
    /// A flight now would still be in the air when the storm forecast begins: it
    /// waits for a van or for the storm to pass.
    HeldForStorm {
        /// When the forecast storm ends (drones fly again).
        resume: Instant,
        /// The earliest stability limit of its tubes.
        limit: Instant,
    },
    /// Set down away from a lab by a drone in trouble, with no carrier planned yet.
    Stranded,
    /// The lab rejected it: a redraw was asked for.
    Rejected,
}
