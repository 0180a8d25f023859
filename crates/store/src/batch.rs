//! The one write of the live service: everything a batch of events produced
//! (journal, commands, custody, current rows, lab reports, outbox) committed in
//! one transaction, so an event and its effects become durable together.

use crate::{
    Backend, BoxRow, JournalEntry, LabReportRow, MissionRow, OutboxItem, Result, Store, StoreError,
    StoredCommand, TubeRow, ts,
};
use labflight_core::CustodyStep;

/// Journal rows per INSERT statement (6 parameters each, well under the limits of
/// SQLite and PostgreSQL).
const JOURNAL_ROWS_PER_INSERT: usize = 200;

/// Everything one batch of events produced, committed in one transaction.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// The events, in journal order.
    pub events: Vec<JournalEntry>,
    /// The commands they caused.
    pub commands: Vec<StoredCommand>,
    /// Each step with the journal seq of the event that caused it.
    pub custody: Vec<(i64, CustodyStep)>,
    /// Tubes whose row changed.
    pub tubes: Vec<TubeRow>,
    /// Missions whose row changed.
    pub missions: Vec<MissionRow>,
    /// Boxes whose row changed.
    pub boxes: Vec<BoxRow>,
    /// Lab reports accepted in this batch (idempotency by report id).
    pub lab_reports: Vec<LabReportRow>,
    /// Deliveries owed because of this batch: the outbox, in the same transaction.
    pub outbox: Vec<OutboxItem>,
}

impl Batch {
    /// Nothing to commit (no events, no deliveries).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.outbox.is_empty()
    }
}

impl Store {
    /// Commits a batch: journal, commands, custody, tube and mission rows together.
    pub async fn commit(&self, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        self.check_fence(&mut tx).await?;
        // Many rows per statement: the journal takes every telemetry sample.
        for chunk in batch.events.chunks(JOURNAL_ROWS_PER_INSERT) {
            let mut sql =
                String::from("INSERT INTO journal (seq, at, kind, source, digest, body) VALUES ");
            for i in 0..chunk.len() {
                let b = i * 6;
                if i > 0 {
                    sql.push_str(", ");
                }
                if self.backend == Backend::Sqlite {
                    // Positional: sqlx resolves `$N` names one by one on SQLite.
                    sql.push_str("(?, ?, ?, ?, ?, ?)");
                } else {
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6
                    ));
                }
            }
            let mut q = sqlx::query(&sql);
            for e in chunk {
                let body = serde_json::to_string(&e.stamped.event)
                    .map_err(|err| StoreError::Corrupt(err.to_string()))?;
                q = q
                    .bind(e.seq)
                    .bind(ts(e.stamped.at))
                    .bind(e.stamped.event.kind_name())
                    .bind(e.source.clone())
                    .bind(e.digest.clone())
                    .bind(body);
            }
            q.execute(&mut *tx).await?;
        }
        for c in &batch.commands {
            sqlx::query(
                "INSERT INTO commands (event_seq, idx, command_id, kind, topic, mission, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(c.event_seq)
            .bind(c.idx)
            .bind(&c.command_id)
            .bind(&c.kind)
            .bind(&c.topic)
            .bind(c.mission.clone())
            .bind(&c.body)
            .execute(&mut *tx)
            .await?;
        }
        for (seq, s) in &batch.custody {
            sqlx::query(
                "INSERT INTO custody (barcode, step, at, place, by_device, event_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(s.barcode.as_str())
            .bind(s.step.as_str())
            .bind(ts(s.at))
            .bind(s.place.clone())
            .bind(s.by.clone())
            .bind(*seq)
            .execute(&mut *tx)
            .await?;
        }
        let now = batch
            .events
            .last()
            .map(|e| ts(e.stamped.at))
            .unwrap_or_default();
        for t in &batch.tubes {
            sqlx::query(
                "INSERT INTO tubes (barcode, station, box_id, tube_type, drawn_at, status, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (barcode) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
            )
            .bind(&t.barcode)
            .bind(&t.station)
            .bind(&t.box_id)
            .bind(&t.tube_type)
            .bind(ts(t.drawn_at))
            .bind(&t.status)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for m in &batch.missions {
            sqlx::query(
                "INSERT INTO missions (mission, carrier, station, lab, status, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (mission) DO UPDATE SET carrier = excluded.carrier, lab = excluded.lab, \
                 status = excluded.status, updated_at = excluded.updated_at",
            )
            .bind(&m.mission)
            .bind(&m.carrier)
            .bind(&m.station)
            .bind(&m.lab)
            .bind(&m.status)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for b in &batch.boxes {
            sqlx::query(
                "INSERT INTO boxes (box_id, station, tubes, sealed_at, status, mission, lab, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (box_id) DO UPDATE SET status = excluded.status, mission = excluded.mission, \
                 lab = excluded.lab, updated_at = excluded.updated_at",
            )
            .bind(&b.box_id)
            .bind(&b.station)
            .bind(b.tubes)
            .bind(ts(b.sealed_at))
            .bind(&b.status)
            .bind(&b.mission)
            .bind(&b.lab)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for r in &batch.lab_reports {
            sqlx::query(
                "INSERT INTO lab_reports (report_id, lab, barcode, body, received_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&r.report_id)
            .bind(&r.lab)
            .bind(&r.barcode)
            .bind(&r.body)
            .bind(ts(r.received_at))
            .execute(&mut *tx)
            .await?;
        }
        for o in &batch.outbox {
            sqlx::query(
                "INSERT INTO outbox (webhook_id, seq, idx, subscription, barcode, kind, body, status, attempts, \
                 next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9)",
            )
            .bind(&o.webhook_id)
            .bind(o.seq)
            .bind(o.idx)
            .bind(&o.subscription)
            .bind(&o.barcode)
            .bind(&o.kind)
            .bind(&o.body)
            .bind(ts(o.next_attempt_at))
            .bind(ts(o.created_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
