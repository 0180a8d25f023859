//! What labs report: a box received, the queue, analyzers down and up, the lab
//! closed or open, tubes resulted, rejected and reported. A lab that can no longer
//! serve what is bound for it has those missions rerouted (`recovery::reroute_from`).
//! Every change to a lab's state goes through `Ctx::lab_mut`.

use super::recovery::reroute_from;
use crate::ctx::Ctx;
use crate::state::{BoxStatus, MissionStatus, ScannedIn, TubeStatus};
use labflight_core::Reason;
use labflight_core::command::{AlertKind, Severity, StationNotice};
use labflight_core::event::{LabUpdate, ReferredTube};
use labflight_core::{BoxId, Command, Event, LabId, TubeBarcode};

/// A box reached a lab (scanned in, or delivered by a van): its tubes are at the
/// lab, the lab's lines take them, and its mission is delivered once every box is.
pub(super) fn box_delivered(ctx: &mut Ctx<'_>, box_id: &BoxId, lab: &LabId) {
    let Some(b) = ctx.state.boxes.get_mut(box_id) else {
        return;
    };
    if matches!(b.status, BoxStatus::Delivered { .. }) {
        return;
    }
    let mission = match &b.status {
        BoxStatus::Assigned { mission } | BoxStatus::OnBoard { mission } => Some(mission.clone()),
        _ => None,
    };
    b.status = BoxStatus::Delivered { lab: lab.clone() };
    b.scanned_in_by = None;
    b.set_down = None;
    let barcodes: Vec<_> = b.tubes.iter().map(|t| t.barcode.clone()).collect();
    release_held_claims(ctx.state, &barcodes, lab);
    ctx.state.close_box(box_id);
    let box_ids = [box_id.clone()];
    if let Some(m) = mission.as_ref().and_then(|m| ctx.state.missions.get(m)) {
        let booked = m.lab.clone();
        ctx.unbook_inbound(&box_ids, &booked);
    }
    let mut families = Vec::new();
    let mut untestable = Vec::new();
    for bc in barcodes {
        if let Some(t) = ctx.state.tubes.get_mut(&bc) {
            t.status = t.status.max(TubeStatus::AtLab);
            t.received_at.get_or_insert(ctx.state.now);
            t.lab = Some(lab.clone());
            match ctx.world.labs.get(lab).and_then(|l| l.lacks(&t.families)) {
                Some(family) if t.status == TubeStatus::AtLab => untestable.push((bc, family)),
                _ => families.extend(t.families.iter().copied()),
            }
        }
    }
    redraw_untestable(ctx, box_id, lab, &untestable);
    let (world, now) = (ctx.world, ctx.state.now);
    let ls = ctx.lab_mut(lab);
    for f in &families {
        *ls.backlog.entry(*f).or_insert(0) += 1;
    }
    if let Some(l) = world.labs.get(lab) {
        crate::planner::lines_take(ls, l, families, now);
    }
    ctx.forecast_received(box_id, lab);
    if let Some(m) = mission.and_then(|m| ctx.state.missions.get_mut(&m)) {
        let all = m.boxes.iter().all(|b| {
            matches!(
                ctx.state.boxes.get(b).map(|x| &x.status),
                Some(BoxStatus::Delivered { .. })
            )
        });
        if all && m.status != MissionStatus::Aborted {
            m.status = MissionStatus::Delivered;
        }
    }
}

/// Tubes that reached a lab lacking one of their tests (a manual scan, a forced
/// override: no plan sends a box there): a tube already at a lab is not flown on,
/// so each is refused at once and its centre asked for a redraw, saying why; the
/// coordinator hears of it too.
fn redraw_untestable(
    ctx: &mut Ctx<'_>,
    box_id: &BoxId,
    lab: &LabId,
    untestable: &[(TubeBarcode, labflight_core::TestFamily)],
) {
    let Some(station) = ctx.state.boxes.get(box_id).map(|b| b.station.clone()) else {
        return;
    };
    for (barcode, family) in untestable {
        if let Some(t) = ctx.state.tubes.get_mut(barcode) {
            t.status = TubeStatus::Rejected;
            t.left_queue_at.get_or_insert(ctx.state.now);
        }
        let reason = Reason::UntestableAtLab {
            lab: lab.clone(),
            family: *family,
        };
        let said = ctx.english(&reason);
        ctx.alert(
            AlertKind::TubeAtRisk,
            Severity::Critical,
            barcode.as_str(),
            reason,
        );
        ctx.out.push(Command::NotifyStation {
            station: station.clone(),
            notice: StationNotice::RedrawNeeded {
                barcode: barcode.clone(),
                reason: said,
            },
        });
    }
}

/// A lab reports its queue, an analyzer down or up, or that it closed or opened;
/// missions it can no longer serve are rerouted. Whether to plan again.
pub(super) fn lab_update(ctx: &mut Ctx<'_>, lab: &LabId, update: &LabUpdate) -> bool {
    let Some(info) = ctx.world.labs.get(lab) else {
        return false;
    };
    let ls = ctx.lab_mut(lab);
    match update {
        LabUpdate::Queue { tubes } => {
            ls.reported_queue = Some(*tubes);
            let per_hour: f64 = info.analyzers.iter().map(|a| a.tubes_per_hour).sum();
            let overloaded = f64::from(*tubes) > per_hour;
            if overloaded && !ls.overload_alerted {
                ls.overload_alerted = true;
                let msg = Reason::LabQueueOverHour {
                    tubes: *tubes,
                    per_hour,
                };
                ctx.alert(
                    AlertKind::LabOverloaded,
                    Severity::Warning,
                    lab.as_str(),
                    msg,
                );
            } else if !overloaded {
                ls.overload_alerted = false;
            }
            false
        }
        LabUpdate::AnalyzerDown { analyzer } => {
            ls.analyzers_down.insert(analyzer.clone());
            reroute_from(
                ctx,
                lab,
                None,
                Reason::AnalyzerDown {
                    analyzer: analyzer.to_string(),
                    lab: lab.clone(),
                },
            );
            true
        }
        LabUpdate::AnalyzerUp { analyzer } => {
            ls.analyzers_down.remove(analyzer);
            true
        }
        LabUpdate::Closed => {
            ls.closed = true;
            reroute_from(ctx, lab, None, Reason::LabClosed { lab: lab.clone() });
            true
        }
        LabUpdate::Opened => {
            ls.closed = false;
            true
        }
    }
}

/// Another partition's tubes reached one of this partition's labs: its lines
/// take them as they take the lab's own (their custody stays with the sender).
pub(super) fn referral(ctx: &mut Ctx<'_>, lab: &LabId, tubes: &[ReferredTube]) -> bool {
    let Some(info) = ctx.world.labs.get(lab) else {
        return false;
    };
    let mut families = Vec::new();
    for t in tubes {
        if info.lacks(&t.families).is_some() || ctx.state.tubes.contains_key(&t.barcode) {
            continue;
        }
        let entry = (lab.clone(), t.families.clone());
        if ctx
            .state
            .referred
            .insert(t.barcode.clone(), entry)
            .is_none()
        {
            families.extend(t.families.iter().copied());
        }
    }
    let now = ctx.state.now;
    let ls = ctx.lab_mut(lab);
    for f in &families {
        *ls.backlog.entry(*f).or_insert(0) += 1;
    }
    crate::planner::lines_take(ls, info, families, now);
    true
}

/// A tube's result is verified: it leaves the lab's backlog (a referred tube
/// leaves the referrals).
pub(super) fn tube_resulted(ctx: &mut Ctx<'_>, barcode: &TubeBarcode, lab: &LabId) -> bool {
    let families = match ctx.state.tubes.get_mut(barcode) {
        Some(t) if t.status < TubeStatus::Resulted => {
            t.status = TubeStatus::Resulted;
            t.left_queue_at = Some(ctx.state.now);
            t.families.clone()
        }
        Some(_) => return false,
        None => match ctx.state.referred.remove(barcode) {
            Some((_, families)) => families,
            None => return false,
        },
    };
    let ls = ctx.lab_mut(lab);
    for f in families {
        if let Some(n) = ls.backlog.get_mut(&f) {
            *n = n.saturating_sub(1);
        }
    }
    false
}

/// The lab refused a tube: it leaves the backlog and its centre is asked to redraw.
pub(super) fn tube_rejected(
    ctx: &mut Ctx<'_>,
    barcode: &TubeBarcode,
    lab: &LabId,
    reason: &str,
) -> bool {
    let Some(t) = ctx.state.tubes.get_mut(barcode) else {
        return false;
    };
    if t.status >= TubeStatus::Resulted {
        return false;
    }
    t.status = TubeStatus::Rejected;
    t.left_queue_at.get_or_insert(ctx.state.now);
    let families = t.families.clone();
    let box_id = t.box_id.clone();
    let ls = ctx.lab_mut(lab);
    for f in families {
        if let Some(n) = ls.backlog.get_mut(&f) {
            *n = n.saturating_sub(1);
        }
    }
    if let Some(station) = ctx.state.boxes.get(&box_id).map(|b| b.station.clone()) {
        ctx.out.push(Command::NotifyStation {
            station,
            notice: StationNotice::RedrawNeeded {
                barcode: barcode.clone(),
                reason: format!("rejected by {lab}: {reason}"),
            },
        });
    }
    false
}

/// The result reached the centre.
pub(super) fn result_reported(ctx: &mut Ctx<'_>, barcode: &TubeBarcode) -> bool {
    if let Some(t) = ctx.state.tubes.get_mut(barcode) {
        t.status = TubeStatus::Reported;
        t.reported_at = Some(ctx.state.now);
    }
    false
}

/// The claims held for `barcodes` (`State::held_claims`) now that their box is
/// delivered to `lab`: that lab's are released for the edge to apply, in the
/// order they came; another lab's stay refused (their alert was raised).
fn release_held_claims(state: &mut crate::state::State, barcodes: &[TubeBarcode], lab: &LabId) {
    for bc in barcodes {
        if let Some(held) = state.held_claims.remove(bc) {
            let released = held.into_iter().filter(|(by, _)| by == lab);
            state.released_claims.extend(released.map(|(_, e)| e));
        }
    }
}

/// A lab claimed a tube that is not its own (refused at the edge): the
/// coordinators are alerted, naming the claim and where labflight has the tube.
/// A claim about the tube alone (`held`) is kept while its box is not yet at a
/// lab, in case it is on its way there unheard; nothing else changes.
pub(super) fn custody_disputed(
    ctx: &mut Ctx<'_>,
    lab: &LabId,
    barcode: &TubeBarcode,
    claim: &str,
    held: Option<&Event>,
) -> bool {
    let actual = crate::lab_claims::tube_whereabouts(ctx.state, barcode);
    // Both holds below wait for the tube's box to reach a lab: none once it has.
    let away = ctx
        .state
        .tubes
        .get(barcode)
        .map(|t| t.box_id.clone())
        .filter(|id| {
            ctx.state
                .boxes
                .get(id)
                .is_some_and(|b| !matches!(b.status, BoxStatus::Delivered { .. }))
        });
    if let Some(box_id) = away {
        if let Some(event) = held {
            let kept = ctx.state.held_claims.entry(barcode.clone()).or_default();
            let claim = (lab.clone(), event.clone());
            if !kept.contains(&claim) {
                kept.push(claim);
            }
        }
        // A scan-in refused now may be the first news of a drone flying on
        // unheard: held, to be honoured if that drone reports landing with the
        // box on this lab's pad (`drones::hand_over_on_landing`).
        if claim == crate::lab_claims::LabClaim::Received.name()
            && let Some(pad) = ctx.world.lab_pad(lab)
            && let Some(b) = ctx.state.boxes.get_mut(&box_id)
        {
            b.scanned_in_by = Some(ScannedIn {
                lab: lab.clone(),
                pad: pad.clone(),
            });
        }
    }
    ctx.alert(
        AlertKind::CustodyConflict,
        Severity::Critical,
        barcode.as_str(),
        Reason::LabClaimRefused {
            lab: lab.clone(),
            barcode: barcode.to_string(),
            claim: claim.to_owned(),
            whereabouts: Box::new(actual),
        },
    );
    false
}
