//! What the service knows about devices and places, as the MQTT edge asks it when
//! checking a payload: the dispatcher's state plus the static world.

use chrono::Duration;
use labflight_core::{BoxId, CourierId, DroneId, Instant, LabId, LatLon, StationId, TubeBarcode};
use labflight_dispatch::World;
use labflight_dispatch::state::State;
use labflight_mqtt::Directory;

/// Positions within this distance of a lab count as inside the service area even
/// outside the district outline (labs sit near its edge).
const LAB_MARGIN_M: f64 = 5_000.0;

#[derive(Debug)]
pub struct LiveDirectory<'a> {
    pub world: &'a World,
    pub state: &'a State,
    pub now: Instant,
    pub skew: Duration,
}

impl Directory for LiveDirectory<'_> {
    fn now(&self) -> Instant {
        self.now
    }
    fn max_clock_skew(&self) -> Duration {
        self.skew
    }
    fn knows_drone(&self, id: &DroneId) -> bool {
        self.state.drones.contains_key(id)
    }
    fn knows_box(&self, id: &BoxId) -> bool {
        self.state.boxes.contains_key(id)
    }
    fn knows_station(&self, id: &StationId) -> bool {
        self.world.stations.contains_key(id)
    }
    fn box_station(&self, id: &BoxId) -> Option<StationId> {
        match self.state.boxes.get(id) {
            Some(b) => Some(b.station.clone()),
            None => labflight_mqtt::station_of_box_id(id)
                .filter(|s| self.world.stations.contains_key(s)),
        }
    }
    fn knows_lab(&self, id: &LabId) -> bool {
        self.world.labs.contains_key(id)
    }
    fn knows_courier(&self, id: &CourierId) -> bool {
        self.state.couriers.contains_key(id)
    }
    fn knows_tube(&self, barcode: &TubeBarcode) -> bool {
        self.state.tubes.contains_key(barcode)
    }
    fn in_service_area(&self, p: LatLon) -> bool {
        self.world.airspace.in_district(p)
            || self
                .world
                .labs
                .values()
                .any(|l| self.world.frame.distance_m(l.position, p) <= LAB_MARGIN_M)
    }
}
