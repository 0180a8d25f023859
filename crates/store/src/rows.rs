//! The current rows of tubes, boxes and missions: where each is now (the
//! journal says how it got there).

use crate::{Result, Store, parse_ts};
use labflight_core::Instant;
use sqlx::Row;

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

impl Store {
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
}
