//! The airspace: the district outline and the no-fly zones, and shortest flight
//! paths that go around the zones — a straight line when it is clear, otherwise
//! the shortest path over a visibility graph of the zones' vertices pushed
//! outward by a safety buffer. Zones are kept in local metres for the geometry.

use crate::LocalFrame;
use geo::{BoundingRect, Contains, Coord, Intersects, Line, MultiPolygon, Point, Polygon, Rect};
use labflight_core::LatLon;
use nalgebra::Vector2;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A no-fly zone; `polygon` is in degrees (x = lon, y = lat).
#[derive(Clone, Debug, PartialEq)]
pub struct NoFlyZone {
    /// The zone's id, as in the map data.
    pub id: String,
    /// Its name, for people.
    pub name: String,
    /// Its outline, in degrees (x = lon, y = lat).
    pub polygon: Polygon<f64>,
}

/// A flight path: waypoints from start to end (both included) and its length.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// Every point the drone flies through, start and end included.
    pub waypoints: Vec<LatLon>,
    /// The length along the waypoints, metres.
    pub length_m: f64,
}

/// Why no route can be planned.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum AirspaceError {
    /// An end of the route lies inside a no-fly zone.
    #[error("point ({lat:.6}, {lon:.6}) lies inside no-fly zone {zone}")]
    InsideNoFly {
        /// Latitude of the point.
        lat: f64,
        /// Longitude of the point.
        lon: f64,
        /// The zone it lies in.
        zone: String,
    },
    /// No path around the zones joins the two points (from lat, lon to lat, lon).
    #[error("no path from ({0:.6}, {1:.6}) to ({2:.6}, {3:.6}) around the no-fly zones")]
    NoPath(f64, f64, f64, f64),
}

#[derive(Debug)]
struct LocalZone {
    polygon: Polygon<f64>,
    bbox: Rect<f64>,
}

/// The district, its no-fly zones grown by a safety buffer, and the visibility graph around them: plans shortest routes that avoid every zone.
#[derive(Debug)]
pub struct Airspace {
    frame: LocalFrame,
    district: MultiPolygon<f64>,
    zones: Vec<NoFlyZone>,
    local: Vec<LocalZone>,
    /// Buffered zone vertices (local metres): the visibility graph's nodes.
    nodes: Vec<Vector2<f64>>,
    /// For each node, the nodes it sees and the distance to them.
    edges: Vec<Vec<(usize, f64)>>,
}

fn to_local_polygon(frame: &LocalFrame, p: &Polygon<f64>) -> Polygon<f64> {
    let ring: Vec<Coord<f64>> = p
        .exterior()
        .coords()
        .map(|c| {
            let v = frame.to_local(LatLon::new(c.y, c.x));
            Coord { x: v.x, y: v.y }
        })
        .collect();
    Polygon::new(geo::LineString::from(ring), vec![])
}

/// The ring's vertices pushed outward by `buffer_m` along their bisector.
fn buffered_vertices(p: &Polygon<f64>, buffer_m: f64) -> Vec<Vector2<f64>> {
    let mut pts: Vec<Vector2<f64>> = p
        .exterior()
        .coords()
        .map(|c| Vector2::new(c.x, c.y))
        .collect();
    if pts.len() > 1 && pts.first() == pts.last() {
        pts.pop();
    }
    let n = pts.len();
    if n < 3 {
        return pts;
    }
    let area2: f64 = (0..n).map(|i| pts[i].perp(&pts[(i + 1) % n])).sum();
    let sign = if area2 >= 0.0 { 1.0 } else { -1.0 };
    // Outward normal of edge a→b: for a counter-clockwise ring, (dy, -dx).
    let normal = |a: Vector2<f64>, b: Vector2<f64>| {
        let d = (b - a).normalize();
        Vector2::new(d.y, -d.x) * sign
    };
    (0..n)
        .map(|i| {
            let (prev, here, next) = (pts[(i + n - 1) % n], pts[i], pts[(i + 1) % n]);
            let n1 = normal(prev, here);
            let n2 = normal(here, next);
            let bis = n1 + n2;
            let dir = if bis.norm() < 1e-9 {
                n1
            } else {
                bis.normalize()
            };
            let cos_half = dir.dot(&n1).max(0.3);
            here + dir * (buffer_m / cos_half)
        })
        .collect()
}

impl Airspace {
    /// The airspace of `district` with `zones` grown by `buffer_m` metres, in `frame`.
    pub fn new(
        frame: LocalFrame,
        district: MultiPolygon<f64>,
        zones: Vec<NoFlyZone>,
        buffer_m: f64,
    ) -> Airspace {
        let local: Vec<LocalZone> = zones
            .iter()
            .map(|z| {
                let polygon = to_local_polygon(&frame, &z.polygon);
                let bbox = polygon.bounding_rect().unwrap_or(Rect::new(
                    Coord { x: 0.0, y: 0.0 },
                    Coord { x: 0.0, y: 0.0 },
                ));
                LocalZone { polygon, bbox }
            })
            .collect();
        let mut airspace = Airspace {
            frame,
            district,
            zones,
            local,
            nodes: Vec::new(),
            edges: Vec::new(),
        };
        let nodes: Vec<Vector2<f64>> = airspace
            .local
            .iter()
            .flat_map(|z| buffered_vertices(&z.polygon, buffer_m))
            .filter(|v| {
                !airspace
                    .local
                    .iter()
                    .any(|z| z.polygon.contains(&Point::new(v.x, v.y)))
            })
            .collect();
        let mut edges = vec![Vec::new(); nodes.len()];
        for i in 0..nodes.len() {
            for j in i + 1..nodes.len() {
                if airspace.clear_local(nodes[i], nodes[j]) {
                    let d = (nodes[i] - nodes[j]).norm();
                    edges[i].push((j, d));
                    edges[j].push((i, d));
                }
            }
        }
        airspace.nodes = nodes;
        airspace.edges = edges;
        airspace
    }

    /// The local frame its geometry is worked in.
    pub fn frame(&self) -> &LocalFrame {
        &self.frame
    }

    /// The no-fly zones, as given (without the buffer).
    pub fn zones(&self) -> &[NoFlyZone] {
        &self.zones
    }

    /// The district's outline, in degrees.
    pub fn district(&self) -> &MultiPolygon<f64> {
        &self.district
    }

    /// Whether `p` lies inside the district.
    pub fn in_district(&self, p: LatLon) -> bool {
        self.district.contains(&Point::new(p.lon, p.lat))
    }

    /// The no-fly zone (with its buffer) that `p` lies inside, if any.
    pub fn in_no_fly(&self, p: LatLon) -> Option<&NoFlyZone> {
        let v = self.frame.to_local(p);
        let pt = Point::new(v.x, v.y);
        self.local
            .iter()
            .position(|z| z.polygon.contains(&pt) || z.polygon.exterior().intersects(&pt))
            .map(|i| &self.zones[i])
    }

    /// Whether the straight segment a–b stays out of every zone.
    pub fn segment_clear(&self, a: LatLon, b: LatLon) -> bool {
        self.clear_local(self.frame.to_local(a), self.frame.to_local(b))
    }

    fn clear_local(&self, a: Vector2<f64>, b: Vector2<f64>) -> bool {
        let line = Line::new(Coord { x: a.x, y: a.y }, Coord { x: b.x, y: b.y });
        let (minx, maxx) = (a.x.min(b.x), a.x.max(b.x));
        let (miny, maxy) = (a.y.min(b.y), a.y.max(b.y));
        !self.local.iter().any(|z| {
            let r = z.bbox;
            !(maxx < r.min().x || minx > r.max().x || maxy < r.min().y || miny > r.max().y)
                && z.polygon.intersects(&line)
        })
    }

    /// The shortest path from `from` to `to` that enters no zone.
    pub fn route(&self, from: LatLon, to: LatLon) -> Result<Route, AirspaceError> {
        for p in [from, to] {
            if let Some(z) = self.in_no_fly(p) {
                return Err(AirspaceError::InsideNoFly {
                    lat: p.lat,
                    lon: p.lon,
                    zone: z.id.clone(),
                });
            }
        }
        let (a, b) = (self.frame.to_local(from), self.frame.to_local(to));
        if self.clear_local(a, b) {
            return Ok(Route {
                waypoints: vec![from, to],
                length_m: (b - a).norm(),
            });
        }
        // Dijkstra over: start (n), end (n + 1) and the buffered vertices.
        let n = self.nodes.len();
        let start_edges: Vec<(usize, f64)> = (0..n)
            .filter(|&i| self.clear_local(a, self.nodes[i]))
            .map(|i| (i, (self.nodes[i] - a).norm()))
            .collect();
        let to_end: Vec<Option<f64>> = (0..n)
            .map(|i| {
                self.clear_local(self.nodes[i], b)
                    .then(|| (b - self.nodes[i]).norm())
            })
            .collect();
        let mut dist = vec![f64::INFINITY; n + 2];
        let mut prev = vec![usize::MAX; n + 2];
        let mut heap = BinaryHeap::new();
        dist[n] = 0.0;
        heap.push(State { cost: 0.0, node: n });
        while let Some(State { cost, node }) = heap.pop() {
            if cost > dist[node] {
                continue;
            }
            if node == n + 1 {
                break;
            }
            let neighbours: Vec<(usize, f64)> = if node == n {
                start_edges.clone()
            } else {
                let mut e = self.edges[node].clone();
                if let Some(d) = to_end[node] {
                    e.push((n + 1, d));
                }
                e
            };
            for (next, d) in neighbours {
                let c = cost + d;
                if c < dist[next] {
                    dist[next] = c;
                    prev[next] = node;
                    heap.push(State {
                        cost: c,
                        node: next,
                    });
                }
            }
        }
        if !dist[n + 1].is_finite() {
            return Err(AirspaceError::NoPath(from.lat, from.lon, to.lat, to.lon));
        }
        let mut chain = Vec::new();
        let mut at = prev[n + 1];
        while at != n {
            chain.push(self.frame.to_latlon(self.nodes[at]));
            at = prev[at];
        }
        chain.reverse();
        let mut waypoints = vec![from];
        waypoints.extend(chain);
        waypoints.push(to);
        Ok(Route {
            waypoints,
            length_m: dist[n + 1],
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct State {
    cost: f64,
    node: usize,
}

impl Eq for State {}

impl Ord for State {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .cost
            .total_cmp(&self.cost)
            .then_with(|| other.node.cmp(&self.node))
    }
}

impl PartialOrd for State {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const ORIGIN: LatLon = LatLon::new(22.687, 114.03);

    fn square(frame: &LocalFrame, cx: f64, cy: f64, half: f64, id: &str) -> NoFlyZone {
        let ring: Vec<(f64, f64)> = [
            (-1.0, -1.0),
            (1.0, -1.0),
            (1.0, 1.0),
            (-1.0, 1.0),
            (-1.0, -1.0),
        ]
        .iter()
        .map(|(dx, dy)| {
            let p = frame.to_latlon(Vector2::new(cx + dx * half, cy + dy * half));
            (p.lon, p.lat)
        })
        .collect();
        NoFlyZone {
            id: id.into(),
            name: id.into(),
            polygon: Polygon::new(geo::LineString::from(ring), vec![]),
        }
    }

    fn airspace(zones: Vec<NoFlyZone>) -> Airspace {
        let frame = LocalFrame::new(ORIGIN);
        let ring: Vec<(f64, f64)> = [
            (-1.0, -1.0),
            (1.0, -1.0),
            (1.0, 1.0),
            (-1.0, 1.0),
            (-1.0, -1.0),
        ]
        .iter()
        .map(|(dx, dy)| (ORIGIN.lon + dx * 0.5, ORIGIN.lat + dy * 0.5))
        .collect();
        let district = MultiPolygon::new(vec![Polygon::new(geo::LineString::from(ring), vec![])]);
        Airspace::new(frame, district, zones, 50.0)
    }

    /// Checks a route: clear of every zone (exactly and by sampling), at least as long as the line.
    fn check(
        space: &Airspace,
        from: LatLon,
        to: LatLon,
        route: &Route,
    ) -> Result<(), TestCaseError> {
        let frame = space.frame();
        prop_assert_eq!(route.waypoints.first().copied(), Some(from));
        prop_assert_eq!(route.waypoints.last().copied(), Some(to));
        let straight = frame.distance_m(from, to);
        prop_assert!(
            route.length_m >= straight - 1e-6,
            "{} < {}",
            route.length_m,
            straight
        );
        for w in route.waypoints.windows(2) {
            prop_assert!(space.segment_clear(w[0], w[1]));
            for k in 0..=20 {
                let s = f64::from(k) / 20.0;
                let p = LatLon::new(
                    w[0].lat + (w[1].lat - w[0].lat) * s,
                    w[0].lon + (w[1].lon - w[0].lon) * s,
                );
                prop_assert!(space.in_no_fly(p).is_none(), "sample inside a zone");
            }
        }
        if space.segment_clear(from, to) {
            prop_assert!((route.length_m - straight).abs() < 1e-6);
        }
        Ok(())
    }

    #[test]
    fn a_zone_in_the_way_forces_a_detour_and_a_clear_line_is_straight() {
        let frame = LocalFrame::new(ORIGIN);
        let space = airspace(vec![square(&frame, 0.0, 0.0, 500.0, "Z")]);
        let a = frame.to_latlon(Vector2::new(-2000.0, 0.0));
        let b = frame.to_latlon(Vector2::new(2000.0, 0.0));
        let r = space.route(a, b).unwrap();
        assert!(r.waypoints.len() >= 4, "{r:?}");
        assert!(r.length_m > 4000.0);
        check(&space, a, b, &r).unwrap();
        let c = frame.to_latlon(Vector2::new(-2000.0, 2000.0));
        assert_eq!(space.route(a, c).unwrap().waypoints.len(), 2);
        let inside = frame.to_latlon(Vector2::new(0.0, 0.0));
        assert!(matches!(
            space.route(inside, b),
            Err(AirspaceError::InsideNoFly { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]
        #[test]
        fn paths_never_enter_a_zone_and_are_never_shorter_than_the_line(
            zones in prop::collection::vec((-4000.0..4000.0f64, -4000.0..4000.0f64, 150.0..700.0f64), 0..5),
            a in (-6000.0..6000.0f64, -6000.0..6000.0f64),
            b in (-6000.0..6000.0f64, -6000.0..6000.0f64),
        ) {
            let frame = LocalFrame::new(ORIGIN);
            // Keep zones apart (non-overlapping, with room between their buffers).
            let mut kept: Vec<(f64, f64, f64)> = Vec::new();
            for z in zones {
                if kept.iter().all(|k| (k.0 - z.0).abs() > k.2 + z.2 + 300.0 || (k.1 - z.1).abs() > k.2 + z.2 + 300.0) {
                    kept.push(z);
                }
            }
            let space = airspace(kept.iter().enumerate().map(|(i, z)| square(&frame, z.0, z.1, z.2, &format!("Z{i}"))).collect());
            let (a, b) = (frame.to_latlon(Vector2::new(a.0, a.1)), frame.to_latlon(Vector2::new(b.0, b.1)));
            let near_zone = |p: LatLon| {
                let v = frame.to_local(p);
                kept.iter().any(|z| (v.x - z.0).abs() < z.2 + 120.0 && (v.y - z.1).abs() < z.2 + 120.0)
            };
            prop_assume!(!near_zone(a) && !near_zone(b));
            let r = space.route(a, b).unwrap();
            check(&space, a, b, &r)?;
        }
    }
}
