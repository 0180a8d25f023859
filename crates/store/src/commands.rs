//! The commands events caused, and whether each reached the broker (a restart
//! sends again those that did not).

use crate::{Result, Store, ts};
use labflight_core::Instant;
use sqlx::Row;

/// A command as stored: `body` is the JSON published on `topic`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredCommand {
    /// The journal seq of the event that caused it.
    pub event_seq: i64,
    /// Its index among that event's commands.
    pub idx: i32,
    /// The command's id.
    pub command_id: String,
    /// What kind of command.
    pub kind: String,
    /// The MQTT topic it goes out on.
    pub topic: String,
    /// The mission it belongs to, if any.
    pub mission: Option<String>,
    /// The JSON published.
    pub body: String,
    /// The broker has acknowledged it.
    pub published: bool,
}

impl Store {
    /// Commands, in the order given; `unpublished_only` for the restart's resend.
    pub async fn commands(&self, unpublished_only: bool) -> Result<Vec<StoredCommand>> {
        let sql = if unpublished_only {
            "SELECT event_seq, idx, command_id, kind, topic, mission, body, published_at FROM commands \
             WHERE published_at IS NULL ORDER BY event_seq, idx"
        } else {
            "SELECT event_seq, idx, command_id, kind, topic, mission, body, published_at FROM commands \
             ORDER BY event_seq, idx"
        };
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredCommand {
                    event_seq: r.try_get(0)?,
                    idx: r.try_get(1)?,
                    command_id: r.try_get(2)?,
                    kind: r.try_get(3)?,
                    topic: r.try_get(4)?,
                    mission: r.try_get(5)?,
                    body: r.try_get(6)?,
                    published: r.try_get::<Option<String>, _>(7)?.is_some(),
                })
            })
            .collect()
    }

    /// Records that the broker accepted these commands.
    pub async fn mark_published(&self, command_ids: &[String], at: Instant) -> Result<()> {
        if command_ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        self.check_fence(&mut tx).await?;
        for id in command_ids {
            sqlx::query("UPDATE commands SET published_at = $1 WHERE command_id = $2")
                .bind(ts(at))
                .bind(id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
