//! The `courier` baseline, the old way: vans leave their group's lab on fixed
//! rounds every `courier.round_interval_minutes`, call at each centre of their
//! round in turn, take whatever boxes are waiting and drive back to the lab.

use super::base::Policy;
use crate::ctx::Ctx;
use crate::ctx::vans::CourierRun;
use crate::world::World;
use labflight_core::scenario::minutes;
use labflight_core::{CourierId, Instant, LabId, StationId};

#[derive(Debug)]
pub struct CourierRounds {
    /// Every planned call, in time order.
    stops: Vec<Stop>,
    next: usize,
}

#[derive(Debug, Clone)]
struct Stop {
    at: Instant,
    courier: CourierId,
    station: StationId,
    lab: LabId,
    back_at: Instant,
}

impl CourierRounds {
    pub fn new(world: &World) -> Self {
        let spec = &world.courier_spec;
        let stop_time = minutes(spec.stop_minutes);
        let interval = minutes(spec.round_interval_minutes);
        let mut stops = Vec::new();
        for (lab_id, lab) in &world.labs {
            let vans: Vec<_> = world
                .couriers
                .iter()
                .filter(|c| c.base == *lab_id)
                .collect();
            if vans.is_empty() {
                continue;
            }
            // The centres this lab serves, ordered around the lab so rounds are compact.
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
            let per_van = served.len().div_ceil(vans.len()).max(1);
            for (van, round) in vans.iter().zip(served.chunks(per_van)) {
                let mut depart = world.service.first_draw + interval;
                while depart <= world.service.last_draw + interval {
                    let mut t = depart;
                    let mut pos = lab.position;
                    let mut calls = Vec::new();
                    for (_, s) in round {
                        t = t + world.road_time(pos, s.position) + stop_time;
                        pos = s.position;
                        calls.push((t, s.id.clone()));
                    }
                    let back_at = t + world.road_time(pos, lab.position) + stop_time;
                    for (at, station) in calls {
                        stops.push(Stop {
                            at,
                            courier: van.id.clone(),
                            station,
                            lab: lab_id.clone(),
                            back_at,
                        });
                    }
                    depart += interval;
                }
            }
        }
        stops.sort_by(|a, b| {
            a.at.cmp(&b.at)
                .then_with(|| a.courier.cmp(&b.courier))
                .then_with(|| a.station.cmp(&b.station))
        });
        CourierRounds { stops, next: 0 }
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
            let Some(boxes) = ctx.state.waiting_boxes().remove(&stop.station) else {
                continue;
            };
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
    }
}
