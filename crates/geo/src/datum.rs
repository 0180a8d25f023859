//! GCJ-02 ("Mars coordinates", what Chinese web maps publish) to WGS84, which is
//! what labflight stores. The forward transform is the widely published public
//! one; the inverse is found by fixed-point iteration to well under a metre.

use labflight_core::LatLon;
use std::f64::consts::PI;

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

fn t_lat(x: f64, y: f64) -> f64 {
    let mut r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    r + (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0
}

fn t_lon(x: f64, y: f64) -> f64 {
    let mut r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    r += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    r += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    r + (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0
}

/// WGS84 → GCJ-02.
pub fn wgs84_to_gcj02(p: LatLon) -> LatLon {
    let (x, y) = (p.lon - 105.0, p.lat - 35.0);
    let rad = p.lat / 180.0 * PI;
    let magic = 1.0 - EE * rad.sin().powi(2);
    let sqrt_magic = magic.sqrt();
    let dlat = t_lat(x, y) * 180.0 / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let dlon = t_lon(x, y) * 180.0 / (A / sqrt_magic * rad.cos() * PI);
    LatLon::new(p.lat + dlat, p.lon + dlon)
}

/// GCJ-02 → WGS84, by iterating the forward transform.
pub fn gcj02_to_wgs84(g: LatLon) -> LatLon {
    let mut w = g;
    for _ in 0..30 {
        let f = wgs84_to_gcj02(w);
        let (dlat, dlon) = (g.lat - f.lat, g.lon - f.lon);
        w = LatLon::new(w.lat + dlat, w.lon + dlon);
        if dlat.abs() < 1e-10 && dlon.abs() < 1e-10 {
            break;
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::haversine_m;

    #[test]
    fn round_trip_is_exact_and_the_offset_in_longhua_is_about_half_a_kilometre() {
        let w = LatLon::new(22.6519, 114.0297);
        let g = wgs84_to_gcj02(w);
        let offset = haversine_m(w, g);
        assert!((300.0..700.0).contains(&offset), "{offset} m");
        let back = gcj02_to_wgs84(g);
        assert!(haversine_m(w, back) < 0.5);
    }
}
