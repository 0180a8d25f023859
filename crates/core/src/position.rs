//! WGS84 positions as they appear in data, payloads and maps. Flight math works in
//! local metres (see `labflight-geo`); this type only carries and checks degrees.

use serde::{Deserialize, Serialize};

/// A WGS84 position in degrees.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct LatLon {
    /// Latitude, degrees north.
    pub lat: f64,
    /// Longitude, degrees east.
    pub lon: f64,
}

impl LatLon {
    /// The position at `lat`, `lon`.
    pub const fn new(lat: f64, lon: f64) -> Self {
        Self { lat, lon }
    }

    /// Why this is not a valid WGS84 position, if it is not.
    pub fn invalid_reason(&self) -> Option<String> {
        if !self.lat.is_finite() || !self.lon.is_finite() {
            return Some(format!(
                "lat/lon must be finite numbers, got ({}, {})",
                self.lat, self.lon
            ));
        }
        if !(-90.0..=90.0).contains(&self.lat) {
            return Some(format!("lat {} is outside -90..=90", self.lat));
        }
        if !(-180.0..=180.0).contains(&self.lon) {
            return Some(format!("lon {} is outside -180..=180", self.lon));
        }
        None
    }
}
