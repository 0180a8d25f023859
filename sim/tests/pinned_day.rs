//! The decisions of one nominal day, pinned by digest: a refactoring that moves any
//! decision of the dispatcher, or any figure of the day, fails here. The files are
//! written by the same functions `labflight sim --out` uses, so the digests are
//! those of the files a user gets.

use labflight_core::Scenario;
use labflight_dispatch::{PolicyKind, World};
use labflight_geo::MapData;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::sync::Arc;

/// SHA-256 of `kpis.json` and `commands.jsonl` of seed 7 of
/// `maps/longhua/scenario.toml` (the nominal day) under the `drone` policy, as
/// `labflight sim --scenario maps/longhua/scenario.toml --seed 7 --policy drone --no-baselines --mkdir --out runs/pin`
/// writes them.
///
/// UPDATE THESE DELIBERATELY, and only when a change is meant to move decisions
/// (a new rule, a tuned constant, a fixed bug): run the command above, check that
/// the difference is the one intended (`scripts/check-identical.sh` names the days
/// and files that moved), paste `sha256sum runs/pin/kpis.json runs/pin/commands.jsonl`
/// here, and say why in the commit message. A change that is not meant to move
/// decisions must leave them as they are.
const PINNED: [(&str, &str); 2] = [
    (
        "kpis.json",
        "fec3bcae8823896c3f0ba660c5e8e649c12b21ac0f0b189dd8ee7fa0f6d32bcc",
    ),
    (
        "commands.jsonl",
        "ee780b04a4b2d99f1b89be415a8b0d28390cc0cc509c2a09b62c627579fb0c9e",
    ),
];

/// The scenario of the pinned day.
const SCENARIO_FILE: &str = "scenario.toml";

#[test]
fn a_nominal_days_decisions_are_pinned() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../maps/longhua")
        .join(SCENARIO_FILE);
    let scenario = Scenario::load(&path).unwrap();
    let map = MapData::load(&scenario.map_dir(&path)).unwrap();
    let world = Arc::new(World::from_map(&scenario, &map));
    let day = labflight_sim::simulate(
        &scenario,
        Arc::clone(&world),
        PolicyKind::Drone,
        7,
        &mut |_| {},
    );
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("pinned-day-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    labflight_sim::write_outcome(&dir, &scenario, &world, &day.ledger, &day.kpis, &[]).unwrap();
    labflight_sim::write_commands(
        &dir.join(labflight_sim::COMMANDS),
        &day.run.journal,
        &day.run.commands,
    )
    .unwrap();
    for (file, pinned) in PINNED {
        let bytes = std::fs::read(dir.join(file)).unwrap();
        let digest: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(
            digest, pinned,
            "{file} of the pinned day changed: decisions moved. If that is intended, \
             update PINNED (see its comment); if not, the change has a bug"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
