//! What vans report (picked up, delivered, free again) and the calls they are
//! about to make: staff are asked to seal what they have drawn shortly before a van
//! calls, so those boxes go with it.

use super::lab::box_delivered;
use crate::ctx::Ctx;
use crate::state::{BoxStatus, Carrier, MissionStatus};
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Severity, StationNotice};
use labflight_core::event::CourierEventKind;
use labflight_core::{BoxId, Command, CourierId, Instant, MissionId, StationId};

/// A van picked up, delivered, or is free again at a position.
pub(super) fn courier_event(
    ctx: &mut Ctx<'_>,
    courier: &CourierId,
    kind: &CourierEventKind,
) -> bool {
    match kind {
        CourierEventKind::PickedUp { boxes } => {
            for b in boxes {
                let Some(mission) = ctx.state.van_run_awaiting(b, courier) else {
                    // Not this van's to take: custody stays where it is
                    // (`crate::custody` records no step either), and people look;
                    // unless this van already delivered it, and its report of the
                    // pickup comes late (redelivered after a restart).
                    if let Some(sb) = ctx.state.boxes.get(b)
                        && !delivered_by(ctx.state, b, courier)
                    {
                        let said = Reason::VanPickupConflict {
                            courier: courier.clone(),
                            box_id: b.clone(),
                            status: sb.status.name().to_owned(),
                        };
                        ctx.alert(
                            AlertKind::CustodyConflict,
                            Severity::Critical,
                            b.as_str(),
                            said,
                        );
                    }
                    continue;
                };
                if let Some(sb) = ctx.state.boxes.get_mut(b) {
                    sb.status = BoxStatus::OnBoard {
                        mission: mission.clone(),
                    };
                    sb.set_down = None;
                }
                if let Some(m) = ctx.state.missions.get_mut(&mission) {
                    m.status = MissionStatus::PickedUp;
                }
            }
        }
        CourierEventKind::Delivered { lab, boxes } => {
            for b in boxes {
                box_delivered(ctx, b, lab);
            }
        }
        CourierEventKind::Available { position } => {
            if let Some(c) = ctx.state.couriers.get_mut(courier) {
                c.position = *position;
            }
        }
    }
    false
}

/// Whether `courier` delivered `box_id` to a lab (on one of its runs).
fn delivered_by(state: &crate::state::State, box_id: &BoxId, courier: &CourierId) -> bool {
    let carrier = Carrier::Courier(courier.clone());
    matches!(
        state.boxes.get(box_id).map(|b| &b.status),
        Some(BoxStatus::Delivered { .. })
    ) && state
        .missions
        .values()
        .any(|m| m.carrier == carrier && m.boxes.contains(box_id))
}

/// How long before a van calls at a centre staff are asked to seal what they
/// have for it; a box sealed then, or already waiting, goes with it.
const VAN_SEAL_LEAD_MINUTES: i64 = 2;

/// When a van run not yet loaded calls at its centre, if that is within
/// `VAN_SEAL_LEAD_MINUTES` from `now`.
fn calls_soon(m: &crate::state::Mission, now: Instant) -> Option<Instant> {
    let at = m.van_calls_at?;
    let lead = chrono::Duration::minutes(VAN_SEAL_LEAD_MINUTES);
    (m.status == MissionStatus::Assigned && at >= now && at - now <= lead).then_some(at)
}

/// A van run about to call at `station` (`calls_soon`): the earliest such.
pub(super) fn van_calling(
    ctx: &Ctx<'_>,
    station: &StationId,
    families: &std::collections::BTreeSet<labflight_core::TestFamily>,
) -> Option<MissionId> {
    let now = ctx.state.now;
    ctx.state
        .missions
        .values()
        .filter(|m| m.station == *station)
        .filter(|m| ctx.world.lab_runs_all(&m.lab, families))
        .filter_map(|m| calls_soon(m, now).map(|at| (at, &m.id)))
        .min()
        .map(|(_, id)| id.clone())
}

/// Asks staff at each centre a van is about to call at to seal what they have
/// drawn, so it goes with the van (`box_sealed` puts it on board) rather than
/// wait for the next carrier.
pub(super) fn seal_for_vans(ctx: &mut Ctx<'_>) {
    let now = ctx.state.now;
    let calling: Vec<(MissionId, StationId, Instant, String)> = ctx
        .state
        .missions
        .values()
        .filter(|m| !m.seal_asked)
        .filter_map(|m| {
            let at = calls_soon(m, now)?;
            let Carrier::Courier(van) = &m.carrier else {
                return None;
            };
            Some((m.id.clone(), m.station.clone(), at, van.to_string()))
        })
        .collect();
    for (mission, station, at, van) in calling {
        if let Some(m) = ctx.state.missions.get_mut(&mission) {
            m.seal_asked = true;
        }
        ctx.out.push(Command::NotifyStation {
            station: station.clone(),
            notice: StationNotice::SealNow {
                reason: format!("{van} calls at {} for {mission}", ctx.world.clock(at)),
            },
        });
        let waiting = waiting_in_time_for(ctx, &mission, &station);
        if !waiting.is_empty() {
            ctx.join_van_call(&mission, waiting);
        }
    }
}

/// The boxes waiting for a drone at `station` that the van run `mission`, about to
/// call there, gets to its lab within their stability limits. They go with it: the
/// van calls anyway, drones are what the morning runs short of, and at a far
/// centre the next one may be an hour away. (Held to the cutoff as well, fewer
/// went and more missed it: 99.47 % on time over 21 seeds against 99.50 %.)
fn waiting_in_time_for(ctx: &Ctx<'_>, mission: &MissionId, station: &StationId) -> Vec<BoxId> {
    let Some(m) = ctx.state.missions.get(mission) else {
        return Vec::new();
    };
    let deliver_at = m.planned_arrival;
    ctx.state
        .boxes
        .values()
        .filter(|b| b.station == *station && b.status == BoxStatus::Waiting)
        .filter(|b| deliver_at <= b.stability_deadline)
        .map(|b| b.id.clone())
        .collect()
}
