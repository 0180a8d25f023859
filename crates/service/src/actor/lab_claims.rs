//! What a lab may say about a tube: only the lab its box is delivered to or on its
//! way to (`check_lab_claim`). A claim about a tube the lab does not hold is
//! refused and journaled as `custody_disputed` (the coordinators are alerted),
//! whether it came over MQTT or from the HTTP edge (a tube marked received or
//! rejected at a lab).

use super::Core;
use crate::messages::Outbound;
use labflight_core::{Event, TubeBarcode};
use labflight_dispatch::state::TubeStatus;
use labflight_dispatch::{ClaimRefused, LabClaim, check_lab_claim};
use labflight_hooks::fhir::IssueCode;
use labflight_mqtt::Topic;
use labflight_server::{Accepted, Refusal, TubeAtLab};
use labflight_store::Batch;

/// Where a lab's claim came from: the journal's source and the message's digest,
/// and the claim itself to hold if it is refused (over MQTT only: over HTTP the
/// refusal is the lab's to act on).
pub(super) struct ClaimOrigin {
    pub(super) source: String,
    pub(super) digest: Option<String>,
    pub(super) held: Option<Event>,
}

impl ClaimOrigin {
    /// A claim from `lab`'s account over the HTTP API.
    pub(super) fn http(lab: &str) -> ClaimOrigin {
        ClaimOrigin {
            source: format!("lab:{lab}"),
            digest: None,
            held: None,
        }
    }
}

impl Core {
    /// A lab's claim over MQTT about a tube it does not hold (`check_lab_claim`):
    /// journaled as disputed (the coordinators are alerted), the message refused.
    /// `None` when the event is no such claim, or an allowed one.
    pub(super) fn disputed_claim(
        &mut self,
        topic: &str,
        digest: Option<String>,
        event: &Event,
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
    ) -> Option<String> {
        let state = self.dispatcher.state();
        let (lab, barcode, claim) = match event {
            Event::BoxReceived { box_id, lab } => {
                let first = state.boxes.get(box_id)?.tubes.first()?;
                (lab.clone(), first.barcode.clone(), LabClaim::Received)
            }
            Event::TubeResulted { barcode, lab } => {
                (lab.clone(), barcode.clone(), LabClaim::Resulted)
            }
            Event::TubeCentrifuged { barcode, lab } => {
                (lab.clone(), barcode.clone(), LabClaim::Centrifuged)
            }
            Event::TubeRejected { barcode, lab, .. } => {
                (lab.clone(), barcode.clone(), LabClaim::Rejected)
            }
            Event::ResultReported { barcode } => match Topic::parse(topic) {
                Some(Topic::LabEvents(lab)) => (lab, barcode.clone(), LabClaim::ResultReported),
                _ => return None,
            },
            _ => return None,
        };
        // Repeats of what is already so are harmless: the dispatcher ignores them.
        if let (LabClaim::Rejected, Some(t)) = (claim, state.tubes.get(&barcode))
            && t.status == TubeStatus::Rejected
            && t.lab.as_ref() == Some(&lab)
        {
            return None;
        }
        // Over MQTT a lab hears no refusal to send again: a claim about the tube
        // alone is held in case its box is on its way there unheard.
        let held = (claim != LabClaim::Received).then(|| event.clone());
        self.lab_may(
            &lab,
            &barcode,
            claim,
            ClaimOrigin {
                source: topic.to_owned(),
                digest,
                held,
            },
            batch,
            out,
        )
        .err()
        .map(|r| r.diagnostics)
    }

    /// A lab marks a tube received or rejected. Only the lab the tube's box is
    /// delivered to or on its way to may (`check_lab_claim`); anything else is
    /// refused, naming the tube's actual state, and raised as a custody conflict.
    pub(super) fn tube_at_lab(
        &mut self,
        lab: &str,
        barcode: &str,
        status: TubeAtLab,
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
    ) -> Result<Accepted, Refusal> {
        let code = TubeBarcode::new(barcode);
        let lab_id = labflight_core::LabId::new(lab);
        let claim = match status {
            TubeAtLab::Received => LabClaim::Received,
            TubeAtLab::Rejected { .. } => LabClaim::Rejected,
        };
        let state = self.dispatcher.state();
        if let Some(t) = state.tubes.get(&code) {
            let duplicate = match &status {
                TubeAtLab::Received => {
                    t.lab.as_ref() == Some(&lab_id) && t.status >= TubeStatus::AtLab
                }
                TubeAtLab::Rejected { .. } => {
                    t.lab.as_ref() == Some(&lab_id) && t.status == TubeStatus::Rejected
                }
            };
            if duplicate {
                return Ok(Accepted::Duplicate);
            }
        }
        self.lab_may(&lab_id, &code, claim, ClaimOrigin::http(lab), batch, out)?;
        let state = self.dispatcher.state();
        let Some(tube) = state.tubes.get(&code) else {
            return Err(Refusal::new(
                404,
                IssueCode::NotFound,
                format!("no tube with barcode `{barcode}`"),
            ));
        };
        match status {
            TubeAtLab::Received => {
                let box_id = tube.box_id.clone();
                self.apply(
                    Event::BoxReceived {
                        box_id,
                        lab: lab_id,
                    },
                    format!("lab:{lab}"),
                    None,
                    batch,
                    out,
                );
            }
            TubeAtLab::Rejected { reason } => {
                if tube.lab.as_ref() != Some(&lab_id) || tube.status < TubeStatus::AtLab {
                    return Err(Refusal::new(
                        409,
                        IssueCode::BusinessRule,
                        format!(
                            "tube `{barcode}` was never received by {lab}: mark it received first"
                        ),
                    ));
                }
                if tube.status >= TubeStatus::Resulted {
                    return Err(Refusal::new(
                        409,
                        IssueCode::BusinessRule,
                        format!(
                            "tube `{barcode}` already has a result ({})",
                            tube.status.name()
                        ),
                    ));
                }
                self.apply(
                    Event::TubeRejected {
                        barcode: code.clone(),
                        lab: lab_id,
                        reason: reason.clone(),
                    },
                    format!("lab:{lab}"),
                    None,
                    batch,
                    out,
                );
            }
        }
        Ok(Accepted::New)
    }

    /// Asks the custody rule whether `lab` may make `claim` about a tube. A refusal
    /// of a known tube is journaled as `custody_disputed` (the dispatcher raises a
    /// custody-conflict alert for the coordinators, and holds `held`, the claim
    /// itself, until the box reaches that lab) and answered 409 with the tube's
    /// actual state; an unknown tube is a 404.
    pub(super) fn lab_may(
        &mut self,
        lab: &labflight_core::LabId,
        barcode: &TubeBarcode,
        claim: LabClaim,
        ClaimOrigin {
            source,
            digest,
            held,
        }: ClaimOrigin,
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
    ) -> Result<(), Refusal> {
        match check_lab_claim(self.dispatcher.state(), lab, barcode) {
            Ok(()) => Ok(()),
            Err(ClaimRefused::UnknownTube) => Err(Refusal::new(
                404,
                IssueCode::NotFound,
                format!("no tube with barcode `{barcode}`"),
            )
            .at("Specimen.identifier")),
            Err(ClaimRefused::NotYours { actual }) => {
                let actual = actual.english(self.world.offset);
                self.metrics.reject("custody_conflict");
                self.apply(
                    Event::CustodyDisputed {
                        lab: lab.clone(),
                        barcode: barcode.clone(),
                        claim: claim.name().to_owned(),
                        held: held.map(Box::new),
                    },
                    source,
                    digest,
                    batch,
                    out,
                );
                Err(Refusal::new(
                    409,
                    IssueCode::BusinessRule,
                    format!(
                        "lab {lab} may not mark tube `{barcode}` {}: {actual}; only the lab its box is delivered to or on its way to may",
                        claim.name()
                    ),
                )
                .at("Specimen.identifier"))
            }
        }
    }
}
