//! Requests from the HTTP edge that must go through the service core — so they are
//! journaled, committed with their effects (outbox rows), and answered only then.

use labflight_hooks::fhir::{IncomingReport, IssueCode};
use tokio::sync::{mpsc, oneshot};

/// Why the core refused a request: the HTTP status and a FHIR OperationOutcome's parts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The HTTP status to answer with.
    pub status: u16,
    /// The OperationOutcome issue code.
    pub code: IssueCode,
    /// What was wrong, in words (the OperationOutcome's diagnostics).
    pub diagnostics: String,
    /// FHIRPath of the offending element, when there is one.
    pub expression: Option<String>,
}

impl Refusal {
    /// A refusal with a status, an issue code and what was wrong.
    pub fn new(status: u16, code: IssueCode, diagnostics: impl Into<String>) -> Refusal {
        Refusal {
            status,
            code,
            diagnostics: diagnostics.into(),
            expression: None,
        }
    }

    /// The same refusal, pointing at the offending element (FHIRPath).
    pub fn at(mut self, expression: &str) -> Refusal {
        self.expression = Some(expression.to_owned());
        self
    }
}

/// A lab marks a tube in its hands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TubeAtLab {
    /// The lab has the tube.
    Received,
    /// The lab will not test the tube.
    Rejected {
        /// Why, in the lab's words.
        reason: String,
    },
}

/// How an accepted request went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Accepted, and committed with its effects.
    New,
    /// The same report (by identifier) was accepted before: nothing changed.
    Duplicate,
}

/// Where the core answers a request, once it is committed (or refused).
pub type Reply = oneshot::Sender<Result<Accepted, Refusal>>;

/// A request for the service core, with where to answer it.
#[derive(Debug)]
pub enum Control {
    /// A lab posts a result for a tube.
    LabResult {
        /// The lab that sent it (from its token).
        lab: String,
        /// The report as parsed.
        report: IncomingReport,
        /// The report as received, kept with it.
        raw: String,
        /// Where the answer goes.
        reply: Reply,
    },
    /// A lab marks a tube received or rejected.
    TubeAtLab {
        /// The lab that sent it (from its token).
        lab: String,
        /// The tube.
        barcode: String,
        /// Received, or rejected and why.
        status: TubeAtLab,
        /// Where the answer goes.
        reply: Reply,
    },
    /// A coordinator's override from the dashboard.
    Override {
        /// The coordinator, by user name.
        by: String,
        /// What they asked for.
        action: labflight_core::event::Override,
        /// Where the answer goes.
        reply: Reply,
    },
    /// Subscriptions changed in the store: reload them.
    SubscriptionsChanged,
    /// The health check: answered once the core has handled everything queued
    /// before it and committed, so the wait is the core's lag.
    Ping {
        /// Where the answer goes.
        reply: Reply,
    },
}

/// Sends a request to the service core and waits for its answer. The outer
/// `Err` is a core that cannot answer (not running, or stopped: 503,
/// `transient`); the inner result is the core's own answer.
pub(crate) async fn ask(
    control: Option<&mpsc::Sender<Control>>,
    make: impl FnOnce(Reply) -> Control,
) -> Result<Result<Accepted, Refusal>, Refusal> {
    let Some(control) = control else {
        return Err(Refusal::new(
            503,
            IssueCode::Transient,
            "the service core is not running",
        ));
    };
    let stopped = || Refusal::new(503, IssueCode::Transient, "the service core stopped");
    let (tx, rx) = oneshot::channel();
    control.send(make(tx)).await.map_err(|_| stopped())?;
    rx.await.map_err(|_| stopped())
}
