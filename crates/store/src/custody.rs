//! Every tube's chain of custody as stored, read back in causal order.

use crate::{Result, Store, StoreError, parse_ts};
use labflight_core::{CustodyStep, CustodyStepKind};
use sqlx::Row;

impl Store {
    /// One tube's custody in time order (`None` for a barcode never seen).
    pub async fn custody(&self, barcode: &str) -> Result<Vec<CustodyStep>> {
        let rows = sqlx::query(
            "SELECT barcode, step, at, place, by_device, event_seq FROM custody WHERE barcode = $1",
        )
        .bind(barcode)
        .fetch_all(&self.pool)
        .await?;
        in_causal_order(rows)
    }

    /// Every custody step, by barcode then time.
    pub async fn all_custody(&self) -> Result<Vec<CustodyStep>> {
        let rows =
            sqlx::query("SELECT barcode, step, at, place, by_device, event_seq FROM custody")
                .fetch_all(&self.pool)
                .await?;
        in_causal_order(rows)
    }
}

/// Custody rows by barcode, time, event, then step: one event records several
/// steps at one instant (loaded, then in flight), and the table's own order
/// (its key sorts steps by name) would put "in flight" before "loaded".
fn in_causal_order(rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<CustodyStep>> {
    let mut steps = rows
        .into_iter()
        .map(|r| Ok((r.try_get::<i64, _>(5)?, custody_row(r)?)))
        .collect::<Result<Vec<_>>>()?;
    steps.sort_by(|(seq_a, a), (seq_b, b)| {
        (a.barcode.as_str(), a.at, seq_a, a.step).cmp(&(b.barcode.as_str(), b.at, seq_b, b.step))
    });
    Ok(steps.into_iter().map(|(_, s)| s).collect())
}

fn custody_row(r: sqlx::any::AnyRow) -> Result<CustodyStep> {
    let step: String = r.try_get(1)?;
    let kind = serde_json::Value::String(step.clone());
    Ok(CustodyStep {
        barcode: labflight_core::TubeBarcode::new(r.try_get::<String, _>(0)?),
        step: serde_json::from_value::<CustodyStepKind>(kind)
            .map_err(|_| StoreError::Corrupt(format!("custody step `{step}`")))?,
        at: parse_ts(&r.try_get::<String, _>(2)?)?,
        place: r.try_get(3)?,
        by: r.try_get(4)?,
    })
}
