//! Seeded generators for the Longhua data set, the Shenzhen city map that holds
//! it, and synthetic city-scale maps for scaling runs. Real
//! coordinates of the centres are not public, so positions are illustrative:
//! an irregular district outline in the real bounding box, six subdistricts as
//! Voronoi cells of seeds placed where the real ones lie, 125 centres spread by
//! area with the floor-area distribution of the Health Bureau's briefing, the
//! three hospital labs near their real addresses, pads and three no-fly zones.
//!
//! Layout: `longhua`, `shenzhen` (its figures and names in `shenzhen_facts`) and
//! `city` are the generators; `shapes` the geometry they draw with (rings, Voronoi
//! and power-diagram cells, rectangular zones) and `sites` the labs, hours and
//! floor areas they place. Each draws every random number from one ChaCha8
//! stream seeded by its `seed`, so the same seed gives the same files.

mod city;
mod longhua;
mod shapes;
mod shenzhen;
mod shenzhen_facts;
mod sites;

pub use city::{generate_city, generate_city_with_labs, labs_in_proportion};
pub use longhua::{LONGHUA_SEED, generate_longhua};
pub use shenzhen::{SHENZHEN_SEED, generate_shenzhen};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::MapData;
    use std::path::Path;

    #[test]
    fn committed_map_files_are_what_the_generator_makes() {
        let longhua = committed_files_are("longhua", generate_longhua(LONGHUA_SEED));
        assert_eq!(longhua.stations.len(), 125);
        // `labflight maps generate --shenzhen --out maps/shenzhen`
        let city = committed_files_are("shenzhen", generate_shenzhen(SHENZHEN_SEED));
        assert_eq!(city.stations.len(), 650);
        assert_eq!((city.districts.len(), city.groups.len()), (10, 17));
    }

    /// Asserts the files in `maps/<name>` are those `fresh` writes; the committed map.
    fn committed_files_are(name: &str, fresh: MapData) -> MapData {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../maps")
            .join(name);
        let committed = MapData::load(&dir).unwrap();
        let tmp =
            std::env::temp_dir().join(format!("labflight-mapgen-{name}-{}", std::process::id()));
        fresh.write(&tmp).unwrap();
        let layers = [
            "district.geojson",
            "districts.geojson",
            "groups.geojson",
            "subdistricts.geojson",
            "stations.geojson",
            "labs.geojson",
            "pads.geojson",
            "nofly.geojson",
        ];
        for f in layers {
            // A one-district map has no districts or groups layer: both sides lack it.
            assert_eq!(
                std::fs::read_to_string(dir.join(f)).ok(),
                std::fs::read_to_string(tmp.join(f)).ok(),
                "{name}: {f} drifted from the generator"
            );
        }
        let _ = std::fs::remove_dir_all(tmp);
        committed
    }
}
