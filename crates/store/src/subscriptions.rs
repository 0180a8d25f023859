//! The result-sharing subscriptions: who receives results, for which scope,
//! and how they are signed.

use crate::{Result, Store, ts};
use labflight_core::Instant;
use sqlx::Row;

/// A subscriber to results: where to send them and how to sign them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Subscription {
    /// The subscription's id.
    pub id: String,
    /// `all`, `station:<id>` or `group:<id>`.
    pub scope: String,
    /// Where deliveries are sent.
    pub url: String,
    /// The signing secret; never serialized.
    #[serde(skip_serializing)]
    pub secret: String,
    /// Deliveries are made (false once disabled).
    pub active: bool,
    /// Why it was disabled, if it was.
    pub disabled_reason: Option<String>,
}

fn subscription(r: sqlx::any::AnyRow) -> Result<Subscription> {
    Ok(Subscription {
        id: r.try_get(0)?,
        scope: r.try_get(1)?,
        url: r.try_get(2)?,
        secret: r.try_get(3)?,
        active: r.try_get::<i32, _>(4)? != 0,
        disabled_reason: r.try_get(5)?,
    })
}

impl Store {
    /// Adds a subscription.
    pub async fn add_subscription(&self, s: &Subscription, at: Instant) -> Result<()> {
        sqlx::query(
            "INSERT INTO subscriptions (id, scope, url, secret, active, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET scope = excluded.scope, url = excluded.url, secret = excluded.secret, \
             active = excluded.active, disabled_reason = NULL",
        )
        .bind(&s.id)
        .bind(&s.scope)
        .bind(&s.url)
        .bind(&s.secret)
        .bind(i32::from(s.active))
        .bind(ts(at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every subscription.
    pub async fn subscriptions(&self) -> Result<Vec<Subscription>> {
        let rows = sqlx::query(
            "SELECT id, scope, url, secret, active, disabled_reason FROM subscriptions ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(subscription).collect()
    }

    /// Stops deliveries to a subscription, saying why; its pending deliveries
    /// are marked `disabled`.
    pub async fn disable_subscription(&self, id: &str, reason: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE subscriptions SET active = 0, disabled_reason = $1 WHERE id = $2")
            .bind(reason)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "UPDATE outbox SET status = 'disabled' WHERE subscription = $1 AND status = 'pending'",
        )
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a subscription from the API: false (and nothing changes) when the id is
    /// taken. (Configured subscriptions use `add_subscription`, which replaces.)
    pub async fn create_subscription(&self, s: &Subscription, at: Instant) -> Result<bool> {
        let n = sqlx::query(
            "INSERT INTO subscriptions (id, scope, url, secret, active, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&s.id)
        .bind(&s.scope)
        .bind(&s.url)
        .bind(&s.secret)
        .bind(i32::from(s.active))
        .bind(ts(at))
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(n > 0)
    }

    /// Changes a subscription's scope, URL and secret (re-activating it, with the
    /// items a 410 held back queued again); returns what it was, or none when there
    /// is no such subscription.
    pub async fn update_subscription(&self, s: &Subscription) -> Result<Option<Subscription>> {
        let mut tx = self.pool.begin().await?;
        let old = sqlx::query(
            "SELECT id, scope, url, secret, active, disabled_reason FROM subscriptions WHERE id = $1",
        )
        .bind(&s.id)
        .fetch_optional(&mut *tx)
        .await?
        .map(subscription)
        .transpose()?;
        if old.is_some() {
            sqlx::query(
                "UPDATE subscriptions SET scope = $1, url = $2, secret = $3, active = $4, disabled_reason = NULL \
                 WHERE id = $5",
            )
            .bind(&s.scope)
            .bind(&s.url)
            .bind(&s.secret)
            .bind(i32::from(s.active))
            .bind(&s.id)
            .execute(&mut *tx)
            .await?;
            // Items held while it was disabled (a 410) go out again, in order.
            sqlx::query(
                "UPDATE outbox SET status = 'pending' WHERE subscription = $1 AND status = 'disabled'",
            )
            .bind(&s.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(old)
    }

    /// Removes a subscription; its undelivered items become `dead` with `reason` as
    /// their last error (they stay listed, and are not lost silently). Returns
    /// whether it existed and how many items it left dead.
    pub async fn delete_subscription(&self, id: &str, reason: &str) -> Result<(bool, u64)> {
        let mut tx = self.pool.begin().await?;
        let dead = sqlx::query(
            "UPDATE outbox SET status = 'dead', last_error = $1 WHERE subscription = $2 \
             AND status IN ('pending', 'disabled')",
        )
        .bind(reason)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let n = sqlx::query("DELETE FROM subscriptions WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok((n > 0, dead))
    }
}
