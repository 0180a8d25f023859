//! What `/healthz` asks the store: whether the database answers, and how long the
//! oldest result still owed to a centre has waited.

use crate::{Result, Store, StoreError, parse_ts};
use labflight_core::Instant;
use sqlx::Row;

impl Store {
    /// When the oldest undelivered (pending) outbox item was created, if any.
    pub async fn oldest_pending_delivery(&self) -> Result<Option<Instant>> {
        let row = sqlx::query("SELECT MIN(created_at) FROM outbox WHERE status = 'pending'")
            .fetch_one(&self.pool)
            .await?;
        row.try_get::<Option<String>, _>(0)?
            .map(|t| parse_ts(&t))
            .transpose()
    }
}

impl StoreError {
    /// Whether the database is away (down, restarting, unreachable, busy) rather
    /// than refusing what was asked: worth waiting for and trying again.
    pub fn is_unavailable(&self) -> bool {
        let StoreError::Sql(e) = self else {
            return false;
        };
        match e {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Protocol(_)
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => {
                let code = db.code().unwrap_or_default();
                // PostgreSQL: connection exceptions (08), operator intervention
                // such as a shutdown (57); SQLite: busy (5) and locked (6).
                code.starts_with("08") || code.starts_with("57") || code == "5" || code == "6"
            }
            _ => false,
        }
    }
}
