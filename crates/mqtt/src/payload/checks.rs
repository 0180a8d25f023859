//! The checks every inbound field goes through, each refusing with the field and
//! value at fault: schema, clock, ranges, the service area, known devices, centres,
//! labs and tubes, and a sealed box's manifest.

use super::directory::Directory;
use super::rejection::Rejection;
use chrono::{DateTime, Duration, FixedOffset};
use labflight_core::{BoxId, DroneId, LabId, LatLon, StationId, Tube, TubeBarcode};
use serde::de::DeserializeOwned;

/// Most tubes one box manifest may list.
pub(crate) const MAX_TUBES_PER_BOX: usize = 200;

/// Checks for one message: the topic it came in on names every refusal.
pub(crate) struct Checker<'a> {
    pub(crate) topic: &'a str,
    pub(crate) dir: &'a dyn Directory,
}

impl Checker<'_> {
    pub(crate) fn reject(&self, reason: &str, detail: String) -> Rejection {
        Rejection::new(self.topic, reason, detail)
    }

    pub(crate) fn json<T: DeserializeOwned>(&self, text: &str) -> Result<T, Rejection> {
        serde_json::from_str(text).map_err(|e| {
            self.reject(
                "bad_json",
                format!("payload does not match the schema: {e}"),
            )
        })
    }

    pub(crate) fn time(&self, t: DateTime<FixedOffset>) -> Result<(), Rejection> {
        let now = self.dir.now();
        let skew = (t.to_utc() - now).abs();
        if skew > self.dir.max_clock_skew() {
            return Err(self.reject(
                "bad_time",
                format!(
                    "field `time` = {} is {} s from the service clock {}, more than the {} s allowed",
                    t.to_rfc3339(),
                    skew.num_seconds(),
                    now.to_rfc3339(),
                    self.dir.max_clock_skew().num_seconds()
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn range(&self, field: &str, v: f64, lo: f64, hi: f64) -> Result<(), Rejection> {
        if !v.is_finite() || v < lo || v > hi {
            return Err(self.reject(
                "out_of_range",
                format!("field `{field}` = {v} is outside {lo}..={hi}"),
            ));
        }
        Ok(())
    }

    pub(crate) fn position(&self, lat: f64, lon: f64) -> Result<LatLon, Rejection> {
        let p = LatLon::new(lat, lon);
        if let Some(why) = p.invalid_reason() {
            return Err(self.reject("out_of_range", format!("fields `lat`,`lon`: {why}")));
        }
        if !self.dir.in_service_area(p) {
            return Err(self.reject(
                "outside_area",
                format!("position ({lat}, {lon}) is outside the service area"),
            ));
        }
        Ok(p)
    }

    pub(crate) fn drone(&self, id: &DroneId) -> Result<(), Rejection> {
        if self.dir.knows_drone(id) {
            Ok(())
        } else {
            Err(self.reject(
                "unknown_device",
                format!("drone `{id}` is not in the fleet"),
            ))
        }
    }

    pub(crate) fn known_box(&self, id: &BoxId) -> Result<(), Rejection> {
        if self.dir.knows_box(id) {
            Ok(())
        } else {
            Err(self.reject("unknown_device", format!("box `{id}` has not been sealed")))
        }
    }

    pub(crate) fn box_id_shape(&self, id: &BoxId) -> Result<(), Rejection> {
        let ok = id
            .as_str()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if ok {
            Ok(())
        } else {
            Err(self.reject(
                "bad_field",
                format!("box id `{id}` may hold only A-Z, 0-9, - and _"),
            ))
        }
    }

    pub(crate) fn station(&self, id: &StationId) -> Result<(), Rejection> {
        if self.dir.knows_station(id) {
            Ok(())
        } else {
            Err(self.reject(
                "unknown_device",
                format!("field `station` = `{id}` is not a known centre"),
            ))
        }
    }

    /// A box speaks only for its own centre.
    pub(crate) fn own_station(&self, box_id: &BoxId, station: &StationId) -> Result<(), Rejection> {
        match self.dir.box_station(box_id) {
            Some(own) if &own == station => Ok(()),
            Some(own) => Err(self.reject(
                "foreign_station",
                format!(
                    "field `station` = `{station}` is not the centre of box `{box_id}` (`{own}`)"
                ),
            )),
            None => Err(self.reject(
                "unknown_device",
                format!("box `{box_id}` belongs to no known centre (box ids are BX-<centre>-<n>)"),
            )),
        }
    }

    pub(crate) fn lab(&self, id: &LabId) -> Result<(), Rejection> {
        if self.dir.knows_lab(id) {
            Ok(())
        } else {
            Err(self.reject("unknown_device", format!("lab `{id}` is not a known lab")))
        }
    }

    pub(crate) fn tube(&self, barcode: &TubeBarcode) -> Result<(), Rejection> {
        if self.dir.knows_tube(barcode) {
            Ok(())
        } else {
            Err(self.reject(
                "unknown_tube",
                format!("field `barcode` = `{barcode}` is not a known tube"),
            ))
        }
    }

    pub(crate) fn manifest(
        &self,
        tubes: &[Tube],
        sealed: DateTime<FixedOffset>,
    ) -> Result<(), Rejection> {
        if tubes.is_empty() || tubes.len() > MAX_TUBES_PER_BOX {
            return Err(self.reject(
                "out_of_range",
                format!(
                    "field `tubes` lists {} tubes, expected 1..={MAX_TUBES_PER_BOX}",
                    tubes.len()
                ),
            ));
        }
        let mut seen = std::collections::BTreeSet::new();
        for (i, t) in tubes.iter().enumerate() {
            if t.barcode.as_str().is_empty()
                || !seen.insert(&t.barcode)
                || self.dir.knows_tube(&t.barcode)
            {
                return Err(self.reject(
                    "bad_field",
                    format!(
                        "field `tubes[{i}].barcode` = `{}` is empty or already used",
                        t.barcode
                    ),
                ));
            }
            if t.drawn_at > sealed.to_utc() || sealed.to_utc() - t.drawn_at > Duration::hours(24) {
                return Err(self.reject(
                    "bad_time",
                    format!(
                        "field `tubes[{i}].drawn_at` = {} is after the seal or more than 24 h before it",
                        t.drawn_at.to_rfc3339()
                    ),
                ));
            }
            self.range(
                &format!("tubes[{i}].stability_minutes"),
                t.stability_minutes,
                1.0,
                7.0 * 24.0 * 60.0,
            )?;
        }
        Ok(())
    }
}
