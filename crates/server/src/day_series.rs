//! The day's curves over time for the day views' charts: the live service keeps
//! a bounded series in memory, at most one [`Sample`] per minute of service time,
//! taken by the live feed's task (`dashboard::run_feed`, through
//! `day_views::observe`), which runs about once a wall second: above 60× a point
//! comes every few service minutes. A replayed run samples its journal minute by
//! minute when first asked ([`DayData`], made by the binary's replay loader). Both are shown per local day as columns
//! ([`SeriesView`]) ready for the chart library.
//!
//! Why sampled and not re-derived from the journal on request: the live service
//! would have to re-run its whole journal through a second dispatcher for every
//! page view; a sample a minute is one forecast a minute. What is lost: a
//! restarted service has no curve before its restart (the per-centre numbers and
//! the report come from the recovered state, so they are whole).

use crate::day_report::Sample;
use chrono::NaiveDate;
use labflight_core::Instant;
use labflight_dispatch::state::State;
use labflight_dispatch::world::World;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use utoipa::ToSchema;

/// Samples the live series keeps: a week of minutes.
pub const KEPT: usize = 7 * 24 * 60;

/// The live service's samples, oldest first, at most [`KEPT`].
#[derive(Debug, Default)]
pub struct DaySeries {
    samples: Mutex<VecDeque<Sample>>,
}

impl DaySeries {
    /// Whether a sample of `date` at `minute` is still to be taken (none newer kept).
    pub(crate) fn wants(&self, date: NaiveDate, minute: u32) -> bool {
        let Ok(samples) = self.samples.lock() else {
            return false;
        };
        samples
            .back()
            .is_none_or(|last| (last.date, last.minute) < (date, minute))
    }

    /// Keeps `s` unless a sample as new is kept; drops the oldest past [`KEPT`].
    pub fn record(&self, s: Sample) {
        let Ok(mut samples) = self.samples.lock() else {
            return;
        };
        if samples
            .back()
            .is_some_and(|last| (last.date, last.minute) >= (s.date, s.minute))
        {
            return;
        }
        samples.push_back(s);
        while samples.len() > KEPT {
            samples.pop_front();
        }
    }

    /// How many samples are kept.
    pub fn len(&self) -> usize {
        self.samples.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `date`'s samples as chart columns.
    pub fn of_day(&self, world: &World, date: NaiveDate) -> SeriesView {
        let samples = self.samples.lock().map(|s| s.clone()).unwrap_or_default();
        SeriesView::of_day(world, samples.iter(), date)
    }
}

/// One lab's queue over the day.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LabQueue {
    /// The lab's id.
    pub id: String,
    /// The lab's name.
    pub name: String,
    /// The lab's name in Chinese, when the map data has it.
    pub name_zh: Option<String>,
    /// Tube-tests waiting for analysis at each of `minutes`.
    pub queue: Vec<u32>,
}

/// One local day's curves, as columns over the same minutes.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct SeriesView {
    /// Minutes since the day's local midnight, ascending.
    pub minutes: Vec<u32>,
    /// The day's tubes on time or on track, percent, at each minute.
    pub on_track_pct: Vec<f64>,
    /// Drones flying at each minute.
    pub in_flight: Vec<u32>,
    /// Each lab's queue at each minute.
    pub labs: Vec<LabQueue>,
}

impl SeriesView {
    /// The columns of `date`'s samples among `samples` (in time order).
    pub fn of_day<'a>(
        world: &World,
        samples: impl Iterator<Item = &'a Sample>,
        date: NaiveDate,
    ) -> SeriesView {
        let mut v = SeriesView {
            labs: world
                .labs
                .values()
                .map(|l| LabQueue {
                    id: l.id.to_string(),
                    name: l.name.clone(),
                    name_zh: l.name_zh.clone(),
                    queue: Vec::new(),
                })
                .collect(),
            ..SeriesView::default()
        };
        for s in samples.filter(|s| s.date == date) {
            v.minutes.push(s.minute);
            v.on_track_pct.push(s.on_track_pct);
            v.in_flight.push(s.in_flight);
            for lab in &mut v.labs {
                lab.queue
                    .push(s.lab_queues.get(&lab.id).copied().unwrap_or(0));
            }
        }
        v
    }
}

/// A replayed run's day: its world, the state at the journal's end, and a sample
/// for every minute of the journal.
#[derive(Debug)]
pub struct DayData {
    /// The run's world.
    pub world: Arc<World>,
    /// The dispatcher's state after the whole journal.
    pub state: State,
    /// The last event's time.
    pub now: Instant,
    /// One sample per minute of service time, oldest first.
    pub samples: Vec<Sample>,
}

/// Re-runs a recorded run's journal and samples it minute by minute.
pub type DayRenderer = Box<dyn FnMut() -> Result<DayData, String> + Send>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn at(date: NaiveDate, minute: u32, in_flight: u32) -> Sample {
        Sample {
            date,
            minute,
            on_track_pct: 100.0,
            in_flight,
            lab_queues: BTreeMap::new(),
        }
    }

    /// One sample a minute: a second one of the same minute, or an older one, is
    /// not kept; past the bound the oldest go first.
    #[test]
    fn the_live_series_keeps_one_sample_a_minute_and_is_bounded() {
        let day = NaiveDate::from_ymd_opt(2026, 6, 15).unwrap();
        let series = DaySeries::default();
        series.record(at(day, 600, 1));
        series.record(at(day, 600, 2));
        series.record(at(day, 599, 3));
        assert_eq!(series.len(), 1);
        assert!(!series.wants(day, 600));
        assert!(series.wants(day, 601));
        for i in 0..(KEPT as u32 + 10) {
            let date = day + chrono::Duration::days(1 + i64::from(i / 1440));
            series.record(at(date, i % 1440, i));
        }
        assert_eq!(series.len(), KEPT);
        let first = series.samples.lock().unwrap().front().cloned().unwrap();
        assert_eq!(first.in_flight, 10, "the oldest samples went first");
    }
}
