//! Checking a scenario after it is read: every range and cross-reference, the first
//! problem returned with the file, the field and the value.

use super::format::Scenario;
use super::time::parse_offset;
use crate::{ConfigError, TempBand};
use std::path::Path;

impl Scenario {
    /// Checks every range and cross-reference; the first problem is returned.
    pub fn validate(&self, file: &Path) -> Result<(), ConfigError> {
        let bad = |field: &str, value: &dyn std::fmt::Display, reason: &str| {
            Err(ConfigError::invalid(file, field, value, reason))
        };
        if self.name.trim().is_empty() {
            return bad("name", &"\"\"", "must not be empty");
        }
        if parse_offset(&self.utc_offset).is_none() {
            return bad("utc_offset", &self.utc_offset, "expected +HH:MM or -HH:MM");
        }
        let s = &self.service;
        if s.last_draw <= s.first_draw {
            return bad(
                "service.last_draw",
                &s.last_draw,
                "must be after service.first_draw",
            );
        }
        if s.cutoff <= s.last_draw {
            return bad(
                "service.cutoff",
                &s.cutoff,
                "must be after service.last_draw",
            );
        }
        non_negative(file, "service.report_minutes", s.report_minutes)?;
        if self.fleet.drones == 0 && self.fleet.couriers == 0 {
            return bad(
                "fleet.drones",
                &0,
                "a day needs at least one drone or one courier",
            );
        }
        let d = &self.drone;
        for (field, v) in [
            ("drone.frame_mass_kg", d.frame_mass_kg),
            ("drone.battery_mass_kg", d.battery_mass_kg),
            ("drone.battery_wh", d.battery_wh),
            ("drone.max_payload_kg", d.max_payload_kg),
            ("drone.cruise_airspeed_mps", d.cruise_airspeed_mps),
            ("drone.max_wind_mps", d.max_wind_mps),
            ("drone.cruise_alt_m", d.cruise_alt_m),
            ("drone.full_load_range_km", d.full_load_range_km),
            ("drone.rotor_disc_area_m2", d.rotor_disc_area_m2),
        ] {
            positive(file, field, v)?;
        }
        non_negative(file, "drone.max_rain_mm_h", d.max_rain_mm_h)?;
        non_negative(file, "drone.takeoff_landing_s", d.takeoff_landing_s)?;
        non_negative(file, "drone.battery_swap_minutes", d.battery_swap_minutes)?;
        fraction(file, "drone.reserve_fraction", d.reserve_fraction)?;
        if d.rotors == 0 {
            return bad("drone.rotors", &d.rotors, "must be at least 1");
        }
        let b = &self.specimen_box;
        positive(file, "box.empty_mass_kg", b.empty_mass_kg)?;
        positive(file, "box.tube_mass_kg", b.tube_mass_kg)?;
        positive(file, "box.insulation_minutes", b.insulation_minutes)?;
        non_negative(
            file,
            "box.cooling_element_minutes",
            b.cooling_element_minutes,
        )?;
        band(file, "box.band", b.band)?;
        if b.max_tubes == 0 {
            return bad("box.max_tubes", &0, "must be at least 1");
        }
        if b.payload_kg(b.max_tubes as usize) > d.max_payload_kg + 1e-9 {
            return bad(
                "box.max_tubes",
                &b.max_tubes,
                &format!(
                    "a full box weighs {:.2} kg, over drone.max_payload_kg {}",
                    b.payload_kg(b.max_tubes as usize),
                    d.max_payload_kg
                ),
            );
        }
        let c = &self.courier;
        positive(file, "courier.speed_kmh", c.speed_kmh)?;
        if !(c.road_factor >= 1.0 && c.road_factor.is_finite()) {
            return bad(
                "courier.road_factor",
                &c.road_factor,
                "must be at least 1 (roads are never shorter than the air line)",
            );
        }
        non_negative(file, "courier.stop_minutes", c.stop_minutes)?;
        non_negative(file, "courier.kwh_per_km", c.kwh_per_km)?;
        positive(
            file,
            "courier.round_interval_minutes",
            c.round_interval_minutes,
        )?;
        let m = &self.demand;
        positive(
            file,
            "demand.patients_per_reference_centre",
            m.patients_per_reference_centre,
        )?;
        positive(
            file,
            "demand.reference_floor_area_m2",
            m.reference_floor_area_m2,
        )?;
        positive(file, "demand.peak_weight", m.peak_weight)?;
        positive(file, "demand.late_weight", m.late_weight)?;
        positive(file, "demand.seal_max_age_minutes", m.seal_max_age_minutes)?;
        if m.peak_end <= m.peak_start {
            return bad(
                "demand.peak_end",
                &m.peak_end,
                "must be after demand.peak_start",
            );
        }
        if m.seal_max_tubes == 0 || m.seal_max_tubes > b.max_tubes {
            return bad(
                "demand.seal_max_tubes",
                &m.seal_max_tubes,
                &format!("must be 1..={} (box.max_tubes)", b.max_tubes),
            );
        }
        if self.tube_types.is_empty() {
            return bad("tube_types", &"[]", "at least one tube type is needed");
        }
        for (i, t) in self.tube_types.iter().enumerate() {
            let f = |name: &str| format!("tube_types[{i}].{name}");
            if self.tube_types.iter().filter(|o| o.id == t.id).count() > 1 {
                return bad(&f("id"), &t.id, "duplicate tube type id");
            }
            positive(
                file,
                &f("unspun_stability_minutes"),
                t.unspun_stability_minutes,
            )?;
            positive(file, &f("spun_stability_minutes"), t.spun_stability_minutes)?;
            band(file, &f("band_unspun"), t.band_unspun)?;
            band(file, &f("band_spun"), t.band_spun)?;
        }
        if self.tests.is_empty() {
            return bad("tests", &"[]", "at least one test is needed");
        }
        for (i, t) in self.tests.iter().enumerate() {
            let f = |name: &str| format!("tests[{i}].{name}");
            if !crate::LoincCode::is_well_formed(&t.loinc) {
                return bad(
                    &f("loinc"),
                    &t.loinc,
                    "not a LOINC code (digits-checkdigit)",
                );
            }
            if self.tube_type(&t.tube_type).is_none() {
                return bad(&f("tube_type"), &t.tube_type, "no such id in tube_types");
            }
            fraction(file, &f("share"), t.share)?;
            if !(t.ref_low.is_finite() && t.ref_high.is_finite() && t.ref_low < t.ref_high) {
                return bad(
                    &f("ref_high"),
                    &t.ref_high,
                    "must be a number above ref_low",
                );
            }
        }
        for (i, w) in self.weather.iter().enumerate() {
            if w.to <= w.from {
                return bad(&format!("weather[{i}].to"), &w.to, "must be after from");
            }
            non_negative(file, &format!("weather[{i}].wind_mps"), w.wind_mps)?;
            non_negative(file, &format!("weather[{i}].rain_mm_h"), w.rain_mm_h)?;
            finite(
                file,
                &format!("weather[{i}].wind_from_deg"),
                w.wind_from_deg,
            )?;
        }
        for (i, f) in self.forecast.iter().enumerate() {
            let field = |name: &str| format!("forecast[{i}].{name}");
            if f.to <= f.from {
                return bad(&field("to"), &f.to, "must be after from");
            }
            if f.issued_at > f.from {
                return bad(
                    &field("issued_at"),
                    &f.issued_at,
                    "must be at or before from (a forecast is issued ahead of its window)",
                );
            }
            non_negative(file, &field("wind_mps"), f.wind_mps)?;
            non_negative(file, &field("rain_mm_h"), f.rain_mm_h)?;
            fraction(file, &field("confidence"), f.confidence)?;
        }
        for (i, o) in self.outages.iter().enumerate() {
            if o.to <= o.from {
                return bad(&format!("outages[{i}].to"), &o.to, "must be after from");
            }
        }
        fraction(
            file,
            "faults.drone_failure_per_flight",
            self.faults.drone_failure_per_flight,
        )?;
        fraction(
            file,
            "faults.link_loss_per_flight",
            self.faults.link_loss_per_flight,
        )?;
        finite(file, "ambient.morning_c", self.ambient.morning_c)?;
        finite(file, "ambient.noon_c", self.ambient.noon_c)?;
        non_negative(file, "ambient.wind_mps", self.ambient.wind_mps)?;
        finite(file, "ambient.wind_from_deg", self.ambient.wind_from_deg)?;
        let p = &self.dispatch;
        non_negative(
            file,
            "dispatch.deadline_margin_minutes",
            p.deadline_margin_minutes,
        )?;
        non_negative(
            file,
            "dispatch.stability_margin_minutes",
            p.stability_margin_minutes,
        )?;
        non_negative(
            file,
            "dispatch.stability_priority_minutes",
            p.stability_priority_minutes,
        )?;
        non_negative(
            file,
            "dispatch.batching_window_minutes",
            p.batching_window_minutes,
        )?;
        positive(
            file,
            "dispatch.link_timeout_minutes",
            p.link_timeout_minutes,
        )?;
        positive(file, "dispatch.tick_minutes", p.tick_minutes)?;
        fraction(
            file,
            "dispatch.forecast_min_confidence",
            p.forecast_min_confidence,
        )?;
        if !(p.stay_at_lab_km >= 0.0 && p.stay_at_lab_km.is_finite()) {
            return bad(
                "dispatch.stay_at_lab_km",
                &p.stay_at_lab_km,
                "must be a distance of 0 or more",
            );
        }
        if !(p.lend_drones_within_km >= 0.0 && p.lend_drones_within_km.is_finite()) {
            return bad(
                "dispatch.lend_drones_within_km",
                &p.lend_drones_within_km,
                "must be a distance of 0 or more",
            );
        }
        if !(0.0..=100.0).contains(&p.top_up_pct) {
            return bad("dispatch.top_up_pct", &p.top_up_pct, "must be 0..=100");
        }
        if !(0.0..=100.0).contains(&p.low_battery_pct) {
            return bad(
                "dispatch.low_battery_pct",
                &p.low_battery_pct,
                "must be 0..=100",
            );
        }
        Ok(())
    }
}

fn finite(file: &Path, field: &str, v: f64) -> Result<(), ConfigError> {
    if v.is_finite() {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            file,
            field,
            v,
            "must be a finite number",
        ))
    }
}

fn positive(file: &Path, field: &str, v: f64) -> Result<(), ConfigError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            file,
            field,
            v,
            "must be greater than 0",
        ))
    }
}

fn non_negative(file: &Path, field: &str, v: f64) -> Result<(), ConfigError> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(ConfigError::invalid(file, field, v, "must be 0 or more"))
    }
}

fn fraction(file: &Path, field: &str, v: f64) -> Result<(), ConfigError> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            file,
            field,
            v,
            "must be between 0 and 1",
        ))
    }
}

fn band(file: &Path, field: &str, b: TempBand) -> Result<(), ConfigError> {
    if b.min_c.is_finite() && b.max_c.is_finite() && b.min_c < b.max_c {
        Ok(())
    } else {
        Err(ConfigError::invalid(
            file,
            format!("{field}.max_c"),
            b.max_c,
            "must be a number above min_c",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::write_variant;
    use super::super::format::Scenario;

    #[test]
    fn a_negative_figure_names_file_field_and_value() {
        let (_d, path) = write_variant(|t| t.replace("battery_wh = 180.0", "battery_wh = -5.0"));
        let err = Scenario::load(&path).unwrap_err().to_string();
        assert!(err.contains("scenario.toml"), "{err}");
        assert!(err.contains("drone.battery_wh"), "{err}");
        assert!(err.contains("-5"), "{err}");
    }

    #[test]
    fn a_test_with_an_unknown_tube_type_is_rejected() {
        let (_d, path) =
            write_variant(|t| t.replacen("tube_type = \"citrate\"", "tube_type = \"heparin\"", 1));
        let err = Scenario::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("tests[6].tube_type") && err.contains("heparin"),
            "{err}"
        );
    }

    #[test]
    fn an_overfull_box_is_rejected_against_the_drone_payload() {
        let (_d, path) = write_variant(|t| t.replace("max_tubes = 120", "max_tubes = 400"));
        let err = Scenario::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("box.max_tubes") && err.contains("400"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_forecast_names_its_field_and_value() {
        let forecast = "\n[[forecast]]\nissued_at = \"07:00\"\nfrom = \"09:00\"\nto = \"10:30\"\nwind_mps = 16.0\nconfidence = 0.8\n";
        let (_d, path) = write_variant(|t| format!("{t}{forecast}"));
        let s = Scenario::load(&path).unwrap();
        assert_eq!(s.forecast.len(), 1);
        assert_eq!(s.forecast[0].rain_mm_h, 0.0, "rain defaults to none");
        for (from, to, field, value) in [
            (
                "confidence = 0.8",
                "confidence = 1.8",
                "forecast[0].confidence",
                "1.8",
            ),
            (
                "wind_mps = 16.0",
                "wind_mps = -3.0",
                "forecast[0].wind_mps",
                "-3",
            ),
            (
                "to = \"10:30\"",
                "to = \"08:30\"",
                "forecast[0].to",
                "08:30",
            ),
            (
                "issued_at = \"07:00\"",
                "issued_at = \"09:30\"",
                "forecast[0].issued_at",
                "09:30",
            ),
        ] {
            let bad = forecast.replace(from, to);
            let (_d, path) = write_variant(|t| format!("{t}{bad}"));
            let err = Scenario::load(&path).unwrap_err().to_string();
            assert!(err.contains(field) && err.contains(value), "{err}");
        }
    }

    #[test]
    fn reversed_service_times_are_rejected() {
        let (_d, path) = write_variant(|t| t.replace("cutoff = \"14:00\"", "cutoff = \"11:00\""));
        let err = Scenario::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("service.cutoff") && err.contains("11:00"),
            "{err}"
        );
    }
}
