//! The audit log: who did what, to what, and how it ended, newest first.

use crate::{Result, Store, parse_ts, ts};
use labflight_core::Instant;
use sqlx::Row;

/// The PostgreSQL advisory lock audit writers queue on (any fixed key no other
/// writer of this database takes).
const AUDIT_WRITER_LOCK: i64 = 0x6c66_6175_6469_7400; // "lfaudit"

/// One line of the audit log.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct AuditEntry {
    /// When (wall clock).
    pub at: Instant,
    /// Who.
    pub user: String,
    /// In which role.
    pub role: String,
    /// What they did.
    pub action: String,
    /// What to, if anything.
    pub target: Option<String>,
    /// `ok`, or why it was refused.
    pub outcome: String,
    /// Anything more worth keeping.
    pub detail: Option<String>,
}

impl Store {
    /// Appends to the audit log. Ids are taken in the insert itself, one writer
    /// at a time: SQLite has one connection; PostgreSQL writers (several
    /// connections, or several services on one database) queue on a
    /// transaction-scoped advisory lock, so no line is refused for a raced id.
    pub async fn audit(&self, e: &AuditEntry) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        if self.backend == crate::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(AUDIT_WRITER_LOCK)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "INSERT INTO audit (id, at, user_name, role, action, target, outcome, detail) \
             SELECT COALESCE(MAX(id), 0) + 1, $1, $2, $3, $4, $5, $6, $7 FROM audit",
        )
        .bind(ts(e.at))
        .bind(&e.user)
        .bind(&e.role)
        .bind(&e.action)
        .bind(&e.target)
        .bind(&e.outcome)
        .bind(&e.detail)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The audit log, newest first.
    pub async fn audit_log(&self, limit: i64) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT at, user_name, role, action, target, outcome, detail FROM audit ORDER BY id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(AuditEntry {
                    at: parse_ts(&r.try_get::<String, _>(0)?)?,
                    user: r.try_get(1)?,
                    role: r.try_get(2)?,
                    action: r.try_get(3)?,
                    target: r.try_get(4)?,
                    outcome: r.try_get(5)?,
                    detail: r.try_get(6)?,
                })
            })
            .collect()
    }
}
