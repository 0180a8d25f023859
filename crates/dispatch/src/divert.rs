//! Whether a coordinator may divert the boxes bound for one lab to another: both
//! labs known and distinct, the new one taking boxes, and running every test of
//! every box on its way to the old one. One rule for the service's edge (which
//! answers the coordinator) and the core (which applies it).

use crate::state::{BoxStatus, MissionStatus, State};
use crate::world::World;
use labflight_core::{BoxId, LabId, TestFamily};

/// Why a diversion is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DivertRefused {
    /// No such lab.
    #[error("no lab `{0}`")]
    UnknownLab(LabId),
    /// A lab diverted to itself.
    #[error("`{0}` is both the lab to divert from and the lab to divert to")]
    SameLab(LabId),
    /// The lab to divert to takes nothing now.
    #[error("`{0}` takes no boxes now (marked unavailable or reported closed)")]
    NotTaking(LabId),
    /// The lab to divert to lacks a test a box bound for the other one needs.
    #[error("`{to}` does not run {family} (box `{box_id}`, bound for `{from}`, needs it)", family = .family.as_str())]
    LacksTest {
        /// The lab diverted from.
        from: LabId,
        /// The lab diverted to.
        to: LabId,
        /// A box that needs the test.
        box_id: BoxId,
        /// The test family `to` does not run.
        family: TestFamily,
    },
}

impl DivertRefused {
    /// The refusal as a code (the variant's name in snake case), for a reader
    /// to word in its own language beside the values it carries.
    pub fn code(&self) -> &'static str {
        match self {
            DivertRefused::UnknownLab(_) => "unknown_lab",
            DivertRefused::SameLab(_) => "same_lab",
            DivertRefused::NotTaking(_) => "not_taking",
            DivertRefused::LacksTest { .. } => "lacks_test",
        }
    }
}

/// The boxes bound for `from` (on a mission to it, not yet delivered) that a
/// diversion to `to` would move, or why it is refused.
pub fn check_divert(
    world: &World,
    state: &State,
    from: &LabId,
    to: &LabId,
) -> Result<Vec<BoxId>, DivertRefused> {
    for lab in [from, to] {
        if !world.labs.contains_key(lab) {
            return Err(DivertRefused::UnknownLab(lab.clone()));
        }
    }
    if from == to {
        return Err(DivertRefused::SameLab(from.clone()));
    }
    if state
        .labs
        .get(to)
        .is_some_and(|l| l.unavailable || l.closed)
    {
        return Err(DivertRefused::NotTaking(to.clone()));
    }
    let target = &world.labs[to];
    let mut bound = Vec::new();
    let missions = state.missions.values().filter(|m| {
        &m.lab == from && matches!(m.status, MissionStatus::Assigned | MissionStatus::PickedUp)
    });
    for m in missions {
        for b in m.boxes.iter().filter_map(|b| state.boxes.get(b)) {
            if matches!(b.status, BoxStatus::Delivered { .. }) {
                continue;
            }
            if let Some(family) = b.families.iter().find(|f| !target.runs(**f)) {
                return Err(DivertRefused::LacksTest {
                    from: from.clone(),
                    to: to.clone(),
                    box_id: b.id.clone(),
                    family: *family,
                });
            }
            bound.push(b.id.clone());
        }
    }
    Ok(bound)
}
