//! The dispatcher's state kept after an event, so a restart replays only the
//! journal after it (the latest two are kept).

use crate::{Result, Store, ts};
use labflight_core::Instant;
use sqlx::Row;

impl Store {
    /// Keeps the dispatcher's state after event `seq` (and the one before it; older
    /// snapshots go).
    pub async fn put_snapshot(&self, seq: i64, at: Instant, body: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        self.check_fence(&mut tx).await?;
        sqlx::query("DELETE FROM snapshots WHERE seq >= $1")
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO snapshots (seq, at, body) VALUES ($1, $2, $3)")
            .bind(seq)
            .bind(ts(at))
            .bind(body)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM snapshots WHERE seq < (SELECT MIN(seq) FROM (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT 2) AS kept)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest snapshot: the event it follows and its body.
    pub async fn latest_snapshot(&self) -> Result<Option<(i64, String)>> {
        let row = sqlx::query("SELECT seq, body FROM snapshots ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }
}
