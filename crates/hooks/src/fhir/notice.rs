//! A notice about a tube that is not (yet) a result: received by the lab, rejected
//! by it, or to be drawn again; what `status_bundle` tells the centre.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A notice about a tube that is not (yet) a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum StatusKind {
    /// The lab has the tube in reception.
    Received {
        /// The lab.
        lab: String,
        /// When it arrived.
        at: DateTime<Utc>,
    },
    /// The lab will not test the tube (haemolysed, expired, wrong tube, ...).
    Rejected {
        /// The lab.
        lab: String,
        /// When it was rejected.
        at: DateTime<Utc>,
        /// Why, in the lab's words.
        reason: String,
    },
    /// The centre is asked to draw the patient again.
    RedrawRequested {
        /// Why a new sample is needed.
        reason: String,
        /// When it was asked for.
        at: DateTime<Utc>,
    },
}

impl StatusKind {
    /// When it happened.
    pub fn at(&self) -> DateTime<Utc> {
        match self {
            Self::Received { at, .. }
            | Self::Rejected { at, .. }
            | Self::RedrawRequested { at, .. } => *at,
        }
    }

    /// `received`, `rejected` or `redraw` (the outbox's kind names).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Received { .. } => "received",
            Self::Rejected { .. } => "rejected",
            Self::RedrawRequested { .. } => "redraw",
        }
    }
}
