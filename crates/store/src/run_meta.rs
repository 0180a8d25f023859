//! What the stored run is (scenario, policy, seed, start, speed): written at the
//! first start, read at every restart so the run continues as it began.

use crate::{Result, Store, parse_ts, ts};
use labflight_core::Instant;
use sqlx::Row;

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

impl Store {
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
}
