//! A weather forecast as operators plan with it: the wind and rain expected over a
//! window of the day, with how sure the forecaster is. It comes from the scenario
//! in simulation and from the weather service's MQTT topic live; the dispatcher
//! keeps the latest and plans around the window (`labflight_dispatch`'s storm
//! rules). A forecast can be wrong: the observed weather (`Event::Weather`)
//! still grounds the fleet whatever was forecast.

use crate::Instant;
use serde::{Deserialize, Serialize};

/// The weather expected over one window, as forecast at `issued_at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeatherForecast {
    /// When the forecast was issued.
    pub issued_at: Instant,
    /// The start of the window.
    pub from: Instant,
    /// The end of the window.
    pub to: Instant,
    /// The strongest wind expected in the window, m/s.
    pub wind_mps: f64,
    /// The heaviest rain expected in the window, mm/h.
    pub rain_mm_h: f64,
    /// How sure the forecaster is, 0 to 1.
    pub confidence: f64,
}

impl WeatherForecast {
    /// Whether the window's wind or rain exceed these limits.
    pub fn exceeds(&self, max_wind_mps: f64, max_rain_mm_h: f64) -> bool {
        self.wind_mps > max_wind_mps || self.rain_mm_h > max_rain_mm_h
    }

    /// Whether `[a, b]` overlaps the window.
    pub fn overlaps(&self, a: Instant, b: Instant) -> bool {
        a < self.to && b > self.from
    }

    /// What is wrong with the forecast's figures, naming the field and value;
    /// `None` when every figure is in range (the scenario and the MQTT edge
    /// both check with it).
    pub fn problem(&self) -> Option<(&'static str, String, &'static str)> {
        if self.to <= self.from {
            return Some(("to", self.to.to_rfc3339(), "must be after from"));
        }
        if !(self.wind_mps.is_finite() && (0.0..=80.0).contains(&self.wind_mps)) {
            return Some(("wind_mps", self.wind_mps.to_string(), "must be 0..=80"));
        }
        if !(self.rain_mm_h.is_finite() && (0.0..=500.0).contains(&self.rain_mm_h)) {
            return Some(("rain_mm_h", self.rain_mm_h.to_string(), "must be 0..=500"));
        }
        if !(0.0..=1.0).contains(&self.confidence) {
            return Some((
                "confidence",
                self.confidence.to_string(),
                "must be between 0 and 1",
            ));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32) -> Instant {
        format!("2026-06-15T{h:02}:00:00Z").parse().unwrap()
    }

    fn storm() -> WeatherForecast {
        WeatherForecast {
            issued_at: at(0),
            from: at(1),
            to: at(2),
            wind_mps: 16.0,
            rain_mm_h: 12.0,
            confidence: 0.8,
        }
    }

    #[test]
    fn a_window_overlaps_what_crosses_it_and_exceeds_by_wind_or_rain() {
        let f = storm();
        assert!(f.overlaps(at(0), at(1) + chrono::Duration::minutes(1)));
        assert!(!f.overlaps(at(0), at(1)));
        assert!(!f.overlaps(at(2), at(3)));
        assert!(f.exceeds(13.8, 20.0));
        assert!(f.exceeds(20.0, 8.0));
        assert!(!f.exceeds(20.0, 20.0));
    }

    #[test]
    fn figures_out_of_range_name_their_field() {
        assert_eq!(storm().problem(), None);
        let mut f = storm();
        f.confidence = 1.5;
        assert_eq!(f.problem().unwrap().0, "confidence");
        let mut f = storm();
        f.to = f.from;
        assert_eq!(f.problem().unwrap().0, "to");
        let mut f = storm();
        f.wind_mps = f64::NAN;
        assert_eq!(f.problem().unwrap().0, "wind_mps");
        let mut f = storm();
        f.rain_mm_h = -1.0;
        assert_eq!(f.problem().unwrap().0, "rain_mm_h");
    }
}
