//! Invariants on random small worlds, each acted out to the end of the morning:
//! no drone ever holds two missions, no mission needs more than the battery above
//! its reserve, no leg crosses a no-fly zone, no van is in two places at once (a
//! squall grounds the fleet on some worlds, and vans then carry everything, on
//! rounds), every sealed box is moved or alerted, and the same events always give
//! the same commands.

mod common;

use common::*;
use labflight_core::{BoxId, Command, LabId, MissionId, TestFamily};
use labflight_dispatch::PolicyKind;
use labflight_dispatch::state::BoxStatus;
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
struct WorldSpec {
    stations: Vec<(f64, f64)>,
    labs: Vec<(f64, f64)>,
    drones: Vec<(usize, f64)>,
    zone: Option<(f64, f64)>,
    boxes: Vec<(usize, u32, usize, usize)>, // station, minute after 08:00, tube kind, tube count
    couriers: usize,
    /// Wind above the drones' limit from this many minutes after 08:00, for so long.
    squall: Option<(u32, u32)>,
    /// Per lab, the test family (index into `TestFamily::ALL`) it does not run, if any.
    lab_lacks: Vec<Option<usize>>,
}

fn world_spec() -> impl Strategy<Value = WorldSpec> {
    (
        prop::collection::vec((-5.0..5.0f64, -5.0..5.0f64), 2..6),
        prop::collection::vec((-3.0..3.0f64, -3.0..3.0f64), 1..3),
        prop::collection::vec((0usize..4, 35.0..100.0f64), 1..4),
        prop::option::of((-4.0..4.0f64, -4.0..4.0f64)),
        prop::collection::vec((0usize..6, 0u32..200, 0usize..4, 1usize..40), 1..12),
        0usize..3,
        prop::option::of((0u32..200, 10u32..120)),
        prop::collection::vec(prop::option::of(0usize..TestFamily::ALL.len()), 3),
    )
        .prop_map(
            |(stations, labs, drones, zone, boxes, couriers, squall, lab_lacks)| WorldSpec {
                stations,
                labs,
                drones,
                zone,
                boxes,
                couriers,
                squall,
                lab_lacks,
            },
        )
}

const KINDS: [&str; 4] = ["edta", "sst", "fluoride", "citrate"];

/// Keeps sites apart from each other and out of the zone, so every site is reachable.
fn tidy(spec: &WorldSpec) -> Option<WorldSpec> {
    let mut spec = spec.clone();
    let sites: Vec<(f64, f64)> = spec
        .stations
        .iter()
        .chain(spec.labs.iter())
        .copied()
        .collect();
    for (i, a) in sites.iter().enumerate() {
        for b in &sites[i + 1..] {
            if (a.0 - b.0).hypot(a.1 - b.1) < 0.3 {
                return None;
            }
        }
    }
    if let Some(z) = spec.zone
        && sites
            .iter()
            .any(|s| (s.0 - z.0).abs() < 1.0 && (s.1 - z.1).abs() < 1.0)
    {
        spec.zone = None;
    }
    Some(spec)
}

fn run(spec: &WorldSpec, policy: PolicyKind) -> Executor {
    let s = scenario();
    let mut b = Builder::default();
    for (i, (e, n)) in spec.stations.iter().enumerate() {
        b = b.station(
            &format!("C{i}"),
            *e,
            *n,
            if i % 2 == 0 { "PH" } else { "CH" },
        );
    }
    for (i, (e, n)) in spec.labs.iter().enumerate() {
        let group = match i {
            0 => Some("PH"),
            1 => Some("CH"),
            _ => None,
        };
        let lacks = spec.lab_lacks[i].map(|k| TestFamily::ALL[k]);
        let analyzers = all_families()
            .into_iter()
            .filter(|a| Some(a.family) != lacks)
            .collect();
        b = b.lab(&format!("L{i}"), *e, *n, group, analyzers);
    }
    for (i, (lab, battery)) in spec.drones.iter().enumerate() {
        b = b.drone(
            &format!("D{i}"),
            &format!("L{}", lab % spec.labs.len()),
            *battery,
        );
    }
    for i in 0..spec.couriers {
        b = b.courier(&format!("V{i}"), "L0");
    }
    if let Some((e, n)) = spec.zone {
        b = b.zone("Z", e, n, 0.4);
    }
    let world = b.world(&s);
    let mut ex = Executor::new(world, policy, t("07:30"));
    for (i, (station, minute, kind, count)) in spec.boxes.iter().enumerate() {
        let at = t("08:00") + chrono::Duration::minutes(i64::from(*minute));
        let station = format!("C{}", station % spec.stations.len());
        ex.push_stamped(sealed(
            at,
            &format!("B{i}"),
            &station,
            tubes(
                &format!("T{i}"),
                *count,
                KINDS[*kind],
                at - chrono::Duration::minutes(20),
                &s,
            ),
        ));
    }
    if let Some((from, minutes)) = spec.squall {
        let start = t("08:00") + chrono::Duration::minutes(i64::from(from));
        for (at, wind_east_mps) in [
            (start, 16.0),
            (start + chrono::Duration::minutes(i64::from(minutes)), 3.0),
        ] {
            ex.push(
                at,
                labflight_core::Event::Weather {
                    wind_east_mps,
                    wind_north_mps: 0.0,
                    rain_mm_h: 0.0,
                },
            );
        }
    }
    ex.run_until(t("14:00"));
    ex
}

fn log_text(ex: &Executor) -> String {
    ex.log
        .iter()
        .map(|(at, c)| format!("{at} {}\n", serde_json::to_string(c).unwrap()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn dispatcher_invariants_hold_on_random_worlds(spec in world_spec(), policy_index in 0..PolicyKind::ALL.len()) {
        let Some(spec) = tidy(&spec) else { return Ok(()); };
        let policy = PolicyKind::ALL[policy_index];
        let ex = run(&spec, policy);
        let world = ex.dispatcher.world();
        let reserve_pct = world.drone_spec.reserve_fraction * 100.0;

        // One mission per drone at a time: a drone's next mission starts after its last ends or is aborted.
        let mut busy_until: BTreeMap<String, (String, chrono::DateTime<chrono::Utc>)> = BTreeMap::new();
        for (at, c) in &ex.log {
            match c {
                Command::AssignMission(p) => {
                    if let Some((m, until)) = busy_until.get(p.drone.as_str()) {
                        prop_assert!(*at >= *until, "{} got {} while {} runs until {}", p.drone, p.mission, m, until);
                    }
                    busy_until.insert(p.drone.to_string(), (p.mission.to_string(), p.arrive_lab_at));
                    prop_assert!(p.battery_after_pct >= reserve_pct - 1e-6, "{} leaves {} %", p.mission, p.battery_after_pct);
                    prop_assert!(p.payload_kg <= world.drone_spec.max_payload_kg + 1e-9);
                    for leg in &p.legs {
                        for w in leg.waypoints.windows(2) {
                            prop_assert!(world.airspace.segment_clear(w[0], w[1]), "{} crosses a zone", p.mission);
                        }
                    }
                }
                Command::AbortMission { drone, mission, .. }
                    if busy_until.get(drone.as_str()).is_some_and(|(m, _)| m == mission.as_str()) =>
                {
                    busy_until.remove(drone.as_str());
                }
                _ => {}
            }
        }

        // A van is in one place at a time: each trip (its calls share a delivery)
        // goes to one lab, makes every call before it delivers, and starts after
        // the van's last delivery.
        let mut trips: BTreeMap<(String, chrono::DateTime<chrono::Utc>), Vec<&labflight_core::command::CourierRequest>> = BTreeMap::new();
        for (_, c) in &ex.log {
            if let Command::RequestCourier(r) = c {
                let van = r.courier.as_ref().map_or(String::new(), |v| v.to_string());
                trips.entry((van, r.deliver_at)).or_default().push(r);
            }
        }
        let mut last_delivery: BTreeMap<&str, chrono::DateTime<chrono::Utc>> = BTreeMap::new();
        for ((van, deliver_at), calls) in &trips {
            let first_call = calls.iter().map(|r| r.pickup_at).min().expect("a trip has a call");
            prop_assert!(calls.iter().all(|r| r.lab == calls[0].lab), "{van}'s trip to {deliver_at} goes to two labs");
            prop_assert!(calls.iter().all(|r| r.pickup_at <= *deliver_at), "{van} delivers before it calls");
            if let Some(before) = last_delivery.get(van.as_str()) {
                prop_assert!(first_call >= *before, "{van} calls at {first_call} before delivering at {before}");
            }
            last_delivery.insert(van.as_str(), *deliver_at);
        }

        // No box is ever sent to a lab that lacks a test family of one of its
        // tubes: not on a mission, a ride-along, a redirect nor a van run.
        let st = ex.dispatcher.state();
        let mut mission_lab: BTreeMap<&MissionId, &LabId> = BTreeMap::new();
        let mut mission_boxes: BTreeMap<&MissionId, Vec<&BoxId>> = BTreeMap::new();
        for (at, c) in &ex.log {
            let sent: Vec<(&BoxId, &LabId)> = match c {
                Command::AssignMission(p) => {
                    mission_lab.insert(&p.mission, &p.lab);
                    mission_boxes.insert(&p.mission, p.boxes.iter().collect());
                    p.boxes.iter().map(|b| (b, &p.lab)).collect()
                }
                Command::AddToMission { mission, boxes, .. } => {
                    let lab = mission_lab.get(mission).copied();
                    prop_assert!(lab.is_some(), "{mission} added to before it was assigned");
                    mission_boxes.entry(mission).or_default().extend(boxes.iter());
                    boxes.iter().map(|b| (b, lab.unwrap())).collect()
                }
                Command::Redirect { mission, lab, .. } => {
                    mission_lab.insert(mission, lab);
                    mission_boxes.get(mission).into_iter().flatten().map(|b| (*b, lab)).collect()
                }
                Command::RequestCourier(r) => r.boxes.iter().map(|b| (b, &r.lab)).collect(),
                _ => Vec::new(),
            };
            for (box_id, lab) in sent {
                let families = &st.boxes.get(box_id).expect("a sealed box").families;
                let lab_runs = &world.labs[lab];
                let missing: Vec<_> = families.iter().filter(|f| !lab_runs.runs(**f)).collect();
                prop_assert!(missing.is_empty(), "at {at} {box_id} sent to {lab}, which does not run {missing:?}: {c:?}");
            }
        }

        // Every sealed box was moved, or someone was told why not.
        for b in st.boxes.values() {
            let alerted = ex.log.iter().any(|(_, c)| matches!(c, Command::Alert(a) if a.subject == b.id.0 || a.subject == b.station.0));
            prop_assert!(b.status != BoxStatus::Waiting || alerted, "box {} left waiting without an alert", b.id);
        }

        // Determinism.
        prop_assert_eq!(log_text(&ex), log_text(&run(&spec, policy)));
    }
}
