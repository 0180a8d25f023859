//! The audit log: who did what, to what, and how it ended, newest first.

use crate::{Result, Store, parse_ts, ts};
use labflight_core::Instant;
use sqlx::Row;

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
    /// Appends to the audit log.
    pub async fn audit(&self, e: &AuditEntry) -> Result<()> {
        // Ids are taken in the insert itself; two writers racing for one id
        // (PostgreSQL) make one retry.
        for attempt in 0..3 {
            let r = sqlx::query(
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
            .execute(&self.pool)
            .await;
            match r {
                Ok(_) => return Ok(()),
                Err(err) if attempt < 2 && is_unique_violation(&err) => continue,
                Err(err) => return Err(err.into()),
            }
        }
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

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
