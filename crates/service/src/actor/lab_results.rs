//! A lab's result report (FHIR, from the results API): accepted once per report
//! id, only for a tube that lab received and that has no result yet; it becomes
//! `tube_resulted`, is kept as sent, and is owed to the centre's subscriptions
//! (FHIR, or HL7 v2 over MLLP).

use super::Core;
use crate::delivery::is_mllp;
use crate::messages::Outbound;
use labflight_core::{Event, TubeBarcode};
use labflight_dispatch::LabClaim;
use labflight_dispatch::state::TubeStatus;
use labflight_hooks::fhir::{IssueCode, LabResult, report_bundle};
use labflight_server::{Accepted, Refusal};
use labflight_store::{Batch, LabReportRow};

impl Core {
    /// Accepts a lab's report for one tube, or says why not.
    pub(super) async fn lab_result(
        &mut self,
        lab: &str,
        report: labflight_hooks::fhir::IncomingReport,
        raw: String,
        batch: &mut Batch,
        out: &mut Vec<Outbound>,
    ) -> Result<Accepted, Refusal> {
        let barcode = TubeBarcode::new(&report.barcode);
        let expression = "Specimen.identifier";
        // The same report, already accepted (in this batch or before): harmless.
        let earlier = match batch
            .lab_reports
            .iter()
            .find(|r| r.lab == lab && r.report_id == report.report_id)
        {
            Some(r) => Some(r.barcode.clone()),
            None => self
                .store
                .lab_report(lab, &report.report_id)
                .await
                .map_err(|e| Refusal::new(500, IssueCode::Exception, e.to_string()))?
                .map(|r| r.barcode),
        };
        if let Some(b) = earlier {
            return if b == report.barcode {
                Ok(Accepted::Duplicate)
            } else {
                Err(Refusal::new(
                    409,
                    IssueCode::Conflict,
                    format!(
                        "report `{}` was already accepted for tube `{b}`, not `{barcode}`",
                        report.report_id
                    ),
                )
                .at("DiagnosticReport.identifier"))
            };
        }
        let lab_id = labflight_core::LabId::new(lab);
        self.lab_may(
            &lab_id,
            &barcode,
            LabClaim::Resulted,
            super::lab_claims::ClaimOrigin::http(lab),
            batch,
            out,
        )?;
        let state = self.dispatcher.state();
        let Some(tube) = state.tubes.get(&barcode) else {
            return Err(Refusal::new(
                404,
                IssueCode::NotFound,
                format!("no tube with barcode `{barcode}`"),
            )
            .at(expression));
        };
        if tube.lab.as_ref() != Some(&lab_id) || tube.status < TubeStatus::AtLab {
            return Err(Refusal::new(
                409,
                IssueCode::BusinessRule,
                format!("tube `{barcode}` was never received by {lab}: mark it received first"),
            )
            .at(expression));
        }
        if tube.status != TubeStatus::AtLab {
            return Err(Refusal::new(
                409,
                IssueCode::BusinessRule,
                format!(
                    "tube `{barcode}` already has a result or was rejected ({:?})",
                    tube.status
                ),
            )
            .at(expression));
        }
        let Some((station, drawn_at)) = state.boxes.get(&tube.box_id).and_then(|b| {
            b.tubes
                .iter()
                .find(|t| t.barcode == barcode)
                .map(|t| (b.station.clone(), t.drawn_at))
        }) else {
            return Err(Refusal::new(
                500,
                IssueCode::Exception,
                format!("tube `{barcode}` has no box"),
            ));
        };
        self.apply(
            Event::TubeResulted {
                barcode: barcode.clone(),
                lab: lab_id,
            },
            format!("lab:{lab}"),
            None,
            batch,
            out,
        );
        let issued = self.last_at;
        batch.lab_reports.push(LabReportRow {
            report_id: report.report_id.clone(),
            lab: lab.to_owned(),
            barcode: barcode.to_string(),
            body: raw,
            received_at: issued,
        });
        let result = LabResult {
            report_id: report.report_id.clone(),
            barcode: barcode.to_string(),
            station: station.to_string(),
            lab: lab.to_owned(),
            collected_at: drawn_at,
            issued_at: issued,
            observations: report.observations.clone(),
        };
        let fhir = report_bundle(&result).to_string();
        self.owe(&station, &barcode, "result", batch, |sub, id| {
            if is_mllp(&sub.url) {
                Some(labflight_hooks::hl7::oru_r01(&result, id))
            } else {
                Some(fhir.clone())
            }
        });
        Ok(Accepted::New)
    }
}
