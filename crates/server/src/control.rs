//! Requests from the HTTP edge that must go through the service core — so they are
//! journaled, committed with their effects (outbox rows), and answered only then.

use labflight_hooks::fhir::{IncomingReport, IssueCode};
use tokio::sync::oneshot;

/// Why the core refused a request: the HTTP status and a FHIR OperationOutcome's parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    /// The OperationOutcome issue code.
    pub code: IssueCode,
    pub diagnostics: String,
    /// FHIRPath of the offending element, when there is one.
    pub expression: Option<String>,
}

impl Refusal {
    pub fn new(status: u16, code: IssueCode, diagnostics: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            diagnostics: diagnostics.into(),
            expression: None,
        }
    }

    pub fn at(mut self, expression: &str) -> Refusal {
        self.expression = Some(expression.to_owned());
        self
    }
}

/// A lab marks a tube in its hands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TubeAtLab {
    Received,
    Rejected { reason: String },
}

/// How an accepted request went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Accepted {
    New,
    /// The same report (by identifier) was accepted before: nothing changed.
    Duplicate,
}

pub type Reply = oneshot::Sender<Result<Accepted, Refusal>>;

#[derive(Debug)]
pub enum Control {
    LabResult {
        lab: String,
        report: IncomingReport,
        raw: String,
        reply: Reply,
    },
    TubeAtLab {
        lab: String,
        barcode: String,
        status: TubeAtLab,
        reply: Reply,
    },
    /// A coordinator's override from the dashboard.
    Override {
        by: String,
        action: labflight_core::event::Override,
        reply: Reply,
    },
    /// Subscriptions changed in the store: reload them.
    SubscriptionsChanged,
    /// The health check: answered once the core has handled everything queued
    /// before it and committed, so the wait is the core's lag.
    Ping { reply: Reply },
}
