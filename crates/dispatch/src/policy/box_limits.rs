//! Asks the staff of centres at the edge of the drones' range to seal their boxes
//! before they grow too heavy for any drone. There a box of fifty tubes can only go
//! by van, and at the morning peak the vans are an hour away: its serum passes
//! its two hours on the road.

use super::weighing::ideal_can_fly;
use crate::ctx::Ctx;
use labflight_core::command::StationNotice;
use labflight_core::{Command, LabId, LatLon, StationId};

/// Tells each centre whose boxes a drone full at the charger nearest it can fly
/// only up to some number of tubes that number (or that a limit told before is
/// lifted), whenever the wind has changed since: the reach moves with it.
pub(super) fn tell_box_limits(ctx: &mut Ctx<'_>) {
    let wind = [
        ctx.state.weather.wind_east_mps.to_bits(),
        ctx.state.weather.wind_north_mps.to_bits(),
    ];
    if ctx.state.box_limits_wind == Some(wind) {
        return;
    }
    ctx.state.box_limits_wind = Some(wind);
    let capacity = ctx.world.box_spec.max_tubes;
    let stations: Vec<(StationId, LatLon)> = ctx
        .world
        .stations
        .values()
        .map(|s| (s.id.clone(), s.position))
        .collect();
    for (station, pos) in stations {
        let Some((charger, limit)) = heaviest_flyable_box(ctx, pos) else {
            continue;
        };
        let told = ctx.state.box_limits.get(&station).copied();
        let (max_tubes, reason) = match limit {
            Some(n) if told != Some(n) => {
                ctx.state.box_limits.insert(station.clone(), n);
                (
                    n,
                    format!(
                        "a box of more than {n} tubes is beyond every drone's reach from {charger}: seal by {n}"
                    ),
                )
            }
            None if told.is_some() => {
                ctx.state.box_limits.remove(&station);
                (
                    capacity,
                    format!("a full box is within reach from {charger} again"),
                )
            }
            _ => continue,
        };
        ctx.out.push(Command::NotifyStation {
            station,
            notice: StationNotice::BoxLimit { max_tubes, reason },
        });
    }
}

/// The charger nearest the centre at `pos` and the most tubes a box there may hold
/// for a drone full at that charger to fly it to one of the nearest labs: `None`
/// when a full box flies. No answer when not even one tube flies (only a van
/// helps) or there is no charger.
fn heaviest_flyable_box(ctx: &mut Ctx<'_>, pos: LatLon) -> Option<(String, Option<u32>)> {
    let charger = ctx.world.nearest_charger(pos)?;
    let (charger_id, from) = (charger.id.0.clone(), charger.position);
    let world = ctx.world;
    let labs: Vec<LabId> = world
        .nearest_labs(pos, crate::planner::LABS_WEIGHED)
        .map(|lab| lab.id.clone())
        .collect();
    let spec = &world.box_spec;
    let mut flies = |tubes: u32| {
        let kg = spec.payload_kg(tubes as usize);
        labs.iter()
            .any(|lab| ideal_can_fly(ctx, from, pos, lab, kg))
    };
    if flies(spec.max_tubes) {
        return Some((charger_id.to_string(), None));
    }
    if !flies(1) {
        return None;
    }
    // The reach falls with the load: the last count that flies, by bisection.
    let (mut flying, mut not) = (1, spec.max_tubes);
    while not - flying > 1 {
        let mid = flying + (not - flying) / 2;
        if flies(mid) {
            flying = mid;
        } else {
            not = mid;
        }
    }
    Some((charger_id.to_string(), Some(flying)))
}
