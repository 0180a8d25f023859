//! The map data set on disk: six GeoJSON layers (WGS84) in one folder —
//! `district`, `subdistricts`, `stations`, `labs`, `pads`, `nofly` — and, on a
//! map of several districts (the city's), `districts` and `groups`, loaded into
//! the domain types and written back with stable order and rounding so the files
//! diff well. Property names are documented in maps/README.md.

use crate::{Airspace, LocalFrame, NoFlyZone};
use geo::{Centroid, Coord, LineString, MultiPolygon, Polygon};
use labflight_core::{ConfigError, GroupId, Lab, LabId, LatLon, Pad, Station};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeSet;
use std::path::Path;

/// A subdistrict of the district, for grouping centres.
#[derive(Clone, Debug, PartialEq)]
pub struct Subdistrict {
    /// Its name in pinyin.
    pub name: String,
    /// Its name in Chinese.
    pub name_zh: String,
    /// The district it lies in, on a map of several districts.
    pub district: Option<String>,
    /// Its outline, in degrees.
    pub polygon: MultiPolygon<f64>,
}

/// A district of a city map, with the public figures it was sized by.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct District {
    /// Its name in pinyin (the `district` property of centres and labs).
    pub name: String,
    /// Its name in Chinese.
    pub name_zh: String,
    /// Resident population the centres were spread by.
    pub population: u64,
    /// Its land area in official statistics, km² (the outline's own area differs).
    pub area_km2: f64,
    /// Its outline, in degrees.
    #[serde(skip, default = "no_area")]
    pub polygon: MultiPolygon<f64>,
}

/// A primary-care medical group (基层医疗集团): the partition key of a city map.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MedicalGroup {
    /// Its id (the `group` of its centres; its lead lab's `group`).
    pub id: GroupId,
    /// Its name, after its lead hospital.
    pub name: String,
    /// The same in Chinese.
    pub name_zh: String,
    /// The district it serves.
    pub district: String,
    /// The lab of its lead hospital, which serves its centres.
    pub lead_lab: LabId,
    /// Its subdistricts.
    pub subdistricts: Vec<String>,
    /// Its area (the union of its subdistricts), in degrees.
    #[serde(skip, default = "no_area")]
    pub polygon: MultiPolygon<f64>,
}

/// An area's outline before its geometry is read.
fn no_area() -> MultiPolygon<f64> {
    MultiPolygon::new(vec![])
}

/// A map folder's data: the district, its subdistricts, centres, labs, pads and no-fly zones.
#[derive(Clone, Debug, PartialEq)]
pub struct MapData {
    /// The mapped area's name (`Longhua District`, `Shenzhen`).
    pub name: String,
    /// The same in Chinese.
    pub name_zh: String,
    /// The mapped area's outline, in degrees (one district's, or the city's).
    pub district: MultiPolygon<f64>,
    /// The districts of a city map; empty on a one-district map.
    pub districts: Vec<District>,
    /// The medical groups, when the map lists them (the city's); empty otherwise.
    pub groups: Vec<MedicalGroup>,
    /// Its subdistricts.
    pub subdistricts: Vec<Subdistrict>,
    /// The community health centres.
    pub stations: Vec<Station>,
    /// The hospital labs.
    pub labs: Vec<Lab>,
    /// The drone pads.
    pub pads: Vec<Pad>,
    /// The no-fly zones.
    pub no_fly: Vec<NoFlyZone>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Collection {
    #[serde(rename = "type")]
    kind: String,
    features: Vec<Feature>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Feature {
    #[serde(rename = "type")]
    kind: String,
    geometry: Geometry,
    properties: Map<String, Value>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type")]
enum Geometry {
    Point {
        coordinates: [f64; 2],
    },
    Polygon {
        coordinates: Vec<Vec<[f64; 2]>>,
    },
    MultiPolygon {
        coordinates: Vec<Vec<Vec<[f64; 2]>>>,
    },
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

fn ring_coords(ring: &LineString<f64>) -> Vec<[f64; 2]> {
    ring.coords().map(|c| [round6(c.x), round6(c.y)]).collect()
}

fn multi_geometry(m: &MultiPolygon<f64>) -> Geometry {
    Geometry::MultiPolygon {
        coordinates: m
            .0
            .iter()
            .map(|p| {
                std::iter::once(p.exterior())
                    .chain(p.interiors())
                    .map(ring_coords)
                    .collect()
            })
            .collect(),
    }
}

fn polygon_of(rings: &[Vec<[f64; 2]>]) -> Polygon<f64> {
    let ring = |r: &Vec<[f64; 2]>| {
        LineString::from(
            r.iter()
                .map(|c| Coord { x: c[0], y: c[1] })
                .collect::<Vec<_>>(),
        )
    };
    let exterior = rings
        .first()
        .map(ring)
        .unwrap_or_else(|| LineString::new(vec![]));
    Polygon::new(exterior, rings.iter().skip(1).map(ring).collect())
}

fn multi_of(g: &Geometry) -> Option<MultiPolygon<f64>> {
    match g {
        Geometry::Polygon { coordinates } => Some(MultiPolygon::new(vec![polygon_of(coordinates)])),
        Geometry::MultiPolygon { coordinates } => Some(MultiPolygon::new(
            coordinates.iter().map(|p| polygon_of(p)).collect(),
        )),
        Geometry::Point { .. } => None,
    }
}

fn feature(geometry: Geometry, properties: Value) -> Feature {
    let properties = match properties {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    Feature {
        kind: "Feature".into(),
        geometry,
        properties,
    }
}

/// A record's properties: everything but its position.
fn point_feature<T: Serialize>(record: &T, position: LatLon) -> Feature {
    let mut v = serde_json::to_value(record).expect("domain records serialise");
    if let Value::Object(m) = &mut v {
        m.remove("position");
    }
    feature(
        Geometry::Point {
            coordinates: [round6(position.lon), round6(position.lat)],
        },
        v,
    )
}

fn read(dir: &Path, name: &str) -> Result<(std::path::PathBuf, Collection), ConfigError> {
    let file = dir.join(name);
    let text = std::fs::read_to_string(&file).map_err(|reason| ConfigError::Io {
        file: file.clone(),
        reason,
    })?;
    let c: Collection = serde_json::from_str(&text).map_err(|e| ConfigError::Parse {
        file: file.clone(),
        message: format!("not a GeoJSON FeatureCollection: {e}"),
    })?;
    Ok((file, c))
}

/// An optional layer of areas (`districts`, `groups`): empty when the file is
/// absent; each feature's properties into a record, its outline set by `with`.
fn areas<T: for<'de> Deserialize<'de>>(
    dir: &Path,
    name: &str,
    with: impl Fn(&mut T, MultiPolygon<f64>),
) -> Result<Vec<T>, ConfigError> {
    if !dir.join(name).exists() {
        return Ok(Vec::new());
    }
    let (file, c) = read(dir, name)?;
    c.features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let polygon = multi_of(&f.geometry).ok_or_else(|| {
                ConfigError::invalid(
                    &file,
                    format!("features[{i}].geometry"),
                    "Point",
                    "must be a Polygon or MultiPolygon",
                )
            })?;
            let mut record: T = serde_json::from_value(Value::Object(f.properties.clone()))
                .map_err(|e| {
                    ConfigError::invalid(
                        &file,
                        format!("features[{i}].properties"),
                        "",
                        e.to_string(),
                    )
                })?;
            with(&mut record, polygon);
            Ok(record)
        })
        .collect()
}

/// Point features into records: the geometry becomes `position`.
fn points<T: for<'de> Deserialize<'de>>(
    file: &Path,
    c: &Collection,
) -> Result<Vec<T>, ConfigError> {
    c.features
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let Geometry::Point { coordinates } = &f.geometry else {
                return Err(ConfigError::invalid(
                    file,
                    format!("features[{i}].geometry"),
                    "non-point",
                    "must be a Point",
                ));
            };
            let position = LatLon::new(coordinates[1], coordinates[0]);
            if let Some(why) = position.invalid_reason() {
                return Err(ConfigError::invalid(
                    file,
                    format!("features[{i}].geometry.coordinates"),
                    format!("{coordinates:?}"),
                    why,
                ));
            }
            let mut props = f.properties.clone();
            props.insert(
                "position".into(),
                serde_json::json!({"lat": position.lat, "lon": position.lon}),
            );
            serde_json::from_value(Value::Object(props)).map_err(|e| {
                let id = f
                    .properties
                    .get("id")
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "?".into());
                ConfigError::invalid(
                    file,
                    format!("features[{i}].properties"),
                    format!("id {id}"),
                    e.to_string(),
                )
            })
        })
        .collect()
}

fn unique<'a>(
    file: &Path,
    what: &str,
    ids: impl Iterator<Item = &'a str>,
) -> Result<(), ConfigError> {
    let mut seen = BTreeSet::new();
    for (i, id) in ids.enumerate() {
        if !seen.insert(id) {
            return Err(ConfigError::invalid(
                file,
                format!("features[{i}].properties.id"),
                id,
                format!("duplicate {what} id"),
            ));
        }
    }
    Ok(())
}

impl MapData {
    /// Reads a map folder (`district.geojson`, `stations.geojson`, ...); every error names the file, the feature and the value.
    pub fn load(dir: &Path) -> Result<MapData, ConfigError> {
        let (file, district) = read(dir, "district.geojson")?;
        let title = |k: &str| {
            district
                .features
                .first()
                .and_then(|f| f.properties.get(k))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let (name, name_zh) = (title("name"), title("name_zh"));
        let district = district
            .features
            .first()
            .and_then(|f| multi_of(&f.geometry))
            .ok_or_else(|| {
                ConfigError::invalid(
                    &file,
                    "features[0].geometry",
                    "missing",
                    "the district outline must be a Polygon or MultiPolygon",
                )
            })?;
        let (file, subs) = read(dir, "subdistricts.geojson")?;
        let mut subdistricts: Vec<Subdistrict> = Vec::new();
        for (i, f) in subs.features.iter().enumerate() {
            let text = |k: &str| {
                f.properties
                    .get(k)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let name = text("name").ok_or_else(|| {
                ConfigError::invalid(
                    &file,
                    format!("features[{i}].properties.name"),
                    "missing",
                    "required",
                )
            })?;
            let polygon = multi_of(&f.geometry).ok_or_else(|| {
                ConfigError::invalid(
                    &file,
                    format!("features[{i}].geometry"),
                    "Point",
                    "must be a Polygon or MultiPolygon",
                )
            })?;
            subdistricts.push(Subdistrict {
                name,
                name_zh: text("name_zh").unwrap_or_default(),
                district: text("district"),
                polygon,
            });
        }
        let (sfile, c) = read(dir, "stations.geojson")?;
        let stations: Vec<Station> = points(&sfile, &c)?;
        unique(&sfile, "station", stations.iter().map(|s| s.id.as_str()))?;
        let (lfile, c) = read(dir, "labs.geojson")?;
        let labs: Vec<Lab> = points(&lfile, &c)?;
        unique(&lfile, "lab", labs.iter().map(|l| l.id.as_str()))?;
        let (pfile, c) = read(dir, "pads.geojson")?;
        let pads: Vec<Pad> = points(&pfile, &c)?;
        unique(&pfile, "pad", pads.iter().map(|p| p.id.as_str()))?;
        for (i, s) in stations.iter().enumerate() {
            if let Some(pad) = &s.pad
                && !pads.iter().any(|p| p.id == *pad)
            {
                return Err(ConfigError::invalid(
                    &sfile,
                    format!("features[{i}].properties.pad"),
                    pad,
                    "no such pad in pads.geojson",
                ));
            }
        }
        let (nfile, c) = read(dir, "nofly.geojson")?;
        let mut no_fly = Vec::new();
        for (i, f) in c.features.iter().enumerate() {
            let text = |k: &str| {
                f.properties
                    .get(k)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let id = text("id").ok_or_else(|| {
                ConfigError::invalid(
                    &nfile,
                    format!("features[{i}].properties.id"),
                    "missing",
                    "required",
                )
            })?;
            let polygon = match &f.geometry {
                Geometry::Polygon { coordinates } => polygon_of(coordinates),
                _ => {
                    return Err(ConfigError::invalid(
                        &nfile,
                        format!("features[{i}].geometry"),
                        &id,
                        "a no-fly zone must be a Polygon",
                    ));
                }
            };
            no_fly.push(NoFlyZone {
                name: text("name").unwrap_or_else(|| id.clone()),
                id,
                polygon,
            });
        }
        let districts = areas(dir, "districts.geojson", |d: &mut District, p| {
            d.polygon = p
        })?;
        let groups = areas(dir, "groups.geojson", |g: &mut MedicalGroup, p| {
            g.polygon = p
        })?;
        Ok(MapData {
            name,
            name_zh,
            district,
            districts,
            groups,
            subdistricts,
            stations,
            labs,
            pads,
            no_fly,
        })
    }

    /// Writes the map as GeoJSON files into `dir`.
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let save = |name: &str, features: Vec<Feature>| -> std::io::Result<()> {
            let c = Collection {
                kind: "FeatureCollection".into(),
                features,
            };
            std::fs::write(dir.join(name), serde_json::to_string_pretty(&c)? + "\n")
        };
        save(
            "district.geojson",
            vec![feature(
                multi_geometry(&self.district),
                serde_json::json!({"name": self.name, "name_zh": self.name_zh}),
            )],
        )?;
        let layer =
            |polygon: &MultiPolygon<f64>, record: Value| feature(multi_geometry(polygon), record);
        if !self.districts.is_empty() {
            save(
                "districts.geojson",
                self.districts
                    .iter()
                    .map(|d| layer(&d.polygon, serde_json::to_value(d).unwrap_or_default()))
                    .collect(),
            )?;
        }
        if !self.groups.is_empty() {
            save(
                "groups.geojson",
                self.groups
                    .iter()
                    .map(|g| layer(&g.polygon, serde_json::to_value(g).unwrap_or_default()))
                    .collect(),
            )?;
        }
        save(
            "subdistricts.geojson",
            self.subdistricts
                .iter()
                .map(|s| {
                    let mut props = serde_json::json!({"name": s.name, "name_zh": s.name_zh});
                    if let (Some(d), Value::Object(m)) = (&s.district, &mut props) {
                        m.insert("district".into(), d.as_str().into());
                    }
                    feature(multi_geometry(&s.polygon), props)
                })
                .collect(),
        )?;
        save(
            "stations.geojson",
            self.stations
                .iter()
                .map(|s| point_feature(s, s.position))
                .collect(),
        )?;
        save(
            "labs.geojson",
            self.labs
                .iter()
                .map(|l| point_feature(l, l.position))
                .collect(),
        )?;
        save(
            "pads.geojson",
            self.pads
                .iter()
                .map(|p| point_feature(p, p.position))
                .collect(),
        )?;
        save(
            "nofly.geojson",
            self.no_fly
                .iter()
                .map(|z| {
                    let rings = vec![ring_coords(z.polygon.exterior())];
                    feature(
                        Geometry::Polygon { coordinates: rings },
                        serde_json::json!({"id": z.id, "name": z.name}),
                    )
                })
                .collect(),
        )
    }

    /// A local frame at the district's centroid.
    pub fn frame(&self) -> LocalFrame {
        let c = self.district.centroid().map(|p| LatLon::new(p.y(), p.x()));
        LocalFrame::new(c.unwrap_or(LatLon::new(22.687, 114.030)))
    }

    /// The map's airspace with its no-fly zones grown by `buffer_m` metres.
    pub fn airspace(&self, buffer_m: f64) -> Airspace {
        Airspace::new(
            self.frame(),
            self.district.clone(),
            self.no_fly.clone(),
            buffer_m,
        )
    }
}
