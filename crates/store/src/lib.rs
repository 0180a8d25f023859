//! Durable state of the live service, through sqlx on SQLite (the default file) or
//! PostgreSQL (`DATABASE_URL`): the journal of accepted events, the commands they
//! caused (with whether each reached the broker), every tube's chain of custody,
//! and current rows for tubes, boxes and missions. One transaction per batch of events:
//! an event and its commands become durable together, before any command goes out.
//!
//! Layout: [`Store`] (open, the pool, which backend) is here; each table group
//! adds its methods to [`Store`] in a module of its own, and their row types are
//! re-exported here. The live service's: `batch.rs` (the one transaction that
//! commits a [`Batch`]), `journal.rs`, `snapshots.rs`, `commands.rs`,
//! `custody.rs`, `rows.rs` (current tubes, boxes, missions), `run_meta.rs` and
//! `lease.rs` (who owns the partition, and the epoch fence on its writes).
//! The dashboard's: `accounts.rs` (users and their sessions), `audit.rs`,
//! `alerts.rs` (raised alerts and their acknowledgements). Result sharing:
//! `subscriptions.rs`, `lab_reports.rs`, `outbox.rs` (deliveries and their
//! attempts). `error.rs` holds [`StoreError`] (`availability.rs` tells a
//! database that is away from one that refuses);
//! [`testing`] makes a fresh PostgreSQL database for a test.

#![deny(missing_docs)]

mod accounts;
mod alerts;
mod audit;
mod availability;
mod batch;
mod commands;
mod custody;
mod error;
mod journal;
mod lab_reports;
mod lease;
mod outbox;
mod placement;
mod rows;
mod run_meta;
mod snapshots;
mod subscriptions;
pub mod testing;

pub use accounts::User;
pub use alerts::StoredAlert;
pub use audit::AuditEntry;
pub use batch::Batch;
pub use commands::StoredCommand;
pub use error::{Result, StoreError};
pub use journal::JournalEntry;
pub use lab_reports::LabReportRow;
pub use lease::{Claim, DEFAULT_PARTITION, Lease, LeaseStatus, StandbyStatus};
pub use outbox::{Attempt, AttemptOutcome, HookSummary, OutboxItem};
pub use placement::partition_schema;
pub use rows::{BoxRow, MissionRow, TubeRow};
pub use run_meta::RunMeta;
pub use subscriptions::Subscription;

use chrono::{DateTime, SecondsFormat, Utc};
use labflight_core::Instant;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor};

/// PostgreSQL ends a session left idle inside a transaction this long. A writing
/// transaction share-locks the partition's lease row (`check_fence`): a process
/// paused mid-transaction (SIGSTOP, a frozen VM) would otherwise hold that lock
/// until it wakes, and the standby's takeover would wait on it for ever. A live
/// process never idles in a transaction for more than milliseconds.
const IDLE_IN_TRANSACTION_TIMEOUT: &str = "SET idle_in_transaction_session_timeout = '3s'";

/// Which database the store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (the default).
    Sqlite,
    /// PostgreSQL (`DATABASE_URL`).
    Postgres,
}

/// The database, behind a connection pool; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    pub(crate) backend: Backend,
    /// Set when this store writes for a partition lease (`lease.rs`).
    pub(crate) fence: Option<lease::Fence>,
}

/// A time as stored: RFC 3339, milliseconds, UTC.
pub(crate) fn ts(t: Instant) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A stored time read back; a malformed one is a corrupt row.
pub(crate) fn parse_ts(s: &str) -> Result<Instant> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time `{s}`: {e}")))
}

impl Store {
    /// Opens (creating if needed) the database at `url` and applies migrations.
    /// `sqlite://path` or `postgres://...`.
    pub async fn open(url: &str) -> Result<Store> {
        Store::open_in(url, None).await
    }

    /// Opens the store at `url` with its tables in PostgreSQL schema `schema`
    /// (created if needed; `None`: the connection's default), applying
    /// migrations there. See `placement.rs`.
    pub(crate) async fn open_in(url: &str, schema: Option<String>) -> Result<Store> {
        install_default_drivers();
        let open_err = |source| StoreError::Open {
            url: url.to_owned(),
            source,
        };
        let (backend, url_full) = if url.starts_with("sqlite:") {
            let with_mode = if url.contains('?') {
                url.to_owned()
            } else {
                format!("{url}?mode=rwc")
            };
            (Backend::Sqlite, with_mode)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            (Backend::Postgres, url.to_owned())
        } else {
            return Err(open_err(sqlx::Error::Configuration(
                "expected sqlite://FILE or postgres://... (DATABASE_URL)".into(),
            )));
        };
        // A database that is away is noticed within seconds, not the default 30.
        let options = AnyPoolOptions::new()
            .acquire_timeout(std::time::Duration::from_secs(5))
            .max_connections(match backend {
                Backend::Sqlite => 1,
                Backend::Postgres => 5,
            });
        let options = match (backend, schema) {
            (Backend::Sqlite, _) => options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode=WAL").await?;
                    conn.execute("PRAGMA synchronous=NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout=5000").await?;
                    Ok(())
                })
            }),
            (Backend::Postgres, schema) => {
                if let Some(schema) = &schema {
                    placement::create_schema(&url_full, schema)
                        .await
                        .map_err(open_err)?;
                }
                let search_path = schema.map(|s| format!("SET search_path TO \"{s}\""));
                options.after_connect(move |conn, _| {
                    let search_path = search_path.clone();
                    Box::pin(async move {
                        conn.execute(IDLE_IN_TRANSACTION_TIMEOUT).await?;
                        if let Some(set) = search_path {
                            conn.execute(set.as_str()).await?;
                        }
                        Ok(())
                    })
                })
            }
        };
        let pool = options.connect(&url_full).await.map_err(open_err)?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store {
            pool,
            backend,
            fence: None,
        })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }
}
