//! The dashboard's replay: a recorded journal re-run through a fresh dispatcher
//! (the same way `labflight replay` does), cut into one dashboard view per minute
//! of service time. Frames are rendered as asked: forward from where the last
//! one stopped, or from the start of the day when the slider goes back. The
//! day views of a run (`with_day`) re-run it once more, sampling every minute.

use crate::sim_cmd::{journal_world, parse_policy};
use chrono::Duration;
use labflight_core::{Command, Instant, Stamped};
use labflight_dispatch::{Dispatcher, PolicyKind, World};
use labflight_server::day_report;
use labflight_server::day_series::DayData;
use labflight_server::replay::ReplayRun;
use labflight_server::view::{self, AlertView, Frame, HooksView};
use labflight_sim as output;
use std::path::Path;
use std::sync::Arc;

/// Service time between frames.
const STEP_S: i64 = 60;
/// At most this many frames (a longer journal gets a longer step).
const MAX_FRAMES: i64 = 1500;
/// Alerts carried in each frame.
const ALERTS_SHOWN: usize = 50;

/// A dispatcher part-way through a journal.
struct Cursor {
    world: Arc<World>,
    scenario: String,
    policy: PolicyKind,
    seed: u64,
    events: Vec<Stamped>,
    dispatcher: Dispatcher,
    next_event: usize,
    alerts: Vec<AlertView>,
}

impl Cursor {
    fn rewind(&mut self) {
        let start = self.events[0].at;
        self.dispatcher = Dispatcher::new(Arc::clone(&self.world), self.policy, self.seed, start);
        self.next_event = 0;
        self.alerts.clear();
    }

    /// The view with every event up to and including `at` handled.
    fn view_at(&mut self, at: Instant) -> Result<String, String> {
        let handled_past = self
            .next_event
            .checked_sub(1)
            .is_some_and(|i| self.events[i].at > at);
        if handled_past {
            self.rewind();
        }
        while let Some(e) = self.events.get(self.next_event).filter(|e| e.at <= at) {
            let i = self.next_event;
            for (idx, c) in self.dispatcher.handle(e).into_iter().enumerate() {
                if let Command::Alert(a) = c {
                    let at =
                        e.at.with_timezone(&self.world.offset)
                            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
                    self.alerts
                        .push(view::alert_row(format!("{i}-{idx}"), at, &a, None, None));
                }
            }
            self.next_event += 1;
        }
        let v = view::build(
            &self.world,
            self.dispatcher.state(),
            Frame {
                mode: "replay",
                now: at,
                scenario: &self.scenario,
                policy: self.policy.name(),
                speed: 0.0,
                alerts: self
                    .alerts
                    .iter()
                    .rev()
                    .take(ALERTS_SHOWN)
                    .cloned()
                    .collect(),
                hooks: HooksView::default(),
            },
        );
        serde_json::to_string(&v).map_err(|e| e.to_string())
    }
}

/// Opens a recorded journal for the dashboard.
pub fn load(journal: &Path) -> Result<ReplayRun, String> {
    let (header, events) = output::read_journal(journal)?;
    let policy = parse_policy(&header.policy).map_err(|e| e.to_string())?;
    let (scenario, world, seed) = journal_world(&header, journal).map_err(|e| format!("{e:#}"))?;
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Err(format!("{}: no events", journal.display()));
    };
    let (start, end) = (first.at, last.at);
    let step = Duration::seconds(STEP_S.max((end - start).num_seconds() / MAX_FRAMES + 1));
    let frames = ((end - start).num_seconds() / step.num_seconds() + 1) as usize;
    let local = |t: Instant| {
        t.with_timezone(&world.offset)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let (start_text, end_text) = (local(start), local(end));
    let day = {
        let (world, events) = (Arc::clone(&world), events.clone());
        move || Ok(day_data(world.clone(), policy, seed, &events))
    };
    let mut cursor = Cursor {
        dispatcher: Dispatcher::new(Arc::clone(&world), policy, seed, start),
        world,
        scenario: scenario.name,
        policy,
        seed,
        events,
        next_event: 0,
        alerts: Vec::new(),
    };
    Ok(ReplayRun::new(
        start_text,
        end_text,
        step.num_seconds(),
        frames,
        Box::new(move |i| cursor.view_at((start + step * i as i32).min(end))),
    )
    .with_day(Box::new(day)))
}

/// The run's day views' data: the journal re-run through a fresh dispatcher,
/// sampled at every minute of service time from the first event to the last.
fn day_data(world: Arc<World>, policy: PolicyKind, seed: u64, events: &[Stamped]) -> DayData {
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        let now = world.service.first_draw;
        let state = Dispatcher::new(Arc::clone(&world), policy, seed, now)
            .state()
            .clone();
        return DayData {
            world,
            state,
            now,
            samples: Vec::new(),
        };
    };
    let mut dispatcher = Dispatcher::new(Arc::clone(&world), policy, seed, first.at);
    let minute = Duration::seconds(STEP_S);
    let mut at = first.at;
    let mut next = 0;
    let mut samples = Vec::new();
    while at <= last.at {
        while let Some(e) = events.get(next).filter(|e| e.at <= at) {
            dispatcher.handle(e);
            next += 1;
        }
        samples.push(day_report::sample(&world, dispatcher.state(), at));
        at += minute;
    }
    for e in &events[next..] {
        dispatcher.handle(e);
    }
    DayData {
        state: dispatcher.state().clone(),
        now: last.at,
        samples,
        world,
    }
}
