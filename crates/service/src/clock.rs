//! The service clock. In production it is the wall clock; in the demo it runs at
//! N× from the scenario's morning. Either way it is a pure function of the wall
//! clock and a stored epoch, so a restarted service and the devices agree on it.

use chrono::{Duration, Utc};
use labflight_core::Instant;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Clock {
    /// Wall-clock Unix milliseconds at `start`.
    pub wall_epoch_ms: i64,
    /// The virtual instant at the wall epoch.
    pub start: Instant,
    /// Virtual seconds per wall second.
    pub speed: f64,
}

impl Clock {
    pub fn now(&self) -> Instant {
        self.at_wall_ms(Utc::now().timestamp_millis())
    }

    pub fn at_wall_ms(&self, wall_ms: i64) -> Instant {
        let elapsed = (wall_ms - self.wall_epoch_ms) as f64 * self.speed;
        self.start + Duration::milliseconds(elapsed as i64)
    }

    /// How long, in wall time, a stretch of virtual time takes.
    pub fn wall(&self, virtual_span: Duration) -> std::time::Duration {
        let ms = virtual_span.num_milliseconds().max(0) as f64 / self.speed;
        std::time::Duration::from_millis(ms as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_at_its_speed_from_its_epoch() {
        let start = chrono::DateTime::parse_from_rfc3339("2026-11-23T07:00:00+08:00")
            .unwrap()
            .to_utc();
        let c = Clock {
            wall_epoch_ms: 1_000_000,
            start,
            speed: 60.0,
        };
        assert_eq!(c.at_wall_ms(1_000_000), start);
        assert_eq!(c.at_wall_ms(1_001_000), start + Duration::minutes(1));
        assert_eq!(
            c.wall(Duration::minutes(2)),
            std::time::Duration::from_secs(2)
        );
    }
}
