//! A day dispatched by partitions (one dispatcher per medical group): the same
//! whatever the number of threads, each partition's journal replays alone to the
//! same commands, a partition only ever commands what is its own, and a tube no
//! own lab can test is referred to another group's lab, journaled on both sides,
//! and resulted there; a group short of a drone borrows a spare one from another,
//! journaled on both sides too.

use labflight_core::{Command, DroneId, Event, LabId, Scenario, TestFamily};
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
        commands_only_drones_it_holds(p, &world);
        for (_, c) in &p.run.commands {
            if let Command::AssignMission(plan) = c {
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

/// Every drone partition `p` commands is one it holds when it commands it: its
/// own, less those its journal has lent out, plus those it has borrowed. Returns
/// how many commands named a borrowed drone.
fn commands_only_drones_it_holds(p: &labflight_sim::PartitionRun, world: &World) -> usize {
    let own: BTreeSet<DroneId> = world.drones.iter().map(|d| d.id.clone()).collect();
    let mut held = own.clone();
    let mut commands = p.run.commands.iter().peekable();
    let mut by_borrowed = 0;
    for (i, e) in p.run.journal.iter().enumerate() {
        match &e.event {
            Event::DroneLent { drone, .. } => {
                assert!(held.remove(drone), "{}: lent {drone}, not held", p.group)
            }
            Event::DroneBorrowed { drone, .. } => assert!(
                held.insert(drone.clone()),
                "{}: borrowed {drone}, held",
                p.group
            ),
            _ => {}
        }
        while let Some((_, c)) = commands.next_if(|(at, _)| *at == i) {
            let drone = match c {
                Command::AssignMission(plan) => &plan.drone,
                Command::ReturnToPad { drone, .. }
                | Command::SwapBattery { drone, .. }
                | Command::AbortMission { drone, .. }
                | Command::Redirect { drone, .. }
                | Command::AddToMission { drone, .. } => drone,
                _ => continue,
            };
            assert!(
                held.contains(drone),
                "{}: commands {drone}, which it does not hold",
                p.group
            );
            by_borrowed += usize::from(!own.contains(drone));
        }
    }
    by_borrowed
}

#[test]
fn a_group_short_of_a_drone_borrows_a_spare_one_and_both_journal_it() {
    // The city with 100 drones for its 650 centres (the shipped day has 162 and
    // lends none): groups run short while their neighbours have drones to spare.
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../maps/shenzhen/scenario.toml");
    let thin = |lend_km: &str| {
        let set = [
            ("fleet.drones".to_owned(), "100".to_owned()),
            (
                "dispatch.lend_drones_within_km".to_owned(),
                lend_km.to_owned(),
            ),
        ];
        Scenario::load_with_overrides(&path, &set).unwrap()
    };
    let scenario = thin("6");
    let map = MapData::load(&scenario.map_dir(&path)).unwrap();
    let day = run(&scenario, &map, 2);
    assert_eq!(day.kpis.lost_specimens, 0);
    // Each loan is journaled by the lender and the borrower at the same instant.
    let mut lent = Vec::new();
    let mut borrowed = Vec::new();
    for p in &day.partitions {
        for e in &p.run.journal {
            match &e.event {
                Event::DroneLent { drone, to } => {
                    lent.push((e.at, drone.clone(), p.group.to_string(), to.clone()))
                }
                Event::DroneBorrowed { drone, from, .. } => {
                    borrowed.push((e.at, drone.clone(), from.clone(), p.group.to_string()))
                }
                _ => {}
            }
        }
    }
    lent.sort();
    borrowed.sort();
    assert!(!lent.is_empty(), "no drone lent on a thin fleet");
    let groups: BTreeSet<_> = day.partitions.iter().map(|p| p.group.to_string()).collect();
    for (_, _, from, to) in &lent {
        assert!(from != to && groups.contains(to), "{from} lent to {to}");
    }
    assert_eq!(lent, borrowed, "every loan on both sides");
    // Nobody commands a drone it does not hold, and borrowed drones fly.
    let mut by_borrowed = 0;
    for p in &day.partitions {
        let world = World::partition_from_map(&scenario, &map, &p.group);
        by_borrowed += commands_only_drones_it_holds(p, &world);
    }
    assert!(by_borrowed > 0, "no borrowed drone was commanded");
    // The same on one thread, and the loans can be turned off.
    let one = run(&scenario, &map, 1);
    for (a, b) in one.partitions.iter().zip(&day.partitions) {
        assert!(
            json(&a.run.journal) == json(&b.run.journal),
            "{}: journals differ",
            a.group
        );
    }
    let none = run(&thin("0"), &map, 2);
    let loans = none
        .partitions
        .iter()
        .flat_map(|p| &p.run.journal)
        .filter(|e| {
            matches!(
                e.event,
                Event::DroneLent { .. } | Event::DroneBorrowed { .. }
            )
        })
        .count();
    assert_eq!(loans, 0);
    eprintln!(
        "100 drones: {} loans, on time {:.2} % with them, {:.2} % without",
        lent.len(),
        100.0 * day.kpis.on_time_rate,
        100.0 * none.kpis.on_time_rate
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
