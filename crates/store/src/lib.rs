//! Durable state of the live service, through sqlx on SQLite (the default file) or
//! PostgreSQL (`DATABASE_URL`): the journal of accepted events, the commands they
//! caused (with whether each reached the broker), every tube's chain of custody,
//! and current rows for tubes, boxes and missions. One transaction per batch of events:
//! an event and its commands become durable together, before any command goes out.
//!
//! Layout: [`Store`] and the live service's tables (journal, commands, custody,
//! current rows, run metadata) are here; the dashboard's tables (users, sessions,
//! audit log, alert acknowledgements) are in `dashboard.rs`, the result-sharing
//! tables (subscriptions, lab reports, the outbox and its attempts) in
//! `hooks.rs`, each adding methods to [`Store`]; their row types are re-exported
//! here. [`testing`] makes a fresh PostgreSQL database for a test.

#![deny(missing_docs)]

mod availability;
mod dashboard;
mod hooks;

pub use dashboard::{AuditEntry, HookSummary, StoredAlert, User};
pub use hooks::{Attempt, AttemptOutcome, LabReportRow, OutboxItem, Subscription};

use chrono::{DateTime, SecondsFormat, Utc};
use labflight_core::{CustodyStep, CustodyStepKind, Instant, Stamped};
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Executor, Row};

/// Why the store could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be opened.
    #[error("database `{url}`: {source}")]
    Open {
        /// The database URL, as given.
        url: String,
        /// What sqlx said.
        source: sqlx::Error,
    },
    /// The schema could not be brought up to date.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A query failed.
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// A stored row does not read back as what was written.
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
}

/// The store's result.
pub type Result<T> = std::result::Result<T, StoreError>;

/// Journal rows per INSERT statement (6 parameters each, well under the limits of
/// SQLite and PostgreSQL).
const JOURNAL_ROWS_PER_INSERT: usize = 200;

/// Which database the store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file (the default).
    Sqlite,
    /// PostgreSQL (`DATABASE_URL`).
    Postgres,
}

/// What the stored run is: a restart must continue the same scenario and policy.
#[derive(Clone, Debug, PartialEq)]
pub struct RunMeta {
    /// The scenario's name.
    pub scenario: String,
    /// The dispatch policy's name.
    pub policy: String,
    /// The run's random seed.
    pub seed: u64,
    /// Service time when the run started.
    pub started_at: Instant,
    /// Wall-clock milliseconds since the Unix epoch at `started_at`.
    pub wall_epoch_ms: i64,
    /// Virtual seconds per wall second (1 in production, 60 in the demo).
    pub speed: f64,
}

/// One accepted event with its place in the journal.
#[derive(Clone, Debug, PartialEq)]
pub struct JournalEntry {
    /// Its place in the journal (from 1, no gaps).
    pub seq: i64,
    /// Who sent it: an MQTT topic, `clock`, or `user:<name>`.
    pub source: String,
    /// SHA-256 of the MQTT message it came in (QoS 1 and 2), to spot redeliveries.
    pub digest: Option<String>,
    /// The event and its service time.
    pub stamped: Stamped,
}

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

/// A tube's current row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TubeRow {
    /// The tube's barcode.
    pub barcode: String,
    /// The centre it was collected at.
    pub station: String,
    /// The box it was sealed in.
    pub box_id: String,
    /// Its tube type.
    pub tube_type: String,
    /// When the blood was drawn.
    pub drawn_at: Instant,
    /// Where it is now (`in_box`, `at_lab`, `resulted`, `reported`, `rejected`).
    pub status: String,
}

/// A mission's current row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MissionRow {
    /// The mission's id.
    pub mission: String,
    /// `drone` or `van`.
    pub carrier: String,
    /// The centre it fetches from.
    pub station: String,
    /// The lab it delivers to.
    pub lab: String,
    /// Where it is in its life.
    pub status: String,
}

/// A box's current row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoxRow {
    /// The box's id.
    pub box_id: String,
    /// The centre that sealed it.
    pub station: String,
    /// How many tubes it holds.
    pub tubes: i32,
    /// When it was sealed.
    pub sealed_at: Instant,
    /// `waiting`, `assigned`, `on_board`, `stranded` or `delivered`.
    pub status: String,
    /// The mission carrying it, if any.
    pub mission: Option<String>,
    /// The lab it is bound for or was delivered to, if any.
    pub lab: Option<String>,
}

/// Everything one batch of events produced, committed in one transaction.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// The events, in journal order.
    pub events: Vec<JournalEntry>,
    /// The commands they caused.
    pub commands: Vec<StoredCommand>,
    /// Each step with the journal seq of the event that caused it.
    pub custody: Vec<(i64, CustodyStep)>,
    /// Tubes whose row changed.
    pub tubes: Vec<TubeRow>,
    /// Missions whose row changed.
    pub missions: Vec<MissionRow>,
    /// Boxes whose row changed.
    pub boxes: Vec<BoxRow>,
    /// Lab reports accepted in this batch (idempotency by report id).
    pub lab_reports: Vec<LabReportRow>,
    /// Deliveries owed because of this batch: the outbox, in the same transaction.
    pub outbox: Vec<OutboxItem>,
}

impl Batch {
    /// Nothing to commit (no events, no deliveries).
    pub fn is_empty(&self) -> bool {
        self.events.is_empty() && self.outbox.is_empty()
    }
}

/// The database, behind a connection pool; cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) pool: AnyPool,
    backend: Backend,
}

pub(crate) fn ts(t: Instant) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub(crate) fn parse_ts(s: &str) -> Result<Instant> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time `{s}`: {e}")))
}

impl Store {
    /// Opens (creating if needed) the database at `url` and applies migrations.
    /// `sqlite://path` or `postgres://...`.
    pub async fn open(url: &str) -> Result<Store> {
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
        let options = if backend == Backend::Sqlite {
            options.after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode=WAL").await?;
                    conn.execute("PRAGMA synchronous=NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout=5000").await?;
                    Ok(())
                })
            })
        } else {
            options
        };
        let pool = options.connect(&url_full).await.map_err(open_err)?;
        sqlx::migrate!("./migrations").run(&pool).await?;
        Ok(Store { pool, backend })
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The stored run, if one was started.
    pub async fn run_meta(&self) -> Result<Option<RunMeta>> {
        let row =
            sqlx::query("SELECT scenario, policy, seed, started_at, wall_epoch_ms, speed FROM run_meta WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| {
            Ok(RunMeta {
                scenario: r.try_get(0)?,
                policy: r.try_get(1)?,
                seed: r.try_get::<i64, _>(2)? as u64,
                started_at: parse_ts(&r.try_get::<String, _>(3)?)?,
                wall_epoch_ms: r.try_get(4)?,
                speed: r.try_get(5)?,
            })
        })
        .transpose()
    }

    /// Records the run (the first start).
    pub async fn set_run_meta(&self, meta: &RunMeta) -> Result<()> {
        sqlx::query(
            "INSERT INTO run_meta (id, scenario, policy, seed, started_at, wall_epoch_ms, speed) \
             VALUES (1, $1, $2, $3, $4, $5, $6)",
        )
        .bind(&meta.scenario)
        .bind(&meta.policy)
        .bind(meta.seed as i64)
        .bind(ts(meta.started_at))
        .bind(meta.wall_epoch_ms)
        .bind(meta.speed)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Commits a batch: journal, commands, custody, tube and mission rows together.
    pub async fn commit(&self, batch: &Batch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let mut tx = self.pool.begin().await?;
        // Many rows per statement: the journal takes every telemetry sample.
        for chunk in batch.events.chunks(JOURNAL_ROWS_PER_INSERT) {
            let mut sql =
                String::from("INSERT INTO journal (seq, at, kind, source, digest, body) VALUES ");
            for i in 0..chunk.len() {
                let b = i * 6;
                if i > 0 {
                    sql.push_str(", ");
                }
                if self.backend == Backend::Sqlite {
                    // Positional: sqlx resolves `$N` names one by one on SQLite.
                    sql.push_str("(?, ?, ?, ?, ?, ?)");
                } else {
                    sql.push_str(&format!(
                        "(${}, ${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 5,
                        b + 6
                    ));
                }
            }
            let mut q = sqlx::query(&sql);
            for e in chunk {
                let body = serde_json::to_string(&e.stamped.event)
                    .map_err(|err| StoreError::Corrupt(err.to_string()))?;
                q = q
                    .bind(e.seq)
                    .bind(ts(e.stamped.at))
                    .bind(e.stamped.event.kind_name())
                    .bind(e.source.clone())
                    .bind(e.digest.clone())
                    .bind(body);
            }
            q.execute(&mut *tx).await?;
        }
        for c in &batch.commands {
            sqlx::query(
                "INSERT INTO commands (event_seq, idx, command_id, kind, topic, mission, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(c.event_seq)
            .bind(c.idx)
            .bind(&c.command_id)
            .bind(&c.kind)
            .bind(&c.topic)
            .bind(c.mission.clone())
            .bind(&c.body)
            .execute(&mut *tx)
            .await?;
        }
        for (seq, s) in &batch.custody {
            sqlx::query(
                "INSERT INTO custody (barcode, step, at, place, by_device, event_seq) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(s.barcode.as_str())
            .bind(s.step.as_str())
            .bind(ts(s.at))
            .bind(s.place.clone())
            .bind(s.by.clone())
            .bind(*seq)
            .execute(&mut *tx)
            .await?;
        }
        let now = batch
            .events
            .last()
            .map(|e| ts(e.stamped.at))
            .unwrap_or_default();
        for t in &batch.tubes {
            sqlx::query(
                "INSERT INTO tubes (barcode, station, box_id, tube_type, drawn_at, status, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (barcode) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at",
            )
            .bind(&t.barcode)
            .bind(&t.station)
            .bind(&t.box_id)
            .bind(&t.tube_type)
            .bind(ts(t.drawn_at))
            .bind(&t.status)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for m in &batch.missions {
            sqlx::query(
                "INSERT INTO missions (mission, carrier, station, lab, status, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (mission) DO UPDATE SET carrier = excluded.carrier, lab = excluded.lab, \
                 status = excluded.status, updated_at = excluded.updated_at",
            )
            .bind(&m.mission)
            .bind(&m.carrier)
            .bind(&m.station)
            .bind(&m.lab)
            .bind(&m.status)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for b in &batch.boxes {
            sqlx::query(
                "INSERT INTO boxes (box_id, station, tubes, sealed_at, status, mission, lab, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 ON CONFLICT (box_id) DO UPDATE SET status = excluded.status, mission = excluded.mission, \
                 lab = excluded.lab, updated_at = excluded.updated_at",
            )
            .bind(&b.box_id)
            .bind(&b.station)
            .bind(b.tubes)
            .bind(ts(b.sealed_at))
            .bind(&b.status)
            .bind(&b.mission)
            .bind(&b.lab)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        for r in &batch.lab_reports {
            sqlx::query(
                "INSERT INTO lab_reports (report_id, lab, barcode, body, received_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&r.report_id)
            .bind(&r.lab)
            .bind(&r.barcode)
            .bind(&r.body)
            .bind(ts(r.received_at))
            .execute(&mut *tx)
            .await?;
        }
        for o in &batch.outbox {
            sqlx::query(
                "INSERT INTO outbox (webhook_id, seq, idx, subscription, barcode, kind, body, status, attempts, \
                 next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9)",
            )
            .bind(&o.webhook_id)
            .bind(o.seq)
            .bind(o.idx)
            .bind(&o.subscription)
            .bind(&o.barcode)
            .bind(&o.kind)
            .bind(&o.body)
            .bind(ts(o.next_attempt_at))
            .bind(ts(o.created_at))
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The whole journal in order.
    pub async fn journal(&self) -> Result<Vec<JournalEntry>> {
        self.journal_after(0).await
    }

    /// The journal after event `seq`, in order.
    pub async fn journal_after(&self, seq: i64) -> Result<Vec<JournalEntry>> {
        let rows = sqlx::query(
            "SELECT seq, at, source, body, digest FROM journal WHERE seq > $1 ORDER BY seq",
        )
        .bind(seq)
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                let seq: i64 = r.try_get(0)?;
                let body: String = r.try_get(3)?;
                let event = serde_json::from_str(&body)
                    .map_err(|e| StoreError::Corrupt(format!("journal seq {seq}: {e}")))?;
                Ok(JournalEntry {
                    seq,
                    source: r.try_get(2)?,
                    digest: r.try_get(4)?,
                    stamped: Stamped {
                        at: parse_ts(&r.try_get::<String, _>(1)?)?,
                        event,
                    },
                })
            })
            .collect()
    }

    /// Digests of every QoS 1 message journaled (redeliveries are recognised by them).
    pub async fn journal_digests(&self) -> Result<Vec<String>> {
        let rows = sqlx::query("SELECT digest FROM journal WHERE digest IS NOT NULL")
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|r| r.try_get(0).map_err(StoreError::from))
            .collect()
    }

    /// The last journaled event: its sequence number and time.
    pub async fn journal_end(&self) -> Result<Option<(i64, Instant)>> {
        let row = sqlx::query("SELECT seq, at FROM journal ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get(0)?, parse_ts(&r.try_get::<String, _>(1)?)?)))
            .transpose()
    }

    /// Keeps the dispatcher's state after event `seq` (and the one before it; older
    /// snapshots go).
    pub async fn put_snapshot(&self, seq: i64, at: Instant, body: &str) -> Result<()> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM snapshots WHERE seq >= $1")
            .bind(seq)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO snapshots (seq, at, body) VALUES ($1, $2, $3)")
            .bind(seq)
            .bind(ts(at))
            .bind(body)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "DELETE FROM snapshots WHERE seq < (SELECT MIN(seq) FROM (SELECT seq FROM snapshots ORDER BY seq DESC LIMIT 2) AS kept)",
        )
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The latest snapshot: the event it follows and its body.
    pub async fn latest_snapshot(&self) -> Result<Option<(i64, String)>> {
        let row = sqlx::query("SELECT seq, body FROM snapshots ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get(0)?, r.try_get(1)?))).transpose()
    }

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

    /// One tube's custody in time order (`None` for a barcode never seen).
    pub async fn custody(&self, barcode: &str) -> Result<Vec<CustodyStep>> {
        let rows = sqlx::query(
            "SELECT barcode, step, at, place, by_device, event_seq FROM custody WHERE barcode = $1",
        )
        .bind(barcode)
        .fetch_all(&self.pool)
        .await?;
        in_causal_order(rows)
    }

    /// Every custody step, by barcode then time.
    pub async fn all_custody(&self) -> Result<Vec<CustodyStep>> {
        let rows =
            sqlx::query("SELECT barcode, step, at, place, by_device, event_seq FROM custody")
                .fetch_all(&self.pool)
                .await?;
        in_causal_order(rows)
    }

    /// Every tube's current row.
    pub async fn tubes(&self) -> Result<Vec<TubeRow>> {
        let rows = sqlx::query(
            "SELECT barcode, station, box_id, tube_type, drawn_at, status FROM tubes ORDER BY barcode",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(TubeRow {
                    barcode: r.try_get(0)?,
                    station: r.try_get(1)?,
                    box_id: r.try_get(2)?,
                    tube_type: r.try_get(3)?,
                    drawn_at: parse_ts(&r.try_get::<String, _>(4)?)?,
                    status: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Every box's current row.
    pub async fn boxes(&self) -> Result<Vec<BoxRow>> {
        let rows = sqlx::query(
            "SELECT box_id, station, tubes, sealed_at, status, mission, lab FROM boxes ORDER BY box_id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(BoxRow {
                    box_id: r.try_get(0)?,
                    station: r.try_get(1)?,
                    tubes: r.try_get(2)?,
                    sealed_at: parse_ts(&r.try_get::<String, _>(3)?)?,
                    status: r.try_get(4)?,
                    mission: r.try_get(5)?,
                    lab: r.try_get(6)?,
                })
            })
            .collect()
    }

    /// Every mission's current row.
    pub async fn missions(&self) -> Result<Vec<MissionRow>> {
        let rows = sqlx::query(
            "SELECT mission, carrier, station, lab, status FROM missions ORDER BY mission",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|r| {
                Ok(MissionRow {
                    mission: r.try_get(0)?,
                    carrier: r.try_get(1)?,
                    station: r.try_get(2)?,
                    lab: r.try_get(3)?,
                    status: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// The highest journal seq, 0 when empty.
    pub async fn last_seq(&self) -> Result<i64> {
        let row = sqlx::query("SELECT MAX(seq) FROM journal")
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get::<Option<i64>, _>(0)?.unwrap_or(0))
    }
}

/// Custody rows by barcode, time, event, then step: one event records several
/// steps at one instant (loaded, then in flight), and the table's own order
/// (its key sorts steps by name) would put "in flight" before "loaded".
fn in_causal_order(rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<CustodyStep>> {
    let mut steps = rows
        .into_iter()
        .map(|r| Ok((r.try_get::<i64, _>(5)?, custody_row(r)?)))
        .collect::<Result<Vec<_>>>()?;
    steps.sort_by(|(seq_a, a), (seq_b, b)| {
        (a.barcode.as_str(), a.at, seq_a, a.step).cmp(&(b.barcode.as_str(), b.at, seq_b, b.step))
    });
    Ok(steps.into_iter().map(|(_, s)| s).collect())
}

fn custody_row(r: sqlx::any::AnyRow) -> Result<CustodyStep> {
    let step: String = r.try_get(1)?;
    let kind = serde_json::Value::String(step.clone());
    Ok(CustodyStep {
        barcode: labflight_core::TubeBarcode::new(r.try_get::<String, _>(0)?),
        step: serde_json::from_value::<CustodyStepKind>(kind)
            .map_err(|_| StoreError::Corrupt(format!("custody step `{step}`")))?,
        at: parse_ts(&r.try_get::<String, _>(2)?)?,
        place: r.try_get(3)?,
        by: r.try_get(4)?,
    })
}

/// Helpers for tests that need a database of their own.
pub mod testing {
    use sqlx::Connection;

    /// Drops and creates database `name` through the `admin` URL; returns its URL.
    pub async fn fresh_postgres_database(admin: &str, name: &str) -> Result<String, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(admin).await?;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut conn)
            .await?;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await?;
        let base = admin.rsplit_once('/').map_or(admin, |(b, _)| b);
        Ok(format!("{base}/{name}"))
    }
}
