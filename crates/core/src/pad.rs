//! Drone pads ("airports"): where drones land, wait, charge or swap batteries.

use crate::{LatLon, PadId};
use serde::{Deserialize, Serialize};

/// Where a pad sits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "id")]
pub enum PadSite {
    /// A centre's pad.
    Station(crate::StationId),
    /// A lab's pad.
    Lab(crate::LabId),
    /// A fleet base with no station or lab.
    Depot,
}

/// A drone pad.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Pad {
    /// Its id.
    pub id: PadId,
    /// Where it is.
    pub position: LatLon,
    /// The site it belongs to.
    pub site: PadSite,
    /// How many drones can stand on it at once.
    pub capacity: u32,
    /// Whether drones can recharge or swap batteries here.
    pub charger: bool,
}
