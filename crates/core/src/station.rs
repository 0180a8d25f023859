//! A community health centre (社康中心): where blood is drawn and boxes are sealed.

use crate::{GroupId, LatLon, OpeningHours, PadId, StationId};
use serde::{Deserialize, Serialize};

/// The "大-中-小" tiers below the group HQ hospital.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// 区域社康中心: one per subdistrict.
    Regional,
    /// 社康中心.
    Community,
}

/// A community health centre that draws blood.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Station {
    /// Its id.
    pub id: StationId,
    /// Synthetic display name (positions and names are illustrative).
    pub name: String,
    /// The same name in Chinese, for the coordinators' dashboard.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_zh: Option<String>,
    /// The subdistrict it lies in.
    pub subdistrict: String,
    /// The district it lies in, on a map of several districts (the city's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district: Option<String>,
    /// Its medical group.
    pub group: GroupId,
    /// Regional or community centre.
    pub tier: Tier,
    /// Where it is.
    pub position: LatLon,
    /// Its floor area.
    pub floor_area_m2: f64,
    /// The rooftop pad or locker drones use at this centre, if it has one.
    pub pad: Option<PadId>,
    /// Whether the centre spins serum/plasma on site before sending it.
    pub centrifuge: bool,
    /// When it draws blood.
    pub hours: OpeningHours,
}
