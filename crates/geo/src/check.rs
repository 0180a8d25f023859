//! `labflight maps check`: validates a map data set against the facts it must
//! hold (centres inside the district, their subdistrict and outside every no-fly zone, one regional
//! centre per subdistrict, every group with a lab; on a city map, every centre and
//! lab in a listed district and group, centres inside their district) and
//! summarises it: counts by district, subdistrict, group and tier, distance from
//! each centre to its group's lab, and the centres a drone cannot serve in one
//! flight at full load.

use crate::MapData;
use crate::flight::FlightModel;
use geo::{Contains, Point};
use labflight_core::{DroneSpec, Tier};
use std::collections::BTreeMap;
use std::fmt;

/// What `maps check` found in a map folder: counts, distances to the group labs, and every problem.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// How many community health centres.
    pub centres: usize,
    /// How many of them are regional centres.
    pub regional: usize,
    /// Centres, labs and groups per district (on a city map).
    pub by_district: BTreeMap<String, (usize, usize, usize)>,
    /// Centres per subdistrict.
    pub by_subdistrict: BTreeMap<String, usize>,
    /// Centres per medical group.
    pub by_group: BTreeMap<String, usize>,
    /// How many labs.
    pub labs: usize,
    /// How many drone pads.
    pub pads: usize,
    /// How many no-fly zones.
    pub zones: usize,
    /// km from each centre to its group's HQ lab: min, median, max.
    pub to_group_lab_km: Option<(f64, f64, f64)>,
    /// Centres whose round trip to their group lab exceeds the full-load range.
    pub out_of_range: Vec<(String, f64)>,
    /// The drone's still-air range with a full load, km.
    pub full_load_range_km: f64,
    /// Every problem found; the map is usable only when there is none.
    pub errors: Vec<String>,
}

/// Checks a map against the drone that will fly it: every site inside the district and outside the no-fly zones, ids unique, groups with a lab, centres within range.
pub fn check(map: &MapData, drone: &DroneSpec) -> CheckReport {
    let space = map.airspace(0.0);
    let frame = map.frame();
    let model = FlightModel::new(drone);
    let range_km = model.range_m(drone.max_payload_kg) / 1000.0;
    let mut r = CheckReport {
        centres: map.stations.len(),
        regional: map
            .stations
            .iter()
            .filter(|s| s.tier == Tier::Regional)
            .count(),
        labs: map.labs.len(),
        pads: map.pads.len(),
        zones: map.no_fly.len(),
        full_load_range_km: range_km,
        ..CheckReport::default()
    };
    let mut distances = Vec::new();
    for s in &map.stations {
        *r.by_subdistrict.entry(s.subdistrict.clone()).or_insert(0) += 1;
        *r.by_group.entry(s.group.to_string()).or_insert(0) += 1;
        if !space.in_district(s.position) {
            r.errors.push(format!(
                "{}: ({:.6}, {:.6}) is outside the district",
                s.id, s.position.lat, s.position.lon
            ));
        }
        if let Some(z) = space.in_no_fly(s.position) {
            r.errors
                .push(format!("{}: inside no-fly zone {}", s.id, z.id));
        }
        match map.labs.iter().find(|l| l.group.as_ref() == Some(&s.group)) {
            Some(lab) => {
                let km = frame.distance_m(s.position, lab.position) / 1000.0;
                distances.push(km);
                if 2.0 * km > range_km {
                    r.out_of_range.push((s.id.to_string(), km));
                }
            }
            None => r
                .errors
                .push(format!("{}: group {} has no HQ lab", s.id, s.group)),
        }
    }
    for s in &map.stations {
        match map
            .subdistricts
            .iter()
            .find(|sub| sub.name == s.subdistrict)
        {
            Some(sub)
                if !sub
                    .polygon
                    .contains(&Point::new(s.position.lon, s.position.lat)) =>
            {
                r.errors.push(format!(
                    "{}: ({:.6}, {:.6}) is outside its subdistrict {}",
                    s.id, s.position.lat, s.position.lon, sub.name
                ))
            }
            Some(_) => {}
            None => r.errors.push(format!(
                "{}: subdistrict {} is not in subdistricts.geojson",
                s.id, s.subdistrict
            )),
        }
    }
    for sub in &map.subdistricts {
        let regional = map
            .stations
            .iter()
            .filter(|s| s.subdistrict == sub.name && s.tier == Tier::Regional)
            .count();
        if regional != 1 {
            r.errors.push(format!(
                "subdistrict {}: {regional} regional centres, expected 1",
                sub.name
            ));
        }
    }
    for l in &map.labs {
        if space.in_no_fly(l.position).is_some() {
            r.errors.push(format!("{}: lab inside a no-fly zone", l.id));
        }
    }
    check_districts_and_groups(map, &mut r);
    distances.sort_by(f64::total_cmp);
    if !distances.is_empty() {
        r.to_group_lab_km = Some((
            distances[0],
            distances[distances.len() / 2],
            distances[distances.len() - 1],
        ));
    }
    r
}

/// On a map that lists districts and groups (the city's): every centre and lab names
/// a listed district and group, centres lie inside their district, subdistricts
/// belong to their centres' district, and every group is led by a lab of its own.
fn check_districts_and_groups(map: &MapData, r: &mut CheckReport) {
    if map.districts.is_empty() && map.groups.is_empty() {
        return;
    }
    for d in &map.districts {
        r.by_district.insert(d.name.clone(), (0, 0, 0));
    }
    let mut count = |district: Option<&str>, what: &str, k: usize| match district
        .and_then(|d| r.by_district.get_mut(d))
    {
        Some(c) => {
            let slot = [&mut c.0, &mut c.1, &mut c.2];
            *slot.into_iter().nth(k).expect("three counts") += 1;
        }
        None => r.errors.push(format!(
            "{what}: district {district:?} is not in districts.geojson"
        )),
    };
    for s in &map.stations {
        count(s.district.as_deref(), s.id.as_str(), 0);
    }
    for l in &map.labs {
        count(l.district.as_deref(), l.id.as_str(), 1);
    }
    for g in &map.groups {
        count(Some(&g.district), g.id.as_str(), 2);
    }
    for s in &map.stations {
        let district = map
            .districts
            .iter()
            .find(|d| Some(d.name.as_str()) == s.district.as_deref());
        if let Some(d) = district
            && !d
                .polygon
                .contains(&Point::new(s.position.lon, s.position.lat))
        {
            r.errors.push(format!(
                "{}: ({:.6}, {:.6}) is outside its district {}",
                s.id, s.position.lat, s.position.lon, d.name
            ));
        }
        let sub = map.subdistricts.iter().find(|x| x.name == s.subdistrict);
        if let Some(sub) = sub
            && sub.district != s.district
        {
            r.errors.push(format!(
                "{}: subdistrict {} is in {:?}, the centre in {:?}",
                s.id, sub.name, sub.district, s.district
            ));
        }
        if !map.groups.iter().any(|g| g.id == s.group) {
            r.errors.push(format!(
                "{}: group {} is not in groups.geojson",
                s.id, s.group
            ));
        }
    }
    for l in &map.labs {
        if !l
            .medical_group()
            .is_some_and(|g| map.groups.iter().any(|x| &x.id == g))
        {
            r.errors.push(format!(
                "{}: lab group {:?} is not in groups.geojson",
                l.id,
                l.medical_group()
            ));
        }
    }
    for g in &map.groups {
        let led = map
            .labs
            .iter()
            .any(|l| l.id == g.lead_lab && l.group.as_ref() == Some(&g.id));
        if !led {
            r.errors.push(format!(
                "group {}: its lead lab {} is not a lab leading it",
                g.id, g.lead_lab
            ));
        }
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "centres: {} ({} regional, {} community)",
            self.centres,
            self.regional,
            self.centres - self.regional
        )?;
        writeln!(
            f,
            "labs: {}   pads: {}   no-fly zones: {}",
            self.labs, self.pads, self.zones
        )?;
        if !self.by_district.is_empty() {
            writeln!(f, "by district (centres, labs, groups):")?;
            for (k, (c, l, g)) in &self.by_district {
                writeln!(f, "  {k:<20} {c:>4} {l:>3} {g:>3}")?;
            }
        }
        writeln!(f, "by subdistrict:")?;
        for (k, v) in &self.by_subdistrict {
            writeln!(f, "  {k:<12} {v:>4}")?;
        }
        writeln!(f, "by medical group:")?;
        for (k, v) in &self.by_group {
            writeln!(f, "  {k:<12} {v:>4}")?;
        }
        if let Some((min, median, max)) = self.to_group_lab_km {
            writeln!(
                f,
                "centre to group lab: min {min:.1} km, median {median:.1} km, max {max:.1} km"
            )?;
        }
        writeln!(
            f,
            "out of single-flight range (round trip over {:.1} km at full load): {}",
            self.full_load_range_km,
            self.out_of_range.len()
        )?;
        for (id, km) in &self.out_of_range {
            writeln!(f, "  {id} ({km:.1} km to its lab)")?;
        }
        if self.errors.is_empty() {
            writeln!(
                f,
                "all centres inside the district, none inside a no-fly zone: OK"
            )
        } else {
            writeln!(f, "errors: {}", self.errors.len())?;
            for e in &self.errors {
                writeln!(f, "  {e}")?;
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mapgen::{LONGHUA_SEED, generate_city, generate_longhua};

    fn spec() -> DroneSpec {
        labflight_core::Scenario::load(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../maps/longhua/scenario.toml"
        )))
        .unwrap()
        .drone
    }

    #[test]
    fn generated_maps_hold_one_regional_centre_per_subdistrict() {
        let longhua = check(&generate_longhua(LONGHUA_SEED), &spec());
        assert_eq!(
            (longhua.regional, longhua.errors.len()),
            (6, 0),
            "{longhua}"
        );
        let city = check(&generate_city(3, 300, 10), &spec());
        assert_eq!(city.by_subdistrict.len(), 17);
        assert_eq!((city.regional, city.errors.len()), (17, 0), "{city}");
    }

    #[test]
    fn a_centre_outside_its_subdistrict_or_without_one_is_an_error() {
        let mut map = generate_longhua(LONGHUA_SEED);
        let elsewhere = map
            .stations
            .iter()
            .position(|s| s.subdistrict != "Guanlan")
            .unwrap();
        let inside_guanlan = map
            .stations
            .iter()
            .find(|s| s.subdistrict == "Guanlan")
            .unwrap()
            .position;
        map.stations[elsewhere].position = inside_guanlan;
        let moved = map.stations[elsewhere].id.clone();
        map.stations[0].subdistrict = "Atlantis".into();
        let r = check(&map, &spec());
        assert!(
            r.errors
                .iter()
                .any(|e| e.starts_with(&format!("{moved}: "))
                    && e.contains("outside its subdistrict")),
            "{:?}",
            r.errors
        );
        assert!(
            r.errors
                .iter()
                .any(|e| e.contains("subdistrict Atlantis is not in subdistricts.geojson")),
            "{:?}",
            r.errors
        );
    }
}
