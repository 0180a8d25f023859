//! `labflight maps import`: real sites into the map format, all rows or none.

use crate::BadInput;
use clap::ValueEnum;
use labflight_geo::MapData;
use std::path::Path;

/// The file's format (default: from its extension).
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Format {
    Csv,
    Geojson,
}

/// The datum the file's coordinates are in (GCJ-02 is converted to WGS84).
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Datum {
    Gcj02,
    Wgs84,
}

pub fn run(
    input: &Path,
    format: Option<Format>,
    datum: Datum,
    map: &Path,
    out: &Path,
) -> anyhow::Result<()> {
    let mut data = MapData::load(map)?;
    let csv = match format {
        Some(Format::Csv) => true,
        Some(Format::Geojson) => false,
        None => !input
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("geojson") || e.eq_ignore_ascii_case("json")),
    };
    let space = data.airspace(0.0);
    match labflight_geo::import::import(input, csv, matches!(datum, Datum::Gcj02), &space) {
        Ok(stations) => {
            let n = stations.len();
            data.stations = stations;
            data.write(out)?;
            println!("imported {n} centres into {}", out.display());
            Ok(())
        }
        Err(rows) => {
            let lines: Vec<String> = rows
                .iter()
                .map(|r| format!("{}: row {}: {}", input.display(), r.row, r.reason))
                .collect();
            Err(BadInput(lines.join("\n")).into())
        }
    }
}
