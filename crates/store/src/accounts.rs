//! The dashboard's user accounts (argon2 hashes are made by the caller) and
//! their sessions, kept as token digests with an expiry; replacing a user ends
//! the user's sessions.

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
}

#[cfg(test)]
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
