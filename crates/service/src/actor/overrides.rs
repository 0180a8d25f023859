//! A coordinator's override from the dashboard: checked against the state (a
//! missing drone, lab, centre or mission is a 404; a reassignment the dispatcher
//! would not make, or a diversion to a lab lacking a test, is a 409), then journaled and handled like any event.

use super::Core;
use crate::messages::Outbound;
use labflight_core::Event;
use labflight_core::event::Override;
use labflight_dispatch::state::{Carrier, MissionStatus};
use labflight_hooks::fhir::IssueCode;
use labflight_server::{Accepted, Refusal};
use labflight_store::Batch;

impl Core {
    /// A coordinator's override: checked against the state, then journaled and
    /// handled like any event (source `user:<name>`).
    pub(super) fn override_(
        &mut self,
        by: String,
        action: Override,
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
    ) -> Result<Accepted, Refusal> {
        let state = self.dispatcher.state();
        let missing = |what: &str, id: &str| {
            Err(Refusal::new(
                404,
                IssueCode::NotFound,
                format!("no {what} `{id}`"),
            ))
        };
        match &action {
            Override::GroundFleet | Override::ReleaseFleet => {}
            Override::PauseDrone { drone } | Override::ResumeDrone { drone } => {
                if !state.drones.contains_key(drone) {
                    return missing("drone", drone.as_str());
                }
            }
            Override::LabUnavailable { lab } | Override::LabAvailable { lab } => {
                if !self.world.labs.contains_key(lab) {
                    return missing("lab", lab.as_str());
                }
            }
            Override::DivertLab { from, to } => {
                if let Err(refused) = labflight_dispatch::check_divert(&self.world, state, from, to)
                {
                    let status = match refused {
                        labflight_dispatch::DivertRefused::UnknownLab(_) => 404,
                        _ => 409,
                    };
                    let code = if status == 404 {
                        IssueCode::NotFound
                    } else {
                        IssueCode::BusinessRule
                    };
                    return Err(Refusal::new(status, code, refused.to_string()));
                }
            }
            Override::ForcePickup { station } => {
                if !self.world.stations.contains_key(station) {
                    return missing("centre", station.as_str());
                }
            }
            Override::ReassignMission { mission, drone } => {
                let Some(m) = state.missions.get(mission) else {
                    return missing("mission", mission.as_str());
                };
                let Some(d) = state.drones.get(drone) else {
                    return missing("drone", drone.as_str());
                };
                if m.status != MissionStatus::Assigned || !matches!(m.carrier, Carrier::Drone(_)) {
                    return Err(Refusal::new(
                        409,
                        IssueCode::BusinessRule,
                        format!(
                            "mission `{mission}` is {:?}: only an assigned drone mission not yet picked up can be reassigned",
                            m.status
                        ),
                    ));
                }
                // The dispatcher's own test: a drone it would not take is refused here.
                if !d.available(self.world.drone_spec.reserve_fraction) {
                    return Err(Refusal::new(
                        409,
                        IssueCode::BusinessRule,
                        format!(
                            "drone `{drone}` is not available (busy, charging, paused, out of contact or low on battery)"
                        ),
                    ));
                }
            }
        }
        self.apply(
            Event::Override {
                by: by.clone(),
                action,
            },
            format!("user:{by}"),
            None,
            batch,
            out,
        );
        // The effect shows on the dashboard at once, not at the next periodic snapshot.
        self.last_snapshot = std::time::Instant::now() - std::time::Duration::from_secs(10);
        Ok(Accepted::New)
    }
}
