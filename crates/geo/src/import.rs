//! Importing real sites: a CSV (columns documented in maps/README.md) or a
//! GeoJSON of points becomes centres, converted from GCJ-02 when the source says
//! so. Every bad row is reported with its row number and reason; nothing is
//! imported unless every row is good.

use crate::Airspace;
use crate::datum::gcj02_to_wgs84;
use labflight_core::{GroupId, LatLon, OpeningHours, PadId, Station, StationId, Tier};
use std::collections::BTreeSet;
use std::path::Path;

/// CSV columns, in order.
pub const COLUMNS: [&str; 10] = [
    "id",
    "name",
    "subdistrict",
    "group",
    "tier",
    "lat",
    "lon",
    "floor_area_m2",
    "centrifuge",
    "pad",
];

/// A row of an import that was refused, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct RowError {
    /// 1-based line of the CSV (the header is row 1), or feature number in GeoJSON.
    pub row: usize,
    /// Why the row was refused, naming the field and the value.
    pub reason: String,
}

/// One raw site before checking.
#[derive(Debug, Default)]
struct Raw {
    fields: std::collections::BTreeMap<String, String>,
}

impl Raw {
    fn get(&self, k: &str) -> Result<&str, String> {
        self.fields
            .get(k)
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("missing field `{k}`"))
    }
    fn num(&self, k: &str) -> Result<f64, String> {
        let v = self.get(k)?;
        v.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite())
            .ok_or_else(|| format!("field `{k}` = `{v}` is not a number"))
    }
}

fn read_csv(path: &Path) -> Result<Vec<(usize, Raw)>, Vec<RowError>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(|e| {
            vec![RowError {
                row: 1,
                reason: e.to_string(),
            }]
        })?;
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| {
            vec![RowError {
                row: 1,
                reason: e.to_string(),
            }]
        })?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let row = i + 2;
        match rec {
            Ok(rec) => rows.push((
                row,
                Raw {
                    fields: headers
                        .iter()
                        .cloned()
                        .zip(rec.iter().map(str::to_owned))
                        .collect(),
                },
            )),
            Err(e) => {
                return Err(vec![RowError {
                    row,
                    reason: e.to_string(),
                }]);
            }
        }
    }
    Ok(rows)
}

fn read_geojson(path: &Path) -> Result<Vec<(usize, Raw)>, Vec<RowError>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![RowError {
            row: 0,
            reason: e.to_string(),
        }]
    })?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        vec![RowError {
            row: 0,
            reason: format!("not JSON: {e}"),
        }]
    })?;
    let features = v
        .get("features")
        .and_then(|f| f.as_array())
        .cloned()
        .unwrap_or_default();
    Ok(features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let mut raw = Raw::default();
            if let Some(props) = f.get("properties").and_then(|p| p.as_object()) {
                for (k, v) in props {
                    let s = v
                        .as_str()
                        .map(str::to_owned)
                        .unwrap_or_else(|| v.to_string());
                    raw.fields.insert(k.clone(), s);
                }
            }
            if let Some(c) = f
                .pointer("/geometry/coordinates")
                .and_then(|c| c.as_array())
            {
                raw.fields.insert(
                    "lon".into(),
                    c.first().map(|x| x.to_string()).unwrap_or_default(),
                );
                raw.fields.insert(
                    "lat".into(),
                    c.get(1).map(|x| x.to_string()).unwrap_or_default(),
                );
            }
            (i + 1, raw)
        })
        .collect())
}

fn station(raw: &Raw, gcj02: bool, space: &Airspace) -> Result<Station, String> {
    let id = raw.get("id")?;
    let tier = match raw.get("tier")? {
        "regional" => Tier::Regional,
        "community" => Tier::Community,
        other => {
            return Err(format!(
                "field `tier` = `{other}`: expected regional or community"
            ));
        }
    };
    let mut position = LatLon::new(raw.num("lat")?, raw.num("lon")?);
    if let Some(why) = position.invalid_reason() {
        return Err(why);
    }
    if gcj02 {
        position = gcj02_to_wgs84(position);
    }
    if !space.in_district(position) {
        return Err(format!(
            "({:.6}, {:.6}) is outside the district",
            position.lat, position.lon
        ));
    }
    if let Some(z) = space.in_no_fly(position) {
        return Err(format!("inside no-fly zone {}", z.id));
    }
    let floor = raw.num("floor_area_m2")?;
    if floor <= 0.0 {
        return Err(format!("field `floor_area_m2` = {floor} must be positive"));
    }
    let centrifuge = match raw
        .fields
        .get("centrifuge")
        .map(|s| s.trim().to_ascii_lowercase())
        .as_deref()
    {
        None | Some("") | Some("false") | Some("no") | Some("0") => false,
        Some("true") | Some("yes") | Some("1") => true,
        Some(other) => {
            return Err(format!(
                "field `centrifuge` = `{other}`: expected true or false"
            ));
        }
    };
    Ok(Station {
        id: StationId::from(id),
        name: raw.get("name")?.to_owned(),
        name_zh: raw
            .fields
            .get("name_zh")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        subdistrict: raw.get("subdistrict")?.to_owned(),
        district: raw
            .fields
            .get("district")
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        group: GroupId::from(raw.get("group")?),
        tier,
        position,
        floor_area_m2: floor,
        pad: raw
            .fields
            .get("pad")
            .map(|s| s.trim())
            .filter(|s| !s.is_empty())
            .map(PadId::from),
        centrifuge,
        hours: OpeningHours::parse("08:00-12:00,14:00-17:30").expect("valid default hours"),
    })
}

/// Reads sites from `path` (CSV when `csv`, else GeoJSON); all rows or none.
pub fn import(
    path: &Path,
    csv: bool,
    gcj02: bool,
    space: &Airspace,
) -> Result<Vec<Station>, Vec<RowError>> {
    let rows = if csv {
        read_csv(path)?
    } else {
        read_geojson(path)?
    };
    let mut seen = BTreeSet::new();
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for (row, raw) in rows {
        match station(&raw, gcj02, space) {
            Ok(s) => {
                if seen.insert(s.id.clone()) {
                    out.push(s);
                } else {
                    errors.push(RowError {
                        row,
                        reason: format!("duplicate id `{}`", s.id),
                    });
                }
            }
            Err(reason) => errors.push(RowError { row, reason }),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}
