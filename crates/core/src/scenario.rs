//! The scenario file: one TOML document describing a day (map, fleet, demand, tube
//! and test tables, weather, outages, faults). Every figure the simulator and the
//! dispatcher use comes from here. `load` parses and validates; every error names
//! the file, the field and the value.

use crate::{BoxSpec, ConfigError, DroneSpec, Instant, LabId, TempBand, TestFamily};
use chrono::{FixedOffset, NaiveDate, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A duration of fractional minutes, rounded to the millisecond.
#[inline]
pub fn minutes(m: f64) -> chrono::Duration {
    chrono::Duration::milliseconds((m * 60_000.0).round() as i64)
}

/// One simulated (or served) day: the map, the service level, the fleet, the models of drone, box and van, demand, tube types and tests, weather, outages, faults and the dispatcher's tuning (docs/scenario.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// The scenario's name (appears in outputs).
    pub name: String,
    /// What the day is, for people.
    #[serde(default)]
    pub description: String,
    /// Folder with the map's GeoJSON files, relative to the scenario file.
    pub map: PathBuf,
    /// The day simulated.
    pub date: NaiveDate,
    /// Local offset, e.g. `+08:00` for Asia/Shanghai (no DST).
    pub utc_offset: String,
    /// The promise: draw window, cutoff, reporting time.
    pub service: ServiceLevel,
    /// How many drones and vans.
    pub fleet: Fleet,
    /// The drone model.
    pub drone: DroneSpec,
    /// The specimen box.
    #[serde(rename = "box")]
    pub specimen_box: BoxSpec,
    /// The courier vans.
    pub courier: CourierSpec,
    /// How many patients are drawn, when, and how staff seal boxes.
    pub demand: Demand,
    /// Tube types: stability limits and transport bands.
    pub tube_types: Vec<TubeTypeSpec>,
    /// The tests that can be ordered.
    pub tests: Vec<TestSpec>,
    /// Periods of wind and rain.
    #[serde(default)]
    pub weather: Vec<WeatherPeriod>,
    /// Analyzer outages.
    #[serde(default)]
    pub outages: Vec<Outage>,
    /// Drone failure and link-loss probabilities.
    pub faults: Faults,
    /// Ambient temperature and base wind.
    pub ambient: Ambient,
    /// The dispatcher's tuning.
    pub dispatch: DispatchParams,
}

/// The promise: drawn by `last_draw`, result at the centre by `cutoff`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceLevel {
    /// The first draw of the morning, local.
    pub first_draw: NaiveTime,
    /// The last draw whose result is promised by the cutoff, local.
    pub last_draw: NaiveTime,
    /// When results must be back at the centre, local.
    pub cutoff: NaiveTime,
    /// From verified result to the centre's information system.
    pub report_minutes: f64,
}

/// Fleet sizes for the day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// How many drones.
    pub drones: u32,
    /// How many courier vans.
    pub couriers: u32,
}

/// The courier vans: road speed, detours, stops and the fixed-round baseline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CourierSpec {
    /// Average road speed.
    pub speed_kmh: f64,
    /// Road distance over straight-line distance.
    pub road_factor: f64,
    /// Minutes to load or unload at a stop.
    pub stop_minutes: f64,
    /// The fixed-round baseline: a van leaves on its round every this many minutes.
    pub round_interval_minutes: f64,
}

/// How many patients are drawn where and when, and how staff seal boxes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Demand {
    /// Patients drawn at a centre of `reference_floor_area_m2` in one morning.
    pub patients_per_reference_centre: f64,
    /// The floor area `patients_per_reference_centre` is for; centres scale by theirs.
    pub reference_floor_area_m2: f64,
    /// Local window in which draws are most intense, and how much more intense.
    pub peak_start: NaiveTime,
    /// End of the peak window, local.
    pub peak_end: NaiveTime,
    /// How much more intense draws are in the peak window.
    pub peak_weight: f64,
    /// Relative intensity after the peak ("thin but never empty"); 1 before it.
    pub late_weight: f64,
    /// Staff seal a box when it holds this many tubes...
    pub seal_max_tubes: u32,
    /// ...or when its oldest tube is this old, in minutes.
    pub seal_max_age_minutes: f64,
}

/// A tube type (by additive): how long it stays stable and in which band it travels.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TubeTypeSpec {
    /// Its id (named by tests).
    pub id: String,
    /// Minutes from draw to lab reception when not spun at the centre.
    pub unspun_stability_minutes: f64,
    /// Minutes when spun at the centre (for tubes that can be spun).
    pub spun_stability_minutes: f64,
    /// Transport band when not spun.
    pub band_unspun: TempBand,
    /// Transport band when spun at the centre.
    pub band_spun: TempBand,
}

/// A test that can be ordered.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSpec {
    /// Its LOINC code.
    pub loinc: String,
    /// Its name.
    pub name: String,
    /// The lab family that runs it.
    pub family: TestFamily,
    /// The tube type it needs.
    pub tube_type: String,
    /// Probability that a patient has this test ordered.
    pub share: f64,
    /// The unit of its result.
    pub unit: String,
    /// Lower end of the reference range.
    pub ref_low: f64,
    /// Upper end of the reference range.
    pub ref_high: f64,
}

/// A period of wind and rain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeatherPeriod {
    /// Start, local.
    pub from: NaiveTime,
    /// End, local.
    pub to: NaiveTime,
    /// Wind speed.
    pub wind_mps: f64,
    /// Direction the wind blows from, degrees clockwise from north.
    pub wind_from_deg: f64,
    /// Rain, mm/h.
    #[serde(default)]
    pub rain_mm_h: f64,
}

/// An analyzer out of service for a while.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outage {
    /// The lab.
    pub lab: LabId,
    /// The analyzer's id.
    pub analyzer: String,
    /// Start, local.
    pub from: NaiveTime,
    /// End, local.
    pub to: NaiveTime,
}

/// Probabilities of trouble in flight.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// That a drone fails on a flight (lands at the nearest pad).
    pub drone_failure_per_flight: f64,
    /// That a drone loses its link on a flight.
    pub link_loss_per_flight: f64,
}

/// The ambient temperature and base wind of the day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ambient {
    /// Morning temperature, °C.
    pub morning_c: f64,
    /// Noon temperature, °C.
    pub noon_c: f64,
    /// Base wind outside the weather periods.
    pub wind_mps: f64,
    /// Base wind speed outside the weather periods.
    pub wind_from_deg: f64,
}

/// The dispatcher's tuning: margins, windows, thresholds and its tick.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DispatchParams {
    /// Safety margin, minutes: kept between a predicted result and the cutoff
    /// (verification runs long, boxes land together and queue), and again between a
    /// predicted arrival and a deadline when deciding that a pickup is due.
    pub deadline_margin_minutes: f64,
    /// Safety margin kept between a tube's planned arrival at the lab and its
    /// stability limit, minutes: the limit is on separating the serum, which waits
    /// for reception, and a late box is a redraw, not a late result.
    #[serde(default = "default_stability_margin_minutes")]
    pub stability_margin_minutes: f64,
    /// How far ahead of a deadline a partial box may wait for more tubes, minutes.
    pub batching_window_minutes: f64,
    /// Below this battery share a drone is sent to swap.
    pub low_battery_pct: f64,
    /// Below this share a drone standing at a charger swaps anyway (far centres need a full battery).
    pub top_up_pct: f64,
    /// A depot-based drone that delivers to a lab within this distance of its home
    /// depot waits there for its next mission (going home only if none comes); one
    /// based farther flies home at once, so the far centres keep their drones, km.
    #[serde(default = "default_stay_at_lab_km")]
    pub stay_at_lab_km: f64,
    /// A drone silent this long is considered lost, minutes.
    pub link_timeout_minutes: f64,
    /// How often the dispatcher is ticked, minutes.
    pub tick_minutes: f64,
}

fn default_stay_at_lab_km() -> f64 {
    5.0
}

fn default_stability_margin_minutes() -> f64 {
    30.0
}

impl Scenario {
    /// Reads, parses and validates a scenario file.
    pub fn load(path: &Path) -> Result<Scenario, ConfigError> {
        Self::load_with_overrides(path, &[])
    }

    /// Like `load`, with `key.path=value` overrides applied before validation
    /// (`fleet.drones=20`). Values parse as TOML, falling back to a string.
    pub fn load_with_overrides(
        path: &Path,
        overrides: &[(String, String)],
    ) -> Result<Scenario, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|reason| ConfigError::Io {
            file: path.to_owned(),
            reason,
        })?;
        let mut doc: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            file: path.to_owned(),
            message: e.to_string().trim().replace('\n', " "),
        })?;
        for (key, value) in overrides {
            set_dotted(&mut doc, key, value)
                .map_err(|reason| ConfigError::invalid(path, key, value, reason))?;
        }
        let scenario: Scenario =
            doc.try_into()
                .map_err(|e: toml::de::Error| ConfigError::Parse {
                    file: path.to_owned(),
                    message: e.to_string().trim().replace('\n', " "),
                })?;
        scenario.validate(path)?;
        Ok(scenario)
    }

    /// The map folder, resolved against the scenario file's folder.
    pub fn map_dir(&self, scenario_file: &Path) -> PathBuf {
        scenario_file
            .parent()
            .unwrap_or(Path::new("."))
            .join(&self.map)
    }

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

    /// A tube type by id.
    pub fn tube_type(&self, id: &str) -> Option<&TubeTypeSpec> {
        self.tube_types.iter().find(|t| t.id == id)
    }

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
            "dispatch.batching_window_minutes",
            p.batching_window_minutes,
        )?;
        positive(
            file,
            "dispatch.link_timeout_minutes",
            p.link_timeout_minutes,
        )?;
        positive(file, "dispatch.tick_minutes", p.tick_minutes)?;
        if !(p.stay_at_lab_km >= 0.0 && p.stay_at_lab_km.is_finite()) {
            return bad(
                "dispatch.stay_at_lab_km",
                &p.stay_at_lab_km,
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

fn parse_offset(text: &str) -> Option<FixedOffset> {
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

/// Sets `a.b.c = value` in a TOML table; the key must already exist, so a typo
/// in `--set` is an error rather than a silently ignored field.
fn set_dotted(doc: &mut toml::Table, key: &str, value: &str) -> Result<(), String> {
    let parsed: toml::Value = toml::from_str::<toml::Table>(&format!("v = {value}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(value.to_owned()));
    let mut parts: Vec<&str> = key.split('.').collect();
    let last = parts.pop().filter(|l| !l.is_empty()).ok_or("empty key")?;
    let mut table = doc;
    for part in parts {
        table = table
            .get_mut(part)
            .and_then(toml::Value::as_table_mut)
            .ok_or_else(|| format!("no table `{part}` in the scenario"))?;
    }
    match table.get_mut(last) {
        Some(slot) => {
            *slot = parsed;
            Ok(())
        }
        None => Err(format!("no field `{last}` to override")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../maps/longhua/scenario.toml")
    }

    fn write_variant(edit: impl Fn(&str) -> String) -> (tempdir::Dir, PathBuf) {
        let dir = tempdir::Dir::new();
        let path = dir.0.join("scenario.toml");
        let text = std::fs::read_to_string(shipped()).unwrap();
        std::fs::write(&path, edit(&text)).unwrap();
        (dir, path)
    }

    mod tempdir {
        /// A unique folder under the target dir, removed on drop.
        pub struct Dir(pub std::path::PathBuf);
        impl Dir {
            pub fn new() -> Self {
                use std::sync::atomic::{AtomicU32, Ordering};
                static N: AtomicU32 = AtomicU32::new(0);
                let p = std::env::temp_dir().join(format!(
                    "labflight-core-{}-{}",
                    std::process::id(),
                    N.fetch_add(1, Ordering::SeqCst)
                ));
                std::fs::create_dir_all(&p).unwrap();
                Dir(p)
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }

    #[test]
    fn shipped_scenario_loads_and_maps_local_times() {
        let s = Scenario::load(&shipped()).unwrap();
        assert_eq!(s.name, "longhua");
        assert_eq!(s.fleet.drones, 32);
        let cutoff = s.at(s.service.cutoff);
        assert_eq!(cutoff.to_rfc3339(), "2026-06-15T06:00:00+00:00");
        assert_eq!(s.local_time(cutoff), s.service.cutoff);
    }

    #[test]
    fn a_negative_figure_names_file_field_and_value() {
        let (_d, path) = write_variant(|t| t.replace("battery_wh = 180.0", "battery_wh = -5.0"));
        let err = Scenario::load(&path).unwrap_err().to_string();
        assert!(err.contains("scenario.toml"), "{err}");
        assert!(err.contains("drone.battery_wh"), "{err}");
        assert!(err.contains("-5"), "{err}");
    }

    #[test]
    fn an_unknown_field_is_rejected_with_its_name() {
        let (_d, path) = write_variant(|t| t.replace("[fleet]\n", "[fleet]\nhelicopters = 3\n"));
        let err = Scenario::load(&path).unwrap_err().to_string();
        assert!(err.contains("helicopters"), "{err}");
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
    fn overrides_set_existing_fields_and_refuse_typos() {
        let s = Scenario::load_with_overrides(&shipped(), &[("fleet.drones".into(), "20".into())])
            .unwrap();
        assert_eq!(s.fleet.drones, 20);
        let err = Scenario::load_with_overrides(&shipped(), &[("fleet.drone".into(), "20".into())])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("fleet.drone") && err.contains("no field"),
            "{err}"
        );
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
