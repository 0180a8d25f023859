//! A simulated drone in motion: a flight is a path of timed waypoints with the
//! battery at either end, and where the drone is (and its battery) at any
//! instant is read off it.

use chrono::Duration;
use labflight_core::{Instant, LatLon};

/// A flight under way: a timed path and the battery at its two ends.
#[derive(Clone, Debug)]
pub(crate) struct Flight {
    /// Timed waypoints.
    pub(crate) path: Vec<(Instant, LatLon)>,
    /// Battery (%) at take-off.
    pub(crate) battery_start: f64,
    /// Battery (%) on landing.
    pub(crate) battery_end: f64,
    /// A battery swap on the way (a relay), if any.
    pub(crate) swap: Option<Swap>,
}

/// A battery swap during a flight: the drone lands on a charger pad, stands
/// there while the battery is swapped, and takes off again on a full one.
#[derive(Clone, Debug)]
pub(crate) struct Swap {
    /// Landing on the pad.
    pub(crate) landed: Instant,
    /// Battery (%) on landing there.
    pub(crate) battery_on_landing: f64,
    /// Take-off, the battery full.
    pub(crate) ready: Instant,
}

/// The battery at `now` between `(from, at_from)` and `(to, at_to)`, linearly.
fn battery_between(
    now: Instant,
    (from, at_from): (Instant, f64),
    (to, at_to): (Instant, f64),
) -> f64 {
    let total = (to - from).num_milliseconds().max(1) as f64;
    let share = ((now - from).num_milliseconds() as f64 / total).clamp(0.0, 1.0);
    at_from + (at_to - at_from) * share
}

/// A simulated drone: where it last stood, its battery then, the flight it is
/// on, and until when its radio link is down.
#[derive(Clone, Debug)]
pub(crate) struct SimDrone {
    /// Where it stands (or where its flight ends).
    pub(crate) position: LatLon,
    /// Battery (%) when it stood there.
    pub(crate) battery_pct: f64,
    /// The flight it is on, if any.
    pub(crate) flight: Option<Flight>,
    /// Its link is down until then (no telemetry).
    pub(crate) link_down_until: Option<Instant>,
}

impl SimDrone {
    /// Where the drone is at `now` and its battery, interpolated along its flight.
    pub(crate) fn at(&self, now: Instant) -> (LatLon, f64) {
        let Some(f) = &self.flight else {
            return (self.position, self.battery_pct);
        };
        let (first, last) = (f.path[0], f.path[f.path.len() - 1]);
        if now <= first.0 {
            return (first.1, f.battery_start);
        }
        if now >= last.0 {
            return (last.1, f.battery_end);
        }
        let battery = match &f.swap {
            None => battery_between(now, (first.0, f.battery_start), (last.0, f.battery_end)),
            Some(s) if now < s.landed => battery_between(
                now,
                (first.0, f.battery_start),
                (s.landed, s.battery_on_landing),
            ),
            Some(s) if now < s.ready => s.battery_on_landing,
            Some(s) => battery_between(now, (s.ready, 100.0), (last.0, f.battery_end)),
        };
        for w in f.path.windows(2) {
            if now <= w[1].0 {
                let span = (w[1].0 - w[0].0).num_milliseconds().max(1) as f64;
                let s = (now - w[0].0).num_milliseconds() as f64 / span;
                let p = LatLon::new(
                    w[0].1.lat + (w[1].1.lat - w[0].1.lat) * s,
                    w[0].1.lon + (w[1].1.lon - w[0].1.lon) * s,
                );
                return (p, battery);
            }
        }
        (last.1, battery)
    }
}

/// Spreads waypoints over [from, to] in proportion to distance.
pub(crate) fn timed(points: &[LatLon], from: Instant, to: Instant) -> Vec<(Instant, LatLon)> {
    if points.len() < 2 {
        return points.iter().map(|p| (to, *p)).collect();
    }
    let seg: Vec<f64> = points
        .windows(2)
        .map(|w| ((w[1].lat - w[0].lat).powi(2) + (w[1].lon - w[0].lon).powi(2)).sqrt())
        .collect();
    let total: f64 = seg.iter().sum::<f64>().max(1e-12);
    let span = (to - from).num_milliseconds() as f64;
    let mut acc = 0.0;
    let mut out = vec![(from, points[0])];
    for (i, s) in seg.iter().enumerate() {
        acc += s;
        out.push((
            from + Duration::milliseconds((span * acc / total) as i64),
            points[i + 1],
        ));
    }
    out
}
