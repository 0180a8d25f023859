//! A day on partitions: one engine and dispatcher per medical group, each on its
//! own journal, run side by side on threads. They advance in lockstep by the
//! minute; what crosses partitions (a box delivered to another group's lab, that
//! lab's verdict on each of its tubes) is exchanged only between steps, in
//! partition order, and journaled by whoever receives it. So each partition
//! replays alone from its journal, and the day is the same whatever the number
//! of threads.

use crate::demand::morning_draws;
use crate::engine::{CrossMessage, DayRun, Engine};
use crate::kpi::{self, Kpis};
use crate::ledger::Ledger;
use chrono::Duration;
use labflight_core::{DroneId, GroupId, LabId, Scenario, Station};
use labflight_dispatch::{PolicyKind, World, lab_partition, partition_seed, partitions_of};
use labflight_geo::MapData;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One partition's day.
#[derive(Debug)]
pub struct PartitionRun {
    /// Its medical group.
    pub group: GroupId,
    /// Its world (its centres, fleet and labs, other groups' labs as referrals).
    pub world: Arc<World>,
    /// The seed its world and dispatcher ran on (`partition_seed`).
    pub seed: u64,
    /// Its journal, custody steps and commands.
    pub run: DayRun,
}

/// Everything a day on partitions produced.
#[derive(Debug)]
pub struct PartitionedDay {
    /// Each partition's day, in group order.
    pub partitions: Vec<PartitionRun>,
    /// The city's tubes, flights and vans together.
    pub ledger: Ledger,
    /// The day's figures over every partition.
    pub kpis: Kpis,
}

/// The step partitions advance by before they exchange what crosses: a box
/// handed to another group's lab is checked in by it at most this late.
const STEP: Duration = Duration::minutes(1);

/// Simulates one day of `scenario` on `map` with a dispatcher per medical group,
/// on `threads` threads (the outcome does not depend on how many).
pub fn simulate_partitioned(
    scenario: &Scenario,
    map: &MapData,
    policy: PolicyKind,
    seed: u64,
    threads: usize,
    progress: &mut dyn FnMut(f64),
) -> PartitionedDay {
    let groups = partitions_of(map);
    let worlds: Vec<Arc<World>> = on_threads(threads, &groups, |g| {
        Arc::new(World::partition_from_map(scenario, map, g))
    });
    // The city's morning is drawn once over every centre (in id order, as on one
    // dispatcher), so partitioning changes who plans, not who is drawn.
    let mut stations: Vec<Station> = map.stations.clone();
    stations.sort_by(|a, b| a.id.cmp(&b.id));
    let group_of: BTreeMap<_, usize> = stations
        .iter()
        .map(|s| (s.id.clone(), groups.binary_search(&s.group).unwrap_or(0)))
        .collect();
    let mut draws = vec![Vec::new(); groups.len()];
    for d in morning_draws(scenario, &stations, seed) {
        draws[group_of[&d.station]].push(d);
    }
    let frame = map.frame();
    let lab_owner: BTreeMap<LabId, usize> = map
        .labs
        .iter()
        .filter_map(|l| {
            let g = lab_partition(&frame, &map.stations, l)?;
            Some((l.id.clone(), groups.binary_search(&g).ok()?))
        })
        .collect();
    let engines: Vec<Mutex<Engine>> = groups
        .iter()
        .zip(worlds.iter().cloned())
        .zip(draws)
        .map(|((g, world), draws)| {
            let seed = partition_seed(seed, g);
            Mutex::new(Engine::with_draws(scenario, world, policy, seed, draws))
        })
        .collect();
    let start = lock(&engines[0]).now();
    let end = scenario.at(chrono::NaiveTime::MIN) + Duration::days(1);
    let span = (end - start).num_seconds().max(1) as f64;
    let mut until = start;
    let mut crossing: Vec<(usize, CrossMessage)> = Vec::new();
    // Each drone on loan, with the partition it belongs to.
    let mut on_loan: BTreeMap<DroneId, usize> = BTreeMap::new();
    loop {
        let next = engines.iter().filter_map(|e| lock(e).next_at()).min();
        // The next step boundary at or after the next happening (or the next step,
        // when only messages are left to hand over).
        let steps = match next {
            Some(next) => (next - until).num_milliseconds() as f64 / STEP.num_milliseconds() as f64,
            None if crossing.is_empty() => break,
            None => 1.0,
        };
        until += STEP * steps.ceil().max(1.0) as i32;
        on_threads(threads, &engines, |e| lock(e).advance_to(until));
        // What crosses is handed over between steps, in partition order; what the
        // receivers answer goes at the next step.
        crossing.extend(take_crossing(&engines));
        for (from, m) in std::mem::take(&mut crossing) {
            exchange(&engines, &groups, &lab_owner, from, m);
        }
        crossing.extend(take_crossing(&engines));
        lend_drones(&engines, &groups, &frame, scenario, &mut on_loan);
        progress(((until - start).num_seconds() as f64 / span).min(1.0));
    }
    progress(1.0);
    let partitions: Vec<PartitionRun> = groups
        .into_iter()
        .zip(worlds)
        .zip(engines)
        .map(|((group, world), e)| PartitionRun {
            seed: partition_seed(seed, &group),
            run: e
                .into_inner()
                .expect("no partition panicked holding its engine")
                .into_run(),
            group,
            world,
        })
        .collect();
    let ledgers = on_threads(threads, &partitions, |p| {
        crate::ledger_of(scenario, &p.world, &p.run)
    });
    let ledger = Ledger::merge(ledgers);
    let kpis = kpi::compute(scenario, seed, policy.name(), &ledger).with_areas(
        scenario,
        &ledger,
        &map.stations,
    );
    PartitionedDay {
        partitions,
        ledger,
        kpis,
    }
}

/// Hands a message from partition `from` to the partition it is for: a referral
/// to the lab's, a verdict to the sender's.
fn exchange(
    engines: &[Mutex<Engine>],
    groups: &[GroupId],
    lab_owner: &BTreeMap<LabId, usize>,
    from: usize,
    message: CrossMessage,
) {
    match message {
        CrossMessage::Referral { lab, tubes, .. } => {
            // Every lab of the map has a partition (`lab_partition`).
            let to = lab_owner
                .get(&lab)
                .unwrap_or_else(|| panic!("a referral to {lab}, which no partition owns"));
            lock(&engines[*to]).referral_in(&groups[from], &lab, &tubes);
        }
        CrossMessage::Verdict {
            to,
            barcode,
            lab,
            at,
            outcome,
        } => {
            // A verdict answers a referral, so its sender is a partition.
            let to = groups
                .binary_search(&to)
                .unwrap_or_else(|_| panic!("a verdict for {to}, which is no partition"));
            lock(&engines[to]).lab_says(&lab, &barcode, at, outcome);
        }
    }
}

/// Lends drones between partitions, between steps, in partition order: each
/// partition short of a drone (`labflight_dispatch::shortfall`) borrows the spare
/// drone (`spare_drones`) of another that is not short itself standing nearest the
/// centre it is short at, within `dispatch.lend_drones_within_km`; a drone of its
/// own on loan comes back first. A lender lends at most one drone a step. Both
/// sides journal it (`Engine::lend_out`, `borrow_in`), so each partition's day
/// replays alone and the day is the same whatever the number of threads.
fn lend_drones(
    engines: &[Mutex<Engine>],
    groups: &[GroupId],
    frame: &labflight_geo::LocalFrame,
    scenario: &Scenario,
    on_loan: &mut BTreeMap<DroneId, usize>,
) {
    let within_m = scenario.dispatch.lend_drones_within_km * 1000.0;
    if within_m <= 0.0 {
        return;
    }
    let needs: Vec<_> = engines
        .iter()
        .map(|e| lock(e).drone_needs(within_m))
        .collect();
    if needs.iter().all(|(short, _)| short.is_none()) {
        return;
    }
    let mut lenders_used = BTreeSet::new();
    for (borrower, (short, _)) in needs.iter().enumerate() {
        let Some(at) = short else {
            continue;
        };
        // (not its own drone coming back, metres, lender, drone): the least wins.
        let mut best: Option<(bool, f64, usize, &DroneId)> = None;
        for (lender, (lender_short, spare)) in needs.iter().enumerate() {
            if lender == borrower || lender_short.is_some() || lenders_used.contains(&lender) {
                continue;
            }
            for (drone, stands) in spare {
                let metres = frame.distance_m(*stands, *at);
                if metres > within_m {
                    continue;
                }
                let key = (on_loan.get(drone) != Some(&borrower), metres, lender, drone);
                let better = best
                    .as_ref()
                    .is_none_or(|b| (key.0, key.1, key.2) < (b.0, b.1, b.2));
                if better {
                    best = Some(key);
                }
            }
        }
        let Some((_, _, lender, drone)) = best else {
            continue;
        };
        let Some(stands) = lock(&engines[lender]).lend_out(drone, &groups[borrower]) else {
            continue;
        };
        lock(&engines[borrower]).borrow_in(drone, &groups[lender], stands);
        lenders_used.insert(lender);
        match on_loan.get(drone) {
            Some(owner) if *owner == borrower => {
                on_loan.remove(drone);
            }
            Some(_) => {}
            None => {
                on_loan.insert(drone.clone(), lender);
            }
        }
    }
}

/// What every partition has to tell others, each message with its sender, in
/// partition order.
fn take_crossing(engines: &[Mutex<Engine>]) -> Vec<(usize, CrossMessage)> {
    (engines.iter().enumerate())
        .flat_map(|(from, e)| lock(e).take_cross().into_iter().map(move |m| (from, m)))
        .collect()
}

fn lock<'m, 'a>(e: &'m Mutex<Engine<'a>>) -> std::sync::MutexGuard<'m, Engine<'a>> {
    e.lock().expect("no partition panicked holding its engine")
}

/// `work` on each item, on up to `threads` threads taking items in turn; the
/// results in the items' order.
fn on_threads<T: Sync, R: Send>(
    threads: usize,
    items: &[T],
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let threads = threads.clamp(1, items.len().max(1));
    if threads == 1 {
        return items.iter().map(&work).collect();
    }
    let next = AtomicUsize::new(0);
    let done: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(item) = items.get(i) else { break };
                    let r = work(item);
                    done.lock().expect("a worker does not panic").push((i, r));
                }
            });
        }
    });
    let mut done = done.into_inner().expect("a worker does not panic");
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, r)| r).collect()
}
