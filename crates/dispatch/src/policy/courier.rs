//! The `courier` baseline, the old way: vans on fixed rounds. Each group lab's
//! centres are cut, in turn around the lab, into routes a van can call along and
//! be back from within one round interval (`courier.round_interval_minutes`).
//! Rounds leave at fixed times (from `first_draw` + one interval, every
//! interval, until one interval after `last_draw`); a van takes whatever boxes
//! are waiting at each call and delivers them when it is back at the lab.
//! With a van per route (`vans_needed`) every route runs every round; with
//! fewer, each van takes its routes in turn, leaving at the first round time
//! it is back and has driven to the route's lab. A van takes only the boxes its
//! route's lab can test; a box no round left today can take (none calls at its
//! centre any more, or none goes to a lab running its tests) is alerted once.

use super::base::Policy;
use crate::ctx::Ctx;
use crate::ctx::vans::CourierRun;
use crate::world::World;
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Severity};
use labflight_core::forecast::Risk;
use labflight_core::scenario::minutes;
use labflight_core::{BoxId, CourierId, Instant, LabId, LatLon, StationId};
use std::collections::BTreeMap;

#[derive(Debug)]
pub struct CourierRounds {
    /// Every planned call, in time order.
    stops: Vec<Stop>,
    next: usize,
    /// Per centre, each call's time and lab, in time order.
    calls_at: BTreeMap<StationId, Vec<(Instant, LabId)>>,
}

#[derive(Debug, Clone)]
struct Stop {
    at: Instant,
    courier: CourierId,
    station: StationId,
    lab: LabId,
    back_at: Instant,
}

/// One van route: a lab and the centres called at from it, in order.
#[derive(Debug)]
struct Route {
    lab: LabId,
    lab_position: LatLon,
    calls: Vec<(StationId, LatLon)>,
}

impl Route {
    /// When the van calls at each centre, and when it is back at the lab, for a
    /// round leaving at `depart`.
    fn timetable(&self, world: &World, depart: Instant) -> (Vec<(Instant, StationId)>, Instant) {
        let stop_time = minutes(world.courier_spec.stop_minutes);
        let mut t = depart;
        let mut pos = self.lab_position;
        let mut calls = Vec::with_capacity(self.calls.len());
        for (station, at) in &self.calls {
            t = t + world.road_time(pos, *at) + stop_time;
            pos = *at;
            calls.push((t, station.clone()));
        }
        (
            calls,
            t + world.road_time(pos, self.lab_position) + stop_time,
        )
    }
}

/// The routes of the old rounds: per group lab, its centres ordered around it
/// (so rounds are compact), as many in a row on one route as keep the round
/// within one round interval (a centre farther than that is a route alone).
fn routes(world: &World) -> Vec<Route> {
    let interval = minutes(world.courier_spec.round_interval_minutes);
    let mut routes = Vec::new();
    for (lab_id, lab) in &world.labs {
        let mut served: Vec<_> = world
            .stations
            .values()
            .filter(|s| world.group_labs.get(s.group.as_str()) == Some(lab_id))
            .map(|s| {
                let v = world.frame.to_local(s.position) - world.frame.to_local(lab.position);
                (v.y.atan2(v.x), s)
            })
            .collect();
        served.sort_by(|a, b| a.0.total_cmp(&b.0).then_with(|| a.1.id.cmp(&b.1.id)));
        let mut route = Route {
            lab: lab_id.clone(),
            lab_position: lab.position,
            calls: Vec::new(),
        };
        for (_, s) in served {
            route.calls.push((s.id.clone(), s.position));
            let (_, back) = route.timetable(world, world.service.first_draw);
            if route.calls.len() > 1 && back - world.service.first_draw > interval {
                let last = route.calls.pop().expect("just pushed");
                let full = std::mem::replace(
                    &mut route,
                    Route {
                        lab: lab_id.clone(),
                        lab_position: lab.position,
                        calls: vec![last],
                    },
                );
                routes.push(full);
            }
        }
        if !route.calls.is_empty() {
            routes.push(route);
        }
    }
    routes
}

/// How many vans the old rounds take for every route to run every round: one
/// per route. The simulator runs the `courier` baseline with this many vans
/// unless told otherwise (the scenario's `fleet.couriers` are the drone day's
/// backup vans, far too few for the old way).
pub fn vans_needed(world: &World) -> usize {
    routes(world).len()
}

impl CourierRounds {
    pub fn new(world: &World) -> Self {
        let interval = minutes(world.courier_spec.round_interval_minutes);
        let routes = routes(world);
        let vans = world.couriers.len();
        let mut stops = Vec::new();
        for (k, van) in world.couriers.iter().enumerate() {
            // Van k drives routes k, k + vans, k + 2·vans, … in turn.
            let mine: Vec<&Route> = routes.iter().skip(k).step_by(vans).collect();
            if mine.is_empty() {
                continue;
            }
            let mut position = world
                .labs
                .get(&van.base)
                .map_or(mine[0].lab_position, |l| l.position);
            let mut free_at = world.service.first_draw;
            let mut turn = 0;
            let mut depart = world.service.first_draw + interval;
            while depart <= world.service.last_draw + interval {
                let route = mine[turn % mine.len()];
                if free_at + world.road_time(position, route.lab_position) <= depart {
                    let (calls, back_at) = route.timetable(world, depart);
                    for (at, station) in calls {
                        stops.push(Stop {
                            at,
                            courier: van.id.clone(),
                            station,
                            lab: route.lab.clone(),
                            back_at,
                        });
                    }
                    free_at = back_at;
                    position = route.lab_position;
                    turn += 1;
                }
                depart += interval;
            }
        }
        stops.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then_with(|| a.courier.cmp(&b.courier))
                .then_with(|| a.station.cmp(&b.station))
        });
        let mut calls_at: BTreeMap<StationId, Vec<(Instant, LabId)>> = BTreeMap::new();
        for s in &stops {
            calls_at
                .entry(s.station.clone())
                .or_default()
                .push((s.at, s.lab.clone()));
        }
        CourierRounds {
            stops,
            next: 0,
            calls_at,
        }
    }

    /// Alerts, once each, the waiting boxes no round left today can take: none
    /// calls at their centre after `now`, or none that does goes to a lab that
    /// runs every test their tubes need.
    fn alert_the_uncollectable(&self, ctx: &mut Ctx<'_>) {
        let now = ctx.state.now;
        let mut uncollectable: Vec<(BoxId, Reason)> = Vec::new();
        for b in ctx.state.open_boxes() {
            if b.status != crate::state::BoxStatus::Waiting || b.at_risk_alerted {
                continue;
            }
            let calls = self.calls_at.get(&b.station).map_or(&[][..], |c| &c[..]);
            let later: Vec<&LabId> = calls
                .iter()
                .filter(|(at, _)| *at > now)
                .map(|(_, lab)| lab)
                .collect();
            let deadline = b.stability_deadline.min(ctx.world.service.cutoff);
            let capable = calls.iter().find(|(at, lab)| {
                *at > now
                    && ctx
                        .world
                        .labs
                        .get(lab)
                        .is_some_and(|l| l.lacks(&b.families).is_none())
            });
            match capable {
                Some((at, _)) if *at <= deadline => continue,
                _ => {}
            }
            let why = match (capable, later.first()) {
                (Some((at, _)), _) => Reason::CourierRoundTooLate {
                    station: b.station.clone(),
                    call_at: *at,
                    due_at: deadline,
                },
                (None, None) => Reason::NoCourierRoundLeft {
                    station: b.station.clone(),
                },
                (None, Some(lab)) => {
                    match ctx.world.labs.get(*lab).and_then(|l| l.lacks(&b.families)) {
                        Some(family) => Reason::CourierRoundLabLacks {
                            station: b.station.clone(),
                            lab: (*lab).clone(),
                            family,
                        },
                        None => Reason::NoLabRunsEveryTest,
                    }
                }
            };
            uncollectable.push((b.id.clone(), why));
        }
        for (box_id, why) in uncollectable {
            if let Some(b) = ctx.state.boxes.get_mut(&box_id) {
                b.at_risk_alerted = true;
            }
            ctx.forecast_risk(std::slice::from_ref(&box_id), &Risk::NoLab);
            ctx.alert(
                AlertKind::TubeAtRisk,
                Severity::Critical,
                box_id.as_str(),
                why,
            );
        }
    }
}

impl Policy for CourierRounds {
    /// The rounds are rebuilt from the world; only how far the day has got is kept.
    fn save(&self) -> serde_json::Value {
        serde_json::json!({ "next": self.next })
    }

    fn load(&mut self, saved: &serde_json::Value) -> Result<(), String> {
        let next = saved.get("next").and_then(|n| n.as_u64()).ok_or_else(|| {
            format!("courier policy snapshot: expected {{\"next\": n}}, got {saved}")
        })?;
        self.next = (next as usize).min(self.stops.len());
        Ok(())
    }

    fn name(&self) -> &'static str {
        "courier"
    }

    fn plan(&mut self, ctx: &mut Ctx<'_>) {
        while let Some(stop) = self
            .stops
            .get(self.next)
            .filter(|s| s.at <= ctx.state.now)
            .cloned()
        {
            self.next += 1;
            let Some(mut boxes) = ctx.state.waiting_boxes().remove(&stop.station) else {
                continue;
            };
            // Only what the route's lab can test; the rest waits for its alert.
            if let Some(lab) = ctx.world.labs.get(&stop.lab) {
                boxes.retain(|b| lab.lacks(&ctx.state.boxes[b].families).is_none());
            }
            if boxes.is_empty() {
                continue;
            }
            let deadline = boxes
                .iter()
                .map(|b| ctx.state.boxes[b].stability_deadline)
                .min()
                .unwrap_or(stop.back_at)
                .min(ctx.world.service.cutoff);
            ctx.book_courier_run(CourierRun {
                courier: &stop.courier,
                station: &stop.station,
                pad: None,
                boxes,
                lab: &stop.lab,
                pickup_at: stop.at,
                deliver_at: stop.back_at,
                deadline,
                reason: "fixed courier round",
            });
        }
        self.alert_the_uncollectable(ctx);
    }
}

#[cfg(test)]
mod tests {
    use super::{CourierRounds, routes, vans_needed};
    use crate::world::World;
    use labflight_core::Scenario;
    use labflight_core::scenario::minutes;
    use labflight_geo::MapData;
    use std::collections::BTreeMap;

    fn longhua(couriers: Option<usize>) -> World {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../maps/longhua/scenario.toml");
        let overrides: Vec<(String, String)> = couriers
            .map(|n| vec![("fleet.couriers".to_owned(), n.to_string())])
            .unwrap_or_default();
        let scenario = Scenario::load_with_overrides(&path, &overrides).unwrap();
        let map = MapData::load(&scenario.map_dir(&path)).unwrap();
        World::from_map(&scenario, &map)
    }

    /// Each van's trips (first call, back at the lab), in order.
    fn trips(rounds: &CourierRounds) -> BTreeMap<String, Vec<(String, String)>> {
        let mut by_van: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for s in &rounds.stops {
            let first = by_van
                .entry(s.courier.to_string())
                .or_default()
                .entry(s.back_at.to_rfc3339())
                .or_insert_with(|| s.at.to_rfc3339());
            if s.at.to_rfc3339() < *first {
                *first = s.at.to_rfc3339();
            }
        }
        by_van
            .into_iter()
            .map(|(van, t)| {
                (
                    van,
                    t.into_iter().map(|(back, first)| (first, back)).collect(),
                )
            })
            .collect()
    }

    #[test]
    fn every_centre_is_on_one_route_a_van_drives_within_a_round_interval() {
        let world = longhua(None);
        let interval = minutes(world.courier_spec.round_interval_minutes);
        let routes = routes(&world);
        let mut centres: Vec<_> = routes
            .iter()
            .flat_map(|r| r.calls.iter().map(|c| c.0.clone()))
            .collect();
        centres.sort();
        centres.dedup();
        assert_eq!(centres.len(), world.stations.len(), "every centre once");
        assert_eq!(
            routes.iter().map(|r| r.calls.len()).sum::<usize>(),
            world.stations.len()
        );
        for r in routes.iter().filter(|r| r.calls.len() > 1) {
            let (_, back) = r.timetable(&world, world.service.first_draw);
            assert!(back - world.service.first_draw <= interval, "{r:?}");
        }
        assert!(
            vans_needed(&world) > world.couriers.len(),
            "6 vans are too few"
        );
    }

    #[test]
    fn a_van_per_route_runs_every_route_every_round_and_fewer_vans_take_turns() {
        // A van per route: every centre is called at on each of the three rounds.
        let world = longhua(Some(vans_needed(&longhua(None))));
        let rounds = CourierRounds::new(&world);
        let mut calls: BTreeMap<String, usize> = BTreeMap::new();
        for s in &rounds.stops {
            *calls.entry(s.station.to_string()).or_default() += 1;
        }
        assert_eq!(calls.len(), world.stations.len());
        assert!(calls.values().all(|n| *n == 3), "{calls:?}");
        // The scenario's six vans: no van leaves on a round before it is back
        // from the last.
        let rounds = CourierRounds::new(&longhua(None));
        for (van, trips) in trips(&rounds) {
            for pair in trips.windows(2) {
                assert!(pair[1].0 > pair[0].1, "{van}: {pair:?}");
            }
        }
    }
}
