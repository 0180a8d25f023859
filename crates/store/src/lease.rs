//! Partition ownership: one owner per partition at a time, under an epoch that
//! grows at every change of owner. A lease alone is not enough (a paused process
//! wakes up still believing it owns one), so a store handed a [`Lease`]
//! ([`Store::fenced`]) checks the epoch inside every transaction that writes the
//! partition's journal, commands, custody, snapshots or outbox, and refuses with
//! [`StoreError::Fenced`] once another process took the partition over.
//! Expiry is read off the database's own clock, so owners need not agree on time.

use crate::{Backend, Result, Store, StoreError};
use sqlx::Row;
use std::sync::Arc;

/// The partition a single-district service owns.
pub const DEFAULT_PARTITION: &str = "district";

/// A partition held by this process: write through [`Store::fenced`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    /// The partition.
    pub partition: String,
    /// This process's name as an owner (unique per process).
    pub owner: String,
    /// The epoch this process owns it under.
    pub epoch: i64,
}

/// How a process claims a partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Take it now whoever holds it (a lone service restarting: the previous
    /// process is gone or must be fenced anyway).
    Now,
    /// Take it only if nobody holds it or its lease expired (a standby).
    WhenFree,
}

/// One partition's owner as the database has it (`labflight cluster status`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LeaseStatus {
    /// The partition.
    pub partition: String,
    /// Who holds it.
    pub owner: String,
    /// Under which epoch.
    pub epoch: i64,
    /// Milliseconds until the lease expires (negative: expired that long ago).
    pub expires_in_ms: i64,
    /// The lease length the owner renews for (every third of it).
    pub lease_ms: i64,
    /// The last journal seq the owner reported with its renewal.
    pub journal_seq: i64,
}

/// A process waiting to take a partition over, as it last reported.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct StandbyStatus {
    /// The partition it would take.
    pub partition: String,
    /// The standby process.
    pub member: String,
    /// Milliseconds since it last reported.
    pub seen_ms_ago: i64,
    /// The journal seq it had read up to.
    pub journal_seq: i64,
}

/// The fence a [`Store::fenced`] store checks: partition and epoch.
#[derive(Clone, Debug)]
pub(crate) struct Fence {
    partition: Arc<str>,
    epoch: i64,
}

impl Store {
    /// The database clock in milliseconds since the Unix epoch, as SQL.
    fn now_ms_sql(&self) -> &'static str {
        match self.backend {
            Backend::Postgres => "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT",
            Backend::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
        }
    }

    /// Claims `partition` for `owner` for `ttl_ms`: a new lease under the next
    /// epoch, or `None` when another owner holds an unexpired one (`Claim::WhenFree`).
    pub async fn claim_partition(
        &self,
        partition: &str,
        owner: &str,
        ttl_ms: i64,
        claim: Claim,
    ) -> Result<Option<Lease>> {
        let now = self.now_ms_sql();
        let mut tx = self.pool.begin().await?;
        let inserted = sqlx::query(&format!(
            "INSERT INTO partition_leases (partition_id, owner, epoch, expires_at_ms, lease_ms) \
             VALUES ($1, $2, 1, {now} + $3, $3) ON CONFLICT (partition_id) DO NOTHING"
        ))
        .bind(partition)
        .bind(owner)
        .bind(ttl_ms)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let epoch = if inserted == 1 {
            Some(1)
        } else {
            let only_expired = match claim {
                Claim::Now => String::new(),
                Claim::WhenFree => format!(" AND expires_at_ms < {now}"),
            };
            sqlx::query(&format!(
                "UPDATE partition_leases SET owner = $1, epoch = epoch + 1, \
                 expires_at_ms = {now} + $2, lease_ms = $2 WHERE partition_id = $3{only_expired} RETURNING epoch"
            ))
            .bind(owner)
            .bind(ttl_ms)
            .bind(partition)
            .fetch_optional(&mut *tx)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
        };
        tx.commit().await?;
        Ok(epoch.map(|epoch| Lease {
            partition: partition.to_owned(),
            owner: owner.to_owned(),
            epoch,
        }))
    }

    /// Extends `lease` by `ttl_ms` from now, recording how far the owner's journal
    /// got. `false`: the lease is lost (another owner, a newer epoch).
    pub async fn renew_lease(&self, lease: &Lease, ttl_ms: i64, journal_seq: i64) -> Result<bool> {
        let now = self.now_ms_sql();
        let renewed = sqlx::query(&format!(
            "UPDATE partition_leases SET expires_at_ms = {now} + $1, lease_ms = $1, journal_seq = $2 \
             WHERE partition_id = $3 AND owner = $4 AND epoch = $5"
        ))
        .bind(ttl_ms)
        .bind(journal_seq)
        .bind(&lease.partition)
        .bind(&lease.owner)
        .bind(lease.epoch)
        .execute(&self.pool)
        .await?
        .rows_affected();
        Ok(renewed == 1)
    }

    /// Lets `lease` go at once (a clean shutdown), so a standby need not wait
    /// for it to expire. The epoch stays: the next owner takes the next one.
    pub async fn release_lease(&self, lease: &Lease) -> Result<()> {
        let now = self.now_ms_sql();
        sqlx::query(&format!(
            "UPDATE partition_leases SET expires_at_ms = {now} - 1 \
             WHERE partition_id = $1 AND owner = $2 AND epoch = $3"
        ))
        .bind(&lease.partition)
        .bind(&lease.owner)
        .bind(lease.epoch)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every partition's owner, epoch and expiry, by partition.
    pub async fn leases(&self) -> Result<Vec<LeaseStatus>> {
        let now = self.now_ms_sql();
        let rows = sqlx::query(&format!(
            "SELECT partition_id, owner, epoch, expires_at_ms - {now}, journal_seq, lease_ms \
             FROM partition_leases ORDER BY partition_id"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(LeaseStatus {
                    partition: r.try_get(0)?,
                    owner: r.try_get(1)?,
                    epoch: r.try_get(2)?,
                    expires_in_ms: r.try_get(3)?,
                    journal_seq: r.try_get(4)?,
                    lease_ms: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// A standby says it is alive and how far it has read.
    pub async fn standby_heartbeat(
        &self,
        partition: &str,
        member: &str,
        journal_seq: i64,
    ) -> Result<()> {
        let now = self.now_ms_sql();
        sqlx::query(&format!(
            "INSERT INTO partition_standbys (partition_id, member, seen_at_ms, journal_seq) \
             VALUES ($1, $2, {now}, $3) ON CONFLICT (partition_id, member) \
             DO UPDATE SET seen_at_ms = {now}, journal_seq = $3"
        ))
        .bind(partition)
        .bind(member)
        .bind(journal_seq)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A standby that took its partition over (or stopped) is no longer one.
    pub async fn leave_standby(&self, partition: &str, member: &str) -> Result<()> {
        sqlx::query("DELETE FROM partition_standbys WHERE partition_id = $1 AND member = $2")
            .bind(partition)
            .bind(member)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Every standby, by partition then member.
    pub async fn standbys(&self) -> Result<Vec<StandbyStatus>> {
        let now = self.now_ms_sql();
        let rows = sqlx::query(&format!(
            "SELECT partition_id, member, {now} - seen_at_ms, journal_seq \
             FROM partition_standbys ORDER BY partition_id, member"
        ))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(StandbyStatus {
                    partition: r.try_get(0)?,
                    member: r.try_get(1)?,
                    seen_ms_ago: r.try_get(2)?,
                    journal_seq: r.try_get(3)?,
                })
            })
            .collect()
    }

    /// This store, writing for `lease`: its partition writes check the epoch.
    pub fn fenced(&self, lease: &Lease) -> Store {
        Store {
            fence: Some(Fence {
                partition: Arc::from(lease.partition.as_str()),
                epoch: lease.epoch,
            }),
            ..self.clone()
        }
    }

    /// Inside a writing transaction: fails with [`StoreError::Fenced`] unless this
    /// store's lease epoch is still the partition's. On PostgreSQL the lease row
    /// is share-locked until the transaction ends, so a takeover waits for it
    /// (or this check sees the takeover).
    pub(crate) async fn check_fence(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    ) -> Result<()> {
        let Some(fence) = &self.fence else {
            return Ok(());
        };
        let lock = match self.backend {
            Backend::Postgres => " FOR SHARE",
            Backend::Sqlite => "",
        };
        let current: i64 = sqlx::query(&format!(
            "SELECT epoch FROM partition_leases WHERE partition_id = $1{lock}"
        ))
        .bind(&*fence.partition)
        .fetch_optional(&mut **tx)
        .await?
        .map(|r| r.try_get::<i64, _>(0))
        .transpose()?
        .unwrap_or(0);
        if current != fence.epoch {
            return Err(StoreError::Fenced {
                partition: fence.partition.to_string(),
                held: fence.epoch,
                current,
            });
        }
        Ok(())
    }
}
