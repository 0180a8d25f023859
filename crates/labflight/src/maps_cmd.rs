//! `labflight maps check|generate|import`: the map data tools.

use crate::BadInput;
use crate::import_cmd::{Datum, Format};
use clap::Subcommand;
use labflight_core::Scenario;
use labflight_geo::MapData;
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum MapsCommand {
    /// Validate a map folder and print its summary (exit 2 on errors).
    Check {
        dir: PathBuf,
        /// Scenario whose drone defines the flight range (default DIR/scenario.toml).
        #[arg(long)]
        scenario: Option<PathBuf>,
    },
    /// Regenerate the illustrative Longhua layers (leaves scenario files alone).
    Generate {
        /// Seed (default: the committed map's, 2025 for Longhua and --city, 2026 for --shenzhen).
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long, default_value = "maps/longhua")]
        out: PathBuf,
        /// Generate the Shenzhen city map (ten districts, 17 groups, 72 labs, 650 centres).
        #[arg(long, conflicts_with = "city")]
        shenzhen: bool,
        /// Generate a synthetic city-scale map with this many centres instead (for scaling runs).
        #[arg(long)]
        city: Option<usize>,
        /// No-fly zones of the city-scale map.
        #[arg(long, default_value_t = 50)]
        zones: usize,
        /// Labs (one per medical group) of the city-scale map; default: in
        /// Shenzhen's proportion, 17 for 700 centres.
        #[arg(long, requires = "city")]
        labs: Option<usize>,
    },
    /// Turn a CSV or GeoJSON of real sites into stations.geojson (exit 2 listing bad rows).
    Import {
        #[arg(long)]
        input: PathBuf,
        #[arg(long, value_enum)]
        format: Option<Format>,
        #[arg(long, value_enum, default_value_t = Datum::Wgs84)]
        datum: Datum,
        /// The map whose district outline the sites must lie in.
        #[arg(long, default_value = "maps/longhua")]
        map: PathBuf,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(cmd: MapsCommand) -> anyhow::Result<()> {
    match cmd {
        MapsCommand::Check { dir, scenario } => {
            let scenario_file = scenario.unwrap_or_else(|| dir.join("scenario.toml"));
            let scenario = Scenario::load(&scenario_file)?;
            let map = MapData::load(&dir)?;
            let report = labflight_geo::check(&map, &scenario.drone);
            print!("{report}");
            if report.errors.is_empty() {
                Ok(())
            } else {
                Err(BadInput(format!(
                    "{}: {} problem(s) in the map data",
                    dir.display(),
                    report.errors.len()
                ))
                .into())
            }
        }
        MapsCommand::Generate {
            seed,
            out,
            shenzhen,
            city,
            zones,
            labs,
        } => {
            let map = match (shenzhen, city) {
                (true, _) => {
                    labflight_geo::generate_shenzhen(seed.unwrap_or(labflight_geo::SHENZHEN_SEED))
                }
                (false, Some(n)) => labflight_geo::generate_city_with_labs(
                    seed.unwrap_or(labflight_geo::LONGHUA_SEED),
                    n,
                    zones,
                    labs.unwrap_or_else(|| labflight_geo::labs_in_proportion(n)),
                ),
                (false, None) => {
                    labflight_geo::generate_longhua(seed.unwrap_or(labflight_geo::LONGHUA_SEED))
                }
            };
            map.write(&out)?;
            println!(
                "wrote {} centres, {} labs, {} pads, {} no-fly zones to {}",
                map.stations.len(),
                map.labs.len(),
                map.pads.len(),
                map.no_fly.len(),
                out.display()
            );
            Ok(())
        }
        MapsCommand::Import {
            input,
            format,
            datum,
            map,
            out,
        } => crate::import_cmd::run(&input, format, datum, &map, &out),
    }
}
