//! The scenario's clock: local times of day on its date in its fixed UTC offset,
//! and durations given in fractional minutes, as every figure of the file is.

use super::format::Scenario;
use crate::Instant;
use chrono::{FixedOffset, NaiveTime, TimeZone};

/// A duration of fractional minutes, rounded to the millisecond.
#[inline]
pub fn minutes(m: f64) -> chrono::Duration {
    chrono::Duration::milliseconds((m * 60_000.0).round() as i64)
}

impl Scenario {
    /// The scenario's local offset from UTC.
    pub fn offset(&self) -> FixedOffset {
        parse_offset(&self.utc_offset)
            .unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"))
    }

    /// The instant of a local time of day on the scenario's date.
    pub fn at(&self, t: NaiveTime) -> Instant {
        self.offset()
            .from_local_datetime(&self.date.and_time(t))
            .single()
            .expect("a fixed offset maps every local time once")
            .with_timezone(&chrono::Utc)
    }

    /// The local time of day of an instant.
    pub fn local_time(&self, at: Instant) -> NaiveTime {
        at.with_timezone(&self.offset()).time()
    }
}

/// `+HH:MM` or `-HH:MM` (hours 0 to 14); `None` for anything else.
pub(super) fn parse_offset(text: &str) -> Option<FixedOffset> {
    let sign = match text.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (h, m) = text[1..].split_once(':')?;
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::shipped;
    use super::super::format::Scenario;

    #[test]
    fn shipped_scenario_loads_and_maps_local_times() {
        let s = Scenario::load(&shipped()).unwrap();
        assert_eq!(s.name, "longhua");
        assert_eq!(s.fleet.drones, 32);
        let cutoff = s.at(s.service.cutoff);
        assert_eq!(cutoff.to_rfc3339(), "2026-06-15T06:00:00+00:00");
        assert_eq!(s.local_time(cutoff), s.service.cutoff);
    }
}
