//! Opening hours in local time of day, e.g. a centre's 08:00–12:00 and 14:00–17:30
//! sessions or a lab's 07:00–20:00.

use chrono::NaiveTime;
use serde::{Deserialize, Serialize};

/// One open interval `[open, close)` in local time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// Opening time, local.
    pub open: NaiveTime,
    /// Closing time, local.
    pub close: NaiveTime,
}

/// A set of open sessions in one day, in local time.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpeningHours(pub Vec<Session>);

impl OpeningHours {
    /// Parses `"08:00-12:00,14:00-17:30"`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut sessions = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (a, b) = part
                .split_once('-')
                .ok_or_else(|| format!("session `{part}` is not HH:MM-HH:MM"))?;
            let open = parse_hhmm(a)?;
            let close = parse_hhmm(b)?;
            if close <= open {
                return Err(format!("session `{part}` closes before it opens"));
            }
            sessions.push(Session { open, close });
        }
        if sessions.is_empty() {
            return Err(format!("`{text}` holds no session"));
        }
        Ok(Self(sessions))
    }

    /// Whether it is open at local time `t`.
    pub fn is_open(&self, t: NaiveTime) -> bool {
        self.0.iter().any(|s| s.open <= t && t < s.close)
    }

    /// The first instant at or after `t` when it is open, if any that day.
    pub fn next_open(&self, t: NaiveTime) -> Option<NaiveTime> {
        self.0
            .iter()
            .filter_map(|s| {
                if t < s.open {
                    Some(s.open)
                } else if t < s.close {
                    Some(t)
                } else {
                    None
                }
            })
            .min()
    }

    /// The close of the session open at `t`, if any.
    pub fn closes_at(&self, t: NaiveTime) -> Option<NaiveTime> {
        self.0
            .iter()
            .find(|s| s.open <= t && t < s.close)
            .map(|s| s.close)
    }

    /// The hours as `HH:MM-HH:MM`.
    pub fn to_text(&self) -> String {
        self.0
            .iter()
            .map(|s| format!("{}-{}", s.open.format("%H:%M"), s.close.format("%H:%M")))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Parses local `HH:MM`.
pub fn parse_hhmm(text: &str) -> Result<NaiveTime, String> {
    NaiveTime::parse_from_str(text.trim(), "%H:%M")
        .map_err(|_| format!("`{text}` is not a time HH:MM"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_two_sessions_and_answers_open_questions() {
        let h = OpeningHours::parse("08:00-12:00, 14:00-17:30").unwrap();
        let t = |s| parse_hhmm(s).unwrap();
        assert!(h.is_open(t("08:00")));
        assert!(!h.is_open(t("12:00")));
        assert_eq!(h.next_open(t("12:30")), Some(t("14:00")));
        assert_eq!(h.next_open(t("18:00")), None);
        assert_eq!(h.closes_at(t("09:00")), Some(t("12:00")));
        assert_eq!(h.to_text(), "08:00-12:00,14:00-17:30");
    }

    #[test]
    fn rejects_reversed_and_malformed_sessions() {
        assert!(
            OpeningHours::parse("12:00-08:00")
                .unwrap_err()
                .contains("closes before")
        );
        assert!(OpeningHours::parse("8am-noon").is_err());
        assert!(OpeningHours::parse("").is_err());
    }
}
