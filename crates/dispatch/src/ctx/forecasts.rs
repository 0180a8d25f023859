//! The forecast a policy leaves on each box it decides about (`BoxForecast`), filled
//! in one place from what was decided: a carrier planned (with the result the labs'
//! lines predict), the reason no plan brings a box in time, or a box received.

use super::Ctx;
use labflight_core::forecast::{BoxForecast, Risk};
use labflight_core::{BoxId, Instant, LabId};

impl Ctx<'_> {
    /// `boxes` are planned to reach `lab` at `arrival`, collected at `pickup_at`;
    /// each box's result as the lab's lines predict it. Called before the boxes are
    /// booked inbound, so they are not counted ahead of themselves.
    pub fn forecast_planned(
        &mut self,
        boxes: &[BoxId],
        lab: &LabId,
        pickup_at: Option<Instant>,
        arrival: Instant,
    ) {
        let lab_info = self.world.labs.get(lab);
        for b in boxes {
            let Some(sb) = self.state.boxes.get(b) else {
                continue;
            };
            let result = lab_info.map(|l| self.predicted_result(l, &sb.families, arrival));
            let (result_at, risk) = match result {
                Some(Ok(at)) => (Some(at), None),
                _ => (None, Some(Risk::NoLab)),
            };
            if let Some(sb) = self.state.boxes.get_mut(b) {
                sb.forecast = Some(BoxForecast {
                    lab: Some(lab.clone()),
                    pickup_at,
                    lab_arrival: Some(arrival),
                    result_at,
                    risk,
                });
            }
        }
    }

    /// No plan brings `boxes` in time, for `risk`; what was planned stays beside it.
    pub fn forecast_risk(&mut self, boxes: &[BoxId], risk: &Risk) {
        for b in boxes {
            if let Some(sb) = self.state.boxes.get_mut(b) {
                sb.forecast.get_or_insert_with(BoxForecast::default).risk = Some(risk.clone());
            }
        }
    }

    /// `box_id` reached `lab` now, its tubes booked on the lab's lines: its result
    /// when the last of its families is through, verified and reported.
    pub fn forecast_received(&mut self, box_id: &BoxId, lab: &LabId) {
        let now = self.state.now;
        let result_at = self.world.labs.get(lab).and_then(|l| {
            let ls = self.state.labs.get(lab)?;
            let families = &self.state.boxes.get(box_id)?.families;
            crate::planner::booked_result(self.world, ls, l, families.iter().copied())
        });
        if let Some(sb) = self.state.boxes.get_mut(box_id) {
            sb.forecast = Some(BoxForecast {
                lab: Some(lab.clone()),
                pickup_at: None,
                lab_arrival: Some(now),
                result_at,
                risk: None,
            });
        }
    }
}
