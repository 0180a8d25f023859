//! What is near what: an `rstar` R-tree over centres, labs and pads in local
//! metres, for nearest-k, within-radius and nearest-pad-with-room queries. Ties in
//! distance break by id, so answers are deterministic.

use crate::LocalFrame;
use labflight_core::{Lab, LatLon, Pad, Station};
use rstar::RTree;
use rstar::primitives::GeomWithData;

/// What kind of site an index entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SiteKind {
    /// A community health centre.
    Station,
    /// A hospital lab.
    Lab,
    /// A drone pad (at a centre, a lab or a depot).
    Pad,
}

/// One site in the index.
#[derive(Clone, Debug, PartialEq)]
pub struct Site {
    /// Centre, lab or pad.
    pub kind: SiteKind,
    /// Its id in the map data.
    pub id: String,
    /// Where it is.
    pub position: LatLon,
}

type Point = GeomWithData<[f64; 2], usize>;

/// R-trees (`rstar`) of the centres, labs and pads: what is nearest a point.
#[derive(Debug)]
pub struct SpatialIndex {
    frame: LocalFrame,
    sites: Vec<Site>,
    trees: [RTree<Point>; 3],
}

fn slot(kind: SiteKind) -> usize {
    match kind {
        SiteKind::Station => 0,
        SiteKind::Lab => 1,
        SiteKind::Pad => 2,
    }
}

impl SpatialIndex {
    /// The index of these sites, in `frame`.
    pub fn new(
        frame: LocalFrame,
        stations: &[Station],
        labs: &[Lab],
        pads: &[Pad],
    ) -> SpatialIndex {
        let mut sites = Vec::new();
        sites.extend(stations.iter().map(|s| Site {
            kind: SiteKind::Station,
            id: s.id.to_string(),
            position: s.position,
        }));
        sites.extend(labs.iter().map(|l| Site {
            kind: SiteKind::Lab,
            id: l.id.to_string(),
            position: l.position,
        }));
        sites.extend(pads.iter().map(|p| Site {
            kind: SiteKind::Pad,
            id: p.id.to_string(),
            position: p.position,
        }));
        let mut points: [Vec<Point>; 3] = Default::default();
        for (i, s) in sites.iter().enumerate() {
            let v = frame.to_local(s.position);
            points[slot(s.kind)].push(GeomWithData::new([v.x, v.y], i));
        }
        let [a, b, c] = points;
        SpatialIndex {
            frame,
            sites,
            trees: [
                RTree::bulk_load(a),
                RTree::bulk_load(b),
                RTree::bulk_load(c),
            ],
        }
    }

    /// The local frame distances are measured in.
    pub fn frame(&self) -> &LocalFrame {
        &self.frame
    }

    /// The `k` nearest sites of `kind` passing `filter`, nearest first (ties by id).
    pub fn nearest_of(
        &self,
        p: LatLon,
        kind: SiteKind,
        filter: impl Fn(&Site) -> bool,
        k: usize,
    ) -> Vec<(&Site, f64)> {
        let v = self.frame.to_local(p);
        let mut out: Vec<(&Site, f64)> = Vec::new();
        let mut last_d2 = f64::NEG_INFINITY;
        for (pt, d2) in self.trees[slot(kind)].nearest_neighbor_iter_with_distance_2(&[v.x, v.y]) {
            // Keep going past k while distances tie, so the id tie-break is exact.
            if out.len() >= k && d2 > last_d2 {
                break;
            }
            let site = &self.sites[pt.data];
            if filter(site) {
                out.push((site, d2.sqrt()));
                last_d2 = d2;
            }
        }
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.id.cmp(&b.0.id)));
        out.truncate(k);
        out
    }

    /// The `k` sites of `kind` nearest `p`, nearest first, with their distances in metres.
    pub fn nearest(&self, p: LatLon, kind: SiteKind, k: usize) -> Vec<(&Site, f64)> {
        self.nearest_of(p, kind, |_| true, k)
    }

    /// Every site of `kind` within `radius_m`, nearest first.
    pub fn within(&self, p: LatLon, kind: SiteKind, radius_m: f64) -> Vec<(&Site, f64)> {
        let v = self.frame.to_local(p);
        let mut out: Vec<(&Site, f64)> = self.trees[slot(kind)]
            .locate_within_distance([v.x, v.y], radius_m * radius_m)
            .map(|pt| {
                let d = ((pt.geom()[0] - v.x).powi(2) + (pt.geom()[1] - v.y).powi(2)).sqrt();
                (&self.sites[pt.data], d)
            })
            .collect();
        out.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.id.cmp(&b.0.id)));
        out
    }

    /// The nearest pad for which `has_room(pad id)` holds.
    pub fn nearest_pad_with_capacity(
        &self,
        p: LatLon,
        has_room: impl Fn(&str) -> bool,
    ) -> Option<(&Site, f64)> {
        self.nearest_of(p, SiteKind::Pad, |s| has_room(&s.id), 1)
            .into_iter()
            .next()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use labflight_core::pad::PadSite;
    use proptest::prelude::*;

    fn pad(i: usize, p: LatLon) -> Pad {
        Pad {
            id: labflight_core::PadId::new(format!("P{i:03}")),
            position: p,
            site: PadSite::Depot,
            capacity: 1,
            charger: i.is_multiple_of(2),
        }
    }

    proptest! {
        #[test]
        fn nearest_k_matches_brute_force(points in prop::collection::vec((22.6..22.78f64, 113.96..114.11f64), 1..80), q in (22.6..22.78f64, 113.96..114.11f64), k in 1usize..10) {
            let frame = LocalFrame::new(LatLon::new(22.687, 114.03));
            let pads: Vec<Pad> = points.iter().enumerate().map(|(i, (la, lo))| pad(i, LatLon::new(*la, *lo))).collect();
            let index = SpatialIndex::new(frame, &[], &[], &pads);
            let q = LatLon::new(q.0, q.1);
            let got: Vec<String> = index.nearest(q, SiteKind::Pad, k).iter().map(|(s, _)| s.id.clone()).collect();
            let mut brute: Vec<(f64, String)> = pads.iter().map(|p| (frame.distance_m(q, p.position), p.id.to_string())).collect();
            brute.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            let want: Vec<String> = brute.into_iter().take(k).map(|x| x.1).collect();
            prop_assert_eq!(got, want);
            // Nearest with room: the nearest pad with a charger.
            let with = index.nearest_pad_with_capacity(q, |id| pads.iter().any(|p| p.id.0 == id && p.charger)).map(|s| s.0.id.clone());
            let mut chargers: Vec<(f64, String)> = pads.iter().filter(|p| p.charger).map(|p| (frame.distance_m(q, p.position), p.id.to_string())).collect();
            chargers.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.cmp(&b.1)));
            prop_assert_eq!(with, chargers.first().map(|c| c.1.clone()));
        }
    }

    #[test]
    fn within_radius_keeps_only_close_sites() {
        let frame = LocalFrame::new(LatLon::new(22.687, 114.03));
        let near = frame.to_latlon(nalgebra::Vector2::new(300.0, 0.0));
        let far = frame.to_latlon(nalgebra::Vector2::new(3000.0, 0.0));
        let index = SpatialIndex::new(frame, &[], &[], &[pad(0, near), pad(1, far)]);
        let got = index.within(frame.origin, SiteKind::Pad, 1000.0);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].0.id, "P000");
        assert!((got[0].1 - 300.0).abs() < 1e-6);
    }
}
