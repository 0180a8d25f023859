//! What a lab user may see of the view: only that lab's boxes, missions and tubes.

use crate::view::{View, unacked};
use labflight_dispatch::state::{BoxStatus, State};
use std::collections::BTreeSet;

/// What one lab may read: the boxes delivered to it, in flight to it or assigned
/// to it, their tubes (and any tube it holds), and the missions bound for it.
#[derive(Clone, Debug, Default)]
pub struct LabScope {
    /// The lab.
    pub lab: String,
    /// The boxes it may read.
    pub boxes: BTreeSet<String>,
    /// The tubes it may read.
    pub tubes: BTreeSet<String>,
    /// The missions it may read.
    pub missions: BTreeSet<String>,
}

impl LabScope {
    /// What `lab` may read in `state`.
    pub fn new(state: &State, lab: &str) -> LabScope {
        let missions: BTreeSet<String> = state
            .missions
            .values()
            .filter(|m| m.lab.as_str() == lab)
            .map(|m| m.id.to_string())
            .collect();
        let mut scope = LabScope {
            lab: lab.to_owned(),
            missions,
            ..LabScope::default()
        };
        for b in state.boxes.values() {
            let ours = match &b.status {
                BoxStatus::Delivered { lab: to } => to.as_str() == lab,
                BoxStatus::Assigned { mission } | BoxStatus::OnBoard { mission } => {
                    scope.missions.contains(mission.as_str())
                }
                BoxStatus::Waiting | BoxStatus::Stranded { .. } => false,
            };
            if ours {
                scope.boxes.insert(b.id.to_string());
                scope
                    .tubes
                    .extend(b.tubes.iter().map(|t| t.barcode.to_string()));
            }
        }
        scope.tubes.extend(
            state
                .tubes
                .iter()
                .filter(|(_, t)| t.lab.as_ref().is_some_and(|l| l.as_str() == lab))
                .map(|(b, _)| b.to_string()),
        );
        scope
    }

    /// Whether the lab may read this tube.
    pub fn has_tube(&self, barcode: &str) -> bool {
        self.tubes.contains(barcode)
    }

    /// Whether the lab may read this box.
    pub fn has_box(&self, id: &str) -> bool {
        self.boxes.contains(id)
    }

    /// Whether the lab may read this mission.
    pub fn has_mission(&self, id: &str) -> bool {
        self.missions.contains(id)
    }

    /// `view` as this lab may see it: its boxes, missions, tubes at risk, the
    /// alerts and deliveries about them; centres' counts from its own items;
    /// drones without other labs' mission ids. Labs and KPIs stay (no item in
    /// them), without the divert options.
    pub fn filter(&self, mut view: View) -> View {
        view.boxes.retain(|b| self.has_box(&b.id));
        view.missions
            .retain(|m| m.column != "queued" && self.has_mission(&m.id));
        view.at_risk.retain(|t| self.has_tube(&t.barcode));
        view.alerts.retain(|a| {
            a.subject == self.lab
                || self.has_tube(&a.subject)
                || self.has_box(&a.subject)
                || self.has_mission(&a.subject)
        });
        view.alerts_unacked = unacked(&view.alerts);
        view.hooks.recent.retain(|h| self.has_tube(&h.barcode));
        let count = |status: &str| {
            view.hooks
                .recent
                .iter()
                .filter(|h| h.status == status)
                .count() as i64
        };
        view.hooks.pending = count("pending");
        view.hooks.failed = count("failed");
        view.hooks.delivered = count("delivered");
        for station in &mut view.stations {
            station.pending = view
                .boxes
                .iter()
                .filter(|b| b.station == station.id && b.status == "assigned")
                .map(|b| b.tubes)
                .sum();
            station.at_risk = view
                .at_risk
                .iter()
                .filter(|t| t.station == station.id)
                .count();
        }
        // Diverting is a coordinator's; the options name other labs' boxes.
        for lab in &mut view.labs {
            lab.divert.clear();
        }
        for drone in &mut view.drones {
            if drone
                .mission
                .as_deref()
                .is_some_and(|m| !self.has_mission(m))
            {
                drone.mission = None;
            }
        }
        view
    }
}
