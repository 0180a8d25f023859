//! The labs' reports, kept once per report identifier so a repeat is known.

use crate::{Result, Store, parse_ts};
use labflight_core::Instant;
use sqlx::Row;

/// A lab's report as received (for idempotency and audit).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LabReportRow {
    /// The report's identifier (the same report twice is one report).
    pub report_id: String,
    /// The lab that sent it.
    pub lab: String,
    /// The tube it is about.
    pub barcode: String,
    /// The report as received.
    pub body: String,
    /// When it was received (service time).
    pub received_at: Instant,
}

impl Store {
    /// The report `lab` sent under `report_id` (report ids are unique per lab).
    pub async fn lab_report(&self, lab: &str, report_id: &str) -> Result<Option<LabReportRow>> {
        let row = sqlx::query("SELECT report_id, lab, barcode, body, received_at FROM lab_reports WHERE lab = $1 AND report_id = $2")
            .bind(lab)
            .bind(report_id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(LabReportRow {
                report_id: r.try_get(0)?,
                lab: r.try_get(1)?,
                barcode: r.try_get(2)?,
                body: r.try_get(3)?,
                received_at: parse_ts(&r.try_get::<String, _>(4)?)?,
            })
        })
        .transpose()
    }
}
