//! The dashboard's tables: user accounts (argon2 hashes are made by the caller),
//! sessions kept as token digests with an expiry, the audit log, alert
//! acknowledgements, and the reads the dashboard's panels need (recent alerts,
//! the hook delivery summary).

use crate::{Result, Store, parse_ts, ts};
use labflight_core::Instant;
use sqlx::Row;

/// A dashboard user account.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct User {
    /// The sign-in name.
    pub name: String,
    /// `coordinator`, `viewer` or `lab`.
    pub role: String,
    /// The lab a `lab` user acts for.
    pub lab: Option<String>,
    /// The argon2 hash (PHC string); never serialized.
    #[serde(skip_serializing)]
    pub password_hash: String,
}

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
    /// Adds a user, or replaces the role and password of an existing one; a
    /// replaced user's sessions end.
    pub async fn put_user(&self, user: &User, at: Instant) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM sessions WHERE user_name = $1")
            .bind(&user.name)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM users WHERE name = $1")
            .bind(&user.name)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO users (name, role, lab, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&user.name)
        .bind(&user.role)
        .bind(&user.lab)
        .bind(&user.password_hash)
        .bind(ts(at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The user named `name`, if any.
    pub async fn user(&self, name: &str) -> Result<Option<User>> {
        let row = sqlx::query("SELECT name, role, lab, password_hash FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| {
            Ok(User {
                name: r.try_get(0)?,
                role: r.try_get(1)?,
                lab: r.try_get(2)?,
                password_hash: r.try_get(3)?,
            })
        })
        .transpose()
    }

    /// Starts a session, kept by the token's SHA-256 digest.
    pub async fn add_session(
        &self,
        token_sha256: &str,
        user: &str,
        now: Instant,
        expires_at: Instant,
    ) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
            .bind(ts(now))
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_sha256, user_name, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_sha256)
        .bind(user)
        .bind(ts(now))
        .bind(ts(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user of an unexpired session, with the session's expiry.
    pub async fn session_user(
        &self,
        token_sha256: &str,
        now: Instant,
    ) -> Result<Option<(User, Instant)>> {
        let row = sqlx::query(
            "SELECT u.name, u.role, u.lab, u.password_hash, s.expires_at FROM sessions s \
             JOIN users u ON u.name = s.user_name WHERE s.token_sha256 = $1 AND s.expires_at > $2",
        )
        .bind(token_sha256)
        .bind(ts(now))
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok((
                User {
                    name: r.try_get(0)?,
                    role: r.try_get(1)?,
                    lab: r.try_get(2)?,
                    password_hash: r.try_get(3)?,
                },
                parse_ts(&r.try_get::<String, _>(4)?)?,
            ))
        })
        .transpose()
    }

    /// Ends the session with this token digest.
    pub async fn end_session(&self, token_sha256: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
            .bind(token_sha256)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

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

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, Utc};

    #[tokio::test]
    async fn sessions_end_when_they_expire_and_when_closed() {
        let dir = std::env::temp_dir().join(format!("lf-sessions-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::fs::remove_file(dir.join("s.db"));
        let store = Store::open(&format!("sqlite://{}", dir.join("s.db").display()))
            .await
            .unwrap();
        let now = Utc::now();
        let user = User {
            name: "coord".into(),
            role: "coordinator".into(),
            lab: None,
            password_hash: "$argon2id$stub".into(),
        };
        store.put_user(&user, now).await.unwrap();
        store
            .add_session("digest-a", "coord", now, now + Duration::hours(1))
            .await
            .unwrap();
        let (found, _) = store.session_user("digest-a", now).await.unwrap().unwrap();
        assert_eq!(found, user);
        assert!(
            store
                .session_user("digest-a", now + Duration::hours(2))
                .await
                .unwrap()
                .is_none(),
            "expired"
        );
        store.end_session("digest-a").await.unwrap();
        assert!(store.session_user("digest-a", now).await.unwrap().is_none());
        // Replacing a user keeps one row with the new role.
        let viewer = User {
            role: "viewer".into(),
            ..user
        };
        store
            .add_session("digest-b", "coord", now, now + Duration::hours(1))
            .await
            .unwrap();
        store.put_user(&viewer, now).await.unwrap();
        assert_eq!(store.user("coord").await.unwrap().unwrap().role, "viewer");
        // ... and ends the sessions made with the old password.
        assert!(store.session_user("digest-b", now).await.unwrap().is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
