//! `labflight maps ...` as a user runs it against the shipped data.

mod common;

use common::{bin, scratch};

const HEADER: &str = "id,name,subdistrict,group,tier,lat,lon,floor_area_m2,centrifuge,pad\n";

/// `labflight maps check DIR`'s report, asserting it found no problem.
fn check_passes(dir: &str) -> String {
    let out = bin().args(["maps", "check", dir]).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

#[test]
fn check_reports_125_centres_6_regional_and_no_errors() {
    let text = check_passes("maps/longhua");
    assert!(
        text.contains("centres: 125 (6 regional, 119 community)"),
        "{text}"
    );
    assert!(text.contains("none inside a no-fly zone: OK"), "{text}");
    assert!(text.contains("centre to group lab: min"), "{text}");
}

#[test]
fn check_passes_the_city_map_with_its_districts_and_a_regional_centre_per_subdistrict() {
    let text = check_passes("maps/shenzhen");
    assert!(
        text.contains("centres: 650 (74 regional, 576 community)"),
        "{text}"
    );
    assert!(text.contains("labs: 72"), "{text}");
    // Longhua inside the city keeps its 125 centres and two groups.
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().eq(["Longhua", "125", "5", "2"])),
        "{text}"
    );
}

#[test]
fn import_rejects_bad_rows_with_their_row_numbers() {
    let dir = scratch("bad");
    let csv = dir.join("sites.csv");
    std::fs::write(
        &csv,
        format!(
            "{HEADER}R-1,Site One,Longhua,PH,community,22.66,114.04,1200,false,\n\
             R-1,Site Two,Longhua,PH,community,22.67,114.04,900,false,\n\
             R-3,Far Away,Longhua,PH,community,23.50,114.04,900,false,\n\
             R-4,No Area,Longhua,PH,community,22.68,114.03,,false,\n"
        ),
    )
    .unwrap();
    let out = bin()
        .args(["maps", "import", "--input"])
        .arg(&csv)
        .arg("--out")
        .arg(dir.join("out"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("row 3: duplicate id `R-1`"), "{err}");
    assert!(
        err.contains("row 4:") && err.contains("outside the district"),
        "{err}"
    );
    assert!(
        err.contains("row 5: missing field `floor_area_m2`"),
        "{err}"
    );
    assert!(
        !dir.join("out").exists(),
        "nothing written when a row is bad"
    );
}

#[test]
fn import_of_good_rows_converts_gcj02_and_writes_a_loadable_map() {
    let dir = scratch("good");
    let csv = dir.join("sites.csv");
    std::fs::write(&csv, format!("{HEADER}R-1,Site One,Longhua,PH,regional,22.66,114.04,1500,true,\nR-2,Site Two,Minzhi,PH,community,22.63,114.03,900,false,\n")).unwrap();
    let out_dir = dir.join("out");
    let out = bin()
        .args(["maps", "import", "--datum", "gcj02", "--input"])
        .arg(&csv)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let map = labflight_geo::MapData::load(&out_dir).unwrap();
    assert_eq!(map.stations.len(), 2);
    // GCJ-02 input moved by a few hundred metres towards WGS84.
    let moved = labflight_geo::frame::haversine_m(
        map.stations[0].position,
        labflight_core::LatLon::new(22.66, 114.04),
    );
    assert!((200.0..800.0).contains(&moved), "{moved}");
}
