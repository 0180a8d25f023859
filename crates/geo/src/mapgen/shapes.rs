//! The geometry both generators draw with, in the local east-north plane: closed
//! rings in WGS 84, Voronoi cells clipped to an outline, and rectangular no-fly
//! zones.

use crate::{LocalFrame, NoFlyZone};
use geo::{Coord, LineString, Polygon};
use labflight_core::LatLon;
use nalgebra::Vector2;

/// A closed ring (lon, lat) through `pts` (local metres).
pub(super) fn ring_of(frame: &LocalFrame, pts: &[Vector2<f64>]) -> LineString<f64> {
    let mut coords: Vec<Coord<f64>> = pts
        .iter()
        .map(|v| {
            let p = frame.to_latlon(*v);
            Coord { x: p.lon, y: p.lat }
        })
        .collect();
    coords.push(coords[0]);
    LineString::from(coords)
}

/// Keeps the part of `poly` (local metres) on `site`'s side of the bisector with
/// `other`, moved towards `other` by `shift` metres (0 for a Voronoi bisector).
fn clip_half_plane(
    poly: &[Vector2<f64>],
    site: Vector2<f64>,
    other: Vector2<f64>,
    shift: f64,
) -> Vec<Vector2<f64>> {
    let n = other - site;
    let mid = if shift == 0.0 {
        (site + other) / 2.0
    } else {
        (site + other) / 2.0 + n.normalize() * shift
    };
    let inside = |p: &Vector2<f64>| (p - mid).dot(&n) <= 0.0;
    let mut out = Vec::new();
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
        let (ia, ib) = (inside(&a), inside(&b));
        if ia {
            out.push(a);
        }
        if ia != ib {
            let t = (mid - a).dot(&n) / (b - a).dot(&n);
            out.push(a + (b - a) * t);
        }
    }
    out
}

/// The part of `outline` (local metres) nearer `sites[i]` than any
/// other site: its Voronoi cell.
pub(super) fn voronoi_cell(
    outline: &[Vector2<f64>],
    sites: &[Vector2<f64>],
    i: usize,
) -> Vec<Vector2<f64>> {
    (0..sites.len())
        .filter(|&j| j != i)
        .fold(outline.to_vec(), |poly, j| {
            clip_half_plane(&poly, sites[i], sites[j], 0.0)
        })
}

/// The part of the convex `outline` (local metres) where `sites[i]` has the least
/// power distance |p − site|² − weight: a power-diagram cell, which grows with its
/// weight (equal weights give the Voronoi cell).
pub(super) fn power_cell(
    outline: &[Vector2<f64>],
    sites: &[Vector2<f64>],
    weights: &[f64],
    i: usize,
) -> Vec<Vector2<f64>> {
    (0..sites.len())
        .filter(|&j| j != i)
        .fold(outline.to_vec(), |poly, j| {
            let d = (sites[j] - sites[i]).norm();
            clip_half_plane(
                &poly,
                sites[i],
                sites[j],
                (weights[i] - weights[j]) / (2.0 * d),
            )
        })
}

/// A `w_m` × `h_m` no-fly zone centred on `centre`, its sides east-west and north-south.
pub(super) fn rectangle(
    frame: &LocalFrame,
    id: &str,
    name: &str,
    centre: LatLon,
    w_m: f64,
    h_m: f64,
) -> NoFlyZone {
    let c = frame.to_local(centre);
    let pts = [(-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0)]
        .map(|(x, y)| c + Vector2::new(x * w_m / 2.0, y * h_m / 2.0));
    NoFlyZone {
        id: id.into(),
        name: name.into(),
        polygon: Polygon::new(ring_of(frame, &pts), vec![]),
    }
}
