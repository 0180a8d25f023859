//! The outbox of result deliveries, drained in order per endpoint by the
//! delivery worker, with every attempt logged; and its summary for the
//! dashboard.

use crate::{Result, Store, StoreError, parse_ts, ts};
use labflight_core::Instant;
use sqlx::Row;

/// One delivery of one report (or status event) to one subscription.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OutboxItem {
    /// The delivery's id (sent with it).
    pub webhook_id: String,
    /// The journal seq of the event that owed this delivery.
    pub seq: i64,
    /// Its index among that event's deliveries: (seq, idx) is the delivery order.
    pub idx: i64,
    /// The subscription it goes to.
    pub subscription: String,
    /// The tube it is about.
    pub barcode: String,
    /// `result`, `received`, `rejected`, `redraw`.
    pub kind: String,
    /// What is sent; never serialized.
    #[serde(skip_serializing)]
    pub body: String,
    /// `pending`, `delivered`, `dead` or `disabled`.
    pub status: String,
    /// Attempts so far.
    pub attempts: i32,
    /// When it may be tried next.
    pub next_attempt_at: Instant,
    /// When it was owed (service time).
    pub created_at: Instant,
    /// When it was delivered.
    pub delivered_at: Option<Instant>,
    /// The HTTP status of the last attempt, if one came back.
    pub last_status: Option<i32>,
    /// How the last attempt failed, if it did.
    pub last_error: Option<String>,
}

/// One delivery attempt, as logged.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Attempt {
    /// The delivery it was for.
    pub webhook_id: String,
    /// Which attempt (from 1).
    pub attempt: i32,
    /// When it was made.
    pub at: Instant,
    /// The HTTP status that came back, if one did.
    pub status: Option<i32>,
    /// How it failed, if it did.
    pub error: Option<String>,
}

/// What an attempt led to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The subscriber took it.
    Delivered,
    /// Try again at this time.
    Retry(Instant),
    /// Give up on it.
    Dead,
}

fn item(r: sqlx::any::AnyRow) -> Result<OutboxItem> {
    Ok(OutboxItem {
        webhook_id: r.try_get(0)?,
        seq: r.try_get(1)?,
        subscription: r.try_get(2)?,
        barcode: r.try_get(3)?,
        kind: r.try_get(4)?,
        body: r.try_get(5)?,
        status: r.try_get(6)?,
        attempts: r.try_get(7)?,
        next_attempt_at: parse_ts(&r.try_get::<String, _>(8)?)?,
        created_at: parse_ts(&r.try_get::<String, _>(9)?)?,
        delivered_at: r
            .try_get::<Option<String>, _>(10)?
            .map(|s| parse_ts(&s))
            .transpose()?,
        last_status: r.try_get(11)?,
        last_error: r.try_get(12)?,
        idx: r.try_get(13)?,
    })
}

/// The outbox columns [`item`] reads, in its order.
const ITEM_COLUMNS: &str = "webhook_id, seq, subscription, barcode, kind, body, status, attempts, \
     next_attempt_at, created_at, delivered_at, last_status, last_error, idx";

impl Store {
    /// The barcodes with a delivered result (start-up reconciliation: each should
    /// have its `result_reported`).
    pub async fn delivered_result_barcodes(&self) -> Result<Vec<String>> {
        let rows = sqlx::query(
            "SELECT DISTINCT barcode FROM outbox WHERE kind = 'result' AND status = 'delivered' ORDER BY barcode",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| Ok(r.try_get::<String, _>(0)?))
            .collect()
    }

    /// When the oldest undelivered (pending) item was queued.
    pub async fn oldest_pending_at(&self) -> Result<Option<Instant>> {
        let row = sqlx::query("SELECT MIN(created_at) FROM outbox WHERE status = 'pending'")
            .fetch_one(&self.pool)
            .await?;
        row.try_get::<Option<String>, _>(0)?
            .map(|s| parse_ts(&s))
            .transpose()
    }

    /// A subscription's undelivered items, oldest first (the order they must go in).
    pub async fn pending_for(&self, subscription: &str, limit: i64) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM outbox WHERE subscription = $1 AND status = 'pending' ORDER BY seq, idx LIMIT $2"
        ))
        .bind(subscription)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(item).collect()
    }

    /// The outbox in delivery order, or one tube's part of it.
    pub async fn outbox(&self, barcode: Option<&str>) -> Result<Vec<OutboxItem>> {
        let rows = match barcode {
            Some(b) => {
                sqlx::query(&format!(
                    "SELECT {ITEM_COLUMNS} FROM outbox WHERE barcode = $1 ORDER BY seq, idx"
                ))
                .bind(b)
                .fetch_all(&self.pool)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {ITEM_COLUMNS} FROM outbox ORDER BY seq, idx"
                ))
                .fetch_all(&self.pool)
                .await?
            }
        };
        rows.into_iter().map(item).collect()
    }

    /// The latest `limit` outbox items, newest first.
    pub async fn latest_outbox(&self, limit: i64) -> Result<Vec<OutboxItem>> {
        let rows = sqlx::query(&format!(
            "SELECT {ITEM_COLUMNS} FROM outbox ORDER BY seq DESC, idx DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(item).collect()
    }

    /// Every attempt at one delivery, in order.
    pub async fn attempts(&self, webhook_id: &str) -> Result<Vec<Attempt>> {
        let rows = sqlx::query(
            "SELECT webhook_id, attempt, at, status, error FROM delivery_attempts WHERE webhook_id = $1 ORDER BY attempt",
        )
        .bind(webhook_id)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(Attempt {
                    webhook_id: r.try_get(0)?,
                    attempt: r.try_get(1)?,
                    at: parse_ts(&r.try_get::<String, _>(2)?)?,
                    status: r.try_get(3)?,
                    error: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Logs an attempt and moves the item on: delivered, retried at `retry_at`,
    /// or dead when `retry_at` is none.
    pub async fn record_attempt(
        &self,
        webhook_id: &str,
        at: Instant,
        status: Option<i32>,
        error: Option<&str>,
        outcome: AttemptOutcome,
    ) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        self.check_fence(&mut tx).await?;
        let attempts: i32 = sqlx::query("SELECT attempts FROM outbox WHERE webhook_id = $1")
            .bind(webhook_id)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get(0))
            .transpose()?
            .ok_or_else(|| StoreError::Corrupt(format!("no outbox item `{webhook_id}`")))?;
        let attempt = attempts + 1;
        sqlx::query("INSERT INTO delivery_attempts (webhook_id, attempt, at, status, error) VALUES ($1, $2, $3, $4, $5)")
            .bind(webhook_id)
            .bind(attempt)
            .bind(ts(at))
            .bind(status)
            .bind(error.map(str::to_owned))
            .execute(&mut *tx)
            .await?;
        let (new_status, next, delivered) = match outcome {
            AttemptOutcome::Delivered => ("delivered", at, Some(ts(at))),
            AttemptOutcome::Retry(when) => ("pending", when, None),
            AttemptOutcome::Dead => ("dead", at, None),
        };
        // An item dead-lettered (subscription deleted) or disabled while its attempt
        // was in flight stays so, unless the attempt delivered it after all.
        sqlx::query(
            "UPDATE outbox SET status = CASE WHEN status = 'pending' OR $1 = 'delivered' THEN $1 ELSE status END, \
             attempts = $2, next_attempt_at = $3, delivered_at = $4, \
             last_status = $5, last_error = $6 WHERE webhook_id = $7",
        )
        .bind(new_status)
        .bind(attempt)
        .bind(ts(next))
        .bind(delivered)
        .bind(status)
        .bind(error.map(str::to_owned))
        .bind(webhook_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// How many deliveries are still owed (pending).
    pub async fn pending_deliveries(&self) -> Result<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM outbox WHERE status = 'pending'")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get(0)?)
    }

    /// Puts a dead (or delivered) item back in the queue, due now; same webhook id
    /// (not an item of a deleted subscription: nobody would send it).
    pub async fn resend(&self, webhook_id: &str, now: Instant) -> Result<bool> {
        let n = sqlx::query(
            "UPDATE outbox SET status = 'pending', next_attempt_at = $1 WHERE webhook_id = $2 AND status <> 'pending' \
             AND subscription IN (SELECT id FROM subscriptions)",
        )
        .bind(ts(now))
        .bind(webhook_id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }
}

/// Counts of the outbox by status and the latest items.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct HookSummary {
    /// Deliveries not yet made.
    pub pending: i64,
    /// Deliveries given up on.
    pub failed: i64,
    /// Deliveries made.
    pub delivered: i64,
    /// The latest deliveries.
    pub recent: Vec<crate::OutboxItem>,
}

impl Store {
    /// The outbox by status, with the `recent` latest items.
    pub async fn hook_summary(&self, recent: i64) -> Result<HookSummary> {
        let mut summary = HookSummary::default();
        let rows = sqlx::query("SELECT status, COUNT(*) FROM outbox GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        for r in rows {
            let status: String = r.try_get(0)?;
            let n: i64 = r.try_get(1)?;
            match status.as_str() {
                "pending" => summary.pending += n,
                "delivered" => summary.delivered += n,
                _ => summary.failed += n,
            }
        }
        summary.recent = self.latest_outbox(recent).await?;
        Ok(summary)
    }
}
