//! What a signed-in person may do, and the role sets routes ask for.

use serde::{Deserialize, Serialize};

/// What a signed-in person may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Acts: overrides, acknowledgements, re-sends.
    Coordinator,
    /// Reads only.
    Viewer,
    /// Marks tubes received or rejected and posts results, for one lab.
    Lab,
}

impl Role {
    /// The role named `s` (`coordinator`, `viewer`, `lab`), if any.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "coordinator" => Some(Role::Coordinator),
            "viewer" => Some(Role::Viewer),
            "lab" => Some(Role::Lab),
            _ => None,
        }
    }

    /// The role's name, as stored and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Coordinator => "coordinator",
            Role::Viewer => "viewer",
            Role::Lab => "lab",
        }
    }
}

/// Any signed-in caller may read.
pub(crate) const READERS: &[Role] = &[Role::Coordinator, Role::Viewer, Role::Lab];

/// Callers who see every lab's items (a lab sees only its own).
pub(crate) const ALL_LABS: &[Role] = &[Role::Coordinator, Role::Viewer];
