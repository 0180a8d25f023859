//! Reading the journal of accepted events back: in order (recovery, replay), its
//! message digests (redeliveries) and where it ends.

use crate::{Result, Store, StoreError, parse_ts};
use labflight_core::{Instant, Stamped};
use sqlx::Row;

/// One accepted event with its place in the journal.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalEntry {
    /// Its place in the journal (from 1, no gaps).
    pub seq: i64,
    /// Who sent it: an MQTT topic, `clock`, or `user:<name>`.
    pub source: String,
    /// SHA-256 of the MQTT message it came in (QoS 1 and 2), to spot redeliveries.
    pub digest: Option<String>,
    /// The event and its service time.
    pub stamped: Stamped,
}

impl Store {
    /// The whole journal in order.
    pub async fn journal(&self) -> Result<Vec<JournalEntry>> {
        self.journal_after(0).await
    }

    /// The journal after event `seq`, in order.
    pub async fn journal_after(&self, seq: i64) -> Result<Vec<JournalEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, source, body, digest FROM journal WHERE seq > $1 ORDER BY seq",
        )
        .bind(seq)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let seq: i64 = r.try_get(0)?;
                let body: String = r.try_get(3)?;
                let event = serde_json::from_str(&body)
                    .map_err(|e| StoreError::Corrupt(format!("journal seq {seq}: {e}")))?;
                Ok(JournalEntry {
                    seq,
                    source: r.try_get(2)?,
                    digest: r.try_get(4)?,
                    stamped: Stamped {
                        at: parse_ts(&r.try_get::<String, _>(1)?)?,
                        event,
                    },
                })
            })
            .collect()
    }

    /// Digests of every QoS 1 message journaled (redeliveries are recognised by them).
    pub async fn journal_digests(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT digest FROM journal WHERE digest IS NOT NULL")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| r.try_get(0).map_err(StoreError::from))
            .collect()
    }

    /// The last journaled event: its sequence number and time.
    pub async fn journal_end(&self) -> Result<Option<(i64, Instant)>> {
        let row = sqlx::query("SELECT seq, at FROM journal ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get(0)?, parse_ts(&r.try_get::<String, _>(1)?)?)))
            .transpose()
    }

    /// The highest journal seq, 0 when empty.
    pub async fn last_seq(&self) -> Result<i64> {
        let row = sqlx::query("SELECT MAX(seq) FROM journal")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.unwrap_or(0))
    }
}
