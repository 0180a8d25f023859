//! What the service knows about its world, as the decoder asks it: the devices,
//! centres, labs and tubes it has heard of, its clock and its service area; and how
//! a box id names the centre it belongs to.

use chrono::Duration;
use labflight_core::{BoxId, CourierId, DroneId, Instant, LabId, LatLon, StationId, TubeBarcode};

/// What the service knows, so a payload can be checked against it.
pub trait Directory {
    /// The service clock.
    fn now(&self) -> Instant;
    /// How far a payload's `time` may be from the service clock.
    fn max_clock_skew(&self) -> Duration;
    /// A drone of the fleet.
    fn knows_drone(&self, id: &DroneId) -> bool;
    /// A box already sealed (and so known to the dispatcher).
    fn knows_box(&self, id: &BoxId) -> bool;
    /// A centre of the map.
    fn knows_station(&self, id: &StationId) -> bool;
    /// The centre a box belongs to: a sealed box's own, else the one its id names
    /// (`station_of_box_id`); `None` for a box of no known centre.
    fn box_station(&self, id: &BoxId) -> Option<StationId>;
    /// A lab of the map.
    fn knows_lab(&self, id: &LabId) -> bool;
    /// A courier van of the fleet.
    fn knows_courier(&self, id: &CourierId) -> bool;
    /// A tube already sealed in a box.
    fn knows_tube(&self, barcode: &TubeBarcode) -> bool;
    /// A position inside the district the service covers.
    fn in_service_area(&self, p: LatLon) -> bool;
}

/// The centre a box id names: boxes are numbered per centre, `BX-<centre>-<n>`
/// (e.g. `BX-LH-C017-02` belongs to `LH-C017`). `None` for any other shape.
pub fn station_of_box_id(id: &BoxId) -> Option<StationId> {
    let (station, n) = id.as_str().strip_prefix("BX-")?.rsplit_once('-')?;
    let numbered = !n.is_empty() && n.chars().all(|c| c.is_ascii_alphanumeric());
    (numbered && !station.is_empty()).then(|| StationId::new(station))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_ids_name_their_centre() {
        let s = |id: &str| station_of_box_id(&BoxId::new(id)).map(|s| s.to_string());
        assert_eq!(s("BX-LH-C017-02").as_deref(), Some("LH-C017"));
        assert_eq!(s("BX-C1-T1").as_deref(), Some("C1"));
        assert_eq!(s("BX-7"), None);
        assert_eq!(s("BX--02"), None);
        assert_eq!(s("BX-C1-"), None);
        assert_eq!(s("LH-C017-02"), None);
    }
}
