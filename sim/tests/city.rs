//! The city's lab-outage day by partitions (`maps/shenzhen/shenzhen-lab-outage.toml`):
//! both chemistry lines of LH-CH's only lab are down 09:00–11:00, so that group's
//! chemistry is referred to other groups' labs meanwhile. Nothing is lost, every
//! miss is explained, and no tube is ever received at a lab lacking one of its
//! tests — not even one a drone in trouble set down on such a lab's pad (seed 5
//! has one: before the fix the lab scanned it in and refused it). Dapeng's
//! southern centres, beyond one flight of every lab that runs HbA1c, fly by relay
//! with a battery swap on the way, each hop within one battery, and their serum
//! tubes keep their stability limit.

use labflight_core::{Event, Scenario};
use labflight_dispatch::PolicyKind;
use labflight_geo::MapData;
use std::collections::BTreeMap;
use std::path::Path;

#[test]
fn the_city_lab_outage_day_refers_chemistry_and_loses_nothing() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/shenzhen/shenzhen-lab-outage.toml");
    let scenario = Scenario::load(&path).unwrap();
    let map = MapData::load(&scenario.map_dir(&path)).unwrap();
    let day =
        labflight_sim::simulate_partitioned(&scenario, &map, PolicyKind::Drone, 5, 2, &mut |_| {});
    let k = &day.kpis;
    assert!(k.specimens > 40_000, "a city day: {}", k.specimens);
    assert_eq!(k.lost_specimens, 0);
    assert_eq!(k.by_group.len(), day.partitions.len());
    assert!(
        k.by_district.len() >= 10,
        "ten districts: {}",
        k.by_district.len()
    );
    // LH-CH's chemistry went to other groups' labs while its lines were down.
    let down = (
        scenario.at(scenario.outages[0].from),
        scenario.at(scenario.outages[0].to),
    );
    let referred_from_lh_ch = day
        .partitions
        .iter()
        .flat_map(|p| &p.run.journal)
        .filter(|e| e.at >= down.0 && e.at <= down.1)
        .filter(|e| matches!(&e.event, Event::Referral { from, .. } if from == "LH-CH"))
        .count();
    assert!(
        referred_from_lh_ch > 0,
        "LH-CH referred nothing during its outage"
    );
    // No tube at a lab lacking one of its tests, and every miss has its reason.
    let mut families = BTreeMap::new();
    for e in day.partitions.iter().flat_map(|p| &p.run.journal) {
        if let Event::BoxSealed { tubes, .. } = &e.event {
            for t in tubes {
                families.insert(t.barcode.clone(), t.families.clone());
            }
        }
    }
    let labs: BTreeMap<_, _> = map.labs.iter().map(|l| (l.id.clone(), l)).collect();
    for c in day.ledger.tubes.values() {
        if let Some(lab) = &c.lab {
            let missing = labs[lab].lacks(&families[&c.barcode]);
            assert!(
                missing.is_none(),
                "{} at {lab}, lacking {missing:?}",
                c.barcode
            );
        }
    }
    // Relays: each hop within what a full battery can spend above its reserve,
    // the swap on a charger pad, and no tube of a relayed box past its limit.
    let spec = &scenario.drone;
    let full_wh = spec.battery_wh * (1.0 - spec.reserve_fraction);
    let mut relayed_boxes = Vec::new();
    for p in &day.partitions {
        for (_, c) in &p.run.commands {
            let labflight_core::Command::AssignMission(plan) = c else {
                continue;
            };
            let Some(relay) = &plan.relay else {
                continue;
            };
            assert!(
                p.world.pads[&relay.pad].charger,
                "{}: relay pad {} has no charger",
                plan.mission, relay.pad
            );
            let (before, after): (Vec<_>, Vec<_>) =
                plan.legs.iter().partition(|l| l.arrive <= relay.land_at);
            let wh = |legs: &[&labflight_core::command::Leg]| -> f64 {
                legs.iter().map(|l| l.energy_wh).sum()
            };
            assert!(
                wh(&before) <= full_wh,
                "{}: {} Wh before the swap",
                plan.mission,
                wh(&before)
            );
            assert!(
                wh(&after) <= full_wh,
                "{}: {} Wh after the swap",
                plan.mission,
                wh(&after)
            );
            assert_eq!(after[0].from, relay.pad.as_str());
            assert!(after[0].depart >= relay.land_at);
            assert!(
                matches!(
                    plan.why.reason.as_deref(),
                    Some(labflight_core::Reason::DroneRelay { .. })
                ),
                "{}: {}",
                plan.mission,
                plan.why.summary
            );
            relayed_boxes.extend(plan.boxes.iter().cloned());
        }
    }
    assert!(!relayed_boxes.is_empty(), "no relay flown on the city day");
    for c in day.ledger.tubes.values() {
        if relayed_boxes.contains(&c.box_id) {
            assert!(
                !c.stability_violated(),
                "{} of a relayed box past its limit",
                c.barcode
            );
        }
    }
    let misses = labflight_sim::misses_by_reason(&day.ledger, &scenario);
    let missed: usize = misses.iter().map(|m| m.tubes).sum();
    assert_eq!(missed, k.drawn_by_last_draw - k.resulted_by_cutoff);
    assert!(misses.iter().all(|m| !m.reason.is_empty()), "{misses:?}");
}
