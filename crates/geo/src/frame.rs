//! Local metres around an origin: flight math works in an east-north plane
//! (nalgebra vectors), data stays in WGS84 degrees. An equirectangular frame is
//! exact to well under 0.1 % across a district or a city.

use labflight_core::LatLon;
use nalgebra::Vector2;

/// Mean Earth radius, metres.
pub const EARTH_RADIUS_M: f64 = 6_371_008.8;

/// An east-north plane tangent at `origin`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LocalFrame {
    /// The point the plane touches the earth at.
    pub origin: LatLon,
    metres_per_deg_lat: f64,
    metres_per_deg_lon: f64,
}

impl LocalFrame {
    /// The frame tangent at `origin`.
    pub fn new(origin: LatLon) -> Self {
        let metres_per_deg_lat = EARTH_RADIUS_M.to_radians();
        Self {
            origin,
            metres_per_deg_lat,
            metres_per_deg_lon: metres_per_deg_lat * origin.lat.to_radians().cos(),
        }
    }

    /// East and north metres from the origin.
    pub fn to_local(&self, p: LatLon) -> Vector2<f64> {
        Vector2::new(
            (p.lon - self.origin.lon) * self.metres_per_deg_lon,
            (p.lat - self.origin.lat) * self.metres_per_deg_lat,
        )
    }

    /// The position at local east-north metres `v`.
    pub fn to_latlon(&self, v: Vector2<f64>) -> LatLon {
        LatLon::new(
            self.origin.lat + v.y / self.metres_per_deg_lat,
            self.origin.lon + v.x / self.metres_per_deg_lon,
        )
    }

    /// Distance between two positions, metres, in the plane.
    pub fn distance_m(&self, a: LatLon, b: LatLon) -> f64 {
        (self.to_local(a) - self.to_local(b)).norm()
    }
}

/// Great-circle distance, for checks that must not depend on a frame.
pub fn haversine_m(a: LatLon, b: LatLon) -> f64 {
    let (la, lb) = (a.lat.to_radians(), b.lat.to_radians());
    let dlat = lb - la;
    let dlon = (b.lon - a.lon).to_radians();
    let h = (dlat / 2.0).sin().powi(2) + la.cos() * lb.cos() * (dlon / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_M * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_round_trip_and_agreement_with_haversine() {
        let f = LocalFrame::new(LatLon::new(22.687, 114.030));
        let p = LatLon::new(22.760, 114.100);
        let back = f.to_latlon(f.to_local(p));
        assert!((back.lat - p.lat).abs() < 1e-9 && (back.lon - p.lon).abs() < 1e-9);
        let local = f.distance_m(f.origin, p);
        let great = haversine_m(f.origin, p);
        assert!((local - great).abs() / great < 1e-3, "{local} vs {great}");
    }
}
