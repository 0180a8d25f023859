//! The alerts the dispatcher raised (stored as its commands) as the dashboard
//! lists them, and their acknowledgements.

use crate::{Result, Store, parse_ts, ts};
use labflight_core::Instant;
use sqlx::Row;

/// An alert the dispatcher raised, with its acknowledgement if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredAlert {
    /// The alert command's id.
    pub command_id: String,
    /// The command's JSON envelope as published.
    pub body: String,
    /// Who acknowledged it.
    pub acked_by: Option<String>,
    /// When it was acknowledged.
    pub acked_at: Option<Instant>,
}

impl Store {
    /// The latest alerts the dispatcher raised, newest first.
    pub async fn recent_alerts(&self, limit: i64) -> Result<Vec<StoredAlert>> {
        let rows = sqlx::query(
            "SELECT c.command_id, c.body, a.user_name, a.at FROM commands c \
             LEFT JOIN alert_acks a ON a.command_id = c.command_id \
             WHERE c.kind = 'alert' ORDER BY c.event_seq DESC, c.idx DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(StoredAlert {
                    command_id: r.try_get(0)?,
                    body: r.try_get(1)?,
                    acked_by: r.try_get(2)?,
                    acked_at: r
                        .try_get::<Option<String>, _>(3)?
                        .map(|s| parse_ts(&s))
                        .transpose()?,
                })
            })
            .collect()
    }

    /// How many alerts nobody has acknowledged, in all (not only the recent ones).
    pub async fn unacked_alert_count(&self) -> Result<i64> {
        let row = sqlx::query(
            "SELECT COUNT(*) FROM commands c \
             LEFT JOIN alert_acks a ON a.command_id = c.command_id \
             WHERE c.kind = 'alert' AND a.command_id IS NULL",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// Acknowledges an alert; false when there is no such alert. Acknowledging
    /// twice keeps the first acknowledgement.
    pub async fn ack_alert(&self, command_id: &str, user: &str, at: Instant) -> Result<bool> {
        let exists = sqlx::query("SELECT 1 FROM commands WHERE command_id = $1 AND kind = 'alert'")
            .bind(command_id)
            .fetch_optional(&self.pool)
            .await?
            .is_some();
        if !exists {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO alert_acks (command_id, user_name, at) VALUES ($1, $2, $3) \
             ON CONFLICT (command_id) DO NOTHING",
        )
        .bind(command_id)
        .bind(user)
        .bind(ts(at))
        .execute(&self.pool)
        .await?;
        Ok(true)
    }
}
