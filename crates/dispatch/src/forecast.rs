//! The dispatcher's own forecast for every tube: when its plan collects the box,
//! when the box reaches which lab, when the results are predicted back at the
//! centre, and why the plan misses the cutoff or a stability limit. The policies
//! write each box's `BoxForecast` where they decide (`SpecimenBox::forecast`);
//! `tube_outlooks` reads them, a query on the state with no IO, so what a
//! coordinator sees at risk is what the dispatcher itself expects and nothing else.

use crate::state::{BoxStatus, SpecimenBox, State, TubeStatus};
use crate::world::World;
use labflight_core::forecast::Risk;
use labflight_core::{BoxId, Instant, LabId, StationId, TubeBarcode};

/// One tube not yet reported, as the dispatcher's plan sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct TubeOutlook<'s> {
    /// The tube.
    pub barcode: &'s TubeBarcode,
    /// The box it travels in.
    pub box_id: &'s BoxId,
    /// The centre that drew it.
    pub station: &'s StationId,
    /// Where it is.
    pub status: TubeStatus,
    /// The lab the plan takes it to (or that has it).
    pub lab: Option<&'s LabId>,
    /// When a carrier is planned to collect it.
    pub pickup_at: Option<Instant>,
    /// When the plan has it at the lab.
    pub lab_arrival: Option<Instant>,
    /// When its result is predicted at the centre (none: the plan has no time
    /// for it).
    pub result_at: Option<Instant>,
    /// Its stability limit (latest lab arrival).
    pub stability_limit: Instant,
    /// Why it is at risk; none when the plan brings it in time.
    pub risk: Option<Risk>,
}

/// Every tube drawn and not yet reported, with the dispatcher's forecast for it,
/// in box order. A plan that slipped (a box not yet at the lab past its planned
/// arrival) is moved on to `state.now`, with its result by as much.
pub fn tube_outlooks<'s>(world: &World, state: &'s State) -> Vec<TubeOutlook<'s>> {
    let mut out = Vec::new();
    for b in state.boxes.values() {
        for tube in &b.tubes {
            let Some(ts) = state.tubes.get(&tube.barcode) else {
                continue;
            };
            if ts.status == TubeStatus::Reported {
                continue;
            }
            let base = TubeOutlook {
                barcode: &tube.barcode,
                box_id: &b.id,
                station: &b.station,
                status: ts.status,
                lab: ts
                    .lab
                    .as_ref()
                    .or(b.forecast.as_ref().and_then(|f| f.lab.as_ref())),
                pickup_at: None,
                lab_arrival: None,
                result_at: None,
                stability_limit: tube.stability_deadline(),
                risk: None,
            };
            out.push(outlook(world, state, b, ts.status, base));
        }
    }
    out
}

fn outlook<'s>(
    world: &World,
    state: &'s State,
    b: &'s SpecimenBox,
    status: TubeStatus,
    mut o: TubeOutlook<'s>,
) -> TubeOutlook<'s> {
    let now = state.now;
    let cutoff = world.service.cutoff;
    let after_cutoff = |lab: Option<&LabId>, result: Instant| {
        (result > cutoff).then(|| Risk::ResultAfterCutoff {
            lab: lab.cloned().unwrap_or_else(|| LabId::from("")),
            result,
        })
    };
    match status {
        TubeStatus::Rejected => {
            o.risk = Some(Risk::Rejected);
            return o;
        }
        TubeStatus::Resulted => {
            // Verified: only the report is left to reach the centre.
            let result = now + world.service.report;
            o.result_at = Some(result);
            o.risk = after_cutoff(o.lab, result);
            return o;
        }
        _ => {}
    }
    let Some(f) = &b.forecast else {
        // Not yet weighed by a pass (just sealed), or by a policy that does not
        // forecast: nothing claimed, nothing flagged, except the obvious.
        if matches!(b.status, BoxStatus::Stranded { .. }) {
            o.risk = Some(Risk::Stranded);
        }
        return o;
    };
    o.pickup_at = f.pickup_at;
    let at_lab = status == TubeStatus::AtLab;
    // A box not at the lab by its planned arrival is late by as much as it slips.
    let slip = match f.lab_arrival {
        Some(a) if !at_lab && a < now => now - a,
        _ => chrono::Duration::zero(),
    };
    o.lab_arrival = f.lab_arrival.map(|a| a + slip);
    o.result_at = f.result_at.map(|r| (r + slip).max(now));
    if let Some(risk) = &f.risk {
        o.risk = Some(risk.clone());
        return o;
    }
    if !at_lab
        && let (Some(lab), Some(arrival)) = (o.lab, o.lab_arrival)
        && arrival > o.stability_limit
    {
        o.risk = Some(Risk::StabilityBeforeArrival {
            lab: lab.clone(),
            arrival,
            limit: o.stability_limit,
        });
        return o;
    }
    if let Some(result) = o.result_at {
        o.risk = after_cutoff(o.lab, result);
    } else if matches!(b.status, BoxStatus::Stranded { .. }) {
        o.risk = Some(Risk::Stranded);
    }
    o
}
