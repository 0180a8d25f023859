//! Why the dispatcher did or said something, as a code and its values rather than
//! prose: the dashboard renders each code in the coordinator's language from its
//! one message catalogue (`crates/server/web/i18n.js`, key `reason.<code>`), and
//! `Reason::english` is the one place the English sentence the commands still
//! carry (`Alert::message`, `Explanation::summary`, `Alternative::verdict`,
//! abort and redirect reasons) is written from it.
//!
//! Conventions the renderers rely on: an instant's field ends in `_at` (sent as
//! UTC, shown in the scenario's local time); a nested reason is a `Reason` (or a
//! list of them, joined with "; "); a list of ids is joined with ", "; numbers
//! carry their unit in the name (`_kg`, `_c`, `_wh`, `_pct`, `_mps`, `_mm_h`,
//! `minutes`) and are shown with the precision the English uses.

use crate::{BoxId, DroneId, Instant, LabId, MissionId, PadId, StationId, TestFamily};
use chrono::FixedOffset;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;

/// A reason, by code (`code`, snake_case) with its values as fields.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Reason {
    // --- verdicts on an option weighed ---
    /// The option taken.
    Chosen,
    /// A drone that would pick up later than the one taken.
    LaterPickup,
    /// The load is over the drone's payload limit.
    PayloadOverLimit {
        /// The load, kg.
        payload_kg: f64,
        /// The limit, kg.
        limit_kg: f64,
    },
    /// No flyable route from the drone to the centre.
    NoRouteToCentre,
    /// The wind is stronger than the drone can fly against.
    WindTooStrong,
    /// The drone's battery cannot fly the whole flight.
    BatteryShort {
        /// Energy the flight needs, Wh.
        needs_wh: i64,
        /// Energy the drone has above its reserve, Wh.
        has_wh: i64,
    },
    /// No route to the lab around the no-fly zones.
    NoRouteAroundNoFly,
    /// A lab whose predicted result is later than the one taken.
    PredictedResultLater,
    /// A lab a coordinator marked unavailable.
    LabMarkedUnavailable,
    /// A lab closed when the drone would arrive.
    LabClosedAtArrival,
    /// Every analyzer of a family the tubes need is down at the lab.
    AnalyzersDown {
        /// The test family.
        family: TestFamily,
    },
    /// The lab does not run a family the tubes need.
    DoesNotRun {
        /// The test family.
        family: TestFamily,
    },
    /// The lab with the earliest result, that no drone can reach with the load.
    EarliestButNoDrone,
    /// A lab whose result would come a little sooner than the one taken, which
    /// is a shorter flight and still keeps the promise.
    SoonerButFarther,
    /// A lab's verdict, naming the lab.
    LabVerdict {
        /// The lab.
        lab: LabId,
        /// Its verdict.
        why: Box<Reason>,
    },

    // --- why a mission was planned ---
    /// The drone policy's pickup: the earliest drone to the earliest result.
    DronePickup {
        /// How many boxes.
        boxes: usize,
        /// Their weight, kg.
        payload_kg: f64,
        /// When they are due at the lab.
        due_at: Instant,
        /// The drone.
        drone: DroneId,
        /// The lab.
        lab: LabId,
    },
    /// A pickup that calls at further centres on the way.
    DroneRound {
        /// How many boxes at the first centre.
        boxes: usize,
        /// The whole load, kg, at the first centre.
        payload_kg: f64,
        /// When they are due at the lab.
        due_at: Instant,
        /// The drone.
        drone: DroneId,
        /// The lab.
        lab: LabId,
        /// The centres called at on the way.
        calls: Vec<StationId>,
        /// How many boxes they add.
        more_boxes: usize,
        /// How much later the drone reaches the lab, minutes.
        added_minutes: i64,
    },
    /// A pickup beyond one flight's reach of every lab that takes its boxes,
    /// flown with a battery swap on the way, sooner than a van would deliver.
    DroneRelay {
        /// How many boxes.
        boxes: usize,
        /// Their weight, kg.
        payload_kg: f64,
        /// When they are due at the lab.
        due_at: Instant,
        /// The drone.
        drone: DroneId,
        /// The lab.
        lab: LabId,
        /// The charger pad where the battery is swapped.
        pad: PadId,
        /// The van's delivery it beats (none when no van could take them).
        van_at: Option<Instant>,
    },
    /// A pickup beyond one flight's reach of every lab that takes its boxes and
    /// beyond a relay's, flown to a hub pad within reach where a van takes the
    /// boxes on: sooner than a van from the centre would deliver.
    DroneHubLeg {
        /// How many boxes.
        boxes: usize,
        /// Their weight, kg.
        payload_kg: f64,
        /// When they are due at the lab.
        due_at: Instant,
        /// The drone.
        drone: DroneId,
        /// The hub pad the boxes are set down on (the van and the lab are the
        /// mission's `hub` and `lab`).
        hub: PadId,
        /// The van's delivery at the lab.
        deliver_at: Instant,
        /// The delivery of a van from the centre it beats (none when no van could
        /// take them from there).
        van_at: Option<Instant>,
    },
    /// A drone journaled as lent to another medical group was not free: it stays.
    DroneNotFreeToLend {
        /// The group it was to go to.
        to: String,
    },
    /// The greedy baseline: the nearest free drone.
    FirstComeFirstServed {
        /// The drone.
        drone: DroneId,
    },
    /// A coordinator reassigned the pickup.
    ReassignedBy {
        /// The coordinator.
        by: String,
    },
    /// Boxes stranded on a pad, flown on by a drone.
    StrandedFlownOn {
        /// The boxes.
        boxes: Vec<BoxId>,
        /// Where they lie (`station_pad` or `pad`).
        place: Box<Reason>,
        /// The drone.
        drone: DroneId,
        /// The lab.
        lab: LabId,
        /// When the drone gets there.
        arrive_at: Instant,
        /// What a van could do (`no_van` or `first_van_by`).
        van: Box<Reason>,
    },
    /// A centre's own pad.
    StationPad {
        /// The centre.
        station: StationId,
    },
    /// A pad.
    Pad {
        /// The pad.
        pad: PadId,
    },
    /// No van can take the boxes.
    NoVan,
    /// The first van would deliver then.
    FirstVanBy {
        /// When.
        deliver_at: Instant,
    },

    // --- alerts ---
    /// A coordinator's reassignment to a drone that is not available.
    CannotReassignUnavailable {
        /// The drone.
        drone: DroneId,
    },
    /// A coordinator's reassignment to a drone that cannot fly it.
    CannotReassign {
        /// The drone.
        drone: DroneId,
        /// Why not.
        why: Box<Reason>,
    },
    /// A box set down on a pad that no van can take on.
    StrandedNoVan,
    /// No nearby drone can fly a pickup.
    NoNearbyDrone {
        /// Every option's verdict.
        verdicts: Vec<Reason>,
    },
    /// No open lab runs every test a box needs.
    NoLabRunsEveryTest,
    /// A tube reached a lab that does not run one of its tests (a manual scan):
    /// it is not flown on, and its centre is asked for a redraw.
    UntestableAtLab {
        /// The lab it reached.
        lab: LabId,
        /// The test that lab does not run.
        family: TestFamily,
    },
    /// No courier round calls at the centre again today (courier baseline).
    NoCourierRoundLeft {
        /// The centre.
        station: StationId,
    },
    /// The courier rounds from the centre go to a lab that does not run a test
    /// the box needs (courier baseline).
    CourierRoundLabLacks {
        /// The centre.
        station: StationId,
        /// The rounds' lab.
        lab: LabId,
        /// The test it does not run.
        family: TestFamily,
    },
    /// The next courier round that could take the box calls after its deadline
    /// (courier baseline).
    CourierRoundTooLate {
        /// The centre.
        station: StationId,
        /// When that round calls.
        call_at: Instant,
        /// The box's deadline.
        due_at: Instant,
    },
    /// No free drone nearby has the range (greedy baseline).
    NoDroneInRange,
    /// No lab can take a box now.
    NoLabTakesBox {
        /// Each lab's verdict (`lab_verdict`).
        labs: Vec<Reason>,
    },
    /// A planned pickup's result is predicted after the box's deadline.
    PredictedLate {
        /// The lab.
        lab: LabId,
        /// The predicted arrival there.
        arrive_at: Instant,
        /// The deadline.
        due_at: Instant,
    },
    /// No drone is free for a box.
    NoDroneFree {
        /// When it is due at a lab.
        due_at: Instant,
    },
    /// Boxes beyond every charger's single-flight range, with no van.
    BeyondRangeNoVan {
        /// The boxes.
        boxes: Vec<BoxId>,
    },
    /// The fleet is grounded and no van can be sent.
    GroundedNoVan {
        /// The tubes' stability limit.
        limit_at: Instant,
    },
    /// A flight now would still be in the air when a forecast storm begins: not
    /// launched; the box waits for a van or the storm's end.
    CaughtByStorm {
        /// When the flight would land at the lab.
        arrive_at: Instant,
        /// When the storm is forecast to begin.
        from_at: Instant,
        /// When it is forecast to end.
        to_at: Instant,
    },
    /// The fleet is grounded and the first van is too late.
    GroundedVanLate {
        /// The lab.
        lab: LabId,
        /// When the van would deliver.
        deliver_at: Instant,
        /// The deadline.
        due_at: Instant,
    },
    /// The first van there reaches the lab too late (the `vans` baseline).
    VanLate {
        /// The lab.
        lab: LabId,
        /// When the van would deliver.
        deliver_at: Instant,
        /// The deadline.
        due_at: Instant,
    },
    /// A drone silent for longer than the link timeout.
    NoTelemetry {
        /// The timeout, minutes.
        minutes: f64,
        /// Last known latitude.
        lat: f64,
        /// Last known longitude.
        lon: f64,
    },
    /// A tube sealed after its stability limit.
    SealedAfterStability,
    /// A lab's queue is above an hour of its capacity.
    LabQueueOverHour {
        /// Tubes queued.
        tubes: u32,
        /// Its capacity, tubes an hour.
        per_hour: f64,
    },
    /// A lab claimed a tube labflight has elsewhere.
    LabClaimRefused {
        /// The lab.
        lab: LabId,
        /// The tube.
        barcode: String,
        /// What the lab claimed (`received`, `resulted`, …: a lab claim's name).
        claim: String,
        /// Where labflight has the tube (`TubeWhereabouts`, `TubeUnknown` or
        /// `TubeWithoutBox`).
        whereabouts: Box<Reason>,
    },
    /// Where labflight has a tube: its status, its box and where the box is.
    TubeWhereabouts {
        /// The tube.
        barcode: String,
        /// Its status (a tube status's name).
        status: String,
        /// Its box.
        box_id: BoxId,
        /// Where the box is (one of the `Box…` reasons).
        place: Box<Reason>,
    },
    /// A tube labflight does not know.
    TubeUnknown {
        /// The tube.
        barcode: String,
    },
    /// A tube whose box labflight does not know.
    TubeWithoutBox {
        /// The tube.
        barcode: String,
    },
    /// A box waiting at its centre.
    BoxWaitingAtCentre {
        /// The centre.
        station: StationId,
    },
    /// A box at its centre, on a mission not yet at the centre.
    BoxAssignedNotPickedUp {
        /// The centre.
        station: StationId,
        /// The mission.
        mission: MissionId,
        /// The mission's lab.
        lab: LabId,
    },
    /// A box on its way to a lab.
    BoxOnItsWay {
        /// The mission.
        mission: MissionId,
        /// The mission's lab.
        lab: LabId,
    },
    /// A box set down away from any lab, awaiting recovery.
    BoxSetDownAwayFromLab,
    /// A box delivered to a lab.
    BoxDeliveredTo {
        /// The lab.
        lab: LabId,
    },
    /// A drone reported a fault.
    DroneFault {
        /// The drone's own words.
        detail: String,
    },
    /// A drone reported its link lost.
    LinkLost,
    /// A drone reports loading a box custody says is elsewhere.
    LoadingConflict {
        /// The drone.
        drone: DroneId,
        /// The box.
        box_id: BoxId,
        /// The box's status.
        status: String,
    },
    /// A van reports collecting a box that is not on any run of its: the box
    /// went with another carrier, or was never booked on this van.
    VanPickupConflict {
        /// The van.
        courier: crate::CourierId,
        /// The box.
        box_id: BoxId,
        /// The box's status.
        status: String,
    },
    /// A box loaded on a drone flying another mission.
    LoadedOnOtherMission {
        /// The box.
        box_id: BoxId,
        /// The drone.
        drone: DroneId,
        /// Its mission.
        mission: MissionId,
        /// Where it goes.
        lab: LabId,
    },
    /// A drone declared lost came back carrying a box; its mission resumed.
    LostDroneReappeared {
        /// The drone.
        drone: DroneId,
        /// The box.
        box_id: BoxId,
        /// The mission.
        mission: MissionId,
        /// The lab it now flies to.
        lab: LabId,
    },
    /// A box loaded on a drone with no mission.
    LoadedWithoutMission {
        /// The box.
        box_id: BoxId,
        /// The drone.
        drone: DroneId,
    },
    /// A coordinator released the fleet.
    FleetReleasedBy {
        /// The coordinator.
        by: String,
    },
    /// The weather is within limits again: the fleet is released.
    FleetReleasedWeather,
    /// The fleet was grounded.
    FleetGrounded {
        /// Why (`grounded_by` or `weather_too_rough`).
        why: Box<Reason>,
    },
    /// A coordinator grounded the fleet.
    GroundedBy {
        /// The coordinator.
        by: String,
    },
    /// A storm is forecast above the drone's limits: planned around.
    StormForecast {
        /// When it is forecast to begin.
        from_at: Instant,
        /// When it is forecast to end.
        to_at: Instant,
        /// Its wind, m/s.
        wind_mps: f64,
        /// Its rain, mm/h.
        rain_mm_h: f64,
        /// How sure the forecast is, percent.
        confidence_pct: f64,
    },
    /// Wind or rain above the drone's limits.
    WeatherTooRough {
        /// Wind speed, m/s.
        wind_mps: f64,
        /// Rain, mm/h.
        rain_mm_h: f64,
    },
    /// An analyzer went down at a lab.
    AnalyzerDown {
        /// The analyzer.
        analyzer: String,
        /// The lab.
        lab: LabId,
    },
    /// A lab closed.
    LabClosed {
        /// The lab.
        lab: LabId,
    },
    /// A coordinator marked a lab unavailable.
    LabMarkedUnavailableBy {
        /// The lab.
        lab: LabId,
        /// The coordinator.
        by: String,
    },
    /// A coordinator diverted a lab's pending boxes to another lab.
    DivertedBy {
        /// From.
        from: LabId,
        /// To.
        to: LabId,
        /// The coordinator.
        by: String,
    },
    /// A box set down on a lab's pad, for the lab to take in.
    SetDownForLab {
        /// The lab.
        lab: LabId,
    },
    /// A drone's battery fell low in flight.
    LowBattery {
        /// Its charge, percent.
        battery_pct: f64,
    },
    /// A box left its temperature band.
    TemperatureOutOfBand {
        /// Its temperature, °C.
        temp_c: f64,
        /// The band's low end, °C.
        min_c: f64,
        /// The band's high end, °C.
        max_c: f64,
    },
}

/// The instant as the scenario's local clock shows it (`HH:MM`).
fn clock(at: &Instant, offset: FixedOffset) -> String {
    at.with_timezone(&offset).format("%H:%M").to_string()
}

fn joined<T: std::fmt::Display>(items: &[T], sep: &str) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(sep)
}

impl Reason {
    /// The reason in English, with instants on the clock at `offset` (the
    /// scenario's): the one place the commands' English prose is written.
    pub fn english(&self, offset: FixedOffset) -> Cow<'static, str> {
        use Reason::*;
        let at = |t: &Instant| clock(t, offset);
        let nested = |r: &Reason| r.english(offset);
        Cow::Owned(match self {
            Chosen => return "chosen".into(),
            LaterPickup => return "later pickup".into(),
            PayloadOverLimit {
                payload_kg,
                limit_kg,
            } => format!("payload {payload_kg:.2} kg over the {limit_kg:.2} kg limit"),
            NoRouteToCentre => return "no route to the centre".into(),
            WindTooStrong => return "wind stronger than the drone can make headway against".into(),
            BatteryShort { needs_wh, has_wh } => {
                format!("battery: needs {needs_wh} Wh, has {has_wh} Wh above reserve")
            }
            NoRouteAroundNoFly => return "no route around the no-fly zones".into(),
            PredictedResultLater => return "predicted result later".into(),
            LabMarkedUnavailable => return "marked unavailable by a coordinator".into(),
            LabClosedAtArrival => return "closed at arrival".into(),
            AnalyzersDown { family } => format!("{} analyzers down", family.as_str()),
            DoesNotRun { family } => format!("does not run {}", family.as_str()),
            EarliestButNoDrone => {
                return "earliest result, but no drone can fly there with this load".into();
            }
            SoonerButFarther => return "result a little sooner, but a longer flight".into(),
            LabVerdict { lab, why } => format!("{lab}: {}", nested(why)),
            DronePickup {
                boxes,
                payload_kg,
                due_at,
                drone,
                lab,
            } => format!(
                "{boxes} box(es), {payload_kg:.2} kg, due at the lab by {}: {drone} picks up first, {lab} gives the earliest result",
                at(due_at)
            ),
            DroneRound {
                boxes,
                payload_kg,
                due_at,
                drone,
                lab,
                calls,
                more_boxes,
                added_minutes,
            } => format!(
                "{boxes} box(es), {payload_kg:.2} kg, due at the lab by {}: {drone} picks up first, {lab} gives the earliest result; calls at {} on the way for {more_boxes} more box(es), arriving {added_minutes} min later",
                at(due_at),
                joined(calls, ", ")
            ),
            DroneRelay {
                boxes,
                payload_kg,
                due_at,
                drone,
                lab,
                pad,
                van_at,
            } => format!(
                "{boxes} box(es), {payload_kg:.2} kg, due at the lab by {}: beyond one flight's reach of every lab that runs their tests; {drone} picks up first and flies to {lab} with a battery swap at {pad} ({})",
                at(due_at),
                match van_at {
                    Some(v) => format!("a van would deliver at {}", at(v)),
                    None => "no van could take them".to_owned(),
                }
            ),
            DroneHubLeg {
                boxes,
                payload_kg,
                due_at,
                drone,
                hub,
                deliver_at,
                van_at,
            } => format!(
                "{boxes} box(es), {payload_kg:.2} kg, due at the lab by {}: beyond one flight's reach of every lab that runs their tests, and of a relay; {drone} flies them to the hub {hub}, where a van meets it and takes them on, delivering by {} ({})",
                at(due_at),
                at(deliver_at),
                match van_at {
                    Some(v) => format!("a van from the centre would deliver at {}", at(v)),
                    None => "no van could take them from the centre".to_owned(),
                }
            ),
            DroneNotFreeToLend { to } => {
                format!("lent to {to} while not free: kept in this fleet, check the loan")
            }
            FirstComeFirstServed { drone } => {
                format!("first come, first served: nearest free drone {drone}")
            }
            ReassignedBy { by } => format!("reassigned by {by}"),
            StrandedFlownOn {
                boxes,
                place,
                drone,
                lab,
                arrive_at,
                van,
            } => format!(
                "{} stranded on {}: {drone} flies on to {lab}, there by {}; {}",
                joined(boxes, ", "),
                nested(place),
                at(arrive_at),
                nested(van)
            ),
            StationPad { station } => format!("{station}'s pad"),
            Pad { pad } => pad.to_string(),
            NoVan => return "no van can take it".into(),
            FirstVanBy { deliver_at } => {
                format!("the first van would deliver by {}", at(deliver_at))
            }
            CannotReassignUnavailable { drone } => {
                format!("cannot reassign to {drone}: not available")
            }
            CannotReassign { drone, why } => {
                format!("cannot reassign to {drone}: {}", nested(why))
            }
            StrandedNoVan => {
                return "stranded at a pad and no van can take it to a lab: send staff".into();
            }
            NoNearbyDrone { verdicts } => format!(
                "no nearby drone can fly this pickup: {}",
                verdicts.iter().map(nested).collect::<Vec<_>>().join("; ")
            ),
            NoLabRunsEveryTest => return "no open lab runs every test in this box".into(),
            UntestableAtLab { lab, family } => format!(
                "delivered to {lab}, which does not run {}: redraw for a lab that does (a tube at a lab is not flown on)",
                family.as_str()
            ),
            NoCourierRoundLeft { station } => {
                format!("no courier round calls at {station} any more today")
            }
            CourierRoundLabLacks {
                station,
                lab,
                family,
            } => format!(
                "the courier rounds from {station} go to {lab}, which does not run {}",
                family.as_str()
            ),
            CourierRoundTooLate {
                station,
                call_at,
                due_at,
            } => format!(
                "the next courier round that can take it calls at {station} at {}, after its deadline {}",
                at(call_at),
                at(due_at)
            ),
            NoDroneInRange => return "no free drone nearby has the range for this box".into(),
            NoLabTakesBox { labs } => format!(
                "no lab can take this box now ({})",
                labs.iter().map(nested).collect::<Vec<_>>().join("; ")
            ),
            PredictedLate {
                lab,
                arrive_at,
                due_at,
            } => format!(
                "predicted at {lab} at {}, due by {}",
                at(arrive_at),
                at(due_at)
            ),
            NoDroneFree { due_at } => format!("no drone free; due at a lab by {}", at(due_at)),
            BeyondRangeNoVan { boxes } => format!(
                "{} beyond single-flight range of every charger pad, and no van to take them",
                joined(boxes, ", ")
            ),
            GroundedNoVan { limit_at } => format!(
                "fleet grounded and no van to send; its tubes' stability limit is {}",
                at(limit_at)
            ),
            CaughtByStorm {
                arrive_at,
                from_at,
                to_at,
            } => format!(
                "a flight now would land at {}, inside the storm forecast for {}–{}: not launched",
                at(arrive_at),
                at(from_at),
                at(to_at)
            ),
            GroundedVanLate {
                lab,
                deliver_at,
                due_at,
            } => format!(
                "fleet grounded and the first van reaches {lab} at {}, after the {} deadline",
                at(deliver_at),
                at(due_at)
            ),
            VanLate {
                lab,
                deliver_at,
                due_at,
            } => format!(
                "the first van reaches {lab} at {}, after the {} deadline",
                at(deliver_at),
                at(due_at)
            ),
            NoTelemetry { minutes, lat, lon } => {
                format!("no telemetry for over {minutes} min; last seen at {lat:.5}, {lon:.5}")
            }
            SealedAfterStability => return "sealed after its stability limit".into(),
            LabQueueOverHour { tubes, per_hour } => {
                format!("{tubes} tubes queued, above one hour of capacity ({per_hour:.0}/h)")
            }
            LabClaimRefused {
                lab,
                barcode,
                claim,
                whereabouts,
            } => format!(
                "lab {lab} says tube `{barcode}` is {claim}, refused: {}",
                nested(whereabouts)
            ),
            TubeWhereabouts {
                barcode,
                status,
                box_id,
                place,
            } => format!(
                "tube `{barcode}` ({status}) is in box {box_id} {}",
                nested(place)
            ),
            TubeUnknown { barcode } => format!("tube `{barcode}` is unknown"),
            TubeWithoutBox { barcode } => format!("tube `{barcode}` has no box"),
            BoxWaitingAtCentre { station } => format!("waiting at its centre {station}"),
            BoxAssignedNotPickedUp {
                station,
                mission,
                lab,
            } => format!(
                "at its centre {station}, assigned to mission {mission} to lab {lab}, not yet picked up"
            ),
            BoxOnItsWay { mission, lab } => format!("on its way on mission {mission} to lab {lab}"),
            BoxSetDownAwayFromLab => {
                return "set down away from any lab, awaiting recovery".into();
            }
            BoxDeliveredTo { lab } => format!("delivered to lab {lab}"),
            DroneFault { detail } => format!("fault: {detail}"),
            LinkLost => return "link lost".into(),
            LoadingConflict {
                drone,
                box_id,
                status,
            } => format!(
                "{drone} reports loading {box_id}, which is {status}: custody not changed, check the box"
            ),
            VanPickupConflict {
                courier,
                box_id,
                status,
            } => format!(
                "{courier} reports collecting {box_id}, which is {status} and not on its run: custody not changed, check the box"
            ),
            LoadedOnOtherMission {
                box_id,
                drone,
                mission,
                lab,
            } => format!("{box_id} loaded on {drone}, which flies {mission}: it goes to {lab}"),
            LostDroneReappeared {
                drone,
                box_id,
                mission,
                lab,
            } => format!(
                "{drone}, declared lost, reappeared with {box_id} on board: {mission} resumed to {lab}"
            ),
            LoadedWithoutMission { box_id, drone } => format!(
                "{box_id} loaded on {drone}, which has no mission to carry it: stranded where it lands, for a van"
            ),
            FleetReleasedBy { by } => format!("fleet released by {by}"),
            FleetReleasedWeather => return "weather within limits: fleet released".into(),
            FleetGrounded { why } => format!("fleet grounded: {}", nested(why)),
            GroundedBy { by } => format!("grounded by {by}"),
            StormForecast {
                from_at,
                to_at,
                wind_mps,
                rain_mm_h,
                confidence_pct,
            } => format!(
                "storm forecast {}–{} (wind {wind_mps:.1} m/s, rain {rain_mm_h:.1} mm/h, {confidence_pct:.0} % sure): flying early what can land before it",
                at(from_at),
                at(to_at)
            ),
            WeatherTooRough {
                wind_mps,
                rain_mm_h,
            } => format!(
                "wind {wind_mps:.1} m/s, rain {rain_mm_h:.1} mm/h: above the drone's limits"
            ),
            AnalyzerDown { analyzer, lab } => format!("analyzer {analyzer} down at {lab}"),
            LabClosed { lab } => format!("{lab} closed"),
            LabMarkedUnavailableBy { lab, by } => format!("{lab} marked unavailable by {by}"),
            DivertedBy { from, to, by } => {
                format!("{from}'s pending boxes diverted to {to} by {by}")
            }
            SetDownForLab { lab } => {
                format!("set down on {lab}'s pad by a drone in trouble: for {lab} to take in")
            }
            LowBattery { battery_pct } => format!("battery {battery_pct:.0} % in flight"),
            TemperatureOutOfBand {
                temp_c,
                min_c,
                max_c,
            } => format!("box at {temp_c:.1} °C, outside {min_c:.0}–{max_c:.0} °C"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The serialized shape the dashboard reads: `code` beside the values,
    /// instants in UTC, nested reasons as objects.
    #[test]
    fn serializes_code_and_values() {
        let due: Instant = "2026-06-15T02:14:00Z".parse().unwrap();
        let r = Reason::CannotReassign {
            drone: DroneId::new("D-03"),
            why: Box::new(Reason::BatteryShort {
                needs_wh: 120,
                has_wh: 80,
            }),
        };
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["code"], "cannot_reassign");
        assert_eq!(v["drone"], "D-03");
        assert_eq!(v["why"]["code"], "battery_short");
        assert_eq!(serde_json::from_value::<Reason>(v).unwrap(), r);
        let late = Reason::NoDroneFree { due_at: due };
        assert_eq!(
            serde_json::to_value(&late).unwrap()["due_at"],
            "2026-06-15T02:14:00Z"
        );
    }

    /// The English is on the scenario's clock, not UTC.
    #[test]
    fn english_uses_the_local_clock() {
        let cst = FixedOffset::east_opt(8 * 3600).unwrap();
        let due: Instant = "2026-06-15T02:14:00Z".parse().unwrap();
        assert_eq!(
            Reason::NoDroneFree { due_at: due }.english(cst),
            "no drone free; due at a lab by 10:14"
        );
        assert_eq!(
            Reason::FleetGrounded {
                why: Box::new(Reason::GroundedBy { by: "ops".into() })
            }
            .english(cst),
            "fleet grounded: grounded by ops"
        );
    }
}
