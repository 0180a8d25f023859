//! Named, scripted situations the dispatcher must handle well, each driven
//! through the real core with a fake clock (the caller's timestamps).

mod common;

use common::*;
use labflight_core::command::{AlertKind, Recovery, StationNotice};
use labflight_core::event::{DroneEventKind, LabUpdate, Override};
use labflight_core::{
    BoxId, Command, DroneId, Event, Instant, LabId, MissionId, PadId, Reason, Scenario, Stamped,
    StationId, TubeBarcode,
};
use labflight_dispatch::{Dispatcher, PolicyKind};

fn one_lab_world() -> Builder {
    Builder::default()
        .station("C1", 3.0, 0.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
}

/// Two centres 3 km from the lab, one east and one north, and one drone at the lab.
fn two_centres_one_drone() -> Builder {
    Builder::default()
        .station("C1", 3.0, 0.0, "PH")
        .station("C2", 0.0, 3.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .drone("D1", "L1", 100.0)
}

/// A coordinator pausing (or releasing) drone D1.
/// Two centres, two vans and one drone at the lab, the drone held by a
/// coordinator from 08:20: whatever waits goes by van.
fn two_vans_and_d1_held(s: &labflight_core::Scenario) -> Dispatcher {
    let world = two_centres_one_drone()
        .courier("V1", "L1")
        .courier("V2", "L1")
        .world(s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    d.handle(&ev(t("08:20"), hold_d1(true)));
    d
}

fn hold_d1(pause: bool) -> Event {
    let drone = DroneId::from("D1");
    Event::Override {
        by: "coord-1".into(),
        action: if pause {
            Override::PauseDrone { drone }
        } else {
            Override::ResumeDrone { drone }
        },
    }
}

#[test]
fn one_centre_one_drone_flies_the_box_before_its_deadline() {
    let s = scenario();
    let world = one_lab_world().drone("D1", "L1", 100.0).world(&s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    let sealed = sealed(
        t("08:30"),
        "B1",
        "C1",
        tubes("T1", 10, "sst", t("08:00"), &s),
    );
    ex.push(sealed.at, sealed.event);
    ex.run_until(t("12:00"));
    let cmds: Vec<Command> = ex.commands();
    let plans = missions(&cmds);
    assert_eq!(plans.len(), 1, "exactly one flight: {cmds:#?}");
    let p = plans[0];
    assert_eq!(
        (p.drone.as_str(), p.station.as_str(), p.lab.as_str()),
        ("D1", "C1", "L1")
    );
    assert_eq!(p.boxes, vec![BoxId::from("B1")]);
    assert_eq!(p.legs.len(), 2);
    // Unspun serum drawn 08:00 must be at the lab by 10:00.
    assert!(p.arrive_lab_at <= t("10:00"), "arrives {}", p.arrive_lab_at);
    assert!(p.deadline <= t("10:00"));
    assert!(delivered(&ex.dispatcher, "B1"));
    assert_eq!(
        ex.dispatcher.state().drones[&DroneId::from("D1")].status,
        labflight_dispatch::state::DroneStatus::Idle
    );
}

#[test]
fn boxes_wait_to_be_batched_while_deadlines_allow() {
    let s = scenario();
    let world = one_lab_world().drone("D1", "L1", 100.0).world(&s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    // Unspun serum drawn at 08:20 is at the lab by 10:20, 09:50 with the margin.
    for (at, id, drawn) in [("08:30", "B1", "08:20"), ("08:50", "B2", "08:40")] {
        ex.push_stamped(sealed(t(at), id, "C1", tubes(id, 10, "sst", t(drawn), &s)));
    }
    ex.run_until(t("12:00"));
    let cmds: Vec<Command> = ex.commands();
    let plans = missions(&cmds);
    assert_eq!(plans.len(), 1, "both boxes share one flight");
    assert_eq!(plans[0].boxes.len(), 2);
    assert!(plans[0].arrive_lab_at <= t("09:50"));
}

/// When the first flight for a light box sealed at 08:30 leaves, with six drones
/// at the lab and `paused` of them held by a coordinator.
fn first_departure_with_paused(paused: usize) -> Instant {
    let s = scenario();
    let mut b = one_lab_world();
    for i in 1..=6 {
        b = b.drone(&format!("D{i}"), "L1", 100.0);
    }
    let mut ex = Executor::new(b.world(&s), PolicyKind::Drone, t("07:30"));
    for i in 0..paused {
        let drone = DroneId::from(format!("D{}", 6 - i).as_str());
        let hold = Event::Override {
            by: "coord-1".into(),
            action: Override::PauseDrone { drone },
        };
        ex.push(t("08:00"), hold);
    }
    ex.push_stamped(sealed(
        t("08:30"),
        "B1",
        "C1",
        tubes("E", 5, "edta", t("08:20"), &s),
    ));
    ex.run_until(t("12:00"));
    let cmds: Vec<Command> = ex.commands();
    let plans = missions(&cmds);
    assert_eq!(plans.len(), 1, "one flight: {cmds:#?}");
    plans[0].legs[0].depart
}

#[test]
fn with_drones_to_spare_a_box_flies_at_once_and_without_it_waits_for_company() {
    // Six drones free, two kept spare: nothing is gained by waiting.
    assert_eq!(first_departure_with_paused(0), t("08:30"));
    // One drone free: it is the one kept for whatever falls due, so the box
    // waits out its batching window (20 min) for a second box.
    assert!(first_departure_with_paused(5) >= t("08:50"));
}

#[test]
fn deadline_forces_an_early_partial_flight() {
    let s = scenario();
    let world = one_lab_world().drone("D1", "L1", 100.0).world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    // A light box of long-lived EDTA tubes may wait for company...
    let calm = d.handle(&sealed(
        t("08:00"),
        "B0",
        "C1",
        tubes("E", 3, "edta", t("07:50"), &s),
    ));
    assert!(missions(&calm).is_empty(), "no hurry for EDTA at 08:00");
    // ...but three serum tubes drawn 07:40 are due at the lab by 09:40: it flies now.
    let urgent = d.handle(&sealed(
        t("09:10"),
        "B1",
        "C1",
        tubes("S", 3, "sst", t("07:40"), &s),
    ));
    let plans = missions(&urgent);
    assert_eq!(plans.len(), 1, "{urgent:?}");
    assert!(plans[0].boxes.contains(&BoxId::from("B1")));
    assert!(plans[0].arrive_lab_at <= t("09:40"));
}

/// D1 (the only drone) held from `held` to `released` while two boxes of `n` SST
/// tubes are sealed (100 are too heavy to share a flight: 1.6 kg each): B1 at C1
/// and B2 at C2, each `(sealed, drawn)`. Every command until `until`.
fn boxes_while_d1_held(
    n: usize,
    (held, released): (&str, &str),
    b1: (&str, &str),
    b2: (&str, &str),
    until: &str,
) -> Vec<Command> {
    let s = scenario();
    let world = two_centres_one_drone().world(&s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    ex.push(t(held), hold_d1(true));
    let a = sealed(t(b1.0), "B1", "C1", tubes("A", n, "sst", t(b1.1), &s));
    let b = sealed(t(b2.0), "B2", "C2", tubes("B", n, "sst", t(b2.1), &s));
    ex.push(a.at, a.event);
    ex.push(b.at, b.event);
    ex.push(t(released), hold_d1(false));
    ex.run_until(t(until));
    ex.commands()
}

#[test]
fn two_boxes_competing_for_one_drone_go_earliest_deadline_first() {
    // When the drone is released, both are due.
    let cmds = boxes_while_d1_held(
        100,
        ("08:50", "08:57"),
        ("08:55", "07:32"),
        ("08:56", "07:28"),
        "12:00",
    );
    let plans = missions(&cmds);
    assert_eq!(
        plans.len(),
        2,
        "{:#?}",
        cmds.iter()
            .filter(|c| !matches!(c, Command::AssignMission(_)))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        plans[0].station,
        StationId::from("C2"),
        "C2's tubes expire first"
    );
    assert_eq!(plans[1].station, StationId::from("C1"));
    assert!(
        plans[1].legs[0].depart >= plans[0].arrive_lab_at,
        "one drone never holds two missions"
    );
    assert!(plans[0].arrive_lab_at <= t("09:28"));
    assert!(plans[1].arrive_lab_at <= t("09:32"));
}

#[test]
fn boxes_due_at_the_same_time_go_first_that_would_pass_their_stability_limit() {
    // At the last draw both boxes are due at the lab at the same time, the latest
    // their results reach the centres by the cutoff; C2's serum was drawn earlier
    // and passes its 2-hour limit first.
    let cmds = boxes_while_d1_held(
        100,
        ("11:00", "11:50"),
        ("11:28", "11:20"),
        ("11:29", "10:50"),
        "14:00",
    );
    let plans = missions(&cmds);
    assert_eq!(plans.len(), 2, "{plans:#?}");
    // The first flight is due by the latest its results reach the centre by the
    // cutoff (12:05), well before either box's stability limit (12:50, 13:20):
    // at that moment both pickups were due at 12:05.
    assert!(
        plans[0].why.summary.contains("due at the lab by 12:05"),
        "{}",
        plans[0].why.summary
    );
    assert_eq!(
        plans[0].station,
        StationId::from("C2"),
        "C2's serum passes its limit first: {}",
        plans[0].why.summary
    );
    assert!(
        plans[0].arrive_lab_at <= t("12:50"),
        "C2's box within its limit: {}",
        plans[0].arrive_lab_at
    );
}

/// Centres C1 and C2 at `c1` and `c2` (kilometres east and north of the lab) and
/// lab L1 with every family's analyzers, fast (6,000 tubes an hour), chemistry
/// taking `chemistry_minutes` a run; D1 at the lab. All in group PH.
fn lab_with_chemistry_taking(
    chemistry_minutes: f64,
    c1: (f64, f64),
    c2: (f64, f64),
    s: &labflight_core::Scenario,
) -> std::sync::Arc<labflight_dispatch::World> {
    let mut analyzers = all_families();
    for a in &mut analyzers {
        a.tubes_per_hour = 6000.0;
        if a.family == labflight_core::TestFamily::Chemistry {
            a.run_minutes = chemistry_minutes;
        }
    }
    Builder::default()
        .station("C1", c1.0, c1.1, "PH")
        .station("C2", c2.0, c2.1, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), analyzers)
        .drone("D1", "L1", 100.0)
        .world(s)
}

/// The flights D1 makes for two boxes competing for it after the last draw
/// (11:30), (centre, why), ranking pickups due by the time a box would reach the
/// lab `priority` minutes before its stability limit: at C1 EDTA tubes for a blood
/// count (at the lab by 12:05 for their results to reach the centre by the
/// cutoff), at C2 serum for a quick chemistry drawn 10:40 (at the lab by 12:40,
/// its 2-hour limit; 12:10 with the 30-minute margin, 11:55 with 45). D1 is held
/// until both are due.
fn flights_for_a_count_and_serum_near_its_limit(priority: f64) -> Vec<(String, String)> {
    let mut s = scenario();
    s.dispatch.stability_priority_minutes = priority;
    let world = lab_with_chemistry_taking(20.0, (3.0, 0.0), (0.0, 3.0), &s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    ex.push(t("11:20"), hold_d1(true));
    let a = sealed(
        t("11:25"),
        "B1",
        "C1",
        tubes("A", 100, "edta", t("10:30"), &s),
    );
    let b = sealed(
        t("11:26"),
        "B2",
        "C2",
        tubes("B", 100, "sst", t("10:40"), &s),
    );
    two_flights_once_d1_is_let_go(ex, [a, b], t("11:45"))
}

/// The two flights D1 makes, (centre, why), for the two boxes `sealed` while it
/// is held, once it is let go at `released`.
fn two_flights_once_d1_is_let_go(
    mut ex: Executor,
    sealed: [labflight_core::Stamped; 2],
    released: labflight_core::Instant,
) -> Vec<(String, String)> {
    for b in sealed {
        ex.push(b.at, b.event);
    }
    ex.push(released, hold_d1(false));
    ex.run_until(t("14:00"));
    let cmds = ex.commands();
    let plans = missions(&cmds);
    assert_eq!(plans.len(), 2, "{plans:#?}");
    plans
        .iter()
        .map(|p| (p.station.to_string(), p.why.summary.clone()))
        .collect()
}

#[test]
fn after_the_last_draw_a_box_near_its_stability_limit_goes_before_one_due_only_slightly_sooner() {
    // Ranked by deadline alone the count (due 12:05) goes before the serum (due
    // 12:10, its limit less the margin)...
    let by_deadline = flights_for_a_count_and_serum_near_its_limit(30.0);
    assert_eq!(by_deadline[0].0, "C1", "{by_deadline:?}");
    assert!(
        by_deadline[0].1.contains("due at the lab by 12:05"),
        "{by_deadline:?}"
    );
    assert!(
        by_deadline[1].1.contains("due at the lab by 12:10"),
        "{by_deadline:?}"
    );
    // ...ranked 45 minutes before its limit (11:55), the serum goes first: a
    // redraw weighs more than a late result.
    let by_limit = flights_for_a_count_and_serum_near_its_limit(45.0);
    let order: Vec<_> = by_limit.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(order, ["C2", "C1"], "{by_limit:?}");
}

/// The centres D1 flies for in turn when it is held until two pickups wait, on
/// either side of the lab (too far apart for one round), both sealed at
/// `sealed_at` and D1 let go 10 minutes later: at C1 one glucose (fluoride) tube
/// for a slow chemistry (due at the lab by 11:55 for its result to reach the
/// centre by the cutoff), at C2 `counts` EDTA tubes for a blood count (due by
/// 12:05). Both are hours from their stability limits.
fn centres_flown_for_one_glucose_tube_and_counts(
    sealed_at: &str,
    counts: usize,
) -> Vec<(String, String)> {
    let s = scenario();
    let world = lab_with_chemistry_taking(70.0, (4.0, 0.0), (-4.0, 0.0), &s);
    let sealed_at = t(sealed_at);
    let drawn_at = sealed_at - chrono::Duration::minutes(20);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    ex.push(sealed_at - chrono::Duration::minutes(10), hold_d1(true));
    let glucose = sealed(
        sealed_at,
        "B1",
        "C1",
        tubes("A", 1, "fluoride", drawn_at, &s),
    );
    let counts = sealed(
        sealed_at,
        "B2",
        "C2",
        tubes("B", counts, "edta", drawn_at, &s),
    );
    let released = sealed_at + chrono::Duration::minutes(10);
    two_flights_once_d1_is_let_go(ex, [glucose, counts], released)
}

#[test]
fn a_pickup_of_many_tubes_goes_before_one_of_few_due_a_little_sooner() {
    let order = |flights: &[(String, String)]| -> Vec<String> {
        flights.iter().map(|(c, _)| c.clone()).collect()
    };
    // In the morning (both pickups due: D1 held them past the batching window)
    // and at the last draw's wave alike...
    for sealed_at in ["09:30", "11:30"] {
        // ...one tube against one: the glucose, due 10 minutes sooner, goes first;
        let one_each = centres_flown_for_one_glucose_tube_and_counts(sealed_at, 1);
        assert_eq!(order(&one_each), ["C1", "C2"], "{sealed_at}: {one_each:#?}");
        // one tube against twenty: the twenty, a little later due, go first, so
        // that if the fleet cannot make both, one tube is late and not twenty.
        let many = centres_flown_for_one_glucose_tube_and_counts(sealed_at, 20);
        assert_eq!(order(&many), ["C2", "C1"], "{sealed_at}: {many:#?}");
    }
}

#[test]
fn neighbouring_centres_both_due_share_one_round() {
    let cmds = boxes_while_d1_held(
        5,
        ("08:50", "08:57"),
        ("08:55", "07:32"),
        ("08:56", "07:28"),
        "12:00",
    );
    let plans = missions(&cmds);
    assert_eq!(plans.len(), 1, "one drone, one round: {plans:#?}");
    let round = &plans[0];
    assert_eq!(
        round.station,
        StationId::from("C2"),
        "C2's tubes expire first"
    );
    assert_eq!(round.later_stops.len(), 1);
    assert_eq!(round.later_stops[0].station, StationId::from("C1"));
    assert_eq!(round.later_stops[0].boxes, vec![BoxId::from("B1")]);
    assert_eq!(round.boxes, vec![BoxId::from("B2"), BoxId::from("B1")]);
    assert_eq!(round.legs.len(), 3, "to C2, to C1, to the lab");
    assert!(round.later_stops[0].pickup_at > round.pickup_at);
    assert!(
        round.arrive_lab_at <= t("09:28"),
        "within both stability limits"
    );
    // Both centres are told when the drone lands there.
    for (station, eta) in [
        ("C2", round.pickup_at),
        ("C1", round.later_stops[0].pickup_at),
    ] {
        assert!(cmds.iter().any(|c| matches!(c,
            Command::NotifyStation { station: s, notice: StationNotice::PickupEta { eta: e, .. } }
                if s.as_str() == station && *e == eta)));
    }
}

#[test]
fn three_light_boxes_due_along_a_line_share_one_round_of_three_calls() {
    let s = scenario();
    let world = Builder::default()
        .station("C1", 2.0, 0.0, "PH")
        .station("C2", 2.6, 0.4, "PH")
        .station("C3", 3.2, 0.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .drone("D1", "L1", 100.0)
        .world(&s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    ex.push(t("08:30"), hold_d1(true));
    // Sealed over 20 minutes before the drone is free: all three are due.
    for (at, bx, centre, drawn) in [
        ("08:33", "B1", "C1", "08:10"),
        ("08:34", "B2", "C2", "08:06"),
        ("08:35", "B3", "C3", "08:02"),
    ] {
        ex.push_stamped(sealed(
            t(at),
            bx,
            centre,
            tubes(centre, 4, "sst", t(drawn), &s),
        ));
    }
    ex.push(t("08:57"), hold_d1(false));
    ex.run_until(t("12:00"));
    let cmds: Vec<Command> = ex.commands();
    let plans = missions(&cmds);
    assert_eq!(plans.len(), 1, "one drone, one round: {plans:#?}");
    let round = &plans[0];
    let calls: Vec<&str> = round.stations().map(|s| s.as_str()).collect();
    assert_eq!(
        calls,
        ["C3", "C2", "C1"],
        "earliest deadline first, then the nearest due neighbour"
    );
    assert_eq!(round.boxes.len(), 3);
    assert_eq!(round.legs.len(), 4, "to C3, C2, C1, then the lab");
    assert!(round.later_stops[0].pickup_at < round.later_stops[1].pickup_at);
    assert!(
        round.arrive_lab_at <= t("09:32"),
        "every tube within its limit and its margin"
    );
}

#[test]
fn a_neighbour_late_on_any_flight_rides_on_the_round_instead_of_waiting() {
    // Both past their two hours by the time the drone is free: late whatever flies them.
    let cmds = boxes_while_d1_held(
        5,
        ("08:40", "08:57"),
        ("08:45", "06:55"),
        ("08:46", "06:50"),
        "12:00",
    );
    let plans = missions(&cmds);
    assert_eq!(
        plans.len(),
        1,
        "C1 is called at on the way rather than flown later: {plans:#?}"
    );
    assert_eq!(plans[0].station, StationId::from("C2"));
    assert_eq!(plans[0].later_stops.len(), 1);
    assert_eq!(plans[0].later_stops[0].station, StationId::from("C1"));
}

/// D1 at the lab L1 flies a box heavy enough to be due at once from C2, 3 km
/// east; C1, at `c1_east_north`, has just sealed a box of counts that is not due
/// for another twenty minutes. The missions of the morning.
fn due_box_with_a_fresh_one_at(
    c1_east_north: (f64, f64),
) -> Vec<labflight_core::command::MissionPlan> {
    let s = scenario();
    let world = Builder::default()
        .station("C1", c1_east_north.0, c1_east_north.1, "PH")
        .station("C2", 3.0, 0.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .drone("D1", "L1", 100.0)
        .world(&s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    // Counts drawn minutes ago: inside the batching window, hours from a deadline.
    let fresh = tubes("F", 6, "edta", t("08:25"), &s);
    ex.push_stamped(sealed(t("08:29"), "B1", "C1", fresh));
    // A hundred counts, 1.6 kg: due for its weight, with hours to spare.
    let heavy = tubes("H", 100, "edta", t("08:10"), &s);
    ex.push_stamped(sealed(t("08:30"), "B2", "C2", heavy));
    ex.run_until(t("10:00"));
    missions(&ex.commands()).into_iter().cloned().collect()
}

#[test]
fn a_box_not_yet_due_just_off_the_way_is_collected_by_the_round() {
    let plans = due_box_with_a_fresh_one_at((1.5, 0.3));
    assert_eq!(plans.len(), 1, "no flight of its own for C1: {plans:#?}");
    let round = &plans[0];
    assert_eq!(round.station, StationId::from("C2"), "the due box first");
    let calls: Vec<&str> = round.stations().map(|s| s.as_str()).collect();
    assert_eq!(calls, ["C2", "C1"]);
    assert_eq!(round.boxes, vec![BoxId::from("B2"), BoxId::from("B1")]);
    // The call delays the due box by at most three minutes against the direct
    // flight (the same departure, with C1 too far off the way to call at).
    let direct = &due_box_with_a_fresh_one_at((1.5, 2.5))[0];
    assert!(direct.later_stops.is_empty());
    let delay = round.arrive_lab_at - direct.arrive_lab_at;
    assert!(
        delay > chrono::Duration::zero() && delay <= chrono::Duration::minutes(3),
        "{delay}"
    );
}

#[test]
fn a_box_not_yet_due_further_off_the_way_waits_for_its_own_flight() {
    // 2.5 km north of the line: the call would add about four minutes, though
    // every deadline and the battery would allow it.
    let plans = due_box_with_a_fresh_one_at((1.5, 2.5));
    assert_eq!(plans.len(), 2, "{plans:#?}");
    assert_eq!(plans[0].station, StationId::from("C2"));
    assert!(plans[0].later_stops.is_empty(), "{:#?}", plans[0]);
    assert_eq!(plans[1].station, StationId::from("C1"));
    assert_eq!(plans[1].boxes, vec![BoxId::from("B1")]);
}

/// A heavy box of counts at C1, 2 km from L-NEAR (where D1 stands, its analyzers
/// taking `near_run_minutes`) and 3 km from L-FAR (60 minutes): its mission.
fn count_box_flown_with_near_lab_taking(
    near_run_minutes: f64,
) -> labflight_core::command::MissionPlan {
    let s = scenario();
    let slower: Vec<_> = all_families()
        .into_iter()
        .map(|a| labflight_core::lab::Analyzer {
            run_minutes: near_run_minutes,
            ..a
        })
        .collect();
    let world = Builder::default()
        .station("C1", 2.0, 0.0, "PH")
        .lab("L-NEAR", 0.0, 0.0, Some("PH"), slower)
        .lab("L-FAR", 5.0, 0.0, Some("PH"), all_families())
        .drone("D1", "L-NEAR", 100.0)
        .world(&s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    let heavy = tubes("H", 100, "edta", t("08:10"), &s);
    ex.push_stamped(sealed(t("08:30"), "B1", "C1", heavy));
    ex.run_until(t("10:00"));
    let cmds = ex.commands();
    let plans = missions(&cmds);
    assert_eq!(plans.len(), 1, "{plans:#?}");
    plans[0].clone()
}

#[test]
fn a_nearer_lab_whose_result_comes_a_few_minutes_later_is_flown_to() {
    // L-FAR's result comes about 9 minutes sooner; L-NEAR is the shorter flight.
    let plan = count_box_flown_with_near_lab_taking(70.0);
    assert_eq!(plan.lab.as_str(), "L-NEAR", "{}", plan.why.summary);
    assert!(
        plan.why
            .alternatives
            .iter()
            .any(|a| a.lab.as_ref().is_some_and(|l| l.as_str() == "L-FAR")
                && a.reason == Some(Reason::SoonerButFarther)),
        "the lab with the sooner result is named: {:?}",
        plan.why.alternatives
    );
}

#[test]
fn a_lab_whose_result_comes_much_sooner_is_flown_to_though_farther() {
    // L-FAR's result comes about half an hour sooner: worth the longer flight.
    let plan = count_box_flown_with_near_lab_taking(90.0);
    assert_eq!(plan.lab.as_str(), "L-FAR", "{}", plan.why.summary);
    assert!(
        plan.why
            .alternatives
            .iter()
            .all(|a| a.reason != Some(Reason::SoonerButFarther)),
        "{:?}",
        plan.why.alternatives
    );
}

/// D1 at the lab L1, D2 idle at a depot 8 km east, and D1 sent on a long first
/// mission (to C3, 5 km north): the executor and when D1 lands back at L1.
fn d1_away_d2_far() -> (Executor, Scenario, Instant) {
    let s = scenario();
    let world = Builder::default()
        .station("C1", 1.0, 0.0, "PH")
        .station("C3", 0.0, 5.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .depot("DEP", 9.0, 0.0)
        .drone("D1", "L1", 100.0)
        .drone("D2", "DEP", 100.0)
        .world(&s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    let first = sealed(t("08:30"), "B0", "C3", tubes("F", 5, "sst", t("06:45"), &s));
    ex.push(first.at, first.event);
    ex.run_until(t("08:31"));
    let cmds: Vec<Command> = ex.commands();
    let plans = missions(&cmds);
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].drone, DroneId::from("D1"));
    let landed = plans[0].arrive_lab_at;
    (ex, s, landed)
}

/// Seals a due box at C1 (next to the lab) at `at`, runs the morning, and checks
/// that D1 flies it and the far D2 never flies.
fn b1_waits_for_d1(mut ex: Executor, s: &Scenario, at: Instant) {
    let next = sealed(at, "B1", "C1", tubes("N", 5, "sst", t("06:58"), s));
    ex.push(next.at, next.event);
    ex.run_until(t("10:00"));
    let cmds: Vec<Command> = ex.commands();
    let plans = missions(&cmds);
    let b1 = plans
        .iter()
        .find(|p| p.boxes.contains(&BoxId::from("B1")))
        .expect("B1 flies");
    assert_eq!(b1.drone, DroneId::from("D1"), "{:#?}", b1.why);
    assert!(
        plans.iter().all(|p| p.drone != DroneId::from("D2")),
        "the far drone stays free"
    );
    assert!(
        b1.arrive_lab_at <= t("08:58"),
        "and B1 still makes its limit"
    );
}

#[test]
fn a_pickup_waits_for_a_drone_swapping_nearby_rather_than_call_a_far_idle_one() {
    let (mut ex, s, landed) = d1_away_d2_far();
    ex.run_until(landed + chrono::Duration::seconds(10));
    assert!(
        ex.commands()
            .into_iter()
            .any(|c| matches!(c, Command::SwapBattery { drone, .. } if drone.as_str() == "D1")),
        "D1 swaps at the lab"
    );
    b1_waits_for_d1(ex, &s, landed + chrono::Duration::seconds(30));
}

#[test]
fn a_pickup_waits_for_a_drone_about_to_land_nearby_rather_than_call_a_far_idle_one() {
    let (mut ex, s, landed) = d1_away_d2_far();
    let sealed_at = landed - chrono::Duration::minutes(2);
    ex.run_until(sealed_at - chrono::Duration::seconds(1));
    b1_waits_for_d1(ex, &s, sealed_at);
}

#[test]
fn at_the_last_draw_time_every_centre_is_asked_to_seal() {
    let s = scenario();
    let world = two_centres_one_drone().world(&s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("11:00"));
    ex.run_until(t("11:45"));
    let calls: Vec<(Instant, &str)> = ex
        .log
        .iter()
        .filter_map(|(at, c)| match c {
            Command::NotifyStation {
                station,
                notice: StationNotice::SealNow { .. },
            } => Some((*at, station.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        calls,
        vec![(t("11:30"), "C1"), (t("11:30"), "C2")],
        "once each, at 11:30"
    );
}

/// When the flights for boxes sealed at 11:02 at C1 and C2 leave, given the
/// tubes' type and draw time: C1's in the log's order, then C2's.
fn departures_before_the_last_call(kind: &str, drawn: &str) -> Vec<(Instant, String)> {
    let s = scenario();
    let mut ex = Executor::new(
        two_centres_one_drone().world(&s),
        PolicyKind::Drone,
        t("11:00"),
    );
    for (id, at) in [("B1", "C1"), ("B2", "C2")] {
        ex.push_stamped(sealed(t("11:02"), id, at, tubes(id, 5, kind, t(drawn), &s)));
    }
    ex.run_until(t("12:30"));
    ex.log
        .iter()
        .filter_map(|(at, c)| match c {
            Command::AssignMission(p) => Some((*at, p.station.to_string())),
            _ => None,
        })
        .collect()
}

#[test]
fn a_pickup_that_can_wait_for_the_last_call_waits_and_one_that_cannot_flies() {
    // Whole blood keeps for a day: both wait for 11:30, when the centres seal
    // their last tubes, instead of flying at 11:22 when the batching window ends.
    let held = departures_before_the_last_call("edta", "10:40");
    assert!(!held.is_empty(), "the boxes fly");
    assert!(
        held.iter().all(|(at, _)| *at >= t("11:30")),
        "nothing flies before the last call: {held:?}"
    );
    // Serum drawn at 09:40 must be at a lab by 11:40: it cannot wait.
    let due = departures_before_the_last_call("sst", "09:40");
    assert!(
        due.first().is_some_and(|(at, _)| *at < t("11:30")),
        "the first flight leaves before the last call: {due:?}"
    );
}

#[test]
fn battery_too_low_picks_another_drone_and_says_why() {
    let s = scenario();
    let world = one_lab_world()
        .drone("D1", "C1", 22.0)
        .drone("D2", "L1", 100.0)
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let cmds = d.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    ));
    let plans = missions(&cmds);
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].drone, DroneId::from("D2"));
    let d1 = plans[0]
        .why
        .alternatives
        .iter()
        .find(|a| a.drone == Some(DroneId::from("D1")))
        .unwrap();
    assert!(d1.verdict.contains("battery"), "{}", d1.verdict);
}

#[test]
fn a_headwind_makes_a_drone_infeasible() {
    let s = scenario();
    let world = || {
        Builder::default()
            .station("C1", 0.0, 5.0, "PH")
            .lab("L1", 0.0, 0.0, Some("PH"), all_families())
            .drone("D1", "L1", 100.0)
            .world(&s)
    };
    let seal = || sealed(t("09:00"), "B1", "C1", tubes("S", 5, "sst", t("07:35"), &s));
    // Still air: the 5 km out-and-back is within range.
    let mut calm = Dispatcher::new(world(), PolicyKind::Drone, 7, t("07:30"));
    assert_eq!(missions(&calm.handle(&seal())).len(), 1);
    // 12 m/s from the north (below the 13.8 m/s limit): the empty leg north is too slow.
    let mut windy = Dispatcher::new(world(), PolicyKind::Drone, 7, t("07:30"));
    let w = windy.handle(&ev(
        t("08:59"),
        Event::Weather {
            wind_east_mps: 0.0,
            wind_north_mps: -12.0,
            rain_mm_h: 0.0,
        },
    ));
    assert_eq!(
        alerts(&w, AlertKind::FleetGrounded),
        0,
        "12 m/s does not ground the fleet"
    );
    let cmds = windy.handle(&seal());
    assert!(missions(&cmds).is_empty(), "{cmds:?}");
    assert_eq!(alerts(&cmds, AlertKind::NoFeasibleDrone), 1);
}

#[test]
fn wind_above_the_limit_grounds_the_fleet_and_sends_a_van() {
    let s = scenario();
    let world = one_lab_world()
        .drone("D1", "L1", 100.0)
        .courier("V1", "L1")
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let first = d.handle(&sealed(
        t("08:50"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:55"), &s),
    ));
    let mission = missions(&first)[0].mission.clone();
    let cmds = d.handle(&ev(
        t("08:51"),
        Event::Weather {
            wind_east_mps: 15.0,
            wind_north_mps: 0.0,
            rain_mm_h: 0.0,
        },
    ));
    assert_eq!(alerts(&cmds, AlertKind::FleetGrounded), 1);
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::AbortMission { mission: m, .. } if *m == mission))
    );
    let van = van_runs(&cmds);
    assert_eq!(van.len(), 1, "{cmds:?}");
    assert_eq!(van[0].boxes, vec![BoxId::from("B1")]);
    assert!(van[0].deliver_at <= t("09:25"));
    // While grounded no drone is sent, even for a new box.
    let later = d.handle(&sealed(
        t("09:00"),
        "B2",
        "C1",
        tubes("T", 5, "sst", t("07:40"), &s),
    ));
    assert!(missions(&later).is_empty());
}

/// Grounded with no van at all, each waiting box is flagged once, with its limit.
#[test]
fn grounded_without_a_van_each_waiting_box_is_flagged_once() {
    let s = scenario();
    let world = one_lab_world().drone("D1", "L1", 100.0).world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    d.handle(&ev(
        t("08:40"),
        Event::Weather {
            wind_east_mps: 15.0,
            wind_north_mps: 0.0,
            rain_mm_h: 0.0,
        },
    ));
    let cmds = d.handle(&sealed(
        t("08:50"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:55"), &s),
    ));
    assert!(missions(&cmds).is_empty(), "{cmds:?}");
    let flagged: Vec<_> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Alert(a) if a.kind == AlertKind::TubeAtRisk => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(flagged.len(), 1, "{cmds:?}");
    assert_eq!(flagged[0].subject, "B1");
    let limit = d.state().boxes[&BoxId::from("B1")].stability_deadline;
    assert!(
        flagged[0].message.contains("no van")
            && flagged[0].message.contains(
                &limit
                    .with_timezone(&d.world().offset)
                    .format("%H:%M")
                    .to_string()
            ),
        "{}",
        flagged[0].message
    );
    let later = d.handle(&ev(t("08:55"), Event::Tick));
    assert_eq!(alerts(&later, AlertKind::TubeAtRisk), 0, "once per box");
}

/// While the fleet is grounded, the van booked for one centre calls at its
/// neighbour on the way to the lab (one trip, one delivery) when every box keeps
/// its deadline; a centre whose call would make those boxes late gets a trip of
/// its own.
#[test]
fn while_grounded_a_van_calls_at_a_neighbour_on_the_same_trip() {
    let s = scenario();
    let world = Builder::default()
        .station("C1", 3.0, 0.0, "PH")
        .station("C2", 4.0, 0.0, "PH")
        .station("C3", 0.0, 6.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .drone("D1", "L1", 100.0)
        .drone("D2", "L1", 100.0)
        .drone("D3", "L1", 100.0)
        .courier("V1", "L1")
        .world(&s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    for (at, b, c, prefix, kind, drawn) in [
        ("08:48", "B1", "C1", "S", "sst", "08:10"),
        ("08:49", "B2", "C2", "T", "sst", "08:15"),
        ("08:50", "B3", "C3", "U", "edta", "08:20"),
    ] {
        ex.push_stamped(sealed(t(at), b, c, tubes(prefix, 5, kind, t(drawn), &s)));
    }
    ex.push(
        t("08:51"),
        Event::Weather {
            wind_east_mps: 15.0,
            wind_north_mps: 0.0,
            rain_mm_h: 0.0,
        },
    );
    ex.run_until(t("08:52"));
    let runs: Vec<_> = van_runs(&ex.commands()).into_iter().cloned().collect();
    let run_for = |b: &str| {
        runs.iter()
            .find(|r| r.boxes == vec![BoxId::from(b)])
            .unwrap_or_else(|| panic!("no van run for {b}: {runs:?}"))
    };
    let (c1, c2, c3) = (run_for("B1"), run_for("B2"), run_for("B3"));
    assert_eq!(
        (&c2.courier, c2.deliver_at, &c2.lab),
        (&c1.courier, c1.deliver_at, &c1.lab),
        "C2 is called at on C1's trip"
    );
    assert!(c1.pickup_at < c2.pickup_at, "{c1:?} {c2:?}");
    assert!(c2.reason.contains("on the way from C1"), "{}", c2.reason);
    for r in [c1, c2] {
        assert!(r.deliver_at <= r.deadline, "in time: {r:?}");
    }
    assert!(
        c3.pickup_at >= c1.deliver_at,
        "C3, 7 km on, would make B1 and B2 late: a trip of its own after the round"
    );
    let st = ex.dispatcher.state();
    assert_eq!(st.couriers[&labflight_core::CourierId::from("V1")].trips, 2);
    ex.run_until(t("12:00"));
    for b in ["B1", "B2", "B3"] {
        assert!(delivered(&ex.dispatcher, b), "{b} delivered");
    }
}

#[test]
fn lab_analyzer_down_reroutes_a_box_in_flight() {
    let s = scenario();
    let world = Builder::default()
        .station("C1", 3.0, 0.0, "PH")
        .lab("L1", 1.0, 0.0, Some("PH"), all_families())
        .lab("L2", 0.0, -3.0, None, all_families())
        .drone("D1", "L1", 100.0)
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let cmds = d.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    ));
    let p = missions(&cmds)[0].clone();
    assert_eq!(p.lab, LabId::from("L1"), "nearest lab first");
    d.handle(&ev(
        p.pickup_at,
        Event::Drone {
            drone: p.drone.clone(),
            kind: DroneEventKind::PayloadLoaded {
                box_id: BoxId::from("B1"),
            },
        },
    ));
    let cmds = d.handle(&ev(
        p.pickup_at,
        Event::Lab {
            lab: LabId::from("L1"),
            update: LabUpdate::AnalyzerDown {
                analyzer: "chemistry-1".into(),
            },
        },
    ));
    let redirect = cmds.iter().find_map(|c| match c {
        Command::Redirect { lab, mission, .. } => Some((lab.clone(), mission.clone())),
        _ => None,
    });
    assert_eq!(
        redirect,
        Some((LabId::from("L2"), p.mission.clone())),
        "{cmds:?}"
    );
    // The redirect crossed the landing: L1 scans the box in. It is still L1's to
    // receive, and its tubes then L1's to result.
    let tube = d.state().boxes[&BoxId::from("B1")].tubes[0].barcode.clone();
    assert!(labflight_dispatch::check_lab_claim(d.state(), &LabId::from("L1"), &tube).is_ok());
    assert!(
        labflight_dispatch::check_lab_claim(d.state(), &LabId::from("L3"), &tube).is_err(),
        "a lab the mission never flew to has no claim"
    );
    d.handle(&ev(
        p.pickup_at + chrono::Duration::minutes(5),
        Event::BoxReceived {
            box_id: BoxId::from("B1"),
            lab: LabId::from("L1"),
        },
    ));
    assert_eq!(d.state().tubes[&tube].lab, Some(LabId::from("L1")));
    assert!(labflight_dispatch::check_lab_claim(d.state(), &LabId::from("L1"), &tube).is_ok());
}

/// One drone and one van at L1: the drone sent for B1 (sealed at C1 at 09:00)
/// loads it and fails at `position`, at the time `when` picks from its plan. The
/// dispatcher, the plan and the commands of the fault.
fn the_only_drone_fails_with_b1_on_board(
    position: labflight_core::LatLon,
    when: impl Fn(&labflight_core::command::MissionPlan) -> Instant,
) -> (
    Dispatcher,
    labflight_core::command::MissionPlan,
    Vec<Command>,
) {
    let s = scenario();
    let world = one_lab_world()
        .drone("D1", "L1", 100.0)
        .courier("V1", "L1")
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let (p, cmds) = fail_with_b1_on_board(&mut d, "C1", t("07:35"), position, when);
    (d, p, cmds)
}

/// Seals B1 at `station` at 09:00 (serum drawn at `drawn`); the drone sent for it
/// loads it and fails at `position`, at the time `when` picks from its plan. The
/// plan and the commands of the fault.
fn fail_with_b1_on_board(
    d: &mut Dispatcher,
    station: &str,
    drawn: Instant,
    position: labflight_core::LatLon,
    when: impl Fn(&labflight_core::command::MissionPlan) -> Instant,
) -> (labflight_core::command::MissionPlan, Vec<Command>) {
    let p = missions(&d.handle(&sealed(
        t("09:00"),
        "B1",
        station,
        tubes("S", 5, "sst", drawn, &scenario()),
    )))[0]
        .clone();
    let drone = |kind| Event::Drone {
        drone: p.drone.clone(),
        kind,
    };
    d.handle(&ev(
        p.pickup_at,
        drone(DroneEventKind::PayloadLoaded {
            box_id: BoxId::from("B1"),
        }),
    ));
    let at = when(&p);
    d.handle(&ev(
        at,
        Event::DroneTelemetry {
            drone: p.drone.clone(),
            position,
            alt_m: 60.0,
            battery_pct: 80.0,
            state: labflight_core::event::DroneState::Flying,
        },
    ));
    let cmds = d.handle(&ev(
        at,
        drone(DroneEventKind::Fault {
            reason: "motor 3".into(),
        }),
    ));
    (p, cmds)
}

#[test]
fn drone_fault_with_a_box_on_board_lands_and_a_van_recovers_the_box() {
    // At the centre: it lands on the centre's pad, and no other drone can fetch it.
    let (_, _, cmds) = the_only_drone_fails_with_b1_on_board(at_km(3.0, 0.0), |p| p.pickup_at);
    assert_eq!(alerts(&cmds, AlertKind::DroneFault), 1);
    assert!(
        cmds.iter().any(|c| matches!(
            c,
            Command::AbortMission {
                recovery: Recovery::LandAtNearestPad { .. },
                ..
            }
        )),
        "{cmds:?}"
    );
    let van = *van_runs(&cmds).first().expect("a van recovers the box");
    assert_eq!(van.boxes, vec![BoxId::from("B1")]);
}

#[test]
fn drone_fault_between_the_centres_of_a_round_strands_only_what_it_loaded() {
    let s = scenario();
    let world = two_centres_one_drone().world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    d.handle(&ev(t("08:50"), hold_d1(true)));
    d.handle(&sealed(
        t("08:55"),
        "B1",
        "C1",
        tubes("A", 5, "sst", t("07:32"), &s),
    ));
    d.handle(&sealed(
        t("08:56"),
        "B2",
        "C2",
        tubes("B", 5, "sst", t("07:28"), &s),
    ));
    let cmds = d.handle(&ev(t("08:57"), hold_d1(false)));
    let round = missions(&cmds)[0].clone();
    assert_eq!(round.later_stops.len(), 1, "{round:#?}");
    let drone = |kind| Event::Drone {
        drone: DroneId::from("D1"),
        kind,
    };
    d.handle(&ev(
        round.pickup_at,
        drone(DroneEventKind::PayloadLoaded {
            box_id: BoxId::from("B2"),
        }),
    ));
    let cmds = d.handle(&ev(
        round.pickup_at + chrono::Duration::minutes(1),
        drone(DroneEventKind::Fault {
            reason: "motor 2".into(),
        }),
    ));
    let state = d.state();
    assert_eq!(
        state.boxes[&BoxId::from("B2")].status.name(),
        "stranded",
        "the box on board lands with the drone"
    );
    assert_eq!(
        state.boxes[&BoxId::from("B1")].status.name(),
        "waiting",
        "the centre not yet called at waits for another carrier"
    );
    assert!(cmds.iter().any(|c| matches!(
        c,
        Command::AbortMission {
            recovery: Recovery::LandAtNearestPad { .. },
            ..
        }
    )));
}

/// C2 6 km east of the lab, C1 half way, two drones at the lab: the first flies B1
/// from C2 and fails over C1 with it on board, so it lands on C1's pad.
fn strand_b1_on_c1s_pad(
    d: &mut Dispatcher,
) -> (labflight_core::command::MissionPlan, Vec<Command>) {
    let over_c1 =
        |p: &labflight_core::command::MissionPlan| p.pickup_at + chrono::Duration::minutes(2);
    let (p, cmds) = fail_with_b1_on_board(d, "C2", t("08:20"), at_km(3.2, 0.0), over_c1);
    assert!(
        cmds.iter().any(|c| matches!(
            c,
            Command::AbortMission {
                recovery: Recovery::LandAtNearestPad { pad },
                ..
            } if pad.as_str() == "PAD-C1"
        )),
        "{cmds:?}"
    );
    (p, cmds)
}

fn stranding_world(van_base: &str) -> Builder {
    one_lab_world()
        .station("C2", 6.0, 0.0, "PH")
        .lab("L2", 25.0, 25.0, Some("PH"), all_families())
        .drone("D1", "L1", 100.0)
        .drone("D2", "L1", 100.0)
        .courier("V1", van_base)
}

#[test]
fn a_box_stranded_on_a_centres_pad_flies_on_with_another_drone_sooner_than_a_van() {
    let s = scenario();
    let mut d = Dispatcher::new(
        stranding_world("L1").world(&s),
        PolicyKind::Drone,
        7,
        t("07:30"),
    );
    let (first, cmds) = strand_b1_on_c1s_pad(&mut d);
    assert!(van_runs(&cmds).is_empty(), "{cmds:?}");
    let on = mission_for(&cmds, "B1")
        .expect("another drone fetches the box")
        .clone();
    assert_ne!(on.drone, first.drone);
    assert_eq!(on.station, StationId::from("C1"), "from the pad it lies on");
    assert!(
        on.why.summary.contains("stranded on C1's pad"),
        "{}",
        on.why.summary
    );
    assert!(
        cmds.iter().any(|c| matches!(
            c,
            Command::NotifyStation { station, notice: StationNotice::PickupEta { boxes, .. } }
                if station.as_str() == "C1" && boxes == &vec![BoxId::from("B1")]
        )),
        "C1's staff are told a drone comes for the box on their pad"
    );
    // Loaded from C1's pad, not from its own centre, and on to the lab.
    b1_flies_on_from(&mut d, &on, "PAD-C1");
}

#[test]
fn a_stranded_box_flies_on_to_a_lab_the_free_drone_reaches_when_the_quickest_is_beyond_it() {
    // L3, 11.5 km east of C1, gives the earliest result (fast analyzers); L1, 3 km
    // west, is slow. A drone at L1 has the battery for C1 to L1 but not for the
    // flight to C1 and on to L3.
    let s = scenario();
    let slow = all_families()
        .into_iter()
        .map(|a| labflight_core::Analyzer {
            run_minutes: 240.0,
            ..a
        })
        .collect();
    let fast = all_families()
        .into_iter()
        .map(|a| labflight_core::Analyzer {
            run_minutes: 20.0,
            ..a
        })
        .collect();
    let world = Builder::default()
        .station("C1", 3.0, 0.0, "PH")
        .station("C2", 6.0, 0.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), slow)
        .lab("L3", 14.5, 0.0, Some("PH"), fast)
        .drone("D1", "L1", 100.0)
        .drone("D2", "L1", 100.0)
        .courier("V1", "L1")
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let (first, cmds) = strand_b1_on_c1s_pad(&mut d);
    let on = mission_for(&cmds, "B1")
        .unwrap_or_else(|| panic!("another drone fetches the box: {cmds:?}"));
    assert_ne!(on.drone, first.drone);
    assert_eq!(on.lab.as_str(), "L1", "{}", on.why.summary);
    assert!(
        on.why
            .alternatives
            .iter()
            .any(|a| a.lab.as_ref().is_some_and(|l| l.as_str() == "L3")
                && a.reason == Some(Reason::EarliestButNoDrone)),
        "the quickest lab is named as out of reach: {:?}",
        on.why.alternatives
    );
    assert!(van_runs(&cmds).is_empty(), "{cmds:?}");
}

/// `on` loads B1 where a drone in trouble set it down, `pad`: custody says it was
/// loaded there, B1 rides on `on`, and `on`'s lab receives it.
fn b1_flies_on_from(d: &mut Dispatcher, on: &labflight_core::command::MissionPlan, pad: &str) {
    let loaded = ev(
        on.pickup_at,
        Event::Drone {
            drone: on.drone.clone(),
            kind: DroneEventKind::PayloadLoaded {
                box_id: BoxId::from("B1"),
            },
        },
    );
    let steps = labflight_dispatch::custody_steps(d.state(), &loaded);
    assert!(!steps.is_empty());
    assert!(
        steps.iter().all(|c| c.place.as_deref() == Some(pad)),
        "{steps:?}"
    );
    d.handle(&loaded);
    assert_eq!(box_status(d, "B1"), ("on_board", Some(on.mission.clone())));
    d.handle(&ev(
        on.arrive_lab_at,
        Event::BoxReceived {
            box_id: BoxId::from("B1"),
            lab: on.lab.clone(),
        },
    ));
    assert!(delivered(d, "B1"));
}

#[test]
fn a_box_stranded_on_a_depots_pad_flies_on_with_another_drone_from_there() {
    let s = scenario();
    let mut d = Dispatcher::new(
        stranding_world("L1").depot("DEP", 4.6, 0.5).world(&s),
        PolicyKind::Drone,
        7,
        t("07:30"),
    );
    // B1 from C2 (6 km east); the motor fails over the depot, 1.6 km short of C1.
    let over_the_depot =
        |p: &labflight_core::command::MissionPlan| p.pickup_at + chrono::Duration::seconds(100);
    let (first, cmds) =
        fail_with_b1_on_board(&mut d, "C2", t("08:20"), at_km(4.6, 0.4), over_the_depot);
    assert!(
        cmds.iter().any(|c| matches!(
            c,
            Command::AbortMission {
                recovery: Recovery::LandAtNearestPad { pad },
                ..
            } if pad.as_str() == "PAD-DEP"
        )),
        "{cmds:?}"
    );
    assert!(van_runs(&cmds).is_empty(), "{cmds:?}");
    let on = mission_for(&cmds, "B1")
        .expect("another drone fetches the box from the depot")
        .clone();
    assert_ne!(on.drone, first.drone);
    // The mission names where the box came from and the pad it is loaded from,
    // and flies there; nobody at C2 is told to expect it.
    assert_eq!(on.station, StationId::from("C2"));
    assert_eq!(on.pickup_pad.as_ref().map(|p| p.as_str()), Some("PAD-DEP"));
    assert_eq!(on.legs[0].to, "PAD-DEP");
    let depot = at_km(4.6, 0.5);
    let end = on.legs[0].waypoints.last().expect("a leg with waypoints");
    assert!(
        (end.lat - depot.lat).abs() < 1e-6 && (end.lon - depot.lon).abs() < 1e-6,
        "{end:?}"
    );
    assert!(
        on.why.summary.contains("stranded on PAD-DEP"),
        "{}",
        on.why.summary
    );
    assert!(
        !cmds.iter().any(|c| matches!(
            c,
            Command::NotifyStation { notice: StationNotice::PickupEta { mission, .. }, .. }
                if *mission == on.mission
        )),
        "{cmds:?}"
    );
    // The fetch does not call at C2: a box sealed there now does not ride along.
    assert_eq!(on.pickup_at_station(&StationId::from("C2")), None);
    let later = d.handle(&sealed(
        on.legs[0].depart + chrono::Duration::seconds(30),
        "B2",
        "C2",
        tubes("T", 3, "sst", t("08:50"), &s),
    ));
    assert!(
        !later.iter().any(|c| matches!(
            c,
            Command::AddToMission { mission, .. } if *mission == on.mission
        )),
        "{later:?}"
    );
    b1_flies_on_from(&mut d, &on, "PAD-DEP");
}

/// `strand_b1_on_c1s_pad` while the other drone flies B2 from C1 to the lab, and
/// the only van is based 35 km away: the dispatcher, B2's mission, and the
/// commands of the fault.
fn strand_b1_while_the_other_drone_flies_b2() -> (
    Dispatcher,
    labflight_core::command::MissionPlan,
    Vec<Command>,
) {
    let s = scenario();
    let mut d = Dispatcher::new(
        stranding_world("L2").world(&s),
        PolicyKind::Drone,
        7,
        t("07:30"),
    );
    let busy = missions(&d.handle(&sealed(
        t("08:58"),
        "B2",
        "C1",
        tubes("T", 5, "sst", t("08:20"), &s),
    )))[0]
        .clone();
    let (first, cmds) = strand_b1_on_c1s_pad(&mut d);
    assert_ne!(busy.drone, first.drone);
    (d, busy, cmds)
}

#[test]
fn a_box_stranded_on_a_pad_waits_for_a_busy_drone_about_to_be_ready_rather_than_a_far_van() {
    let (mut d, busy, cmds) = strand_b1_while_the_other_drone_flies_b2();
    assert!(
        van_runs(&cmds).is_empty() && mission_for(&cmds, "B1").is_none(),
        "the box waits for the busy drone: {cmds:?}"
    );
    assert_eq!(box_status(&d, "B1").0, "stranded");
    let cmds = busy_drone_ready_again(&mut d, &busy);
    assert!(van_runs(&cmds).is_empty(), "{cmds:?}");
    let on = mission_for(&cmds, "B1").expect("the drone ready again fetches the box");
    assert_eq!((&on.drone, on.station.as_str()), (&busy.drone, "C1"));
}

#[test]
fn a_stranded_box_a_van_would_bring_too_late_waits_for_a_drone_past_the_usual_wait() {
    // B1's serum (drawn 08:20) is due at L1 by 09:50; the only van is at L2, far
    // away, and would bring it long after. The busy drone is late reporting back:
    // 20 minutes on, a van in time would be sent, this one is not.
    let (mut d, busy, _) = strand_b1_while_the_other_drone_flies_b2();
    let stranded_at = d.state().now;
    assert!(busy.arrive_lab_at < stranded_at + chrono::Duration::minutes(25));
    // Still flying, and saying so every minute (else it would be reported lost).
    let mut cmds = Vec::new();
    for minute in 1..=25 {
        cmds.extend(d.handle(&ev(
            stranded_at + chrono::Duration::minutes(minute),
            Event::DroneTelemetry {
                drone: busy.drone.clone(),
                position: at_km(0.5, 0.0),
                alt_m: 60.0,
                battery_pct: 60.0,
                state: labflight_core::event::DroneState::Flying,
            },
        )));
    }
    assert!(
        van_runs(&cmds).is_empty(),
        "no van past the deadline while a drone may still make it: {cmds:?}"
    );
    assert_eq!(box_status(&d, "B1").0, "stranded");
    let cmds = busy_drone_ready_again(&mut d, &busy);
    let on = mission_for(&cmds, "B1").expect("the drone ready again fetches the box");
    assert_eq!(on.drone, busy.drone);
}

/// The busy drone of `busy` lands at L1, hands B2 over and completes, swapping
/// its battery if told to: every command.
fn busy_drone_ready_again(
    d: &mut Dispatcher,
    busy: &labflight_core::command::MissionPlan,
) -> Vec<Command> {
    let drone = |kind| Event::Drone {
        drone: busy.drone.clone(),
        kind,
    };
    let at = busy.arrive_lab_at.max(d.state().now);
    let mut cmds = d.handle(&ev(at, drone(landed_at_the_lab())));
    cmds.extend(d.handle(&ev(
        at,
        Event::BoxReceived {
            box_id: BoxId::from("B2"),
            lab: LabId::from("L1"),
        },
    )));
    cmds.extend(d.handle(&ev(
        at,
        drone(DroneEventKind::MissionComplete {
            mission: busy.mission.clone(),
        }),
    )));
    if cmds
        .iter()
        .any(|c| matches!(c, Command::SwapBattery { .. }))
    {
        cmds.extend(d.handle(&ev(
            at + chrono::Duration::minutes(5),
            drone(DroneEventKind::BatteryReady { battery_pct: 100.0 }),
        )));
    }
    cmds
}

#[test]
fn a_stranded_box_a_drone_not_sent_for_it_loads_goes_with_that_drone() {
    // Custody follows the box: staff at C1 hand the box on their pad to the drone
    // that came for their own box.
    let (mut d, busy, _) = strand_b1_while_the_other_drone_flies_b2();
    assert_eq!(box_status(&d, "B1").0, "stranded");
    let cmds = d.handle(&ev(
        busy.pickup_at.max(t("09:10")),
        Event::Drone {
            drone: busy.drone.clone(),
            kind: DroneEventKind::PayloadLoaded {
                box_id: BoxId::from("B1"),
            },
        },
    ));
    assert_eq!(
        box_status(&d, "B1"),
        ("on_board", Some(busy.mission.clone()))
    );
    assert_eq!(alerts(&cmds, AlertKind::CustodyConflict), 1, "{cmds:?}");
    assert!(d.state().boxes[&BoxId::from("B1")].set_down.is_none());
    // A box already delivered cannot be loaded again: custody stays, and says so.
    d.handle(&ev(
        busy.arrive_lab_at,
        Event::BoxReceived {
            box_id: BoxId::from("B1"),
            lab: LabId::from("L1"),
        },
    ));
    let other = if busy.drone.as_str() == "D1" {
        "D2"
    } else {
        "D1"
    };
    let again = d.handle(&ev(
        busy.arrive_lab_at + chrono::Duration::minutes(1),
        Event::Drone {
            drone: DroneId::from(other),
            kind: DroneEventKind::PayloadLoaded {
                box_id: BoxId::from("B1"),
            },
        },
    ));
    assert_eq!(alerts(&again, AlertKind::CustodyConflict), 1, "{again:?}");
    assert_eq!(box_status(&d, "B1").0, "delivered");
}

#[test]
fn a_box_set_down_on_a_labs_pad_is_left_for_the_lab_to_take_in_before_a_van_is_sent() {
    // It fails a few hundred metres short of the lab, so it lands on the lab's pad.
    let near_the_lab =
        |p: &labflight_core::command::MissionPlan| p.arrive_lab_at - chrono::Duration::seconds(30);
    let (mut d, p, cmds) = the_only_drone_fails_with_b1_on_board(at_km(0.3, 0.0), near_the_lab);
    let near_the_lab = near_the_lab(&p);
    assert!(van_runs(&cmds).is_empty(), "{cmds:?}");
    assert!(
        cmds.iter().any(|c| matches!(c, Command::Alert(a)
            if a.subject == "B1" && a.message.contains("for L1 to take in"))),
        "{cmds:?}"
    );
    let later = d.handle(&ev(
        near_the_lab + chrono::Duration::minutes(10),
        Event::Tick,
    ));
    assert!(van_runs(&later).is_empty(), "{later:?}");
    // Not taken in a quarter of an hour later: a van is sent after all, to the
    // lab's pad, not to the centre (whose staff are not told to expect it).
    let later = d.handle(&ev(
        near_the_lab + chrono::Duration::minutes(16),
        Event::Tick,
    ));
    let van = van_runs(&later)
        .first()
        .map(|v| (*v).clone())
        .unwrap_or_else(|| panic!("a van: {later:?}"));
    assert_eq!(van.boxes, vec![BoxId::from("B1")]);
    assert_eq!(van.pad.as_ref().map(|p| p.as_str()), Some("PAD-L1"));
    assert!(
        !later.iter().any(|c| matches!(
            c,
            Command::NotifyStation {
                notice: StationNotice::PickupEta { .. },
                ..
            }
        )),
        "{later:?}"
    );
}

/// The nominal scenario with the 20-minute batching window the van tests' times
/// are written around (a box sealed at 08:30 falls due at 08:50), whatever the
/// map files are tuned to.
fn twenty_minute_window() -> Scenario {
    let mut s = scenario();
    s.dispatch.batching_window_minutes = 20.0;
    s
}

#[test]
fn a_vans_delivery_reported_before_its_pickup_records_the_pickup_and_the_late_report_is_quiet() {
    let s = twenty_minute_window();
    let mut d = two_vans_and_d1_held(&s);
    d.handle(&sealed(
        t("08:30"),
        "B1",
        "C1",
        tubes("A", 5, "edta", t("07:50"), &s),
    ));
    let run = van_runs(&d.handle(&ev(t("08:51"), Event::Tick)))
        .first()
        .map(|r| (*r).clone())
        .expect("a van");
    let van = run.courier.clone().expect("a named van");
    let courier = |kind| Event::Courier {
        courier: van.clone(),
        kind,
    };
    // The van's `picked_up` was taken by a service killed before it stored it:
    // the broker delivers it again after the van's `delivered`.
    let delivery = ev(
        t("09:30"),
        courier(labflight_core::event::CourierEventKind::Delivered {
            lab: LabId::from("L1"),
            boxes: vec![BoxId::from("B1")],
        }),
    );
    assert_eq!(
        steps_of(&d, &delivery, "A-000"),
        ["Loaded@C1", "InVan@C1", "ReceivedAtLab@L1"],
        "the van had it: its delivery says so"
    );
    d.handle(&delivery);
    assert!(delivered(&d, "B1"));
    let late = ev(
        t("09:31"),
        courier(labflight_core::event::CourierEventKind::PickedUp {
            boxes: run.boxes.clone(),
        }),
    );
    assert!(steps_of(&d, &late, "A-000").is_empty(), "recorded once");
    let cmds = d.handle(&late);
    assert_eq!(
        alerts(&cmds, AlertKind::CustodyConflict),
        0,
        "its own late report is no conflict: {cmds:?}"
    );
    // Another van's report of it is.
    let other = ev(
        t("09:32"),
        Event::Courier {
            courier: labflight_core::CourierId::from(if van.as_str() == "V1" {
                "V2"
            } else {
                "V1"
            }),
            kind: labflight_core::event::CourierEventKind::PickedUp {
                boxes: vec![BoxId::from("B1")],
            },
        },
    );
    assert_eq!(alerts(&d.handle(&other), AlertKind::CustodyConflict), 1);
}

#[test]
fn with_no_drone_free_a_van_goes_with_time_to_spare_or_at_its_last_chance() {
    let s = twenty_minute_window();
    let mut d = two_vans_and_d1_held(&s);
    // Whole blood, due hours from now, sealed at 08:30 and due for a pickup 20 min
    // later: with no drone free, a van delivers it with time to spare.
    let cmds = d.handle(&sealed(
        t("08:30"),
        "B1",
        "C1",
        tubes("A", 5, "edta", t("07:50"), &s),
    ));
    assert!(van_runs(&cmds).is_empty(), "not due yet: {cmds:?}");
    let cmds = d.handle(&ev(t("08:51"), Event::Tick));
    let first = van_runs(&cmds)
        .first()
        .map(|r| (*r).clone())
        .expect("a van with time to spare");
    assert_eq!(first.boxes, vec![BoxId::from("B1")]);
    assert!(first.reason.contains("no drone free"), "{}", first.reason);
    // Unspun serum due at the lab at 09:40 (drawn 08:10, with the margin), a van's
    // ride (11.5 min each way on the road, 5 min stops) away, is the other van's
    // last chance.
    let cmds = d.handle(&sealed(
        t("08:56"),
        "B2",
        "C2",
        tubes("B", 5, "sst", t("08:10"), &s),
    ));
    let last = *van_runs(&cmds).first().expect("a van at its last chance");
    assert!(last.boxes.contains(&BoxId::from("B2")), "{last:?}");
    assert!(last.deliver_at <= t("09:40"), "{last:?}");
    assert_ne!(last.courier, first.courier);
}

#[test]
fn drone_silent_past_the_link_timeout_is_reported_lost() {
    let s = scenario();
    let world = one_lab_world().drone("D1", "L1", 100.0).world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let p = missions(&d.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    )))[0]
        .clone();
    d.handle(&ev(
        t("09:04"),
        Event::Drone {
            drone: p.drone.clone(),
            kind: DroneEventKind::PayloadLoaded {
                box_id: BoxId::from("B1"),
            },
        },
    ));
    let quiet = d.handle(&ev(t("09:05"), Event::Tick));
    assert_eq!(
        alerts(&quiet, AlertKind::DroneLost),
        0,
        "within the timeout"
    );
    let lost = d.handle(&ev(t("09:07"), Event::Tick));
    assert_eq!(alerts(&lost, AlertKind::DroneLost), 1);
    let again = d.handle(&ev(t("09:08"), Event::Tick));
    assert_eq!(alerts(&again, AlertKind::DroneLost), 0, "alerted once");
}

#[test]
fn coordinator_pauses_a_drone_mid_assignment_and_another_takes_over() {
    let s = scenario();
    let world = one_lab_world()
        .drone("D1", "L1", 100.0)
        .drone("D2", "C1", 100.0)
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let p = missions(&d.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    )))[0]
        .clone();
    assert_eq!(
        p.drone,
        DroneId::from("D2"),
        "the drone already at the centre"
    );
    let cmds = d.handle(&ev(
        t("09:01"),
        Event::Override {
            by: "coord-1".into(),
            action: Override::PauseDrone {
                drone: DroneId::from("D2"),
            },
        },
    ));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::AbortMission { drone, .. } if drone.as_str() == "D2"))
    );
    let next = missions(&cmds);
    assert_eq!(next.len(), 1, "{cmds:?}");
    assert_eq!(next[0].drone, DroneId::from("D1"));
    assert_eq!(next[0].boxes, vec![BoxId::from("B1")]);
}

#[test]
fn coordinator_reassigns_a_mission_to_a_named_drone() {
    let s = scenario();
    let world = one_lab_world()
        .drone("D1", "L1", 100.0)
        .drone("D2", "C1", 100.0)
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let p = missions(&d.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    )))[0]
        .clone();
    let cmds = d.handle(&ev(
        t("09:01"),
        Event::Override {
            by: "coord-1".into(),
            action: Override::ReassignMission {
                mission: p.mission.clone(),
                drone: DroneId::from("D1"),
            },
        },
    ));
    let next = missions(&cmds);
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].drone, DroneId::from("D1"));
    assert!(next[0].why.summary.contains("reassigned by coord-1"));
    assert_ne!(next[0].mission, p.mission);
}

#[test]
fn a_closed_lab_is_skipped_and_no_open_lab_raises_an_alert() {
    let s = scenario();
    let world = || {
        Builder::default()
            .station("C1", 3.0, 0.0, "PH")
            .lab("L1", 1.0, 0.0, Some("PH"), all_families())
            .lab("L2", 0.0, -3.0, None, all_families())
            .drone("D1", "L1", 100.0)
            .world(&s)
    };
    let mut d = Dispatcher::new(world(), PolicyKind::Drone, 7, t("07:30"));
    d.handle(&ev(
        t("08:00"),
        Event::Lab {
            lab: LabId::from("L1"),
            update: LabUpdate::Closed,
        },
    ));
    let p = missions(&d.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    )))[0]
        .clone();
    assert_eq!(p.lab, LabId::from("L2"));
    let l1 = p
        .why
        .alternatives
        .iter()
        .find(|a| a.lab == Some(LabId::from("L1")))
        .unwrap();
    assert!(l1.verdict.contains("closed"), "{}", l1.verdict);

    let mut none = Dispatcher::new(world(), PolicyKind::Drone, 7, t("07:30"));
    for lab in ["L1", "L2"] {
        none.handle(&ev(
            t("08:00"),
            Event::Lab {
                lab: LabId::from(lab),
                update: LabUpdate::Closed,
            },
        ));
    }
    let cmds = none.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    ));
    assert!(missions(&cmds).is_empty());
    assert_eq!(alerts(&cmds, AlertKind::TubeAtRisk), 1);
}

#[test]
fn a_lab_that_does_not_run_a_test_is_never_chosen() {
    let s = scenario();
    let no_chemistry: Vec<_> = all_families()
        .into_iter()
        .filter(|a| a.family != labflight_core::TestFamily::Chemistry)
        .collect();
    let world = Builder::default()
        .station("C1", 3.0, 0.0, "PH")
        .lab("NEAR", 2.5, 0.0, None, no_chemistry)
        .lab("FAR", -2.0, 0.0, Some("PH"), all_families())
        .drone("D1", "FAR", 100.0)
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let p = missions(&d.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    )))[0]
        .clone();
    assert_eq!(p.lab, LabId::from("FAR"));
    let near = p
        .why
        .alternatives
        .iter()
        .find(|a| a.lab == Some(LabId::from("NEAR")))
        .unwrap();
    assert!(
        near.verdict.contains("does not run chemistry"),
        "{}",
        near.verdict
    );
}

#[test]
fn routes_go_around_a_no_fly_zone() {
    let s = scenario();
    let world = Builder::default()
        .station("C1", 4.0, 0.0, "PH")
        .lab("L1", -1.0, 0.0, Some("PH"), all_families())
        .zone("Z1", 1.5, 0.0, 0.6)
        .drone("D1", "L1", 100.0)
        .world(&s);
    let mut d = Dispatcher::new(world.clone(), PolicyKind::Drone, 7, t("07:30"));
    let p = missions(&d.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    )))[0]
        .clone();
    for leg in &p.legs {
        assert!(leg.waypoints.len() > 2, "a detour, not a straight line");
        for w in leg.waypoints.windows(2) {
            assert!(world.airspace.segment_clear(w[0], w[1]), "{leg:?}");
        }
        assert!(
            leg.distance_m > 5000.0,
            "longer than the 5 km straight line: {}",
            leg.distance_m
        );
    }
}

#[test]
fn a_drone_low_after_its_flight_swaps_its_battery_at_the_lab() {
    let s = scenario();
    let world = one_lab_world().drone("D1", "L1", 60.0).world(&s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    ex.push_stamped(sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    ));
    ex.run_until(t("10:00"));
    let swaps = ex
        .commands()
        .into_iter()
        .filter(|c| matches!(c, Command::SwapBattery { drone, .. } if drone.as_str() == "D1"))
        .count();
    assert_eq!(swaps, 1);
    let st = ex.dispatcher.state();
    assert_eq!(
        st.drones[&DroneId::from("D1")].battery_pct,
        100.0,
        "swapped and ready"
    );
}

#[test]
fn greedy_flies_each_box_alone_in_seal_order() {
    let s = scenario();
    let world = one_lab_world()
        .drone("D1", "L1", 100.0)
        .drone("D2", "L1", 100.0)
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Greedy, 7, t("07:30"));
    let a = d.handle(&sealed(
        t("08:30"),
        "B1",
        "C1",
        tubes("A", 5, "edta", t("08:00"), &s),
    ));
    let b = d.handle(&sealed(
        t("08:31"),
        "B2",
        "C1",
        tubes("B", 5, "edta", t("08:00"), &s),
    ));
    assert_eq!(missions(&a).len(), 1, "no waiting for company");
    assert_eq!(missions(&b).len(), 1);
    assert_ne!(missions(&a)[0].drone, missions(&b)[0].drone);
}

#[test]
fn courier_rounds_call_at_centres_on_their_timetable() {
    let s = scenario();
    let world = one_lab_world().courier("V1", "L1").world(&s);
    let mut ex = Executor::new(world, PolicyKind::Courier, t("07:30"));
    ex.push_stamped(sealed(
        t("08:00"),
        "B1",
        "C1",
        tubes("A", 5, "edta", t("07:50"), &s),
    ));
    ex.run_until(t("12:00"));
    let cmds: Vec<Command> = ex.commands();
    let runs = van_runs(&cmds);
    assert_eq!(runs.len(), 1, "{runs:?}");
    // First round leaves at first_draw + interval (09:30) and calls at C1 on the way.
    assert!(
        runs[0].pickup_at > t("09:30") && runs[0].pickup_at < t("10:00"),
        "{}",
        runs[0].pickup_at
    );
    assert!(delivered(&ex.dispatcher, "B1"));
}

#[test]
fn the_same_events_give_byte_identical_commands() {
    let s = scenario();
    let run = || {
        let world = Builder::default()
            .station("C1", 3.0, 0.0, "PH")
            .station("C2", 0.0, 3.0, "CH")
            .station("C3", -2.0, -2.0, "PH")
            .lab("L1", 0.0, 0.0, Some("PH"), all_families())
            .lab("L2", 1.0, 4.0, Some("CH"), all_families())
            .drone("D1", "L1", 100.0)
            .drone("D2", "L2", 80.0)
            .courier("V1", "L1")
            .world(&s);
        let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
        for (i, (st, at)) in [
            ("C1", "08:10"),
            ("C2", "08:20"),
            ("C3", "08:25"),
            ("C1", "08:55"),
            ("C2", "09:05"),
        ]
        .iter()
        .enumerate()
        {
            ex.push_stamped(sealed(
                t(at),
                &format!("B{i}"),
                st,
                tubes(
                    &format!("T{i}"),
                    8,
                    "sst",
                    t(at) - chrono::Duration::minutes(40),
                    &s,
                ),
            ));
        }
        ex.push(
            t("09:30"),
            Event::Weather {
                wind_east_mps: 14.5,
                wind_north_mps: 0.0,
                rain_mm_h: 0.0,
            },
        );
        ex.push(
            t("10:00"),
            Event::Weather {
                wind_east_mps: 3.0,
                wind_north_mps: 0.0,
                rain_mm_h: 0.0,
            },
        );
        ex.run_until(t("12:00"));
        ex.log
            .iter()
            .map(|(at, c)| format!("{at} {}\n", serde_json::to_string(c).unwrap()))
            .collect::<String>()
    };
    let (a, b) = (run(), run());
    assert!(a.len() > 1000, "the day did something");
    assert_eq!(a, b);
}

#[test]
fn a_centre_beyond_single_flight_range_goes_by_van() {
    let s = scenario();
    // 9 km from the only lab and charger: out and back loaded is beyond a full battery.
    let world = Builder::default()
        .station("FAR", 0.0, 9.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .drone("D1", "L1", 100.0)
        .courier("V1", "L1")
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let cmds = d.handle(&sealed(
        t("09:00"),
        "B1",
        "FAR",
        tubes("S", 5, "sst", t("07:35"), &s),
    ));
    assert!(missions(&cmds).is_empty(), "no drone can fly it");
    let van = *van_runs(&cmds)
        .first()
        .expect("a van takes the box at once rather than waiting for a drone");
    assert!(
        van.reason.contains("beyond single-flight range"),
        "{}",
        van.reason
    );
    assert_eq!(van.boxes, vec![BoxId::from("B1")]);
}

#[test]
fn a_centre_beyond_single_flight_range_flies_by_relay_through_a_charger_on_the_way() {
    let s = scenario();
    // 10 km from the only lab: beyond one flight even from the depot half way,
    // whose charger makes two hops of 5 km.
    let world = Builder::default()
        .station("FAR", 0.0, 10.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .depot("MID", 0.0, 5.0)
        .drone("D1", "MID", 100.0)
        .courier("V1", "L1")
        .world(&s);
    let full_wh = s.drone.battery_wh * (1.0 - s.drone.reserve_fraction);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let cmds = d.handle(&sealed(
        t("09:00"),
        "B1",
        "FAR",
        tubes("S", 5, "sst", t("07:35"), &s),
    ));
    assert!(van_runs(&cmds).is_empty(), "the relay beats the van");
    let plan = *missions(&cmds).first().expect("a drone flies it by relay");
    let relay = plan.relay.as_ref().expect("with a battery swap on the way");
    assert_eq!(relay.pad, PadId::from("PAD-MID"));
    let hops: Vec<_> = plan
        .legs
        .iter()
        .map(|l| (l.from.as_str(), l.to.as_str()))
        .collect();
    assert_eq!(
        hops,
        vec![("D1", "FAR"), ("FAR", "PAD-MID"), ("PAD-MID", "L1")]
    );
    assert_eq!(plan.legs[1].arrive, relay.land_at);
    assert_eq!(plan.legs[2].depart, relay.depart_at);
    assert_eq!(
        relay.depart_at - relay.land_at,
        chrono::Duration::seconds((s.drone.battery_swap_minutes * 60.0) as i64)
    );
    assert_eq!(plan.arrive_lab_at, plan.legs[2].arrive);
    assert!(plan.legs[0].energy_wh + plan.legs[1].energy_wh <= full_wh);
    assert!(plan.legs[2].energy_wh <= full_wh);
    // Landing at the lab on the swapped battery.
    let after = 100.0 - 100.0 * plan.legs[2].energy_wh / s.drone.battery_wh;
    assert!(
        (plan.battery_after_pct - after).abs() < 0.1,
        "{}",
        plan.battery_after_pct
    );
    assert!(
        matches!(
            plan.why.reason.as_deref(),
            Some(Reason::DroneRelay { pad, .. }) if *pad == relay.pad
        ),
        "{}",
        plan.why.summary
    );
    assert!(plan.why.summary.contains("battery swap at PAD-MID"));
}

/// FAR, 20 km north of the only lab, L1: beyond one flight, and beyond a relay
/// (the only charger near it, the drone's depot 2 km further north, leaves 22 km
/// to fly). A pad without a charger half way, HUB, is within a drone's reach;
/// the van V1 is based at L1. B1 (5 serum tubes) is sealed at 09:00: the mission
/// planned for it and the commands.
fn hub_world_b1_sealed() -> (
    Dispatcher,
    labflight_core::command::MissionPlan,
    Vec<Command>,
) {
    let s = scenario();
    let world = Builder::default()
        .station("FAR", 0.0, 20.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .depot("NORTH", 0.0, 22.0)
        .plain_pad("HUB", 0.0, 10.0)
        .drone("D1", "NORTH", 100.0)
        .courier("V1", "L1")
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let cmds = d.handle(&sealed(
        t("09:00"),
        "B1",
        "FAR",
        tubes("S", 5, "sst", t("08:45"), &s),
    ));
    let plan = (*missions(&cmds)
        .first()
        .expect("a drone flies the first leg"))
    .clone();
    (d, plan, cmds)
}

/// B1 loaded on the drone flying `plan`, at its pickup.
fn b1_loaded_on(plan: &labflight_core::command::MissionPlan) -> labflight_core::Stamped {
    ev(
        plan.pickup_at,
        Event::Drone {
            drone: plan.drone.clone(),
            kind: DroneEventKind::PayloadLoaded {
                box_id: BoxId::from("B1"),
            },
        },
    )
}

/// The hub's van collecting B1 at `at`, or delivering it to `lab`.
fn b1_by_van(
    hub: &labflight_core::command::Hub,
    at: Instant,
    lab: Option<&LabId>,
) -> labflight_core::Stamped {
    let boxes = vec![BoxId::from("B1")];
    let kind = match lab {
        None => labflight_core::event::CourierEventKind::PickedUp { boxes },
        Some(lab) => labflight_core::event::CourierEventKind::Delivered {
            lab: lab.clone(),
            boxes,
        },
    };
    ev(
        at,
        Event::Courier {
            courier: hub.courier.clone(),
            kind,
        },
    )
}

#[test]
fn a_centre_beyond_a_drones_and_a_relays_reach_flies_to_a_hub_where_a_van_takes_its_boxes_on() {
    let (mut d, plan, cmds) = hub_world_b1_sealed();
    let hub = plan.hub.clone().expect("a hub leg");
    assert_eq!(hub.pad, PadId::from("PAD-HUB"));
    assert!(plan.relay.is_none() && plan.lab_pad.is_none());
    let last = plan.legs.last().unwrap();
    assert_eq!((last.from.as_str(), last.to.as_str()), ("FAR", "PAD-HUB"));
    assert_eq!(last.arrive, hub.land_at);
    // The van booked with it meets the drone at the hub: no van from the centre.
    let vans = van_runs(&cmds);
    assert_eq!(vans.len(), 1, "{vans:?}");
    let van = vans[0];
    assert_eq!(van.mission, hub.van_run);
    assert_eq!(van.courier.as_ref(), Some(&hub.courier));
    assert_eq!(van.pad.as_ref(), Some(&hub.pad));
    assert_eq!(van.boxes, plan.boxes);
    assert_eq!(van.lab, plan.lab);
    assert!(van.pickup_at >= hub.land_at, "collects after the landing");
    assert_eq!(plan.arrive_lab_at, van.deliver_at);
    // The why names the hub and the van from the centre it beats.
    match plan.why.reason.as_deref() {
        Some(Reason::DroneHubLeg {
            hub: h,
            deliver_at,
            van_at,
            ..
        }) => {
            assert_eq!(h, &hub.pad);
            assert_eq!(*deliver_at, van.deliver_at);
            assert!(van_at.is_some_and(|v| v > *deliver_at), "{van_at:?}");
        }
        other => panic!("{other:?}: {}", plan.why.summary),
    }
    assert!(
        plan.why.summary.contains("to the hub PAD-HUB"),
        "{}",
        plan.why.summary
    );
    // No box sealed later may ride along: the van is booked for these.
    // Played out: loaded at FAR, landed and set down at the hub, taken on by V1.
    let drone = plan.drone.clone();
    d.handle(&b1_loaded_on(&plan));
    let landed = ev(
        hub.land_at,
        Event::Drone {
            drone: drone.clone(),
            kind: DroneEventKind::Landed {
                pad: Some(hub.pad.clone()),
                position: at_km(0.0, 10.0),
            },
        },
    );
    let steps = labflight_dispatch::custody_steps(d.state(), &landed);
    assert!(
        steps.iter().any(|c| c.place.as_deref() == Some("PAD-HUB")),
        "{steps:?}"
    );
    d.handle(&landed);
    d.handle(&ev(
        hub.land_at,
        Event::Drone {
            drone: drone.clone(),
            kind: DroneEventKind::MissionComplete {
                mission: plan.mission.clone(),
            },
        },
    ));
    assert_eq!(
        box_status(&d, "B1"),
        ("assigned", Some(hub.van_run.clone()))
    );
    assert_eq!(
        d.state().drones[&drone].pad.as_ref(),
        Some(&hub.pad),
        "the drone stands on the hub"
    );
    let picked = b1_by_van(&hub, van.pickup_at, None);
    let steps = labflight_dispatch::custody_steps(d.state(), &picked);
    assert!(
        !steps.is_empty() && steps.iter().all(|c| c.place.as_deref() == Some("PAD-HUB")),
        "custody: collected from the hub's pad, {steps:?}"
    );
    let cmds = d.handle(&picked);
    assert_eq!(alerts(&cmds, AlertKind::CustodyConflict), 0);
    assert_eq!(
        box_status(&d, "B1"),
        ("on_board", Some(hub.van_run.clone()))
    );
    d.handle(&b1_by_van(&hub, van.deliver_at, Some(&plan.lab)));
    assert!(delivered(&d, "B1"));
}

#[test]
fn a_hub_legs_van_may_report_its_pickup_before_the_drone_reports_its_mission_complete() {
    // Two devices on two links: the van's report can overtake the drone's.
    let (mut d, plan, cmds) = hub_world_b1_sealed();
    let hub = plan.hub.clone().expect("a hub leg");
    let van = van_runs(&cmds)[0].clone();
    let drone = plan.drone.clone();
    d.handle(&b1_loaded_on(&plan));
    let picked = b1_by_van(&hub, van.pickup_at, None);
    assert!(
        !labflight_dispatch::custody_steps(d.state(), &picked).is_empty(),
        "the van takes custody"
    );
    let cmds = d.handle(&picked);
    assert_eq!(alerts(&cmds, AlertKind::CustodyConflict), 0);
    assert_eq!(
        box_status(&d, "B1"),
        ("on_board", Some(hub.van_run.clone()))
    );
    d.handle(&ev(
        van.pickup_at,
        Event::Drone {
            drone,
            kind: DroneEventKind::MissionComplete {
                mission: plan.mission.clone(),
            },
        },
    ));
    assert_eq!(
        box_status(&d, "B1"),
        ("on_board", Some(hub.van_run.clone()))
    );
    d.handle(&b1_by_van(&hub, van.deliver_at, Some(&plan.lab)));
    assert!(delivered(&d, "B1"));
}

#[test]
fn a_hub_legs_van_is_called_off_when_its_drone_comes_down_before_the_hub() {
    let (mut d, plan, _) = hub_world_b1_sealed();
    let hub = plan.hub.clone().expect("a hub leg");
    let drone = plan.drone.clone();
    d.handle(&b1_loaded_on(&plan));
    let cmds = d.handle(&ev(
        plan.pickup_at + chrono::Duration::minutes(2),
        Event::Drone {
            drone,
            kind: DroneEventKind::Fault {
                reason: "motor".into(),
            },
        },
    ));
    assert!(
        cmds.iter().any(|c| matches!(c,
            Command::CancelCourier { mission, courier, .. }
                if *mission == hub.van_run && *courier == hub.courier)),
        "the van that was to meet the drone is called off: {cmds:?}"
    );
    // The van that collects it now calls where the drone set it down, not at the hub.
    let (status, on) = box_status(&d, "B1");
    assert!(
        status == "assigned" && on.as_ref() != Some(&hub.van_run),
        "{status} {on:?}"
    );
    let again = van_runs(&cmds);
    assert!(
        again.iter().any(|v| v.boxes == vec![BoxId::from("B1")]
            && v.mission != hub.van_run
            && v.pad.as_ref() != Some(&hub.pad)),
        "{again:?}"
    );
}

/// A centre 6.8 km north of the only lab and charger, with drone D1 at the lab
/// (and van V1 if `van`): out and back, a full drone carries 15 tubes but not 85.
fn edge_of_range_world(battery_pct: f64, van: bool) -> Executor {
    let mut b = Builder::default()
        .station("EDGE", 0.0, 6.8, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .drone("D1", "L1", battery_pct);
    if van {
        b = b.courier("V1", "L1");
    }
    Executor::new(b.world(&scenario()), PolicyKind::Drone, t("07:30"))
}

/// The boxes of every mission in the log, in order.
fn flown(ex: &Executor) -> Vec<Vec<BoxId>> {
    ex.commands()
        .into_iter()
        .filter_map(|c| match c {
            Command::AssignMission(p) => Some(p.boxes.clone()),
            _ => None,
        })
        .collect()
}

#[test]
fn a_box_no_drone_can_fly_goes_by_van_at_once_and_the_light_one_still_flies() {
    let s = scenario();
    let mut ex = edge_of_range_world(100.0, true);
    for (id, n) in [("HEAVY", 85), ("LIGHT", 5)] {
        ex.push_stamped(sealed(
            t("09:00"),
            id,
            "EDGE",
            tubes(id, n, "edta", t("08:50"), &s),
        ));
    }
    ex.run_until(t("10:30"));
    let log = ex.log.clone();
    let vans: Vec<_> = log
        .iter()
        .filter_map(|(at, c)| match c {
            Command::RequestCourier(r) => Some((*at, r)),
            _ => None,
        })
        .collect();
    assert_eq!(vans.len(), 1, "one van run: {vans:?}");
    let (booked, van) = vans[0];
    assert_eq!(
        van.boxes,
        vec![BoxId::from("HEAVY")],
        "the van takes only the heavy box"
    );
    assert!(
        van.reason.contains("beyond single-flight range"),
        "{}",
        van.reason
    );
    // Both boxes have hours to spare: the van is booked when the box is sealed,
    // not when it falls due, so it does not queue behind other runs.
    assert_eq!(booked, t("09:00"));
    assert_eq!(
        flown(&ex),
        vec![vec![BoxId::from("LIGHT")]],
        "the light box flies"
    );
}

#[test]
fn boxes_a_full_drone_can_carry_only_one_at_a_time_fly_one_by_one_after_a_swap() {
    let s = scenario();
    // At 90 % D1 cannot fly even one box; full, it can fly one but not both.
    // No van: one would take them with time to spare.
    let mut ex = edge_of_range_world(90.0, false);
    for id in ["A", "B"] {
        ex.push_stamped(sealed(
            t("09:00"),
            id,
            "EDGE",
            tubes(id, 15, "edta", t("08:50"), &s),
        ));
    }
    ex.run_until(t("12:00"));
    let swapped = ex
        .commands()
        .into_iter()
        .any(|c| matches!(c, Command::SwapBattery { drone, .. } if drone.as_str() == "D1"));
    assert!(swapped, "D1 is readied at the lab's charger for one box");
    let flights = flown(&ex);
    assert_eq!(
        flights,
        vec![vec![BoxId::from("A")], vec![BoxId::from("B")]],
        "one box per flight, oldest first"
    );
}

#[test]
fn a_box_sealed_as_a_van_calls_goes_with_it_on_the_same_trip() {
    let s = scenario();
    let mut ex = edge_of_range_world(100.0, true);
    ex.push_stamped(sealed(
        t("09:00"),
        "HEAVY",
        "EDGE",
        tubes("H", 85, "sst", t("08:20"), &s),
    ));
    ex.run_until(t("09:00"));
    let call = van_runs(&ex.commands())
        .first()
        .map(|r| r.pickup_at)
        .expect("a van is booked for the heavy box");
    let asked = |ex: &Executor| {
        ex.log
            .iter()
            .filter(|(_, c)| {
                matches!(c, Command::NotifyStation { station, notice: StationNotice::SealNow { reason } }
                    if station.as_str() == "EDGE" && reason.contains("V1 calls"))
            })
            .map(|(at, _)| *at)
            .collect::<Vec<_>>()
    };
    // Not long before the van is there: staff would seal a box that then waits.
    ex.run_until(call - chrono::Duration::minutes(3));
    assert!(asked(&ex).is_empty(), "asked too early");
    ex.run_until(call - chrono::Duration::minutes(1));
    let when = asked(&ex);
    assert_eq!(when.len(), 1, "staff are asked once, as the van arrives");
    // Staff seal what they have drawn since.
    ex.push_stamped(sealed(
        when[0],
        "OPEN",
        "EDGE",
        tubes("O", 12, "sst", t("09:10"), &s),
    ));
    ex.run_until(t("12:00"));
    let runs: Vec<_> = ex
        .log
        .iter()
        .filter_map(|(_, c)| match c {
            Command::RequestCourier(r) => Some(r.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(runs.len(), 2, "{runs:?}");
    let (first, joined) = (&runs[0], &runs[1]);
    assert_eq!(joined.boxes, vec![BoxId::from("OPEN")]);
    assert_eq!(
        (
            &joined.courier,
            joined.pickup_at,
            joined.deliver_at,
            &joined.lab
        ),
        (
            &first.courier,
            first.pickup_at,
            first.deliver_at,
            &first.lab
        ),
        "the same van, call and delivery"
    );
    let st = ex.dispatcher.state();
    assert_eq!(st.couriers[&labflight_core::CourierId::from("V1")].trips, 1);
    for b in ["HEAVY", "OPEN"] {
        assert!(delivered(&ex.dispatcher, b), "{b} delivered");
    }
    assert!(flown(&ex).is_empty(), "no drone is sent for the open box");
}

#[test]
fn a_box_sealed_while_the_drone_is_on_its_way_rides_along() {
    let s = scenario();
    let world = one_lab_world().drone("D1", "L1", 100.0).world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let cmds = d.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    ));
    let plan = missions(&cmds)[0].clone();
    assert!(
        asks_to_seal(&cmds),
        "the centre is asked to seal what it has"
    );
    let more = d.handle(&sealed(
        t("09:01"),
        "B2",
        "C1",
        tubes("T", 5, "edta", t("08:50"), &s),
    ));
    let added = more
        .iter()
        .find_map(|c| match c {
            Command::AddToMission { mission, boxes, .. } => Some((mission.clone(), boxes.clone())),
            _ => None,
        })
        .expect("the new box joins the flight");
    assert_eq!(added, (plan.mission.clone(), vec![BoxId::from("B2")]));
    assert!(missions(&more).is_empty(), "no second flight");
    // Once loaded, later boxes wait for another flight.
    d.handle(&ev(
        plan.pickup_at,
        Event::Drone {
            drone: plan.drone.clone(),
            kind: DroneEventKind::PayloadLoaded {
                box_id: BoxId::from("B1"),
            },
        },
    ));
    let late = d.handle(&sealed(
        plan.pickup_at + chrono::Duration::minutes(1),
        "B3",
        "C1",
        tubes("U", 5, "edta", t("08:55"), &s),
    ));
    assert!(
        !late
            .iter()
            .any(|c| matches!(c, Command::AddToMission { .. }))
    );
}

/// Whether `cmds` ask a centre to seal what it has drawn.
fn asks_to_seal(cmds: &[Command]) -> bool {
    cmds.iter().any(|c| {
        matches!(
            c,
            Command::NotifyStation {
                notice: StationNotice::SealNow { .. },
                ..
            }
        )
    })
}

#[test]
fn a_drone_with_no_battery_to_spare_does_not_ask_the_centre_to_seal_a_box_it_cannot_take() {
    // A box sealed for a drone that cannot take it waits, alone, for a flight of its
    // own (a tenth of a kilogram of tubes in a 0.6 kg box); left open, it fills up.
    let s = scenario();
    let fly = |battery_pct: f64| {
        let world = one_lab_world().drone("D1", "L1", battery_pct).world(&s);
        let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
        let cmds = d.handle(&sealed(
            t("09:00"),
            "B1",
            "C1",
            tubes("S", 5, "sst", t("07:35"), &s),
        ));
        let plan = missions(&cmds).first().map(|p| (*p).clone());
        let more = d.handle(&sealed(
            t("09:01"),
            "B2",
            "C1",
            tubes("T", 1, "edta", t("08:50"), &s),
        ));
        let rides = more
            .iter()
            .any(|c| matches!(c, Command::AddToMission { .. }));
        (plan, asks_to_seal(&cmds), rides)
    };
    let (plan, asks, rides) = fly(100.0);
    assert!(
        plan.is_some() && asks && rides,
        "with room, it asks and the box rides along"
    );
    // The lowest charge that still flies B1 leaves no room for a second box.
    let lowest = (20..100)
        .map(f64::from)
        .find(|&pct| fly(pct).0.is_some())
        .expect("some charge flies B1");
    let (plan, asks, rides) = fly(lowest);
    let plan = plan.expect("flies B1");
    assert!(plan.battery_after_pct < 25.0, "{plan:?}");
    assert!(!rides, "a box sealed anyway waits for another flight");
    assert!(
        !asks,
        "no call to seal for a drone leaving at {}% and landing at the lab with {}%",
        lowest, plan.battery_after_pct
    );
}

#[test]
fn boxes_waiting_for_a_drone_when_a_van_calls_go_with_it_if_it_keeps_their_limits() {
    let s = scenario();
    let mut ex = edge_of_range_world(100.0, true);
    // The one drone is held by a coordinator: nothing at the centre can fly.
    ex.push(t("08:00"), hold_d1(true));
    ex.push_stamped(sealed(
        t("09:00"),
        "HEAVY",
        "EDGE",
        tubes("H", 85, "edta", t("08:50"), &s),
    ));
    // Two light boxes wait for a drone: serum drawn at 08:55, with hours to spare,
    // and serum drawn at 07:20, whose two hours run out before any van is at a lab.
    for (id, drawn) in [("FRESH", "08:55"), ("OLD", "07:20")] {
        ex.push_stamped(sealed(
            t("09:05"),
            id,
            "EDGE",
            tubes(id, 4, "sst", t(drawn), &s),
        ));
    }
    ex.run_until(t("12:00"));
    let cmds: Vec<Command> = ex.commands();
    let runs = van_runs(&cmds);
    let heavy = runs
        .iter()
        .find(|r| r.boxes == vec![BoxId::from("HEAVY")])
        .expect("a van for the heavy box");
    let joined: Vec<_> = runs.iter().filter(|r| r.mission != heavy.mission).collect();
    assert_eq!(joined.len(), 1, "{runs:#?}");
    assert_eq!(joined[0].boxes, vec![BoxId::from("FRESH")]);
    assert_eq!(
        (
            &joined[0].courier,
            joined[0].pickup_at,
            joined[0].deliver_at
        ),
        (&heavy.courier, heavy.pickup_at, heavy.deliver_at),
        "the same van, call and delivery"
    );
    assert!(heavy.deliver_at > t("09:20"), "OLD would pass its limit");
    let st = ex.dispatcher.state();
    assert_eq!(st.couriers[&labflight_core::CourierId::from("V1")].trips, 1);
    assert!(delivered(&ex.dispatcher, "FRESH"));
    assert_eq!(
        st.boxes[&BoxId::from("OLD")].status,
        labflight_dispatch::state::BoxStatus::Waiting
    );
}

#[test]
fn a_van_goes_with_time_to_spare_only_while_half_the_vans_stay_free() {
    let mut s = twenty_minute_window();
    // Slow vans: a round to a centre 3 km out takes well over an hour.
    s.courier.speed_kmh = 8.0;
    let mut d = two_vans_and_d1_held(&s);
    let mut booked: Vec<(Instant, labflight_core::command::CourierRequest)> = Vec::new();
    let mut feed = |d: &mut Dispatcher, e: labflight_core::event::Stamped| {
        for r in van_runs(&d.handle(&e)) {
            booked.push((e.at, r.clone()));
        }
    };
    feed(
        &mut d,
        sealed(
            t("08:30"),
            "B1",
            "C1",
            tubes("A", 5, "edta", t("07:50"), &s),
        ),
    );
    let mut at = t("08:31");
    while at <= t("10:30") {
        if at == t("08:52") {
            let b2 = sealed(at, "B2", "C2", tubes("B", 5, "edta", t("08:00"), &s));
            feed(&mut d, b2);
        }
        feed(&mut d, ev(at, Event::Tick));
        at += chrono::Duration::minutes(1);
    }
    assert_eq!(booked.len(), 2, "{booked:#?}");
    let (first_at, first) = &booked[0];
    let (second_at, second) = &booked[1];
    assert_eq!(first.boxes, vec![BoxId::from("B1")]);
    // B1 falls due at 08:50 with both vans free: one goes.
    assert!(*first_at <= t("08:51"), "{first_at}");
    // B2 falls due at 09:12, when the other van is out until past 10:00: no van
    // goes for boxes with hours to spare until it is free within 30 minutes.
    assert_eq!(second.boxes, vec![BoxId::from("B2")]);
    assert_ne!(second.courier, first.courier);
    assert!(first.deliver_at > t("10:00"), "{first:?}");
    assert_eq!(*second_at, first.deliver_at - chrono::Duration::minutes(30));
    assert!(second.reason.contains("no drone free"), "{}", second.reason);
}

/// A drone event at `at`.
fn drone_event(at: Instant, drone: &str, kind: DroneEventKind) -> labflight_core::Stamped {
    ev(
        at,
        Event::Drone {
            drone: DroneId::from(drone),
            kind,
        },
    )
}

fn loaded(box_id: &str) -> DroneEventKind {
    DroneEventKind::PayloadLoaded {
        box_id: BoxId::from(box_id),
    }
}

/// A drone landing on the pad of `one_lab_world`'s lab, L1.
fn landed_at_the_lab() -> DroneEventKind {
    DroneEventKind::Landed {
        pad: Some(labflight_core::PadId::from("PAD-L1")),
        position: at_km(0.0, 0.0),
    }
}

/// The box's status as serialized (`waiting`, `on_board`, …) and its mission, if any.
fn box_status(d: &Dispatcher, id: &str) -> (&'static str, Option<MissionId>) {
    let b = &d.state().boxes[&BoxId::from(id)];
    (b.status.name(), b.status.mission().cloned())
}

/// Seals B1 at C1 at 09:00 and lets the drone sent for it go silent until it is
/// declared lost before pickup (09:07): the mission it flew, and the commands of
/// that tick.
fn lose_the_drone_sent_for_b1(
    d: &mut Dispatcher,
) -> (labflight_core::command::MissionPlan, Vec<Command>) {
    lose_the_drone_sent_for_b1_drawn_at(d, t("07:35"))
}

/// `lose_the_drone_sent_for_b1`, its tubes drawn at `drawn`.
fn lose_the_drone_sent_for_b1_drawn_at(
    d: &mut Dispatcher,
    drawn: Instant,
) -> (labflight_core::command::MissionPlan, Vec<Command>) {
    let s = scenario();
    let p = missions(&d.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", drawn, &s),
    )))[0]
        .clone();
    let lost = d.handle(&ev(t("09:07"), Event::Tick));
    assert!(
        lost.iter()
            .any(|c| matches!(c, Command::AbortMission { mission, .. } if *mission == p.mission)),
        "aborted as lost before pickup: {lost:?}"
    );
    (p, lost)
}

#[test]
fn a_drone_declared_lost_that_reappears_with_the_box_resumes_its_mission() {
    let s = scenario();
    let world = one_lab_world().drone("D1", "L1", 100.0).world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let (p, _) = lose_the_drone_sent_for_b1(&mut d);
    assert_eq!(
        box_status(&d, "B1").0,
        "waiting",
        "back at the centre in the plan"
    );
    // The drone never got the abort: it landed at C1, staff loaded the box, and its
    // link comes back.
    let cmds = d.handle(&drone_event(t("09:09"), "D1", loaded("B1")));
    let redirect = cmds
        .iter()
        .find_map(|c| match c {
            Command::Redirect {
                mission,
                drone,
                lab,
                leg,
                ..
            } => Some((mission, drone, lab, leg)),
            _ => None,
        })
        .expect("the aborted mission resumes");
    assert_eq!(redirect.0, &p.mission);
    assert_eq!(redirect.1.as_str(), "D1");
    assert_eq!(redirect.2.as_str(), "L1");
    assert_eq!(redirect.3.depart, t("09:09"));
    assert_eq!(
        box_status(&d, "B1"),
        ("on_board", Some(p.mission.clone())),
        "custody follows the box"
    );
    assert!(
        missions(&cmds).is_empty(),
        "no second flight for it: {cmds:?}"
    );
    // It lands at the lab: delivered, and the mission is done.
    d.handle(&ev(
        t("09:15"),
        Event::BoxReceived {
            box_id: BoxId::from("B1"),
            lab: LabId::from("L1"),
        },
    ));
    d.handle(&drone_event(
        t("09:15"),
        "D1",
        DroneEventKind::MissionComplete {
            mission: p.mission.clone(),
        },
    ));
    assert!(delivered(&d, "B1"));
    assert_eq!(
        d.state().missions[&p.mission].status,
        labflight_dispatch::state::MissionStatus::Delivered
    );
}

#[test]
fn a_van_sent_for_a_lost_drones_box_is_called_off_when_the_drone_reappears_with_it() {
    let s = scenario();
    // The vans stand at a second lab half a kilometre past the centre: with the
    // only drone lost, one is sent.
    let world = one_lab_world()
        .lab("L2", 3.5, 0.0, Some("PH"), all_families())
        .drone("D1", "L1", 100.0)
        .courier("V1", "L2")
        .courier("V2", "L2")
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    // Drawn later than the other lost-drone tests': a van still makes it.
    let (p, lost) = lose_the_drone_sent_for_b1_drawn_at(&mut d, t("08:05"));
    let van = std::iter::once(lost)
        .chain((8..60).map(|m| d.handle(&ev(t(&format!("09:{m:02}")), Event::Tick))))
        .find_map(|cmds| {
            van_runs(&cmds)
                .into_iter()
                .find(|r| r.boxes.contains(&BoxId::from("B1")))
                .cloned()
        })
        .expect("with its only drone lost, a van is sent for B1 within the hour");
    assert_eq!(
        box_status(&d, "B1"),
        ("assigned", Some(van.mission.clone()))
    );
    // The drone had loaded it after all: its report arrives late.
    let cmds = d.handle(&drone_event(d.state().now, "D1", loaded("B1")));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Redirect { mission, .. } if *mission == p.mission)),
        "the drone's mission resumes: {cmds:?}"
    );
    assert!(
        cmds.iter().any(|c| matches!(c,
            Command::CancelCourier { mission, courier, .. }
                if *mission == van.mission && Some(courier) == van.courier.as_ref())),
        "the van is told not to call: {cmds:?}"
    );
    assert_eq!(box_status(&d, "B1"), ("on_board", Some(p.mission.clone())));
    // A van that calls anyway and reports collecting it takes no custody of it.
    let pickup = ev(
        van.pickup_at,
        Event::Courier {
            courier: van.courier.clone().expect("a van is named"),
            kind: labflight_core::event::CourierEventKind::PickedUp {
                boxes: vec![BoxId::from("B1")],
            },
        },
    );
    assert!(
        labflight_dispatch::custody_steps(d.state(), &pickup).is_empty(),
        "no custody step for a box not on the van's run"
    );
    let cmds = d.handle(&pickup);
    assert_eq!(alerts(&cmds, AlertKind::CustodyConflict), 1, "{cmds:?}");
    assert_eq!(
        box_status(&d, "B1"),
        ("on_board", Some(p.mission.clone())),
        "custody stays with the drone"
    );
}

#[test]
fn a_box_replanned_on_another_drone_that_the_lost_drone_loaded_calls_off_the_new_flight() {
    let s = scenario();
    let world = one_lab_world()
        .drone("D1", "L1", 100.0)
        .drone("D2", "L1", 100.0)
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let (p, lost) = lose_the_drone_sent_for_b1(&mut d);
    let again = mission_for(&lost, "B1")
        .expect("re-planned on the other drone")
        .clone();
    assert_ne!(again.drone, p.drone);
    let cmds = d.handle(&drone_event(t("09:08"), p.drone.as_str(), loaded("B1")));
    assert!(
        cmds.iter().any(|c| matches!(c,
            Command::AbortMission { mission, drone, .. }
                if *mission == again.mission && *drone == again.drone)),
        "the second drone is called off: {cmds:?}"
    );
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::Redirect { mission, .. } if *mission == p.mission)),
        "{cmds:?}"
    );
    assert_eq!(box_status(&d, "B1"), ("on_board", Some(p.mission.clone())));
    // The called-off drone lands back at the lab and is free for the next box.
    d.handle(&drone_event(
        t("09:09"),
        again.drone.as_str(),
        landed_at_the_lab(),
    ));
    let next = d.handle(&sealed(
        t("09:10"),
        "B2",
        "C1",
        tubes("T", 5, "sst", t("07:40"), &s),
    ));
    assert!(
        mission_for(&next, "B2").is_some_and(|m| m.drone == again.drone),
        "{next:?}"
    );
}

/// A coordinator pauses drone D2 at 08:50: it is sent for nothing.
fn pause_d2(d: &mut Dispatcher) {
    d.handle(&ev(
        t("08:50"),
        Event::Override {
            by: "coord-1".into(),
            action: Override::PauseDrone {
                drone: DroneId::from("D2"),
            },
        },
    ));
}

#[test]
fn a_box_loaded_on_a_drone_without_a_mission_for_it_is_stranded_for_a_van() {
    let s = scenario();
    let world = one_lab_world()
        .drone("D1", "C1", 100.0)
        .drone("D2", "C1", 100.0)
        .courier("V1", "L1")
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    pause_d2(&mut d);
    let p = missions(&d.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    )))[0]
        .clone();
    assert_eq!(p.drone.as_str(), "D1");
    // Staff put the box on the paused drone D2, which was never sent for it.
    let cmds = d.handle(&drone_event(t("09:02"), "D2", loaded("B1")));
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::AbortMission { mission, .. } if *mission == p.mission)),
        "D1 no longer has a box to fetch: {cmds:?}"
    );
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::ReturnToPad { drone, .. } if drone.as_str() == "D2")),
        "{cmds:?}"
    );
    assert_eq!(alerts(&cmds, AlertKind::TubeAtRisk), 1);
    let van = van_runs(&cmds)
        .into_iter()
        .find(|r| r.boxes.contains(&BoxId::from("B1")))
        .expect("a van recovers it from the pad");
    assert_eq!(
        box_status(&d, "B1"),
        ("assigned", Some(van.mission.clone())),
        "the van's to carry now"
    );
    // A second report of the same load changes nothing.
    let again = d.handle(&drone_event(t("09:03"), "D2", loaded("B1")));
    assert!(van_runs(&again).is_empty(), "{again:?}");
}

/// The custody step kinds `stamped` records for `barcode`, in order.
fn steps_of(d: &Dispatcher, stamped: &labflight_core::Stamped, barcode: &str) -> Vec<String> {
    labflight_dispatch::custody_steps(d.state(), stamped)
        .into_iter()
        .filter(|c| c.barcode.as_str() == barcode)
        .map(|c| format!("{:?}@{}", c.step, c.place.unwrap_or_default()))
        .collect()
}

/// `lab`'s scan-in of `barcode`'s box, refused at the edge (`custody_disputed`).
fn scan_refused(at: Instant, lab: &str, barcode: &TubeBarcode) -> Stamped {
    ev(
        at,
        Event::CustodyDisputed {
            lab: LabId::from(lab),
            barcode: barcode.clone(),
            claim: "received".into(),
            held: None,
        },
    )
}

#[test]
fn a_lab_scan_of_a_lost_drones_box_is_held_and_honoured_when_the_drone_lands_there() {
    let s = scenario();
    let world = one_lab_world().drone("D1", "L1", 100.0).world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let (p, _) = lose_the_drone_sent_for_b1(&mut d);
    let tube = d.state().boxes[&BoxId::from("B1")].tubes[0].barcode.clone();
    let l1 = LabId::from("L1");
    // The drone flew on unheard: L1 scans the box in before its reports come.
    // Refused then (the box is waiting at C1 as far as labflight knows) ...
    assert!(labflight_dispatch::check_lab_claim(d.state(), &l1, &tube).is_err());
    d.handle(&scan_refused(t("09:20"), "L1", &tube));
    assert!(!delivered(&d, "B1"), "a refused claim moves nothing");
    // ... then its link comes back with the load and the landing on L1's pad.
    let cmds = d.handle(&drone_event(t("09:21"), "D1", loaded("B1")));
    assert!(
        !cmds.iter().any(|c| matches!(c, Command::Redirect { .. })),
        "the box is at the lab that scanned it: nowhere to redirect it: {cmds:?}"
    );
    assert_eq!(box_status(&d, "B1"), ("on_board", Some(p.mission.clone())));
    let landed = drone_event(t("09:21"), "D1", landed_at_the_lab());
    assert_eq!(
        steps_of(&d, &landed, tube.as_str()),
        ["Landed@PAD-L1", "ReceivedAtLab@L1"],
        "the held scan is the box's reception"
    );
    d.handle(&landed);
    assert!(delivered(&d, "B1"));
    assert_eq!(d.state().tubes[&tube].lab, Some(l1.clone()));
    assert!(labflight_dispatch::check_lab_claim(d.state(), &l1, &tube).is_ok());
    // The lab's own report of the reception, if it comes again, records nothing more.
    let again = ev(
        t("09:22"),
        Event::BoxReceived {
            box_id: BoxId::from("B1"),
            lab: l1,
        },
    );
    assert!(steps_of(&d, &again, tube.as_str()).is_empty());
}

/// L1 and L2 6 km apart, D1 sent from L1 for B1 at C1 and declared lost; B1's
/// first tube.
fn two_labs_and_the_drone_sent_for_b1_lost() -> (Dispatcher, TubeBarcode) {
    let s = scenario();
    let world = one_lab_world()
        .lab("L2", 0.0, 6.0, Some("PH"), all_families())
        .drone("D1", "L1", 100.0)
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    lose_the_drone_sent_for_b1(&mut d);
    let tube = d.state().boxes[&BoxId::from("B1")].tubes[0].barcode.clone();
    (d, tube)
}

/// `lab`'s claim about `barcode`, refused at the edge over MQTT and held: the
/// journaled `custody_disputed` carrying the claim itself.
fn refused_and_held(at: Instant, lab: &str, barcode: &TubeBarcode, held: Event) -> Stamped {
    let claim = match &held {
        Event::TubeRejected { .. } => "rejected",
        Event::TubeCentrifuged { .. } => "centrifuged",
        _ => "resulted",
    };
    ev(
        at,
        Event::CustodyDisputed {
            lab: LabId::from(lab),
            barcode: barcode.clone(),
            claim: claim.into(),
            held: Some(Box::new(held)),
        },
    )
}

#[test]
fn a_labs_refusal_of_a_lost_drones_tube_is_held_and_released_when_the_box_reaches_that_lab() {
    let (mut d, tube) = two_labs_and_the_drone_sent_for_b1_lost();
    let (l1, l2) = (LabId::from("L1"), LabId::from("L2"));
    let rejected = |lab: &LabId| Event::TubeRejected {
        barcode: tube.clone(),
        lab: lab.clone(),
        reason: "haemolysed".into(),
    };
    // The drone flew on unheard. L1 scans the box in and refuses the tube over
    // MQTT before the drone's reports come; L2 claims the tube too. All refused.
    d.handle(&scan_refused(t("09:20"), "L1", &tube));
    d.handle(&refused_and_held(t("09:21"), "L1", &tube, rejected(&l1)));
    // The same message again (a redelivery the digest did not catch) is held once.
    d.handle(&refused_and_held(t("09:21"), "L1", &tube, rejected(&l1)));
    let spun = Event::TubeCentrifuged {
        barcode: tube.clone(),
        lab: l2.clone(),
    };
    d.handle(&refused_and_held(t("09:21"), "L2", &tube, spun));
    assert_eq!(
        d.take_released_claims(),
        [],
        "nothing released while the box is away"
    );
    assert_eq!(d.state().tubes[&tube].status.name(), "in_box");
    // The drone's link comes back: loaded, then landed on L1's pad, where the
    // held scan hands the box to L1 and L1's held refusal is released, once.
    d.handle(&drone_event(t("09:22"), "D1", loaded("B1")));
    assert_eq!(d.take_released_claims(), []);
    d.handle(&drone_event(t("09:22"), "D1", landed_at_the_lab()));
    assert!(delivered(&d, "B1"));
    let released = d.take_released_claims();
    assert_eq!(
        released,
        [rejected(&l1)],
        "L1's refusal only, once; L2's stays refused"
    );
    assert!(d.state().held_claims.is_empty());
    // Applied as an event of its own (the edge journals it), it now passes the
    // custody rule and the tube is rejected at L1.
    assert!(labflight_dispatch::check_lab_claim(d.state(), &l1, &tube).is_ok());
    d.handle(&ev(t("09:22"), released[0].clone()));
    assert_eq!(d.state().tubes[&tube].status.name(), "rejected");
    assert_eq!(
        d.take_released_claims(),
        [],
        "released claims go with the next event"
    );
}

#[test]
fn a_lab_scan_is_not_honoured_when_the_drone_lands_elsewhere() {
    let (mut d, tube) = two_labs_and_the_drone_sent_for_b1_lost();
    d.handle(&scan_refused(t("09:20"), "L2", &tube));
    d.handle(&drone_event(t("09:21"), "D1", loaded("B1")));
    let landed = drone_event(t("09:25"), "D1", landed_at_the_lab());
    assert!(
        !steps_of(&d, &landed, tube.as_str())
            .iter()
            .any(|s| s.starts_with("ReceivedAtLab")),
        "L2 scanned it, but the drone landed on L1's pad"
    );
    d.handle(&landed);
    assert!(!delivered(&d, "B1"));
}

#[test]
fn a_lost_drone_that_obeyed_its_abort_before_its_mission_resumed_set_the_box_down_there() {
    let s = scenario();
    let world = one_lab_world()
        .drone("D1", "C1", 100.0)
        .drone("D2", "L1", 100.0)
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let (p, lost) = lose_the_drone_sent_for_b1(&mut d);
    let drone = p.drone.clone();
    let abort_pad = lost
        .iter()
        .find_map(|c| match c {
            Command::AbortMission {
                mission,
                recovery: Recovery::ReturnToPad { pad },
                ..
            } if *mission == p.mission => Some(pad.clone()),
            _ => None,
        })
        .expect("told to return to a pad");
    assert_ne!(Some(&abort_pad), p.lab_pad.as_ref());
    // Its link comes back: it had loaded B1 before the abort reached it; the
    // mission resumes, but the drone, obeying the abort, lands where it was told.
    let cmds = d.handle(&drone_event(t("09:09"), drone.as_str(), loaded("B1")));
    assert!(
        cmds.iter().any(|c| matches!(c, Command::Redirect { .. })),
        "{cmds:?}"
    );
    let landed = drone_event(
        t("09:10"),
        drone.as_str(),
        DroneEventKind::Landed {
            pad: Some(abort_pad.clone()),
            position: d.state().drones[&drone].position,
        },
    );
    let tube = d.state().boxes[&BoxId::from("B1")].tubes[0].barcode.clone();
    assert_eq!(
        steps_of(&d, &landed, tube.as_str()),
        [format!("Landed@{abort_pad}")]
    );
    let cmds = d.handle(&landed);
    let b = &d.state().boxes[&BoxId::from("B1")];
    assert_eq!(b.set_down.as_ref().map(|s| &s.pad), Some(&abort_pad));
    assert!(
        b.loaded_on.is_none(),
        "set down: the drone carries it no more"
    );
    assert_eq!(
        d.state().missions[&p.mission].status,
        labflight_dispatch::state::MissionStatus::Aborted
    );
    assert_ne!(
        d.state().drones[&drone].mission(),
        Some(&p.mission),
        "that flight is over"
    );
    // A new flight is sent for it where it lies (C1's own pad: a pickup at C1).
    let fetch = missions(&cmds)
        .into_iter()
        .find(|m| m.boxes.contains(&BoxId::from("B1")))
        .expect("a drone fetches it");
    assert_ne!(fetch.mission, p.mission);
    assert_eq!(
        box_status(&d, "B1"),
        ("assigned", Some(fetch.mission.clone()))
    );
}

#[test]
fn a_box_stranded_aboard_a_drone_lies_where_the_drone_actually_lands() {
    let s = scenario();
    let world = one_lab_world()
        .lab("L2", 0.0, 6.0, Some("PH"), all_families())
        .drone("D1", "C1", 100.0)
        .drone("D2", "C1", 100.0)
        .courier("V1", "L1")
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    pause_d2(&mut d);
    d.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    ));
    // Loaded on D2, never sent for it: stranded where D2 is told to land, and a
    // van is sent to fetch it from there.
    let cmds = d.handle(&drone_event(t("09:02"), "D2", loaded("B1")));
    let van = van_runs(&cmds)
        .into_iter()
        .find(|r| r.boxes.contains(&BoxId::from("B1")))
        .expect("a van recovers it")
        .mission
        .clone();
    let tube = d.state().boxes[&BoxId::from("B1")].tubes[0].barcode.clone();
    let l2 = LabId::from("L2");
    assert!(labflight_dispatch::check_lab_claim(d.state(), &l2, &tube).is_err());
    // D2 flies on with it and lands on L2's pad instead.
    let landed = drone_event(
        t("09:12"),
        "D2",
        DroneEventKind::Landed {
            pad: Some(PadId::from("PAD-L2")),
            position: at_km(0.0, 6.0),
        },
    );
    assert_eq!(
        steps_of(&d, &landed, tube.as_str()),
        ["Landed@PAD-L2"],
        "custody follows the box to where it was set down"
    );
    let cmds = d.handle(&landed);
    assert!(
        cmds.iter()
            .any(|c| matches!(c, Command::CancelCourier { mission, .. } if *mission == van)),
        "the van would find nothing where it was sent: {cmds:?}"
    );
    let b = &d.state().boxes[&BoxId::from("B1")];
    assert_eq!(
        b.set_down.as_ref().map(|s| (s.pad.as_str(), s.lab.clone())),
        Some(("PAD-L2", Some(l2.clone())))
    );
    // On L2's own pad it is L2's to take in.
    assert!(labflight_dispatch::check_lab_claim(d.state(), &l2, &tube).is_ok());
    d.handle(&ev(
        t("09:14"),
        Event::BoxReceived {
            box_id: BoxId::from("B1"),
            lab: l2,
        },
    ));
    assert!(delivered(&d, "B1"));
    // Its next landing moves it no more.
    let later = drone_event(
        t("09:40"),
        "D2",
        DroneEventKind::Landed {
            pad: Some(PadId::from("PAD-C1")),
            position: at_km(3.0, 0.0),
        },
    );
    assert!(steps_of(&d, &later, tube.as_str()).is_empty());
}

/// A centre 9 km north of the only lab, out of reach of the `drones` there on a
/// full battery, with a charger pad half a kilometre from it.
fn far_centre_with_a_charger_near(drones: usize) -> Executor {
    let s = scenario();
    let mut b = Builder::default()
        .station("FAR", 0.0, 9.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .depot("DEP", 0.0, 8.5);
    for i in 1..=drones {
        b = b.drone(&format!("D{i}"), "L1", 100.0);
    }
    let mut ex = Executor::new(b.world(&s), PolicyKind::Drone, t("07:30"));
    ex.push_stamped(sealed(
        t("09:00"),
        "B1",
        "FAR",
        tubes("S", 5, "sst", t("08:40"), &s),
    ));
    ex
}

#[test]
fn a_free_drone_flies_to_the_charger_near_a_centre_none_can_reach_from_where_it_stands() {
    // Five drones: some to spare. One drone: none to spare (a fifth of the fleet is
    // kept free), but the box is due at the lab within the hour, so it goes anyway.
    for drones in [5, 1] {
        far_centre_gets_a_drone_from_its_charger(drones);
    }
}

fn far_centre_gets_a_drone_from_its_charger(drones: usize) {
    let mut ex = far_centre_with_a_charger_near(drones);
    ex.run_until(t("10:30"));
    let cmds: Vec<Command> = ex.commands();
    let sent: Vec<&DroneId> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::ReturnToPad { drone, pad, reason } if pad.as_str() == "PAD-DEP" => {
                assert!(reason.contains("charger nearest FAR"), "{reason}");
                Some(drone)
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        sent.len(),
        1,
        "{drones} drones: one sent, not one per pass: {cmds:#?}"
    );
    let flight = mission_for(&cmds, "B1").expect("B1 flies from the charger");
    assert_eq!(&flight.drone, sent[0]);
    assert!(delivered(&ex.dispatcher, "B1"));
    assert!(
        flight.arrive_lab_at <= ex.dispatcher.state().boxes[&BoxId::from("B1")].stability_deadline,
        "{flight:?}"
    );
}

#[test]
fn a_drone_declared_lost_is_heard_from_again_by_any_event_it_reports() {
    let s = scenario();
    let world = one_lab_world().drone("D1", "L1", 100.0).world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let (p, _) = lose_the_drone_sent_for_b1(&mut d);
    assert!(d.state().drones[&p.drone].link_lost);
    // It never got the abort's return either; it lands back at the lab and says so.
    let mut next = d.handle(&drone_event(
        t("09:12"),
        p.drone.as_str(),
        landed_at_the_lab(),
    ));
    assert!(!d.state().drones[&p.drone].link_lost, "a report is a link");
    next.extend(d.handle(&ev(t("09:13"), Event::Tick)));
    assert!(
        mission_for(&next, "B1").is_some_and(|m| m.drone == p.drone),
        "flies B1 again: {next:?}"
    );
}

#[test]
fn a_busy_lab_holds_a_tube_only_until_its_analyzers_have_started_the_tubes_before_it() {
    // 150 tubes received at 09:10 at 300 an hour: the analyzers start the last of
    // them at 09:55 (after reception) and are free from then on, while those tubes
    // are still in their hour-long run and not yet resulted.
    let s = scenario();
    let world = one_lab_world().world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let many = tubes("S", 150, "edta", t("08:30"), &s);
    let families: std::collections::BTreeSet<_> = many[0].families.iter().copied().collect();
    d.handle(&sealed(t("09:00"), "B1", "C1", many));
    d.handle(&ev(
        t("09:10"),
        Event::BoxReceived {
            box_id: BoxId::from("B1"),
            lab: LabId::from("L1"),
        },
    ));
    let lab = &d.world().labs[&LabId::from("L1")];
    let analyzer = lab
        .analyzers
        .iter()
        .find(|a| families.contains(&a.family))
        .expect("the lab runs it");
    let minutes = |m: f64| chrono::Duration::seconds((m * 60.0).round() as i64);
    let after_start =
        minutes(analyzer.run_minutes + lab.verification_minutes) + d.world().service.report;
    let predict = |arrive: Instant| {
        labflight_dispatch::planner::predicted_result(d.world(), d.state(), lab, &families, arrive)
            .expect("the lab takes it")
    };
    let started_last = t("09:10") + minutes(lab.reception_minutes) + minutes(150.0 / 300.0 * 60.0);
    assert_eq!(
        predict(t("09:10")),
        started_last + after_start,
        "a tube arriving with them waits for all 150 to start"
    );
    let later = t("10:30");
    assert_eq!(
        predict(later),
        later + minutes(lab.reception_minutes) + after_start,
        "one arriving after they have all started waits for none of them"
    );
}

/// The box limits told to each centre in a command log: (centre, most tubes).
fn box_limits(cmds: &[Command]) -> Vec<(String, u32)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::NotifyStation {
                station,
                notice: StationNotice::BoxLimit { max_tubes, .. },
            } => Some((station.to_string(), *max_tubes)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_centre_at_the_edge_of_range_is_told_the_heaviest_box_a_drone_can_fly_from_there() {
    let s = scenario();
    let world = || {
        Builder::default()
            .station("EDGE", 0.0, 6.8, "PH")
            .station("NEAR", 2.0, 0.0, "PH")
            .lab("L1", 0.0, 0.0, Some("PH"), all_families())
            .drone("D1", "L1", 100.0)
            .courier("V1", "L1")
            .world(&s)
    };
    let mut d = Dispatcher::new(world(), PolicyKind::Drone, 7, t("07:30"));
    let calm = Event::Weather {
        wind_east_mps: 0.0,
        wind_north_mps: 0.0,
        rain_mm_h: 0.0,
    };
    let told = box_limits(&d.handle(&ev(t("07:30"), calm.clone())));
    assert_eq!(told.len(), 1, "only the far centre: {told:?}");
    let (centre, limit) = told[0].clone();
    assert_eq!(centre, "EDGE");
    assert!(
        (1..s.specimen_box.max_tubes).contains(&limit),
        "a limit below a full box: {limit}"
    );
    assert!(
        box_limits(&d.handle(&ev(t("07:31"), calm))).is_empty(),
        "told once while the wind holds"
    );
    // The limit is the reach: a box of that many tubes flies, one more does not.
    for (tubes_in_box, flies) in [(limit, true), (limit + 1, false)] {
        let mut ex = Executor::new(world(), PolicyKind::Drone, t("07:30"));
        ex.push_stamped(sealed(
            t("09:00"),
            "B1",
            "EDGE",
            tubes("S", tubes_in_box as usize, "edta", t("08:50"), &s),
        ));
        ex.run_until(t("10:30"));
        assert_eq!(!flown(&ex).is_empty(), flies, "{tubes_in_box} tubes flown");
        assert_eq!(
            van_runs(&ex.commands()).is_empty(),
            flies,
            "{tubes_in_box} tubes by van"
        );
    }
    // A headwind on the way to the lab shortens the reach: the centre is told again.
    let headwind = d.handle(&ev(
        t("08:00"),
        Event::Weather {
            wind_east_mps: 0.0,
            wind_north_mps: 3.0,
            rain_mm_h: 0.0,
        },
    ));
    let again = box_limits(&headwind);
    assert!(
        matches!(again.as_slice(), [(c, n)] if c == "EDGE" && *n < limit),
        "{again:?} after {limit}"
    );
}

#[test]
fn coordinator_diverts_a_labs_pending_boxes_to_a_lab_that_runs_their_tests() {
    let s = scenario();
    let hematology_only: Vec<_> = all_families()
        .into_iter()
        .filter(|a| a.family == labflight_core::TestFamily::Hematology)
        .collect();
    let world = Builder::default()
        .station("C1", 3.0, 0.0, "PH")
        .lab("L1", 1.0, 0.0, Some("PH"), all_families())
        .lab("L2", 0.0, -3.0, None, all_families())
        .lab("L3", 0.0, 3.0, None, hematology_only)
        .drone("D1", "C1", 100.0)
        .drone("D2", "C1", 100.0)
        .world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("07:30"));
    let first = missions(&d.handle(&sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("07:35"), &s),
    )))[0]
        .clone();
    assert_eq!(first.lab, LabId::from("L1"), "the nearest lab first");
    let divert = |to: &str| Event::Override {
        by: "coord-1".into(),
        action: Override::DivertLab {
            from: LabId::from("L1"),
            to: LabId::from(to),
        },
    };
    // L3 does not run the serum tubes' chemistry: refused, and nothing moves.
    let refused = labflight_dispatch::check_divert(
        d.world(),
        d.state(),
        &LabId::from("L1"),
        &LabId::from("L3"),
    )
    .unwrap_err();
    assert!(
        refused.to_string().contains("does not run") && refused.to_string().contains("B1"),
        "{refused}"
    );
    assert!(d.handle(&ev(t("09:01"), divert("L3"))).is_empty());
    assert!(!d.state().labs.get(&LabId::from("L1")).unwrap().unavailable);
    // To L2: L1 takes nothing more, and the box not yet loaded flies to L2 (on
    // the other drone: the first one is called back to its pad).
    let cmds = d.handle(&ev(t("09:02"), divert("L2")));
    assert!(d.state().labs.get(&LabId::from("L1")).unwrap().unavailable);
    let next = missions(&cmds);
    assert_eq!(next.len(), 1, "{cmds:?}");
    assert_eq!(next[0].lab, LabId::from("L2"));
    assert_eq!(next[0].boxes, vec![BoxId::from("B1")]);
}

/// A lab running everything but HbA1c beside one that runs all.
fn lab_without_hba1c_world() -> Builder {
    let without_hba1c = all_families()
        .into_iter()
        .filter(|a| a.family != labflight_core::TestFamily::Hba1c)
        .collect();
    Builder::default()
        .station("C1", 3.0, 0.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .lab("L2", 2.5, 0.0, None, without_hba1c)
}

#[test]
fn a_tube_scanned_in_at_a_lab_lacking_its_test_is_refused_at_once_and_redrawn_saying_why() {
    let s = scenario();
    // No drone: the box waits, and staff carry it to the wrong lab themselves.
    let world = lab_without_hba1c_world().world(&s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    let mut box_tubes = tubes("T1", 1, "sst", t("08:00"), &s);
    let mut hba1c = tubes("T2", 1, "edta", t("08:00"), &s);
    hba1c[0].families = vec![labflight_core::TestFamily::Hba1c];
    box_tubes.extend(hba1c);
    let sealed = sealed(t("08:30"), "B1", "C1", box_tubes);
    ex.push(sealed.at, sealed.event);
    ex.push(
        t("08:50"),
        Event::BoxReceived {
            box_id: BoxId::from("B1"),
            lab: LabId::from("L2"),
        },
    );
    ex.run_until(t("09:30"));
    let cmds = ex.commands();
    let redraws: Vec<(&str, &str)> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::NotifyStation {
                notice: StationNotice::RedrawNeeded { barcode, reason },
                ..
            } => Some((barcode.as_str(), reason.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(redraws.len(), 1, "only the HbA1c tube: {redraws:?}");
    assert_eq!(redraws[0].0, "T2-000");
    assert!(
        redraws[0].1.contains("L2") && redraws[0].1.contains("does not run hba1c"),
        "{}",
        redraws[0].1
    );
    assert!(cmds.iter().any(|c| matches!(c, Command::Alert(a)
        if a.subject == "T2-000" && a.kind == AlertKind::TubeAtRisk)));
    let st = ex.dispatcher.state();
    use labflight_dispatch::state::TubeStatus;
    assert_eq!(
        st.tubes[&labflight_core::TubeBarcode::from("T2-000")].status,
        TubeStatus::Rejected
    );
    assert_eq!(
        st.tubes[&labflight_core::TubeBarcode::from("T1-000")].status,
        TubeStatus::AtLab
    );
    // The lab's backlog holds the serum tube only.
    let backlog: u32 = st
        .labs
        .get(&LabId::from("L2"))
        .unwrap()
        .backlog
        .values()
        .sum();
    assert_eq!(backlog, 1);
}

#[test]
fn a_box_needing_a_test_its_nearest_lab_lacks_flies_to_one_that_runs_it_and_rides_along_only_there()
{
    let s = scenario();
    // L2 is nearer C1 than L1, and lacks HbA1c; the drone stands at L1.
    let world = lab_without_hba1c_world().drone("D1", "L1", 100.0).world(&s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    // Serum drawn 07:15 is due at once: D1 sets off for it, to L2.
    let first = sealed(
        t("08:30"),
        "B1",
        "C1",
        tubes("T1", 8, "sst", t("07:15"), &s),
    );
    ex.push(first.at, first.event);
    ex.run_until(t("08:31"));
    let to_l2 = ex.commands().iter().any(|c| {
        matches!(c, Command::AssignMission(p) if p.lab.as_str() == "L2" && p.boxes == [BoxId::from("B1")])
    });
    assert!(to_l2, "the set-up: B1 flies to L2 {:#?}", ex.commands());
    // A drone is on its way to C1 for B1 (to L2, the nearer lab); an HbA1c box
    // sealed now must not ride along to L2.
    let mut hba1c = tubes("T2", 2, "edta", t("08:20"), &s);
    for t in &mut hba1c {
        t.families = vec![labflight_core::TestFamily::Hba1c];
    }
    let second = sealed(t("08:31"), "B2", "C1", hba1c);
    ex.push(second.at, second.event);
    ex.run_until(t("13:00"));
    let cmds = ex.commands();
    let mut lab_of: std::collections::BTreeMap<String, String> = Default::default();
    let mut mission_lab: std::collections::BTreeMap<String, String> = Default::default();
    for c in &cmds {
        match c {
            Command::AssignMission(p) => {
                mission_lab.insert(p.mission.to_string(), p.lab.to_string());
                for b in &p.boxes {
                    lab_of.insert(b.to_string(), p.lab.to_string());
                }
            }
            Command::AddToMission { mission, boxes, .. } => {
                for b in boxes {
                    lab_of.insert(b.to_string(), mission_lab[mission.as_str()].clone());
                }
            }
            Command::RequestCourier(r) => {
                for b in &r.boxes {
                    lab_of.insert(b.to_string(), r.lab.to_string());
                }
            }
            _ => {}
        }
    }
    assert_eq!(
        lab_of.get("B2").map(String::as_str),
        Some("L1"),
        "{cmds:#?}"
    );
    assert!(delivered(&ex.dispatcher, "B2"));
}

/// A tube leaves its lab's queue when resulted or rejected, and says when
/// (`left_queue_at`, what the dashboard's backlog history is read from); a
/// tube still queued has no such time, and a second result changes nothing.
#[test]
fn a_tube_resulted_or_rejected_leaves_the_queue_at_that_time() {
    use labflight_core::{TestFamily, TubeBarcode};
    let s = scenario();
    let world = one_lab_world().drone("D1", "L1", 100.0).world(&s);
    let mut ex = Executor::new(world, PolicyKind::Drone, t("07:30"));
    let sealed = sealed(
        t("08:30"),
        "B1",
        "C1",
        tubes("T1", 3, "sst", t("08:00"), &s),
    );
    ex.push(sealed.at, sealed.event);
    ex.run_until(t("10:00"));
    assert!(delivered(&ex.dispatcher, "B1"));
    let lab = LabId::from("L1");
    let tube =
        |d: &Dispatcher, i: usize| d.state().tubes[&TubeBarcode::new(format!("T1-{i:03}"))].clone();
    let queue = |d: &Dispatcher| d.state().labs.get(&lab).unwrap().backlog[&TestFamily::Chemistry];
    assert!((0..3).all(|i| tube(&ex.dispatcher, i).received_at.is_some()
        && tube(&ex.dispatcher, i).left_queue_at.is_none()));
    assert_eq!(queue(&ex.dispatcher), 3);
    let d = &mut ex.dispatcher;
    let resulted = |i: usize| Event::TubeResulted {
        barcode: TubeBarcode::new(format!("T1-{i:03}")),
        lab: lab.clone(),
    };
    d.handle(&ev(t("10:10"), resulted(0)));
    d.handle(&ev(
        t("10:20"),
        Event::TubeRejected {
            barcode: TubeBarcode::new("T1-001"),
            lab: lab.clone(),
            reason: "haemolysed".into(),
        },
    ));
    d.handle(&ev(t("10:30"), resulted(0)));
    assert_eq!(tube(d, 0).left_queue_at, Some(t("10:10")));
    assert_eq!(tube(d, 1).left_queue_at, Some(t("10:20")));
    assert_eq!(tube(d, 2).left_queue_at, None);
    assert_eq!(queue(d), 1);
}

/// A storm forecast for 09:00–10:30, issued at 07:00 with `confidence`.
fn storm_forecast(confidence: f64) -> labflight_core::Stamped {
    ev(
        t("07:00"),
        Event::WeatherForecast {
            forecast: labflight_core::WeatherForecast {
                issued_at: t("07:00"),
                from: t("09:00"),
                to: t("10:30"),
                wind_mps: 16.0,
                rain_mm_h: 12.0,
                confidence,
            },
        },
    )
}

/// One drone at the lab, a box of serum at C1 3 km away sealed at `sealed_at`,
/// after `forecast`: the commands of the seal.
fn seal_under_forecast(
    forecast: Option<labflight_core::Stamped>,
    sealed_at: &str,
) -> (Dispatcher, Vec<Command>) {
    let s = scenario();
    let world = one_lab_world().drone("D1", "L1", 100.0).world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("06:30"));
    if let Some(f) = forecast {
        let said = d.handle(&f);
        assert_eq!(alerts(&said, AlertKind::StormForecast), 1, "{said:?}");
    }
    let cmds = d.handle(&sealed(
        t(sealed_at),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("08:00"), &s),
    ));
    (d, cmds)
}

/// A flight that lands before a forecast storm begins is launched; one that
/// would still be in the air when it begins is not (the coordinator is told why
/// and the box's forecast says it is held), unless the forecast is unsure; once
/// the window has begun with the weather still calm, the box flies.
#[test]
fn a_flight_the_forecast_storm_would_catch_is_not_launched() {
    let (_, early) = seal_under_forecast(Some(storm_forecast(0.8)), "08:40");
    let flown = missions(&early);
    assert_eq!(flown.len(), 1, "lands before the storm: {early:?}");
    assert!(
        flown[0].arrive_lab_at <= t("09:00"),
        "{}",
        flown[0].arrive_lab_at
    );

    // The same flight 15 minutes later lands after 09:00.
    let (_, unforecast) = seal_under_forecast(None, "08:55");
    let landing = missions(&unforecast)[0].arrive_lab_at;
    assert!(
        landing > t("09:00"),
        "the test needs a flight landing in the window: {landing}"
    );
    let (mut d, late) = seal_under_forecast(Some(storm_forecast(0.8)), "08:55");
    assert!(missions(&late).is_empty(), "caught by the storm: {late:?}");
    let why = late.iter().find_map(|c| match c {
        Command::Alert(a) if a.kind == AlertKind::TubeAtRisk => a.reason.clone(),
        _ => None,
    });
    assert!(
        matches!(why, Some(labflight_core::Reason::CaughtByStorm { from_at, .. }) if from_at == t("09:00")),
        "{why:?}"
    );
    let risk = d.state().boxes[&BoxId::from("B1")]
        .forecast
        .as_ref()
        .and_then(|f| f.risk.clone());
    assert!(
        matches!(risk, Some(labflight_core::forecast::Risk::HeldForStorm { resume, .. }) if resume == t("10:30")),
        "{risk:?}"
    );
    // The window begins and the storm has not come: the observed weather rules.
    let resumed = d.handle(&ev(t("09:00"), Event::Tick));
    assert_eq!(missions(&resumed).len(), 1, "{resumed:?}");

    // A forecast below the confidence the scenario asks for changes nothing.
    let s = scenario();
    let world = one_lab_world().drone("D1", "L1", 100.0).world(&s);
    let mut d = Dispatcher::new(world, PolicyKind::Drone, 7, t("06:30"));
    assert_eq!(
        alerts(&d.handle(&storm_forecast(0.3)), AlertKind::StormForecast),
        0
    );
    let cmds = d.handle(&sealed(
        t("08:55"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("08:00"), &s),
    ));
    assert_eq!(missions(&cmds).len(), 1, "{cmds:?}");
}

/// The centres `cmds` ask to seal for a storm ahead, with the reason given.
fn storm_seal_calls(cmds: &[Command]) -> Vec<(String, String)> {
    cmds.iter()
        .filter_map(|c| match c {
            Command::NotifyStation {
                station,
                notice: StationNotice::SealNow { reason },
            } if reason.starts_with("storm forecast") => {
                Some((station.to_string(), reason.clone()))
            }
            _ => None,
        })
        .collect()
}

/// Ahead of a forecast storm, the centre a drone is about to call at is asked,
/// once and shortly before the pickup, to seal what it has drawn, and the box it
/// seals rides along on that flight; with no forecast nobody is asked.
#[test]
fn ahead_of_a_storm_a_centre_seals_for_the_drone_calling_and_the_box_rides_along() {
    // Without a forecast the box is not due before 08:55.
    for (forecast, seal) in [(Some(storm_forecast(0.8)), "08:40"), (None, "08:55")] {
        let storm = forecast.is_some();
        let (mut d, cmds) = seal_under_forecast(forecast, seal);
        let plan = missions(&cmds)[0].clone();
        let mut asked = Vec::new();
        let mut at = t(seal) + chrono::Duration::minutes(1);
        while at <= plan.pickup_at {
            // The drone reports in flight, as it does every few seconds.
            let position = d.state().drones[&DroneId::from("D1")].position;
            d.handle(&ev(
                at,
                Event::DroneTelemetry {
                    drone: DroneId::from("D1"),
                    position,
                    alt_m: 120.0,
                    battery_pct: 95.0,
                    state: labflight_core::event::DroneState::Flying,
                },
            ));
            for call in storm_seal_calls(&d.handle(&ev(at, Event::Tick))) {
                asked.push((at, call));
            }
            at += chrono::Duration::minutes(1);
        }
        if !storm {
            assert!(asked.is_empty(), "no storm, no call: {asked:?}");
            continue;
        }
        assert_eq!(asked.len(), 1, "once: {asked:?}");
        let (when, (station, reason)) = &asked[0];
        assert_eq!(station, "C1");
        assert!(
            *when >= plan.pickup_at - chrono::Duration::minutes(2),
            "shortly before the pickup at {}: {when}",
            plan.pickup_at
        );
        assert!(reason.contains(plan.mission.as_str()), "{reason}");
        let s = scenario();
        let on_board = d.handle(&sealed(
            *when,
            "B2",
            "C1",
            tubes("R", 4, "sst", t("08:10"), &s),
        ));
        assert!(
            on_board.iter().any(|c| matches!(c,
                Command::AddToMission { mission, boxes, .. }
                    if *mission == plan.mission && boxes == &vec![BoxId::from("B2")])),
            "B2 rides along: {on_board:?}"
        );
    }
}

/// In the last quarter hour before a forecast storm, a drone left idle has two
/// centres that have not sealed for a while seal what they have drawn, while it
/// can still fly them to the lab before the window; a centre is not asked again
/// at once, and none is asked once no flight would land in time.
#[test]
fn ahead_of_a_storm_an_idle_drone_has_centres_seal_while_it_can_land_in_time() {
    let s = scenario();
    let world = two_centres_one_drone().world(&s);
    let mut d = Dispatcher::new(world.clone(), PolicyKind::Drone, 7, t("06:30"));
    d.handle(&storm_forecast(0.8));
    assert!(storm_seal_calls(&d.handle(&ev(t("08:40"), Event::Tick))).is_empty());
    let mut asked: Vec<String> = storm_seal_calls(&d.handle(&ev(t("08:46"), Event::Tick)))
        .into_iter()
        .map(|(station, _)| station)
        .collect();
    asked.sort();
    assert_eq!(asked, vec!["C1", "C2"]);
    assert!(storm_seal_calls(&d.handle(&ev(t("08:47"), Event::Tick))).is_empty());

    // 3 km out and 3 km back, with take-offs and landings, no longer lands by 09:00.
    let mut late = Dispatcher::new(world, PolicyKind::Drone, 7, t("06:30"));
    late.handle(&storm_forecast(0.8));
    assert!(storm_seal_calls(&late.handle(&ev(t("08:50"), Event::Tick))).is_empty());
}

// --- the `vans` baseline: the same deadline-aware planning with vans only ---

/// The van runs of `ex` so far, in the order booked.
fn van_runs_of(ex: &Executor) -> Vec<labflight_core::command::CourierRequest> {
    van_runs(&ex.commands()).into_iter().cloned().collect()
}

/// Under `vans`, the van sent for one centre's boxes calls at its neighbour on the
/// way to the lab (one trip, one delivery) when every box keeps its deadline; no
/// drone flies, though one stands idle at the lab.
#[test]
fn vans_a_van_round_collects_neighbouring_centres_on_one_trip() {
    let s = scenario();
    let world = Builder::default()
        .station("C1", 3.0, 0.0, "PH")
        .station("C2", 4.0, 0.5, "PH")
        .station("C3", 0.0, 6.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .drone("D1", "L1", 100.0)
        .courier("V1", "L1")
        .world(&s);
    let mut ex = Executor::new(world, PolicyKind::Vans, t("07:30"));
    // C1's serum is due first (at the lab by 09:50, 09:20 with the margin).
    for (b, c, prefix, kind) in [
        ("B1", "C1", "S", "sst"),
        ("B2", "C2", "T", "edta"),
        ("B3", "C3", "U", "edta"),
    ] {
        ex.push_stamped(sealed(
            t("08:00"),
            b,
            c,
            tubes(prefix, 5, kind, t("07:50"), &s),
        ));
    }
    ex.run_until(t("08:30"));
    let runs = van_runs_of(&ex);
    let first_trip: Vec<_> = runs
        .iter()
        .filter(|r| r.deliver_at == runs[0].deliver_at)
        .collect();
    let called: Vec<&str> = first_trip.iter().map(|r| r.station.as_str()).collect();
    assert!(
        called.contains(&"C1") && called.contains(&"C2"),
        "C1 and C2 on one trip: {runs:#?}"
    );
    assert!(
        !called.contains(&"C3"),
        "C3 is 6 km the other way: {runs:#?}"
    );
    assert!(first_trip.iter().all(|r| r.deliver_at <= r.deadline));
    assert!(
        first_trip
            .iter()
            .any(|r| r.reason.contains("on the way from")),
        "{first_trip:#?}"
    );
    ex.run_until(t("12:00"));
    assert!(missions(&ex.commands()).is_empty(), "no drone flies");
    for b in ["B1", "B2", "B3"] {
        assert!(delivered(&ex.dispatcher, b), "{b} delivered");
    }
}

/// Under `vans`, with one van and two centres due at once on opposite sides of the
/// lab, the van goes first for the box whose deadline is earlier (serum, two hours
/// unspun), though the other was sealed at the same time and comes first in
/// centre order; the other goes on its next trip.
#[test]
fn vans_go_earliest_deadline_first() {
    let s = scenario();
    let world = Builder::default()
        .station("C1", 5.0, 0.0, "PH")
        .station("C2", -5.0, 0.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .courier("V1", "L1")
        .world(&s);
    let mut ex = Executor::new(world, PolicyKind::Vans, t("07:30"));
    ex.push_stamped(sealed(
        t("08:00"),
        "B1",
        "C1",
        tubes("E", 5, "edta", t("07:50"), &s),
    ));
    ex.push_stamped(sealed(
        t("08:00"),
        "B2",
        "C2",
        tubes("S", 5, "sst", t("08:00"), &s),
    ));
    ex.run_until(t("12:00"));
    let runs = van_runs_of(&ex);
    assert_eq!(runs.len(), 2, "{runs:#?}");
    assert_eq!(
        runs[0].boxes,
        vec![BoxId::from("B2")],
        "serum first: {runs:#?}"
    );
    assert!(runs[0].deliver_at <= runs[0].deadline, "{:?}", runs[0]);
    assert_eq!(runs[1].boxes, vec![BoxId::from("B1")]);
    assert!(
        runs[1].pickup_at > runs[0].deliver_at,
        "one van: B1 after B2 is delivered"
    );
    // Neither went before its batching window closed (20 min): 08:20.
    assert!(runs[0].pickup_at >= t("08:20"), "{}", runs[0].pickup_at);
    assert!(delivered(&ex.dispatcher, "B1") && delivered(&ex.dispatcher, "B2"));
}

/// Under `vans`, a box no van can bring to a lab in time is alerted once, saying
/// when the first van would deliver and by when it was due; it still goes (late
/// beats never).
#[test]
fn vans_a_box_no_van_can_bring_in_time_is_alerted_once_with_why() {
    let s = scenario();
    let world = one_lab_world().courier("V1", "L1").world(&s);
    let mut ex = Executor::new(world, PolicyKind::Vans, t("07:30"));
    // Unspun serum drawn 06:30: at the lab by 08:30, 08:00 with the margin.
    ex.push_stamped(sealed(
        t("08:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("06:30"), &s),
    ));
    ex.run_until(t("08:10"));
    let cmds = ex.commands();
    let late: Vec<_> = cmds
        .iter()
        .filter_map(|c| match c {
            Command::Alert(a) if a.kind == AlertKind::TubeAtRisk && a.subject == "B1" => Some(a),
            _ => None,
        })
        .collect();
    assert_eq!(late.len(), 1, "once: {late:#?}");
    assert!(
        late[0].message.starts_with("the first van reaches L1 at ")
            && late[0].message.contains("after the 08:00 deadline"),
        "{}",
        late[0].message
    );
    let runs = van_runs_of(&ex);
    assert_eq!(runs.len(), 1, "it goes all the same: {runs:#?}");
    assert!(runs[0].deliver_at > runs[0].deadline);
}

/// Under `vans`, a box needing chemistry goes to the lab that runs it though a
/// nearer one does not, and a neighbour's box the round's lab could not test is
/// not collected on the way.
#[test]
fn vans_never_take_a_box_to_a_lab_lacking_one_of_its_tests() {
    let s = scenario();
    let no_chemistry: Vec<_> = all_families()
        .into_iter()
        .filter(|a| a.family != labflight_core::TestFamily::Chemistry)
        .collect();
    let no_haematology: Vec<_> = all_families()
        .into_iter()
        .filter(|a| a.family != labflight_core::TestFamily::Hematology)
        .collect();
    let world = Builder::default()
        .station("C1", 3.0, 0.0, "PH")
        .station("C2", 3.5, 0.0, "PH")
        .lab("NEAR", 2.5, 0.0, None, no_chemistry)
        .lab("FAR", -2.0, 0.0, Some("PH"), no_haematology)
        .courier("V1", "FAR")
        .world(&s);
    let mut ex = Executor::new(world, PolicyKind::Vans, t("07:30"));
    ex.push_stamped(sealed(
        t("09:00"),
        "B1",
        "C1",
        tubes("S", 5, "sst", t("08:30"), &s),
    ));
    ex.push_stamped(sealed(
        t("09:00"),
        "B2",
        "C2",
        tubes("E", 5, "edta", t("08:30"), &s),
    ));
    ex.run_until(t("13:00"));
    let runs = van_runs_of(&ex);
    let lab_of = |b: &str| {
        runs.iter()
            .find(|r| r.boxes.contains(&BoxId::from(b)))
            .map(|r| r.lab.as_str().to_owned())
            .unwrap_or_else(|| panic!("no run for {b}: {runs:#?}"))
    };
    assert_eq!(lab_of("B1"), "FAR", "serum needs chemistry");
    assert_eq!(lab_of("B2"), "NEAR", "EDTA needs haematology");
}

/// Under `vans`, a coordinator's forced pickup sends a van at once, before the
/// batching window would have.
#[test]
fn vans_a_forced_pickup_goes_at_once() {
    let s = scenario();
    let world = one_lab_world().courier("V1", "L1").world(&s);
    let mut ex = Executor::new(world, PolicyKind::Vans, t("07:30"));
    ex.push_stamped(sealed(
        t("08:00"),
        "B1",
        "C1",
        tubes("E", 5, "edta", t("07:50"), &s),
    ));
    ex.run_until(t("08:05"));
    assert!(van_runs_of(&ex).is_empty(), "it waits for company");
    ex.push(
        t("08:06"),
        Event::Override {
            by: "coord-1".into(),
            action: labflight_core::event::Override::ForcePickup {
                station: StationId::from("C1"),
            },
        },
    );
    ex.run_until(t("08:07"));
    let runs = van_runs_of(&ex);
    assert_eq!(runs.len(), 1, "{runs:#?}");
    assert_eq!(runs[0].boxes, vec![BoxId::from("B1")]);
}

/// The calls of the one round flying B1 (at C1) and B3 (at C3), sealed at `seals`
/// while the only drone is held, released at `release`; eight centres with
/// nothing to send ring C3 at 400 m, and C1 lies 1.2 km from C3 on the way to
/// the lab: only the ninth nearest.
fn round_past_eight_empty_centres(
    seals: [&str; 2],
    drawn: [&str; 2],
    release: &str,
) -> Vec<String> {
    let s = scenario();
    let mut b = Builder::default()
        .station("C1", 2.0, 0.0, "PH")
        .station("C3", 3.2, 0.0, "PH")
        .lab("L1", 0.0, 0.0, Some("PH"), all_families())
        .drone("D1", "L1", 100.0);
    for i in 0..8 {
        let a = std::f64::consts::FRAC_PI_4 * i as f64;
        b = b.station(&format!("E{i}"), 3.2 + 0.4 * a.cos(), 0.4 * a.sin(), "PH");
    }
    let mut ex = Executor::new(b.world(&s), PolicyKind::Drone, t("07:30"));
    ex.push(t(seals[0]) - chrono::Duration::minutes(3), hold_d1(true));
    for (at, bx, centre, drawn) in [
        (seals[0], "B1", "C1", drawn[0]),
        (seals[1], "B3", "C3", drawn[1]),
    ] {
        ex.push_stamped(sealed(
            t(at),
            bx,
            centre,
            tubes(centre, 4, "sst", t(drawn), &s),
        ));
    }
    ex.push(t(release), hold_d1(false));
    ex.run_until(t("13:30"));
    let cmds = ex.commands();
    let flown = mission_for(&cmds, "B3").expect("B3 flies");
    flown.stations().map(|s| s.to_string()).collect()
}

#[test]
fn at_the_wave_a_round_finds_a_due_neighbour_beyond_eight_nearer_empty_centres() {
    // After the last draw every centre is due at once: ten neighbours are weighed.
    let calls = round_past_eight_empty_centres(["11:31", "11:32"], ["11:10", "11:02"], "11:33");
    assert_eq!(calls, ["C3", "C1"]);
    // Before it, six: C1 takes a flight of its own.
    let calls = round_past_eight_empty_centres(["08:33", "08:35"], ["08:10", "08:02"], "08:57");
    assert_eq!(calls, ["C3"]);
}
