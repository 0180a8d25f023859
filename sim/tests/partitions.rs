//! A day dispatched by partitions (one dispatcher per medical group): the same
//! whatever the number of threads, each partition's journal replays alone to the
//! same commands, a partition only ever commands what is its own, and a tube no
//! own lab can test is referred to another group's lab, journaled on both sides,
//! and resulted there.

use labflight_core::{Command, Event, LabId, Scenario, TestFamily};
use labflight_dispatch::{Dispatcher, PolicyKind, World, lab_partition, partition_seed};
use labflight_geo::MapData;
use labflight_sim::{PartitionedDay, simulate_partitioned};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

fn short_day_by_group() -> (Scenario, MapData) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/longhua/longhua-short.toml");
    let set = [("dispatch.partition_by".to_owned(), "group".to_owned())];
    let scenario = Scenario::load_with_overrides(&path, &set).unwrap();
    let map = MapData::load(&scenario.map_dir(&path)).unwrap();
    (scenario, map)
}

fn run(scenario: &Scenario, map: &MapData, threads: usize) -> PartitionedDay {
    simulate_partitioned(scenario, map, PolicyKind::Drone, 5, threads, &mut |_| {})
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap()
}

#[test]
fn a_partitioned_day_is_the_same_on_any_number_of_threads() {
    let (scenario, map) = short_day_by_group();
    let one = run(&scenario, &map, 1);
    let three = run(&scenario, &map, 3);
    assert!(one.partitions.len() >= 2, "Longhua has two groups");
    assert_eq!(one.partitions.len(), three.partitions.len());
    for (a, b) in one.partitions.iter().zip(&three.partitions) {
        assert_eq!(a.group, b.group);
        assert!(a.run.journal.len() > 100, "{}: a real day", a.group);
        assert!(
            json(&a.run.journal) == json(&b.run.journal),
            "{}: journals differ",
            a.group
        );
        let (ca, cb) = (&a.run.commands, &b.run.commands);
        assert!(json(ca) == json(cb), "{}: commands differ", a.group);
    }
    assert_eq!(json(&one.kpis), json(&three.kpis));
    assert_eq!(one.kpis.lost_specimens, 0);
    assert!(one.kpis.specimens > 100, "a real day");
    // The figures by group add up to the day's.
    let by_group = &one.kpis.by_group;
    assert_eq!(by_group.len(), one.partitions.len());
    let sum = |f: fn(&labflight_sim::AreaKpis) -> usize| by_group.iter().map(f).sum::<usize>();
    assert_eq!(sum(|a| a.specimens), one.kpis.specimens);
    assert_eq!(sum(|a| a.resulted_by_cutoff), one.kpis.resulted_by_cutoff);
    assert_eq!(
        sum(|a| a.stability_violations),
        one.kpis.stability_violations
    );
    assert_eq!(sum(|a| a.centres), map.stations.len());
}

#[test]
fn each_partition_replays_alone_and_commands_only_its_own() {
    let (scenario, map) = short_day_by_group();
    let day = run(&scenario, &map, 2);
    for p in &day.partitions {
        // Its world is rebuilt from the map and its group alone, as `replay` does.
        let world = Arc::new(World::partition_from_map(&scenario, &map, &p.group));
        assert_eq!(p.seed, partition_seed(5, &p.group));
        let start = p.run.journal[0].at;
        let mut d = Dispatcher::new(Arc::clone(&world), PolicyKind::Drone, p.seed, start);
        let mut replayed = Vec::new();
        for (i, e) in p.run.journal.iter().enumerate() {
            replayed.extend(d.handle(e).into_iter().map(|c| (i, c)));
        }
        assert!(
            json(&replayed) == json(&p.run.commands),
            "{}: replay differs",
            p.group
        );
        let drones: BTreeSet<_> = world.drones.iter().map(|d| d.id.clone()).collect();
        for (_, c) in &p.run.commands {
            if let Command::AssignMission(plan) = c {
                assert!(
                    drones.contains(&plan.drone),
                    "{}: flies {}",
                    p.group,
                    plan.drone
                );
                let station = &world.stations[&plan.station];
                assert_eq!(
                    station.group, p.group,
                    "{}: picks up at {}",
                    p.group, plan.station
                );
            }
        }
    }
    let all: BTreeSet<_> = day
        .partitions
        .iter()
        .flat_map(|p| &p.world.drones)
        .map(|d| &d.id)
        .collect();
    let each: usize = day.partitions.iter().map(|p| p.world.drones.len()).sum();
    assert_eq!(all.len(), each, "no drone is in two partitions");
    assert_eq!(
        each, scenario.fleet.drones as usize,
        "every drone is in one"
    );
}

#[test]
fn a_tube_no_own_lab_tests_is_referred_to_another_groups_lab() {
    let (scenario, mut map) = short_day_by_group();
    // One group's labs stop running HbA1c: its HbA1c tubes must go to the other's.
    let frame = map.frame();
    let stations = map.stations.clone();
    let group = stations[0].group.clone();
    let mut own = BTreeSet::new();
    for lab in &mut map.labs {
        if lab_partition(&frame, &stations, lab).as_ref() == Some(&group) {
            lab.analyzers.retain(|a| a.family != TestFamily::Hba1c);
            own.insert(lab.id.clone());
        }
    }
    assert!(!own.is_empty());
    let day = run(&scenario, &map, 2);
    let home = day.partitions.iter().find(|p| p.group == group).unwrap();
    let hba1c: BTreeSet<_> = home
        .run
        .journal
        .iter()
        .filter_map(|e| match &e.event {
            Event::BoxSealed { tubes, .. } => Some(tubes),
            _ => None,
        })
        .flatten()
        .filter(|t| t.families.contains(&TestFamily::Hba1c))
        .map(|t| t.barcode.clone())
        .collect();
    assert!(hba1c.len() > 10, "the day draws HbA1c tubes in {group}");
    // Each is resulted and reported, at a lab of another group.
    for barcode in &hba1c {
        let c = &day.ledger.tubes[barcode];
        let lab: &LabId = c.lab.as_ref().expect("received");
        assert!(
            !own.contains(lab),
            "{barcode} went to {lab}, which lacks HbA1c"
        );
        assert!(c.reported_at.is_some(), "{barcode} reported");
    }
    // The other side journaled each as a referral from this group.
    let referred: BTreeSet<_> = day
        .partitions
        .iter()
        .filter(|p| p.group != group)
        .flat_map(|p| &p.run.journal)
        .filter_map(|e| match &e.event {
            Event::Referral { from, tubes, .. } if *from == group.as_str() => Some(tubes),
            _ => None,
        })
        .flatten()
        .map(|t| t.barcode.clone())
        .collect();
    assert!(hba1c.is_subset(&referred), "every HbA1c tube was referred");
    // No tube anywhere was received at a lab that does not run its tests.
    let refused: Vec<_> = (day.ledger.lab_rejections.iter())
        .filter(|(_, why)| why.contains("does not run"))
        .collect();
    assert!(refused.is_empty(), "{refused:?}");
    assert_eq!(day.kpis.lost_specimens, 0);
}
